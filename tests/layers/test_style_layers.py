import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.layers import AdaIN, LearnedConstant, ModulatedConv2D, NoiseInjection
from zoo.layers.style import upsample_bilinear_2x


def _direct_modulated_conv(x, style, kernel, bias, demodulate, upsample):
    """The paper's form: one modulated (and demodulated) kernel per sample."""
    if upsample:
        x = tf.image.resize(x, (2 * x.shape[1], 2 * x.shape[2]), method="bilinear").numpy()
    k, _, cin, _ = kernel.shape
    kernel = kernel / math.sqrt(k * k * cin)
    outputs = []
    for b in range(x.shape[0]):
        w = kernel * style[b][None, None, :, None]
        if demodulate:
            w = w / np.sqrt(np.sum(w**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        outputs.append(tf.nn.conv2d(x[b : b + 1], w, strides=1, padding="SAME").numpy()[0])
    return np.stack(outputs) + bias


@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("upsample,kernel_size", [(False, 3), (True, 3), (False, 1)])
def test_modulated_conv_equals_a_per_sample_modulated_kernel(demodulate, upsample, kernel_size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 6, 5)).astype("float32")
    style = rng.normal(1.0, 0.7, size=(3, 5)).astype("float32")
    layer = ModulatedConv2D(4, kernel_size, demodulate=demodulate, upsample=upsample)
    layer.build([x.shape, style.shape])
    layer.bias.assign(rng.normal(size=4).astype("float32"))
    y = layer([x, style]).numpy()
    expected = _direct_modulated_conv(
        x, style, layer.kernel.numpy(), layer.bias.numpy(), demodulate, upsample
    )
    assert y.shape == expected.shape == (3, 12 if upsample else 6, 12 if upsample else 6, 4)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def test_demodulated_output_maps_have_unit_std_for_unit_variance_input():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 20, 20, 32)).astype("float32")
    # Styles of very different sizes per sample: without demodulation the
    # output std would follow them.
    style = (rng.uniform(0.2, 5.0, size=(16, 1)) * rng.uniform(0.2, 2.0, size=(16, 32))).astype("float32")
    layer = ModulatedConv2D(8, 3, use_bias=False)
    y = layer([x, style]).numpy()[:, 1:-1, 1:-1]  # the border sees zero padding
    std = y.std(axis=(1, 2))  # (batch, filters): one std per sample's output map
    np.testing.assert_allclose(std, 1.0, atol=0.15)
    raw = ModulatedConv2D(8, 3, use_bias=False, demodulate=False)
    raw.build([x.shape, style.shape])
    raw.kernel.assign(layer.kernel)
    raw_std = raw([x, style]).numpy()[:, 1:-1, 1:-1].std(axis=(1, 2))
    assert raw_std.max() / raw_std.min() > 3  # the check above is not vacuous


def test_demodulation_cancels_a_global_style_scale_and_modulation_alone_does_not():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    style = rng.normal(1.0, 0.5, size=(2, 3)).astype("float32")
    for demodulate, factor in ((True, 1.0), (False, 3.0)):
        layer = ModulatedConv2D(2, 3, demodulate=demodulate, use_bias=False)
        np.testing.assert_allclose(
            layer([x, 3.0 * style]).numpy(), factor * layer([x, style]).numpy(), rtol=1e-4, atol=1e-5
        )


def test_bilinear_upsampling_is_the_fir_1331_filter_inside_the_image():
    x = np.random.default_rng(3).normal(size=(1, 6, 6, 1)).astype("float32")
    y = upsample_bilinear_2x(x).numpy()[0, :, :, 0]
    # Zero insertion then the separable [1, 3, 3, 1] / 4 filter (gain 4 = 2 x 2).
    zeros = np.zeros((12, 12), "float32")
    zeros[::2, ::2] = x[0, :, :, 0]
    f = np.array([1, 3, 3, 1], "float32") / 4
    kernel = np.outer(f, f)
    padded = np.pad(zeros, ((2, 1), (2, 1)))
    fir = np.array([[np.sum(padded[i : i + 4, j : j + 4] * kernel) for j in range(12)] for i in range(12)])
    np.testing.assert_allclose(y[1:-1, 1:-1], fir[1:-1, 1:-1], rtol=1e-5, atol=1e-5)


