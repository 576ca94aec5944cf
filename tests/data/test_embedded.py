import numpy as np
import pytest
import tensorflow as tf

from zoo.data import embedded


def _all(ds):
    return np.concatenate([b.numpy() for b in ds])


# --- the raw data the loaders rely on -------------------------------------------------


def test_raw_digits_are_integers_0_to_16():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    assert bunch.images.shape == (1797, 8, 8)
    assert bunch.images.dtype == np.float64
    assert set(np.unique(bunch.images)) == set(range(17))


def test_raw_lfw_subset_layout():
    from skimage.data import lfw_subset

    raw = lfw_subset()
    assert raw.shape == (200, 25, 25)
    # The docstring promises uint8; 0.26 actually returns float64 in [0, 1].
    assert raw.dtype == np.float64
    assert raw.min() >= 0.0 and raw.max() <= 1.0
    # first 100 faces, last 100 background patches (darker, on average)
    assert raw[: embedded.LFW_NUM_FACES].mean() > raw[embedded.LFW_NUM_FACES :].mean() + 0.1


# --- digits ---------------------------------------------------------------------------


def test_digits_default_shape_and_range():
    ds = embedded.digits(batch_size=64, seed=0)
    assert ds.element_spec.shape == (64, 32, 32, 1)
    assert ds.element_spec.dtype == tf.float32
    images = _all(ds)
    assert len(images) == 1797 // 64 * 64
    assert images.min() == -1.0 and images.max() > 0.95 and images.max() <= 1.0


def test_digits_native_values_map_exactly():
    from sklearn.datasets import load_digits

    ds = embedded.digits(batch_size=1797, image_size=None, shuffle=False, with_labels=True)
    images, labels = next(iter(ds))
    bunch = load_digits()
    np.testing.assert_allclose(images.numpy()[..., 0], bunch.images / 8.0 - 1.0, atol=1e-6)
    assert images.numpy().min() == -1.0 and images.numpy().max() == 1.0
    assert labels.dtype == tf.int32
    np.testing.assert_array_equal(labels.numpy(), bunch.target)


def test_digits_labels_follow_shuffled_images():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    lookup = {bunch.images[i].tobytes(): bunch.target[i] for i in range(len(bunch.target))}
    ds = embedded.digits(batch_size=32, image_size=None, seed=5, with_labels=True)
    images, labels = next(iter(ds))
    raw = ((images.numpy()[..., 0] + 1.0) * 8.0).round().astype(np.float64)
    assert [lookup[r.tobytes()] for r in raw] == list(labels.numpy())


def test_digits_seeded_shuffle_and_limit():
    a = next(iter(embedded.digits(batch_size=16, seed=3))).numpy()
    b = next(iter(embedded.digits(batch_size=16, seed=3))).numpy()
    c = next(iter(embedded.digits(batch_size=16, seed=4))).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    limited = embedded.digits(batch_size=4, limit=10, drop_remainder=False)
    assert [x.shape[0] for x in limited] == [4, 4, 2]


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        embedded.digits(batch_size=-2)
    with pytest.raises(ValueError, match="image_size"):
        embedded.digits(image_size="32")


# --- lfw_faces ------------------------------------------------------------------------


def test_lfw_faces_uses_only_the_100_faces():
    from skimage.data import lfw_subset

    ds = embedded.lfw_faces(batch_size=100, image_size=None, shuffle=False)
    images = next(iter(ds)).numpy()
    assert images.shape == (100, 25, 25, 1)
    expected = lfw_subset()[:100].astype(np.float32) * 2.0 - 1.0
    np.testing.assert_allclose(images[..., 0], expected, atol=1e-6)


def test_lfw_faces_default_shape_and_range():
    ds = embedded.lfw_faces(batch_size=32, drop_remainder=False, seed=0)
    assert ds.element_spec.shape == (None, 32, 32, 1)
    images = _all(ds)
    assert images.shape == (100, 32, 32, 1) and images.dtype == np.float32
    assert -1.0 <= images.min() < -0.95 and 0.85 < images.max() <= 1.0


def test_lfw_faces_has_no_labels():
    with pytest.raises(ValueError, match="with_labels"):
        embedded.lfw_faces(with_labels=True)


def test_face_images_from_the_embedded_faces_or_a_folder(tmp_path):
    from PIL import Image

    import zoo

    faces = zoo.data.face_images("lfw_faces", image_size=16, batch_size=4, seed=0)
    batch = next(iter(faces)).numpy()
    assert batch.shape == (4, 16, 16, 1) and batch.min() >= -1 and batch.max() <= 1 and batch.std() > 0.05
    assert len(list(faces.take(300))) == 300  # repeated
    for i in range(3):
        Image.fromarray(np.full((20, 20, 3), 40 * i, "uint8")).save(tmp_path / f"{i}.png")
    folder = next(iter(zoo.data.face_images(str(tmp_path), image_size=8, batch_size=2, seed=0))).numpy()
    assert folder.shape == (2, 8, 8, 3)
    with pytest.raises(ValueError, match="celeb_a"):
        zoo.data.face_images("no_such_faces", image_size=8)
