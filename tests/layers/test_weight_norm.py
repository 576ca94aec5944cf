import keras
import numpy as np
import pytest

from zoo.layers import WeightNormDense, initialize_weight_norm


def test_kernel_is_direction_times_scale():
    layer = WeightNormDense(3, use_bias=False)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    v = np.array(layer.kernel)
    np.testing.assert_allclose(out, x @ (v / np.linalg.norm(v, axis=0)), rtol=1e-5, atol=1e-6)
    layer.kernel.assign(v * 7.0)  # the length of v does not matter
    np.testing.assert_allclose(layer(x), out, rtol=1e-5, atol=1e-6)


def test_config_round_trip():
    layer = WeightNormDense(3, activation="relu", train_scale=False, name="wn")
    clone = WeightNormDense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone.build((None, 4))
    assert not clone.scale.trainable


def test_data_dependent_init_standardises_pre_activations():
    inputs = keras.Input((6,))
    hidden = WeightNormDense(5, activation="relu")(inputs)
    outputs = WeightNormDense(2)(hidden)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(1).normal(3.0, 4.0, size=(200, 6)).astype("float32")
    assert initialize_weight_norm(model, x) == 2
    out = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-3)


def test_bad_units_are_named():
    with pytest.raises(ValueError, match="units"):
        WeightNormDense(0)
