"""In-memory loaders (`zoo.data.in_memory`): the tf.data contract without TensorFlow."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from zoo.data import arrays


def _batches(dataset):
    return [np.asarray(b[0] if isinstance(b, tuple) else b) for b in dataset]


@pytest.mark.parametrize("image_size", [None, 28])
def test_digits_match_the_tf_data_loader(image_size):
    options = {"batch_size": 100, "shuffle": False, "with_labels": True}
    if image_size:
        options["image_size"] = image_size
    expected = list(zoo.data.load("digits", **options))
    got = zoo.data.in_memory("digits", **options)
    assert len(got) == len(expected) == 17
    for (images, labels), (tf_images, tf_labels) in zip(got, expected):
        np.testing.assert_allclose(images, tf_images.numpy(), atol=1e-6)
        np.testing.assert_array_equal(labels, tf_labels.numpy())
        assert images.dtype == np.float32 and labels.dtype == np.int32
    assert got.image_shape == zoo.data.image_shape(got) == ((image_size or 32),) * 2 + (1,)


def test_lfw_faces_match_the_tf_data_loader_and_have_no_labels():
    got = zoo.data.in_memory("lfw_faces", batch_size=20, shuffle=False, image_size=16)
    expected = zoo.data.load("lfw_faces", batch_size=20, shuffle=False, image_size=16)
    np.testing.assert_allclose(np.concatenate(_batches(got)), np.concatenate(_batches(expected)), atol=1e-6)
    with pytest.raises(ValueError, match="with_labels must be False for 'lfw_faces'"):
        zoo.data.in_memory("lfw_faces", with_labels=True)


def test_mnist_idx_folder_matches_the_tf_data_loader(shared_mnist):
    mnist_dir = str(shared_mnist)
    got = zoo.data.in_memory(mnist_dir, "test", batch_size=500, shuffle=False, image_size=32, with_labels=True)
    expected = zoo.data.mnist_idx(mnist_dir, "test", batch_size=500, shuffle=False, image_size=32, with_labels=True)
    for (images, labels), (tf_images, tf_labels) in zip(got, expected):
        np.testing.assert_array_equal(images, tf_images.numpy())  # uint8 rounding as tf.data's resize
        np.testing.assert_array_equal(labels, tf_labels.numpy())
    assert len(got) == 4 and zoo.data.num_classes(got) == 10
    assert arrays.supports(mnist_dir) and not arrays.supports(os.path.dirname(mnist_dir))


def test_every_epoch_is_a_new_order_reproducible_from_the_seed():
    data = zoo.data.in_memory("digits", batch_size=64, seed=3, with_labels=True, limit=1792)
    first = np.concatenate([labels for _, labels in data])
    data.on_epoch_end()
    second = np.concatenate([labels for _, labels in data])
    assert not np.array_equal(first, second)
    assert sorted(first) == sorted(second)  # a permutation of the same examples
    # A fresh loader at epoch 1 (a resumed run) gives epoch 1's order.
    resumed = zoo.data.in_memory("digits", batch_size=64, seed=3, with_labels=True, limit=1792)
    resumed.on_epoch_end()
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in resumed]), second)
    assert len(data) == 28 and len(zoo.data.in_memory("digits", batch_size=64)) == 1797 // 64


def test_options_limit_remainder_and_errors():
    data = zoo.data.in_memory("digits", batch_size=64, limit=100, drop_remainder=False, shuffle=False)
    assert [len(b) for b in data] == [64, 36]
    with pytest.raises(ValueError, match="no full batch of 64"):
        zoo.data.in_memory("digits", batch_size=64, limit=10)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        zoo.data.in_memory("digits", batch_size=0)
    with pytest.raises(ValueError, match="one split, 'train'"):
        zoo.data.in_memory("digits", "test")
    with pytest.raises(ValueError, match="need TensorFlow"):
        zoo.data.in_memory("celeb_a")
    with pytest.raises(IndexError):
        zoo.data.in_memory("digits", batch_size=64)[100]


def test_keras_datasets_sources_take_the_requested_split(monkeypatch):
    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50).astype(np.uint8))
    test = (rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20).astype(np.uint8))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: (train, test))
    data = zoo.data.in_memory("fashion_mnist", "test", batch_size=10, shuffle=False, with_labels=True)
    images, labels = data[1]
    np.testing.assert_allclose(images[..., 0], test[0][10:20] / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels, test[1][10:20])


def test_registered_descriptions_are_the_loaders_first_docstring_lines():
    # `zoo list` reads the registry's copies, which work without TensorFlow.
    for name, entry in zoo.data.DATASETS.items():
        assert zoo.data.describe(name) == entry.loader.__doc__.strip().splitlines()[0], name


def test_tf_data_submodules_are_attributes_when_first_read():
    script = "import zoo.data\nprint(zoo.data.paired.DIRECTIONS, zoo.data.tfds_loaders.CELEB_A_ATTRIBUTES[0], " \
             "zoo.data.unpaired_digits.__name__)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    # unpaired_digits is a loader's name too: the package keeps the loader, as before.
    assert done.stdout.split()[-1] == "unpaired_digits"
