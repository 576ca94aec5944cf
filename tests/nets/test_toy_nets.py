import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets


def test_generator_shapes_and_round_trip():
    generator = nets.toy_generator(hidden_units=(16, 16))
    noise = np.random.normal(size=(8, 2)).astype("float32")
    samples = generator(noise)
    assert tuple(samples.shape) == (8, 2)
    assert generator.layers[-1].name == "samples"
    clone = keras.Model.from_config(generator.get_config())
    clone.set_weights(generator.get_weights())
    np.testing.assert_allclose(clone(noise), samples, atol=1e-6)


def test_generator_parameter_count():
    # Hidden Dense layers have no bias under batch norm: 2*400 + 3*400*400 kernels,
    # 4 * (4 * 400) batch-norm weights, 400*2 + 2 for the output.
    assert nets.toy_generator().count_params() == 2 * 400 + 3 * 400 * 400 + 4 * 4 * 400 + 400 * 2 + 2


def test_generator_without_batch_norm_has_biases():
    generator = nets.toy_generator(latent_dim=3, data_dim=5, hidden_units=(4,), batch_norm=False)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in generator.layers)
    assert generator.count_params() == 3 * 4 + 4 + 4 * 5 + 5
    assert tuple(generator(np.zeros((2, 3))).shape) == (2, 5)


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_pack_sets_the_discriminator_input_width(pack):
    discriminator = nets.toy_discriminator(pack=pack, hidden_units=(8, 8))
    assert tuple(discriminator.input.shape) == (None, 2 * pack)
    points = np.random.normal(size=(8, 2)).astype("float32")
    logits = discriminator(points.reshape(-1, 2 * pack))
    assert tuple(logits.shape) == (8 // pack, 1)
    assert discriminator.layers[-1].name == "logits"


def test_discriminator_parameter_count():
    # (2*2*200 + 200) + 2 * (200*200 + 200) + (200 + 1) with pack=2.
    assert nets.toy_discriminator(pack=2).count_params() == 1000 + 2 * 40_200 + 201


def test_discriminator_round_trip():
    discriminator = nets.toy_discriminator(pack=3, hidden_units=(8,))
    points = np.random.normal(size=(4, 6)).astype("float32")
    clone = keras.models.clone_model(discriminator)
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(points), discriminator(points), atol=1e-6)


def test_spectral_norm_discriminator_builds_runs_and_round_trips():
    discriminator = nets.toy_discriminator(pack=2, hidden_units=(8, 8), spectral_norm=True)
    wrapped = [
        layer for layer in discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)
    ]
    assert len(wrapped) == 3 and discriminator.layers[-1].name == "logits"
    points = np.random.normal(size=(6, 4)).astype("float32")
    logits = discriminator(points, training=True)
    assert tuple(logits.shape) == (6, 1) and np.all(np.isfinite(keras.ops.convert_to_numpy(logits)))
    # One power iteration per training call: the kernels' spectral norms converge to 1.
    train_call = tf.function(lambda: discriminator(points, training=True))
    for _ in range(20):
        train_call()
    for layer in wrapped:
        kernel = keras.ops.convert_to_numpy(layer.layer.kernel)
        assert np.linalg.svd(kernel, compute_uv=False)[0] == pytest.approx(1.0, abs=0.05)
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(points), discriminator(points), atol=1e-6)


def test_outputs_are_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    generator = nets.toy_generator(hidden_units=(8,))
    for spectral_norm in (False, True):
        discriminator = nets.toy_discriminator(hidden_units=(8,), spectral_norm=spectral_norm)
        assert discriminator(np.zeros((2, 2))).dtype == "float32"
    assert generator(np.zeros((2, 2))).dtype == "float32"


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: nets.toy_generator(latent_dim=0), "latent_dim"),
        (lambda: nets.toy_generator(data_dim=1.5), "data_dim"),
        (lambda: nets.toy_generator(hidden_units=()), "hidden_units"),
        (lambda: nets.toy_generator(batch_norm=1), "batch_norm"),
        (lambda: nets.toy_discriminator(pack=0), "pack"),
        (lambda: nets.toy_discriminator(hidden_units=(8, -1)), "hidden_units"),
        (lambda: nets.toy_discriminator(spectral_norm="yes"), "spectral_norm"),
    ],
)
def test_bad_arguments_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
