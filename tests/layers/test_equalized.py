import math

import keras
import numpy as np
import pytest

import zoo
from zoo.layers import EqualizedConv2D, EqualizedDense, PixelNormalization


def test_dense_scales_unit_normal_weights_by_he_constant():
    keras.utils.set_random_seed(0)
    layer = EqualizedDense(3, gain=math.sqrt(2), bias_init=0.5)
    x = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    y = layer(x)
    kernel = layer.kernel.numpy()
    assert abs(kernel.std() - 1.0) < 0.5  # stored as N(0, 1)
    expected = x @ (kernel * math.sqrt(2) / math.sqrt(8)) + 0.5
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_lr_multiplier_stores_scaled_weights_and_gives_the_same_function():
    layer = EqualizedDense(5, lr_multiplier=0.01, bias_init=1.0)
    x = np.ones((2, 16), "float32")
    y = layer(x).numpy()
    # Stored N(0, 1/lr^2) and bias / lr: the effective weights are He-scaled and bias 1.
    assert layer.kernel.numpy().std() > 20
    np.testing.assert_allclose(layer.bias.numpy(), 100.0)
    expected = x @ (layer.kernel.numpy() * 0.01 / 4.0) + 1.0
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def test_lr_multiplier_slows_the_effective_weights_under_sgd():
    x = np.ones((1, 4), "float32")
    moves = []
    for lr_multiplier in (1.0, 0.1):
        layer = EqualizedDense(1, lr_multiplier=lr_multiplier, use_bias=False)
        layer.build((None, 4))
        before = layer(x).numpy()
        import tensorflow as tf
        with tf.GradientTape() as tape:
            out = layer(x)
        grad = tape.gradient(out, layer.kernel)
        layer.kernel.assign_sub(0.1 * grad)
        moves.append(float(np.abs(layer(x).numpy() - before).item()))
    np.testing.assert_allclose(moves[1] / moves[0], 0.01, rtol=1e-3)


def test_conv_matches_plain_conv_with_scaled_kernel():
    layer = EqualizedConv2D(4, kernel_size=3, activation="relu")
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    y = layer(x).numpy()
    plain = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
    plain.build(x.shape)
    plain.set_weights([layer.kernel.numpy() / math.sqrt(27), layer.bias.numpy()])
    np.testing.assert_allclose(y, plain(x).numpy(), rtol=1e-4, atol=1e-5)
    assert y.shape == (2, 8, 8, 4)


def test_pixel_norm_gives_unit_rms_per_pixel():
    x = np.random.default_rng(2).normal(3.0, 5.0, size=(2, 4, 4, 6)).astype("float32")
    y = PixelNormalization()(x).numpy()
    np.testing.assert_allclose(np.sqrt(np.mean(y**2, axis=-1)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(y / np.linalg.norm(y, axis=-1, keepdims=True),
                               x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [EqualizedDense(3, lr_multiplier=0.01, gain=2.0, bias_init=1.0, activation="relu"),
     EqualizedConv2D(2, kernel_size=1, use_bias=False), PixelNormalization(epsilon=1e-6)],
)
def test_config_round_trip_in_a_saved_model(layer, tmp_path):
    shape = (4, 4, 3) if not isinstance(layer, EqualizedDense) else (6,)
    inputs = keras.Input(shape)
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(3).normal(size=(2, *shape)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again(x), model(x), rtol=1e-6)
    assert again.layers[1].get_config() == model.layers[1].get_config()


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="lr_multiplier"):
        EqualizedDense(3, lr_multiplier=0)
    with pytest.raises(ValueError, match="units"):
        EqualizedDense(0)
    with pytest.raises(ValueError, match="kernel_size"):
        EqualizedConv2D(3, kernel_size=0)
    with pytest.raises(ValueError, match="batch, height, width"):
        EqualizedConv2D(3)(np.ones((2, 3), "float32"))


def test_mixed_precision_output_dtype():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        inputs = keras.Input((4, 4, 3))
        x = EqualizedConv2D(2)(inputs)
        x = PixelNormalization()(x)
        out = EqualizedDense(2)(x)
        model = keras.Model(inputs, out)
        y = model(np.ones((1, 4, 4, 3), "float32"))
        assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert zoo.layers.PixelNormalization is PixelNormalization
