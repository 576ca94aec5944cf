import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import DepthToSpace


@pytest.mark.parametrize("block_size, channels", [(2, 1), (2, 3), (3, 2)])
def test_depth_to_space_matches_tensorflow(block_size, channels):
    x = np.random.default_rng(0).normal(size=(2, 3, 5, channels * block_size**2)).astype("float32")
    expected = tf.nn.depth_to_space(x, block_size).numpy()
    out = DepthToSpace(block_size)(x)
    assert tuple(out.shape) == (2, 3 * block_size, 5 * block_size, channels)
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_depth_to_space_in_a_saved_model_and_with_unknown_sizes(tmp_path):
    inputs = keras.Input((None, None, 8))
    model = keras.Model(inputs, DepthToSpace(2)(inputs))
    assert model.output_shape == (None, None, None, 2)
    path = tmp_path / "m.keras"
    model.save(path)
    x = np.random.default_rng(1).normal(size=(1, 4, 6, 8)).astype("float32")
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_depth_to_space_names_bad_arguments():
    with pytest.raises(ValueError, match="block_size must be an int >= 2"):
        DepthToSpace(1)
    with pytest.raises(ValueError, match="channels divisible by 4"):
        DepthToSpace(2)(np.zeros((1, 2, 2, 3), "float32"))