def test_adain_exact_values():
    x = np.zeros((1, 2, 2, 2), "float32")
    x[0, :, :, 0] = [[1.0, 2.0], [3.0, 4.0]]  # mean 2.5, variance 1.25
    x[0, :, :, 1] = [[5.0, 5.0], [5.0, 7.0]]  # mean 5.5, variance 0.75
    ys = np.array([[2.0, -1.0]], "float32")
    yb = np.array([[1.0, 0.5]], "float32")
    y = AdaIN()([x, ys, yb]).numpy()[0]
    c0 = 2.0 * (np.array([[1, 2], [3, 4]]) - 2.5) / math.sqrt(1.25) + 1.0
    c1 = -1.0 * (np.array([[5, 5], [5, 7]]) - 5.5) / math.sqrt(0.75) + 0.5
    np.testing.assert_allclose(y[:, :, 0], c0, rtol=1e-5)
    np.testing.assert_allclose(y[:, :, 1], c1, rtol=1e-5)
    np.testing.assert_allclose(y[0, 0], [1.0 - 3 / math.sqrt(1.25), 0.5 + 0.5 / math.sqrt(0.75)], rtol=1e-5)


def test_noise_strength_zero_is_the_identity_in_both_modes():
    x = np.random.default_rng(4).normal(size=(2, 4, 4, 3)).astype("float32")
    layer = NoiseInjection()
    np.testing.assert_array_equal(layer(x).numpy(), x)
    layer.noise_mode.assign(1.0)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert layer.strength.shape == () and layer.noise_const.shape == (1, 4, 4, 1)
    assert [v.name for v in layer.trainable_weights] == ["strength"]
    assert sorted(v.name for v in layer.non_trainable_weights) == ["noise_const", "noise_mode"]


def test_noise_random_mode_differs_between_calls_and_const_mode_is_deterministic():
    x = np.zeros((2, 8, 8, 3), "float32")
    layer = NoiseInjection(seed=1)
    layer.build(x.shape)
    layer.strength.assign(2.0)
    first, second = layer(x).numpy(), layer(x).numpy()
    assert np.abs(first - second).mean() > 1.0
    np.testing.assert_array_equal(first[..., 0], first[..., 2])  # one value per pixel
    assert np.abs(first[0] - first[1]).mean() > 1.0  # per sample
    assert abs(first.std() / 2.0 - 1.0) < 0.2 and abs(first.mean()) < 0.4
    # Inside a traced function the draws still change from call to call.
    traced = tf.function(lambda t: layer(t))
    assert np.abs(traced(x).numpy() - traced(x).numpy()).mean() > 1.0
    layer.noise_mode.assign(1.0)
    const = layer(x).numpy()
    np.testing.assert_array_equal(const, traced(x).numpy())
    np.testing.assert_allclose(const, 2.0 * np.broadcast_to(layer.noise_const.numpy(), x.shape), rtol=1e-6)
    layer.noise_const.assign(np.ones((1, 8, 8, 1), "float32"))
    np.testing.assert_allclose(layer(x).numpy(), 2.0)


def test_noise_const_gets_gradients_for_projection():
    x = np.zeros((1, 4, 4, 2), "float32")
    layer = NoiseInjection(per_channel=True)
    layer.build(x.shape)
    layer.strength.assign([1.0, 3.0])
    layer.noise_mode.assign(1.0)
    with tf.GradientTape() as tape:
        tape.watch(layer.noise_const.value)
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.noise_const.value)
    np.testing.assert_allclose(grad.numpy(), 4.0)  # sum over channels of the strengths


