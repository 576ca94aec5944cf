"""zoo.layers.Conv2DTranspose and Conv2D: Keras' strided convolutions, differentiated by phase.

Runs on every backend the default suite covers (TensorFlow, and JAX where the
layers take the phase path). The phase decomposition must give Keras' numbers
(outputs and every gradient, and for Conv2D the second-order gradient a
penalty takes) for every padding, stride, kernel and output padding a net can
ask for; on JAX the traced steps must not contain the input-dilated
convolution whose gradients XLA:CPU computes ~30x slower.
"""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import gradients
from zoo import engine
from zoo.layers import Conv2D, Conv2DTranspose
from zoo.layers.strided import conv_transpose_by_phases

CASES = [
    # (height, width, kernel, strides, padding, output_padding)
    (7, 7, (4, 4), (2, 2), "same", None),  # the DCGAN upsampling step
    (5, 6, (3, 3), (2, 2), "same", None),  # the autoencoder's
    (3, 3, (5, 5), (2, 2), "same", None),
    (4, 3, (4, 3), (2, 3), "valid", None),
    (2, 5, (2, 2), (4, 4), "valid", None),  # stride above the kernel: phases with no tap
    (3, 3, (1, 1), (3, 3), "same", None),
    (6, 4, (3, 5), (1, 1), "same", None),
    (3, 4, (3, 3), (2, 2), "same", (1, 1)),
    (3, 4, (4, 4), (3, 2), "valid", (2, 1)),
    (1, 2, (6, 6), (2, 2), "valid", None),
]


@pytest.mark.parametrize("height, width, kernel, strides, padding, output_padding", CASES)
def test_phases_equal_keras_transposed_convolution(height, width, kernel, strides, padding, output_padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, height, width, 3)).astype("float32")
    k = rng.normal(size=(*kernel, 4, 3)).astype("float32")
    want = ops.convert_to_numpy(ops.conv_transpose(x, k, strides, padding, output_padding=output_padding))
    got = ops.convert_to_numpy(conv_transpose_by_phases(x, k, strides, padding, output_padding))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-5)


def test_phases_agree_over_a_sweep_of_shapes():
    rng = np.random.default_rng(1)
    checked = 0
    for size, k, s, padding in itertools.product((1, 2, 5), (1, 2, 3, 4), (1, 2, 3), ("same", "valid")):
        x = rng.normal(size=(1, size, size + 1, 2)).astype("float32")
        kernel = rng.normal(size=(k, k + 1, 3, 2)).astype("float32")
        want = ops.convert_to_numpy(ops.conv_transpose(x, kernel, s, padding))
        got = ops.convert_to_numpy(conv_transpose_by_phases(x, kernel, s, padding))
        assert got.shape == want.shape, (size, k, s, padding)
        np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-5, err_msg=str((size, k, s, padding)))
        checked += 1
    assert checked == 72


def _pair(**config):
    """A zoo and a Keras layer with the same weights, built on the same input."""
    zoo_layer, keras_layer = Conv2DTranspose(**config), keras.layers.Conv2DTranspose(**config)
    x = np.random.default_rng(2).normal(size=(3, 5, 6, 4)).astype("float32")
    zoo_layer(x), keras_layer(x)
    keras_layer.set_weights(zoo_layer.get_weights())
    return zoo_layer, keras_layer, x


@pytest.mark.parametrize(
    "config",
    [
        {"filters": 8, "kernel_size": 4, "strides": 2, "padding": "same", "activation": "relu"},
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "valid", "use_bias": False},
        {"filters": 2, "kernel_size": (5, 3), "strides": (2, 1), "padding": "same", "output_padding": (1, 0)},
    ],
)
def test_layer_outputs_and_gradients_equal_keras_layer(config):
    zoo_layer, keras_layer, x = _pair(**config)
    np.testing.assert_allclose(
        ops.convert_to_numpy(zoo_layer(x)), ops.convert_to_numpy(keras_layer(x)), atol=2e-5, rtol=1e-5
    )
    target = np.random.default_rng(3).normal(size=zoo_layer.compute_output_shape(x.shape)).astype("float32")
    grads = [
        gradients(lambda layer=layer: ops.sum(ops.square(layer(x) - target)), layer.trainable_weights)
        for layer in (zoo_layer, keras_layer)
    ]
    assert len(grads[0]) == len(grads[1]) == len(zoo_layer.trainable_weights)
    for got, want in zip(*grads):
        assert np.abs(want).max() > 0
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def test_layer_config_round_trip_and_saving(tmp_path):
    zoo_layer, _, x = _pair(filters=5, kernel_size=4, strides=2, padding="same")
    clone = Conv2DTranspose.from_config(zoo_layer.get_config())
    assert clone.get_config() == zoo_layer.get_config()
    model = keras.Sequential([keras.Input(x.shape[1:]), zoo_layer])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[0]) is Conv2DTranspose
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), atol=1e-6)


def test_zoo_nets_upsample_with_the_phase_layer():
    from zoo import nets

    generator = nets.dcgan_generator(8, (28, 28, 1), base_filters=4, num_classes=10)
    ups = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert ups and all(type(layer) is Conv2DTranspose for layer in ups)


