"""tfds loaders under tfds.testing.mock_data: random examples at the declared shapes, no network."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo.data
from zoo.data import tfds_loaders

NUM_EXAMPLES = 12
REGISTERED = ["celeb_a", "cifar10", "digits", "fashion_mnist", "lfw_faces", "mnist", "photos"]


@pytest.fixture
def mock_tfds():
    with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
        yield


SUPERVISED = [
    (tfds_loaders.mnist, (28, 28, 1)),
    (tfds_loaders.fashion_mnist, (28, 28, 1)),
    (tfds_loaders.cifar10, (32, 32, 3)),
]


@pytest.mark.parametrize("loader, shape", SUPERVISED)
def test_supervised_shapes_range_and_labels(mock_tfds, loader, shape):
    ds = loader(batch_size=4, with_labels=True, seed=0)
    assert ds.element_spec[0].shape == (4, *shape)
    batches = list(ds)
    assert len(batches) == NUM_EXAMPLES // 4
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert images.dtype == np.float32 and labels.dtype == np.int32
    assert images.min() >= -1.0 and images.max() <= 1.0
    # mock images are uniform random uint8, so both ends are (nearly) reached
    assert images.min() < -0.95 and images.max() > 0.95
    assert labels.min() >= 0 and labels.max() < 10


@pytest.mark.parametrize("loader, shape", SUPERVISED)
def test_supervised_resize_and_images_only(mock_tfds, loader, shape):
    ds = loader(split="test", batch_size=3, image_size=(16, 20), shuffle=False)
    assert isinstance(ds.element_spec, tf.TensorSpec)
    assert ds.element_spec.shape == (3, 16, 20, shape[-1])
    assert next(iter(ds)).shape == (3, 16, 20, shape[-1])


def test_limit_and_drop_remainder(mock_tfds):
    ds = tfds_loaders.mnist(batch_size=4, limit=6, drop_remainder=False, shuffle=False)
    assert [b.shape[0] for b in ds] == [4, 2]
    ds = tfds_loaders.mnist(batch_size=4, limit=6)
    assert [b.shape[0] for b in ds] == [4]


def test_limit_takes_the_first_examples(mock_tfds):
    full = tfds_loaders.cifar10(batch_size=NUM_EXAMPLES, shuffle=False)
    first = next(iter(full)).numpy()[:5]
    limited = tfds_loaders.cifar10(batch_size=5, limit=5, seed=3)
    batch = next(iter(limited)).numpy()
    key = lambda images: sorted(images.reshape(len(images), -1).sum(axis=1).round(3))  # noqa: E731
    assert key(batch) == key(first)


def test_celeb_a_is_64x64_rgb(mock_tfds):
    ds = tfds_loaders.celeb_a(batch_size=4, seed=1)
    assert ds.element_spec.shape == (4, 64, 64, 3)
    images = np.concatenate([b.numpy() for b in ds])
    assert images.shape == (NUM_EXAMPLES, 64, 64, 3)
    assert images.dtype == np.float32
    assert -1.0 <= images.min() < -0.5 and 0.5 < images.max() <= 1.0


def test_celeb_a_native_size_is_the_square_crop(mock_tfds):
    ds = tfds_loaders.celeb_a(batch_size=2, image_size=None, limit=2)
    assert next(iter(ds)).shape == (2, 178, 178, 3)


def test_celeb_a_rejects_labels(mock_tfds):
    with pytest.raises(ValueError, match="with_labels"):
        tfds_loaders.celeb_a(with_labels=True)


def test_celeb_a_attribute_gives_zero_one_labels(mock_tfds):
    ds = tfds_loaders.celeb_a(batch_size=4, limit=8, attribute="Smiling", shuffle=False)
    images, labels = next(iter(ds))
    assert images.shape == (4, 64, 64, 3) and labels.dtype == "int32"
    assert set(np.concatenate([b[1].numpy() for b in ds]).tolist()) <= {0, 1}
    with pytest.raises(ValueError, match="one of CelebA's 40 attributes"):
        tfds_loaders.celeb_a(attribute="Smiles")
    assert len(tfds_loaders.CELEB_A_ATTRIBUTES) == 40


@pytest.mark.parametrize("loader", [loader for loader, _ in SUPERVISED] + [tfds_loaders.celeb_a])
def test_bad_arguments_fail_before_loading(loader):
    # No mock: a bad argument must be reported without touching tfds (or the network).
    with pytest.raises(ValueError, match="batch_size"):
        loader(batch_size=0)
    with pytest.raises(ValueError, match="image_size"):
        loader(image_size=(32, -1))
    with pytest.raises(ValueError, match="split"):
        loader(split="")


# --- the registry in zoo.data ---------------------------------------------------------


def test_registry_names():
    assert zoo.data.list_datasets() == REGISTERED
    assert sorted(zoo.data.DATASETS) == REGISTERED
    assert zoo.data.DATASETS["celeb_a"].loader is tfds_loaders.celeb_a


@pytest.mark.parametrize("name", REGISTERED)
def test_load_every_registered_dataset(mock_tfds, name):
    ds = zoo.data.load(name, batch_size=2, limit=4, seed=0)
    images = next(iter(ds)).numpy()
    assert images.ndim == 4 and images.shape[0] == 2 and images.shape[-1] in (1, 3)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_load_and_describe_unknown_name():
    for call in (zoo.data.load, zoo.data.describe):
        known = "known: celeb_a, cifar10, digits, fashion_mnist, lfw_faces, mnist, photos"
        with pytest.raises(ValueError, match=f"unknown dataset 'imagenet'; {known}"):
            call("imagenet")


def test_describe_is_one_line_for_every_dataset():
    for name in zoo.data.list_datasets():
        text = zoo.data.describe(name)
        assert text and "\n" not in text and len(text) < 100
    assert "64x64" in zoo.data.describe("celeb_a")


def test_package_exports():
    for name in ("image_folder", "mnist_idx", "read_idx", "load", "describe", "list_datasets"):
        assert callable(getattr(zoo.data, name))
