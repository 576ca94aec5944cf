"""(L, ab) pairs and the embedded scikit-image photos."""

import numpy as np
import pytest
import tensorflow as tf

import zoo.data
from zoo.data import colour, colourisation, pipeline


def _crops_uint8(ds):
    return np.round((np.concatenate([b.numpy() for b in ds]) + 1.0) * 127.5).astype(np.uint8)


def _found_in(crop, photo):
    """Whether crop (or its mirror) is a window of photo, at native resolution."""
    height, width = crop.shape[:2]
    for candidate in (crop, crop[:, ::-1]):
        corners = photo[: photo.shape[0] - height + 1, : photo.shape[1] - width + 1]
        ys, xs = np.nonzero((corners == candidate[0, 0]).all(-1))
        for y, x in zip(ys, xs):
            if np.array_equal(photo[y : y + height, x : x + width], candidate):
                return True
    return False


# --- lab_pairs ------------------------------------------------------------------------


def test_lab_pairs_on_batches_and_single_images():
    images = np.random.default_rng(0).random((6, 8, 8, 3)).astype(np.float32) * 2 - 1
    ds = tf.data.Dataset.from_tensor_slices(images)
    for data, shape in ((ds.batch(3), (None, 8, 8)), (ds, (8, 8))):
        pairs = colourisation.lab_pairs(data)
        assert pairs.element_spec[0].shape.as_list() == [*shape, 1]
        assert pairs.element_spec[1].shape.as_list() == [*shape, 2]
    lightness, ab = next(iter(colourisation.lab_pairs(ds.batch(6))))
    expected = colour.rgb_to_model_lab(images)
    np.testing.assert_array_equal(lightness.numpy(), expected[0].numpy())
    np.testing.assert_array_equal(ab.numpy(), expected[1].numpy())
    for x in (lightness.numpy(), ab.numpy()):
        assert -1.0 <= x.min() and x.max() <= 1.0


def test_lab_pairs_errors():
    grey = pipeline.finalize(tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 1), np.uint8)), batch_size=2)
    message = r"RGB images \(\.\.\., height, width, 3\); got 1 channel\(s\) .*\(greyscale has no colour to learn\)"
    with pytest.raises(ValueError, match=message):
        colourisation.lab_pairs(grey)
    labelled = tf.data.Dataset.from_tensor_slices((np.zeros((4, 8, 8, 3), np.float32), np.zeros(4)))
    with pytest.raises(ValueError, match=r"RGB images only \(pass with_labels=False\)"):
        colourisation.lab_pairs(labelled)
    with pytest.raises(ValueError, match="float images in \\[-1, 1\\] .*; got dtype uint8"):
        colourisation.lab_pairs(tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="dataset must be a tf.data.Dataset"):
        colourisation.lab_pairs(np.zeros((4, 8, 8, 3)))


# --- embedded_photos ----------------------------------------------------------------------


def test_every_photo_loads_offline_and_the_splits_are_disjoint():
    train, test = set(colourisation.PHOTO_SPLITS["train"]), set(colourisation.PHOTO_SPLITS["test"])
    assert train and test and not train & test
    for name in train | test:
        photo = colourisation.load_photo(name)
        assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3 and min(photo.shape[:2]) >= 300
    with pytest.raises(ValueError, match="name must be one of"):
        colourisation.load_photo("cat")


def test_photos_default_shape_and_range():
    ds = colourisation.embedded_photos(num_crops=80, seed=0)
    assert ds.element_spec.shape == (64, 64, 64, 3) and ds.element_spec.dtype == tf.float32
    images = np.concatenate([b.numpy() for b in ds])
    assert images.shape == (64, 64, 64, 3)
    assert -1.0 <= images.min() < -0.5 and 0.5 < images.max() <= 1.0


@pytest.mark.parametrize("split", ["train", "test"])
def test_photos_are_held_out_by_image(split):
    ds = colourisation.embedded_photos(split, num_crops=24, image_size=12, batch_size=24, seed=1, shuffle=False)
    crops = _crops_uint8(ds)
    own = [colourisation.load_photo(n) for n in colourisation.PHOTO_SPLITS[split]]
    other = [colourisation.load_photo(n) for s, names in colourisation.PHOTO_SPLITS.items() if s != split for n in names]
    for crop in crops:
        assert any(_found_in(crop, photo) for photo in own)
        assert not any(_found_in(crop, photo) for photo in other)


def test_photos_are_deterministic_given_seed_and_use_every_train_photo():
    def crops(seed, **kwargs):
        ds = colourisation.embedded_photos(num_crops=32, image_size=16, batch_size=8, seed=seed, **kwargs)
        return _crops_uint8(ds)

    np.testing.assert_array_equal(crops(3), crops(3))
    assert not np.array_equal(crops(3), crops(4))
    unflipped = crops(3, flip=False, shuffle=False)
    photos = [colourisation.load_photo(n) for n in colourisation.PHOTO_SPLITS["train"]]
    sources = set()
    for crop in unflipped:
        for i, photo in enumerate(photos):
            if _found_in(crop, photo):
                sources.add(i)
    assert sources == set(range(len(photos)))


def test_photos_flip_mirrors_about_half_the_crops():
    options = dict(num_crops=40, image_size=8, batch_size=40, seed=2, shuffle=False)
    flipped = _crops_uint8(colourisation.embedded_photos(**options))
    plain = _crops_uint8(colourisation.embedded_photos(**options, flip=False))
    mirrored = [not np.array_equal(a, b) for a, b in zip(flipped, plain)]
    np.testing.assert_array_equal(np.array(flipped)[mirrored], plain[mirrored][:, :, ::-1])
    assert 10 < sum(mirrored) < 30


def test_photos_options():
    ds = colourisation.embedded_photos(
        "test", image_size=(16, 24), num_crops=10, batch_size=4, limit=6, drop_remainder=False
    )
    assert [b.shape for b in ds] == [(4, 16, 24, 3), (2, 16, 24, 3)]
    largest = colourisation.embedded_photos("test", image_size=300, num_crops=2, batch_size=2)
    assert next(iter(largest)).shape == (2, 300, 300, 3)


def test_photos_errors():
    with pytest.raises(ValueError, match="split must be one of"):
        colourisation.embedded_photos("validation")
    with pytest.raises(ValueError, match="with_labels must be False"):
        colourisation.embedded_photos(with_labels=True)
    with pytest.raises(ValueError, match="image_size must fit in every test photo, at most 300x451"):
        colourisation.embedded_photos("test", image_size=301)
    with pytest.raises(ValueError, match="image_size must be an int"):
        colourisation.embedded_photos(image_size=None)
    with pytest.raises(ValueError, match="num_crops must be a positive int"):
        colourisation.embedded_photos(num_crops=0)
    with pytest.raises(ValueError, match="flip must be True or False"):
        colourisation.embedded_photos(flip=1)
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 10 examples"):
        colourisation.embedded_photos(num_crops=10)


def test_photos_are_registered_and_pair_with_lab():
    assert zoo.data.DATASETS["photos"].loader is colourisation.embedded_photos
    assert zoo.data.num_classes("photos") is None
    lightness, ab = next(iter(zoo.data.lab_pairs(zoo.data.load("photos", batch_size=4, num_crops=8, seed=0))))
    assert lightness.shape == (4, 64, 64, 1) and ab.shape == (4, 64, 64, 2)
