"""Regularisers shared by the adversarial models: penalties, clipping, EMA generator, packing."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets
from zoo.models import GAN, ConditionalGAN

SHAPE = (16, 16, 1)
LATENT = 8


def make_gan(d_shape=SHAPE, **kwargs):
    generator = nets.mlp_generator(LATENT, SHAPE, hidden_units=(16,))
    discriminator = nets.mlp_discriminator(d_shape, hidden_units=(16,), dropout=0.0)
    return GAN(generator, discriminator, seed=3, **kwargs)


def dataset(n=16, batch=4):
    images = np.random.default_rng(0).uniform(-1, 1, (n, *SHAPE)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch)


def weights(variables):
    return [np.array(v) for v in variables]


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"loss": "wasserstein", "gradient_penalty": 10.0}, "gradient_penalty"),
        ({"r1_gamma": 1.0}, "r1_penalty"),
        ({"r1_gamma": 1.0, "r1_interval": 4}, "r1_penalty"),
    ],
)
def test_penalties_are_logged_finite_and_positive(kwargs, key):
    gan = make_gan(**kwargs)
    gan.compile()
    history = gan.fit(dataset(), epochs=2, verbose=0)
    values = history.history[key]
    assert np.all(np.isfinite(values)) and min(values) > 0


def test_gradient_penalty_changes_the_discriminator_update():
    updates = []
    for weight in (0.0, 10.0):
        keras.utils.set_random_seed(0)
        gan = make_gan(loss="wasserstein", gradient_penalty=weight, clip_value=None if weight else 1.0)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1))
        gan.fit(dataset(4, 4), epochs=1, verbose=0)
        updates.append(weights(gan.discriminator.trainable_variables))
    assert any(not np.allclose(a, b) for a, b in zip(*updates))


def test_lazy_r1_is_computed_only_every_interval():
    gan = make_gan(r1_gamma=1.0, r1_interval=3)
    gan.compile()
    gan.build_optimizers()
    critic = lambda x: gan.discriminator(x, training=True)  # noqa: E731
    real = next(iter(dataset()))
    due = []
    for step in range(6):
        gan.d_optimizer.iterations.assign(step)
        _, values = gan.regularization(critic, real, real)
        value, computed = values["r1_penalty"]
        due.append(bool(computed))
        assert (float(value) > 0) == bool(computed)
    assert due == [True, False, False, True, False, False]


def test_clipping_bounds_every_critic_weight():
    gan = make_gan(loss="wasserstein", clip_value=0.01)
    gan.compile(d_optimizer=keras.optimizers.SGD(1.0))
    gan.fit(dataset(), epochs=1, verbose=0)
    assert max(float(np.abs(np.array(v)).max()) for v in gan.discriminator.trainable_variables) <= 0.01 + 1e-7


def test_ema_generator_follows_the_generator_and_is_used_for_sampling():
    gan = make_gan(ema_momentum=0.5)
    gan.compile()
    start = weights(gan.ema_generator.weights)
    np.testing.assert_array_equal(start[0], np.array(gan.generator.weights[0]))
    gan.fit(dataset(), epochs=2, verbose=0)
    raw, ema = gan.generator.weights, gan.ema_generator.weights
    moved = [not np.allclose(a, np.array(b)) for a, b in zip(start, ema)]
    assert any(moved)
    assert any(not np.allclose(np.array(a), np.array(b)) for a, b in zip(raw, ema) if a.trainable)
    z = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_allclose(gan.generate(z), gan.ema_generator.predict(z, verbose=0), atol=1e-6)
    assert not gan.ema_generator.trainable_weights


def test_ema_generator_is_the_average_of_generator_weights():
    gan = make_gan(ema_momentum=0.9)
    gan.compile(g_optimizer=keras.optimizers.SGD(0.5))
    gan.build_optimizers()
    gan.g_optimizer.iterations.assign(1000)  # past the ramp-up: momentum 0.9
    before = [np.array(v) for v in gan.ema_generator.weights]
    real = next(iter(dataset()))
    gan.train_step(real)
    after_raw = [np.array(v) for v in gan.generator.weights]
    for old, new, raw, variable in zip(before, gan.ema_generator.weights, after_raw, gan.generator.weights):
        expected = 0.9 * old + 0.1 * raw if variable.trainable else raw
        np.testing.assert_allclose(np.array(new), expected, rtol=1e-5, atol=1e-6)


def test_pack_joins_neighbouring_samples_along_channels():
    gan = make_gan(d_shape=(16, 16, 2), pack=2)
    x = np.arange(4 * 16 * 16, dtype="float32").reshape(4, 16, 16, 1)
    packed = np.array(gan._packed(x))
    assert packed.shape == (2, 16, 16, 2)
    np.testing.assert_array_equal(packed[1, ..., 0], x[2, ..., 0])
    np.testing.assert_array_equal(packed[1, ..., 1], x[3, ..., 0])
    gan.compile()
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])


def test_pack_needs_a_divisible_batch():
    gan = make_gan(d_shape=(16, 16, 3), pack=3)
    gan.compile()
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="divisible by 3"):
        gan.fit(dataset(8, 4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="got a batch of 4"):
        gan._packed(np.zeros((4, *SHAPE), "float32"))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"loss": "wasserstein"}, "Lipschitz"),
        ({"gradient_penalty": -1.0}, "gradient_penalty"),
        ({"r1_gamma": "big"}, "r1_gamma"),
        ({"r1_interval": 0}, "r1_interval"),
        ({"clip_value": 0.0}, "clip_value"),
        ({"ema_momentum": 1.0}, "ema_momentum"),
        ({"pack": 0}, "pack"),
        ({"pack": 2}, "expected a discriminator input of shape"),
    ],
)
def test_bad_regulariser_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gan(**kwargs)


def test_config_round_trip_keeps_regularisers():
    gan = make_gan(loss="wasserstein", gradient_penalty=5.0, r1_gamma=0.5, r1_interval=4, ema_momentum=0.99)
    config = GAN.from_config(gan.get_config()).get_config()
    for key in ("gradient_penalty", "r1_gamma", "r1_interval", "clip_value", "ema_momentum", "pack"):
        assert config[key] == gan.get_config()[key]


def test_wasserstein_accepts_a_spectrally_normalised_critic():
    generator = nets.mlp_generator(LATENT, SHAPE, hidden_units=(16,))
    critic = nets.mlp_discriminator(SHAPE, hidden_units=(16,), dropout=0.0, spectral_norm=True)
    gan = GAN(generator, critic, loss="wasserstein")
    gan.compile()
    assert np.isfinite(gan.fit(dataset(), epochs=1, verbose=0).history["d_loss"][-1])


def test_conditional_gan_takes_the_penalties_and_ema():
    generator = nets.dcgan_generator(LATENT, SHAPE, base_filters=4, num_classes=3)
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4, num_classes=3)
    gan = ConditionalGAN(
        generator, discriminator, num_classes=3, gradient_penalty=1.0, r1_gamma=1.0, ema_momentum=0.9, seed=0
    )
    gan.compile()
    rng = np.random.default_rng(0)
    data = tf.data.Dataset.from_tensor_slices(
        (rng.uniform(-1, 1, (8, *SHAPE)).astype("float32"), rng.integers(0, 3, 8).astype("int32"))
    ).batch(4)
    history = gan.fit(data, epochs=1, verbose=0)
    for key in ("gradient_penalty", "r1_penalty", "d_loss"):
        assert np.isfinite(history.history[key][-1])
    z = rng.normal(size=(2, LATENT)).astype("float32")
    np.testing.assert_allclose(
        gan.generate(z, labels=1), gan.ema_generator.predict([z, np.ones(2, "int32")], verbose=0), atol=1e-6
    )
    with pytest.raises(ValueError, match="pack"):
        ConditionalGAN(generator, discriminator, num_classes=3, pack=2)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_gradient_penalty_under_mixed_precision(policy):
    """The WGAN-GP step runs and its penalty matches float32's on the same weights."""
    values = {}
    for name in ("float32", policy):
        keras.mixed_precision.set_global_policy(name)
        keras.utils.set_random_seed(0)
        gan = make_gan(loss="wasserstein", gradient_penalty=10.0)
        gan.compile()
        gan.build_optimizers()
        real = next(iter(dataset()))
        critic = lambda x: gan.discriminator(x, training=True)  # noqa: E731
        _, penalties = gan.regularization(critic, real, -real)
        values[name] = float(penalties["gradient_penalty"])
        history = gan.fit(dataset(), epochs=1, verbose=0)
        assert np.all(np.isfinite(history.history["gradient_penalty"]))
    assert values[policy] == pytest.approx(values["float32"], rel=0.05)


def test_regularisers_under_mirrored_strategy(two_replicas):
    with two_replicas.scope():
        gan = make_gan(loss="wasserstein", gradient_penalty=1.0, clip_value=0.05, r1_gamma=1.0, r1_interval=2, ema_momentum=0.9)
        gan.compile()
        gan.build_optimizers()
    history = gan.fit(dataset(16, 4), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert max(float(np.abs(np.array(v)).max()) for v in gan.discriminator.trainable_variables) <= 0.05 + 1e-7
    assert any(
        not np.allclose(np.array(a), np.array(b))
        for a, b in zip(gan.ema_generator.trainable_variables or gan.ema_generator.weights, gan.generator.weights)
    )