def test_noise_differs_between_replicas(two_replicas):
    with two_replicas.scope():
        layer = NoiseInjection(seed=3)
        layer.build((1, 4, 4, 1))
        layer.strength.assign(1.0)
    x = tf.zeros((1, 4, 4, 1))
    outputs = two_replicas.experimental_local_results(two_replicas.run(tf.function(layer), args=(x,)))
    assert np.abs(outputs[0].numpy() - outputs[1].numpy()).mean() > 0.3


def test_learned_constant_repeats_one_tensor_for_the_batch():
    ws = np.random.default_rng(5).normal(size=(3, 6, 8)).astype("float32")
    layer = LearnedConstant(5)
    y = layer(ws).numpy()
    assert y.shape == (3, 4, 4, 5)
    np.testing.assert_array_equal(y[0], y[2])
    np.testing.assert_array_equal(y[1], layer.const.numpy()[0])
    assert 0.5 < layer.const.numpy().std() < 1.5  # N(0, 1) by default
    np.testing.assert_array_equal(LearnedConstant(2, size=2, initializer="ones")(ws).numpy(), 1.0)


def _round_trip(model, inputs, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    for a, b in zip(model.layers, again.layers):
        assert a.get_config() == b.get_config()


def test_config_round_trip_in_a_saved_model(tmp_path):
    rng = np.random.default_rng(6)
    x_in, s_in, w_in = keras.Input((4, 4, 3)), keras.Input((3,)), keras.Input((2, 5))
    y = ModulatedConv2D(2, 3, demodulate=False, upsample=True, use_bias=False, epsilon=1e-6)([x_in, s_in])
    y = NoiseInjection(per_channel=True, seed=7)(y)
    y = AdaIN(epsilon=1e-5)([y, s_in[:, :2], s_in[:, 1:]])
    c = LearnedConstant(2, size=8, initializer="ones")(w_in)
    model = keras.Model([x_in, s_in, w_in], [y, c])
    noise = next(layer for layer in model.layers if isinstance(layer, NoiseInjection))
    noise.strength.assign([0.5, -1.0])
    noise.noise_mode.assign(1.0)
    inputs = [rng.normal(size=s).astype("float32") for s in ((2, 4, 4, 3), (2, 3), (2, 2, 5))]
    _round_trip(model, inputs, tmp_path)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="filters"):
        ModulatedConv2D(0)
    with pytest.raises(ValueError, match="demodulate"):
        ModulatedConv2D(3, demodulate="yes")
    with pytest.raises(ValueError, match="style"):
        ModulatedConv2D(3)([np.ones((1, 4, 4, 3), "float32"), np.ones((1, 2), "float32")])
    with pytest.raises(ValueError, match="per_channel"):
        NoiseInjection(per_channel=1)
    with pytest.raises(ValueError, match="known sizes"):
        NoiseInjection()(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="epsilon"):
        AdaIN(epsilon=0)
    with pytest.raises(ValueError, match="ys"):
        AdaIN()([np.ones((1, 2, 2, 3), "float32"), np.ones((1, 2), "float32"), np.ones((1, 3), "float32")])
    with pytest.raises(ValueError, match="channels"):
        LearnedConstant(0)


def test_mixed_bfloat16_forward_pass_is_finite():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    s = rng.normal(1.0, 0.3, size=(2, 3)).astype("float32")
    y = ModulatedConv2D(3, 3, upsample=True)([x, s])
    noise = NoiseInjection(per_channel=True)
    noise.build(y.shape)
    noise.strength.assign([1.0, 1.0, 1.0])
    y = noise(y)
    y = AdaIN()([y, s, s])
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert noise.noise_const.dtype == "float32"
    assert np.isfinite(np.asarray(y, "float32")).all() and np.asarray(y, "float32").std() > 0.1
    c = LearnedConstant(2)(x)
    assert keras.backend.standardize_dtype(c.dtype) == "bfloat16"
    assert zoo.layers.ModulatedConv2D is ModulatedConv2D