def test_no_input_dilated_convolution_in_a_jax_training_gradient():
    if keras.backend.backend() != "jax":
        pytest.skip("the phase path is JAX's; other backends use Keras' own call")
    import jax

    if jax.default_backend() != "cpu":
        pytest.skip("the phase path is for XLA:CPU")
    layer = Conv2DTranspose(6, 4, strides=2, padding="same")
    x = np.ones((2, 7, 7, 5), "float32")
    layer(x)
    variables = layer.trainable_variables

    def loss(values, x):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return ops.sum(ops.square(layer(x)))

    jaxpr = str(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))([v.value for v in variables], x))
    convs = jaxpr.count("conv_general_dilated")
    assert convs >= 4 * 3  # four phases, each: forward, input gradient, kernel gradient
    assert "lhs_dilation=(2, 2)" not in jaxpr and "lhs_dilation=(1, 1)" in jaxpr
    # Keras' own layer does use it: the check above can tell the two apart.
    keras_layer = keras.layers.Conv2DTranspose(6, 4, strides=2, padding="same")
    keras_layer(x)
    assert "lhs_dilation=(2, 2)" in str(jax.make_jaxpr(lambda x: keras_layer(x))(x))


CONV_CONFIGS = [
    {"filters": 6, "kernel_size": 4, "strides": 2, "padding": "same"},
    {"filters": 5, "kernel_size": 5, "strides": 2, "padding": "same", "activation": "tanh"},
    {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "valid", "use_bias": False},
    {"filters": 3, "kernel_size": (3, 2), "strides": (3, 1), "padding": "same"},
    {"filters": 3, "kernel_size": 1, "strides": 2, "padding": "valid"},
    {"filters": 3, "kernel_size": 5, "strides": 3, "padding": "same"},  # kernel wider than the output
    {"filters": 3, "kernel_size": 3, "strides": 1, "padding": "same"},  # Keras' call on every backend
]


def _conv_pair(config, shape=(2, 7, 6, 3)):
    zoo_layer, keras_layer = Conv2D(**config), keras.layers.Conv2D(**config)
    x = np.random.default_rng(4).normal(size=shape).astype("float32")
    zoo_layer(x), keras_layer(x)
    keras_layer.set_weights(zoo_layer.get_weights())
    return zoo_layer, keras_layer, x


@pytest.mark.parametrize("config", CONV_CONFIGS)
def test_conv_outputs_gradients_and_penalty_gradients_equal_keras_layer(config):
    zoo_layer, keras_layer, x = _conv_pair(config)
    np.testing.assert_allclose(
        ops.convert_to_numpy(zoo_layer(x)), ops.convert_to_numpy(keras_layer(x)), atol=2e-5, rtol=1e-5
    )
    target = np.random.default_rng(5).normal(size=zoo_layer.compute_output_shape(x.shape)).astype("float32")
    weights = np.random.default_rng(6).normal(size=target.shape).astype("float32")

    def first_order(layer):
        return gradients(lambda: ops.sum(ops.square(layer(x) - target)), layer.trainable_weights)

    def penalty(layer):
        # A WGAN-GP-like penalty: the input gradient of a weighted, nonlinear score.
        def loss():
            slopes = engine.input_gradients(lambda images: ops.tanh(layer(images)) * weights, x)
            return ops.sum(ops.square(slopes))

        return gradients(loss, layer.trainable_weights)

    for fn in (first_order, penalty):
        got, want = fn(zoo_layer), fn(keras_layer)
        assert len(got) == len(want) == len(zoo_layer.trainable_weights)
        for g, w in zip(got, want):
            assert np.abs(w).max() > 0
            np.testing.assert_allclose(g, w, atol=1e-4, rtol=1e-4, err_msg=fn.__name__)


def test_conv_input_gradient_equals_keras_for_odd_sizes():
    for size in (5, 6, 9):
        zoo_layer, keras_layer, x = _conv_pair(
            {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"}, shape=(1, size, size + 2, 2)
        )
        got, want = (
            ops.convert_to_numpy(engine.input_gradients(lambda images, layer=layer: ops.square(layer(images)), x))
            for layer in (zoo_layer, keras_layer)
        )
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4, err_msg=str(size))


def test_zoo_discriminators_downsample_with_the_phase_layer():
    from zoo import nets

    for net in (nets.dcgan_discriminator((28, 28, 1), base_filters=4), nets.keras_dcgan_discriminator((64, 64, 3))):
        convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
        assert convs and all(type(layer) in (Conv2D, Conv2DTranspose) for layer in convs), net.name


def test_a_jax_cpu_penalty_gradient_has_no_convolution_left():
    if keras.backend.backend() != "jax":
        pytest.skip("the patch path is JAX's; other backends use Keras' own call")
    import jax

    if jax.default_backend() != "cpu":
        pytest.skip("the patch path is for XLA:CPU")

    def jaxpr(layer):
        x = np.ones((2, 8, 8, 3), "float32")
        layer(x)
        variables = layer.trainable_variables

        def loss(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                slopes = engine.input_gradients(lambda images: ops.tanh(layer(images)), x)
                return ops.sum(ops.square(slopes))

        return str(jax.make_jaxpr(jax.grad(loss))([v.value for v in variables]))

    assert "conv_general_dilated" not in jaxpr(Conv2D(4, 5, strides=2, padding="same"))
    assert "lhs_dilation=(2, 2)" in jaxpr(keras.layers.Conv2D(4, 5, strides=2, padding="same"))
