"""RandomShift: a differentiable whole-pixel translation kept in a config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import RandomShift


def shifted_copies(image, max_shift, fill):
    """Every translation of `image` by up to `max_shift` pixels, background `fill`."""
    m = max_shift
    padded = np.pad(image, ((m, m), (m, m), (0, 0)), constant_values=fill)
    height, width = image.shape[:2]
    return [padded[dy:dy + height, dx:dx + width] for dy in range(2 * m + 1) for dx in range(2 * m + 1)]


def test_each_image_is_a_translated_copy_and_offsets_vary():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, 7, 6, 2)).astype("float32")
    out = np.array(RandomShift(2)(images))
    assert out.shape == images.shape
    offsets = []
    for image, moved in zip(images, out):
        matches = [k for k, copy in enumerate(shifted_copies(image, 2, -1.0)) if np.array_equal(copy, moved)]
        assert len(matches) == 1
        offsets.append(matches[0])
    assert len(set(offsets)) > 5  # each image draws its own offset
    assert not np.array_equal(np.array(RandomShift(2)(images)), out)  # and new ones each call


def test_gradients_flow_to_the_images():
    images = tf.Variable(np.random.default_rng(1).uniform(-1, 1, (4, 5, 5, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(RandomShift(1, fill_value=0.0)(images) ** 2)
    gradient = tape.gradient(loss, images)
    assert gradient is not None
    # Each kept pixel gets 2x its value; pixels pushed out of the frame get 0.
    kept = np.array(gradient) != 0
    np.testing.assert_allclose(np.array(gradient)[kept], 2 * np.array(images)[kept], rtol=1e-6)
    assert kept.mean() > 0.5


def test_config_round_trip():
    layer = RandomShift(3, fill_value=0.5, name="shift")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, RandomShift)
    assert (clone.max_shift, clone.fill_value, clone.name) == (3, 0.5, "shift")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_max_shift_is_named(bad):
    with pytest.raises(ValueError, match="max_shift must be a positive int"):
        RandomShift(bad)
