"""The GAN training loop: updates, options, precision, XLA, distribution, config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets
from zoo.models import GAN

SHAPE = (16, 16, 1)
LATENT = 8


def make_gan(**kwargs):
    generator = nets.mlp_generator(LATENT, SHAPE, hidden_units=(16,))
    discriminator = nets.mlp_discriminator(SHAPE, hidden_units=(16,), dropout=0.0)
    return GAN(generator, discriminator, seed=3, **kwargs)


def make_dcgan(**kwargs):
    generator = nets.dcgan_generator(LATENT, SHAPE, base_filters=4)
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
    return GAN(generator, discriminator, seed=3, **kwargs)


def images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def dataset(n=16, batch=4):
    return tf.data.Dataset.from_tensor_slices(images(n)).batch(batch)


def snapshot(variables):
    return [np.array(v) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, np.array(v)) for b, v in zip(before, variables)]


def test_generator_step_leaves_discriminator_unchanged():
    gan = make_dcgan()
    gan.compile()
    gan.build_optimizers()
    d_before = snapshot(gan.discriminator.trainable_variables)
    g_before = snapshot(gan.generator.trainable_variables)
    tf.function(gan.generator_step)(4)
    assert not any(changed(d_before, gan.discriminator.trainable_variables))
    assert all(changed(g_before, gan.generator.trainable_variables))


def test_discriminator_step_leaves_generator_unchanged():
    gan = make_dcgan()
    gan.compile()
    gan.build_optimizers()
    d_before = snapshot(gan.discriminator.trainable_variables)
    g_before = snapshot(gan.generator.trainable_variables)
    tf.function(gan.discriminator_step)(images(4))
    assert not any(changed(g_before, gan.generator.trainable_variables))
    assert all(changed(d_before, gan.discriminator.trainable_variables))


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "hinge"])
def test_every_loss_trains(loss):
    gan = make_gan(loss=loss)
    gan.compile()
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_d_steps_runs_several_discriminator_updates_per_generator_update():
    gan = make_gan(d_steps=3)
    gan.compile()
    gan.fit(dataset(), epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 12
    assert int(gan.g_optimizer.iterations) == 4


def test_instance_noise_is_added_and_annealed():
    gan = make_gan(instance_noise=0.5, instance_noise_decay_steps=10)
    gan.compile()
    gan.build_optimizers()
    x = np.zeros((64, *SHAPE), "float32")
    assert np.std(gan._noisy(x)) == pytest.approx(0.5, rel=0.05)
    gan.d_optimizer.iterations.assign(5)
    assert np.std(gan._noisy(x)) == pytest.approx(0.25, rel=0.05)
    gan.d_optimizer.iterations.assign(10)
    assert np.std(gan._noisy(x)) == 0.0


def test_label_smoothing_lowers_the_real_target():
    plain, smoothed = make_gan(), make_gan(label_smoothing=0.2)
    logits = np.full((4, 1), 3.0, "float32")
    kwargs = dict(real_target=1.0 - smoothed.label_smoothing)
    # A confident real logit costs more when the target is 0.8 instead of 1.
    assert float(smoothed.d_loss_fn(logits, -logits, **kwargs)) > float(
        plain.d_loss_fn(logits, -logits, real_target=1.0)
    )


def test_generate_from_count_and_from_noise():
    gan = make_gan()
    out = gan.generate(5)
    assert out.shape == (5, *SHAPE) and out.min() >= -1 and out.max() <= 1
    z = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_array_equal(gan.generate(z), gan.generate(z))
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        gan.generate(np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match="positive"):
        gan.generate(0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"loss": "bce"}, "loss must be one of"),
        ({"d_steps": 0}, "d_steps"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"instance_noise": -1.0}, "instance_noise"),
        ({"latent_dim": 9}, "latent_dim=9 does not match"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_gan(**kwargs)


def test_compile_rejects_a_single_optimizer():
    with pytest.raises(ValueError, match="d_optimizer, g_optimizer"):
        make_gan().compile(optimizer="adam")


def test_compile_creates_no_stray_optimizer():
    gan = make_gan()
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1))
    assert gan.optimizer is None
    assert isinstance(gan.d_optimizer, keras.optimizers.SGD)
    assert isinstance(gan.g_optimizer, keras.optimizers.Adam)


@pytest.mark.slow  # XLA compilation takes ~15 s on a CPU
def test_jit_compile_fit():
    gan = make_dcgan()
    gan.compile(jit_compile=True)
    assert gan.jit_compile is True
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_jit_compile_auto_is_off_on_cpu():
    gan = make_gan()
    gan.compile()
    assert gan.jit_compile is bool(tf.config.list_logical_devices("GPU"))


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_fit(policy):
    keras.mixed_precision.set_global_policy(policy)
    gan = make_dcgan()
    gan.compile()
    scaled = isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    g_before = snapshot(gan.generator.trainable_variables)
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert any(changed(g_before, gan.generator.trainable_variables))
    assert gan.generate(2).dtype == np.float32


# -- tf.distribute ---------------------------------------------------------------


def test_replicas_draw_different_noise(two_replicas):
    strategy = two_replicas
    with strategy.scope():
        gan = make_gan()
    draw = tf.function(lambda: (gan.sample_noise(4), gan.sample_noise(4)))
    draws = [
        np.array(t)
        for pair in strategy.experimental_local_results(strategy.run(draw))
        for t in pair
    ]
    # Two draws on each of two replicas: no stream may repeat another's.
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(draws[i], draws[j]), (i, j)


def constant_generator_gan():
    """A GAN whose fakes do not depend on the noise, so a step is deterministic."""
    gan = make_gan()
    for variable in gan.generator.trainable_variables:
        variable.assign(np.zeros(variable.shape, "float32"))
    return gan


def test_mirrored_fit_matches_single_device_fit(two_replicas):
    # With noise-independent fakes and no batch statistics in D, two replicas
    # on half batches must produce the single-device update: this fails if
    # losses are not averaged over the global batch.
    strategy = two_replicas
    data = dataset(n=16, batch=8)

    keras.utils.set_random_seed(7)
    single = constant_generator_gan()
    single.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    single.fit(data, epochs=1, verbose=0)

    keras.utils.set_random_seed(7)
    with strategy.scope():
        mirrored = constant_generator_gan()
        mirrored.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
        mirrored.build_optimizers()
    before = snapshot(mirrored.discriminator.trainable_variables)
    history = mirrored.fit(data, epochs=1, verbose=0)

    assert all(changed(before, mirrored.discriminator.trainable_variables))
    for a, b in zip(single.discriminator.trainable_variables, mirrored.discriminator.trainable_variables):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5)
    for a, b in zip(single.generator.trainable_variables, mirrored.generator.trainable_variables):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5)
    assert np.isfinite(history.history["d_loss"][-1])


def test_mirrored_dcgan_fit_moves_both_players(two_replicas):
    strategy = two_replicas
    with strategy.scope():
        gan = make_dcgan()
        gan.compile()
        gan.build_optimizers()
    g_before = snapshot(gan.generator.trainable_variables)
    d_before = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(dataset(n=16, batch=8), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert all(changed(g_before, gan.generator.trainable_variables))
    assert all(changed(d_before, gan.discriminator.trainable_variables))
