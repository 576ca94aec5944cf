"""ProgressiveGAN: the paper's defaults, one level of detail for all nets, reals at the level, no retracing."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import callbacks, layers, nets
from zoo.models import GAN, ProgressiveGAN

SIDE = 16
MAX_LOD = 2
LATENT = 8


def tiny_gan(seed=0, side=SIDE, **kwargs):
    generator = nets.progan_generator(LATENT, (side, side, 1), fmap_base=16, fmap_max=8)
    critic = nets.progan_discriminator((side, side, 1), fmap_base=16, fmap_max=8)
    return ProgressiveGAN(generator, critic, seed=seed, **kwargs)


def faces(n=16, seed=0, side=SIDE):
    return np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 1)).astype("float32")


def dataset(n=16, batch=4, side=SIDE):
    return tf.data.Dataset.from_tensor_slices(faces(n, side=side)).batch(batch)


def values(variables):
    return [np.array(v) for v in variables]


def block_means(images, block):
    n, h, w, c = images.shape
    means = images.reshape(n, h // block, block, w // block, block, c).mean(axis=(2, 4))
    return np.repeat(np.repeat(means, block, axis=1), block, axis=2)


def test_has_the_papers_defaults():
    gan = tiny_gan()
    gan.compile()
    assert isinstance(gan, GAN)
    assert (gan.loss_name, gan.gradient_penalty, gan.drift, gan.d_steps, gan.ema_momentum) == (
        "wasserstein", 10.0, 0.001, 1, 0.999,
    )
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(1e-3)
        assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.0, 0.99, 1e-8)
    assert gan.max_lod == MAX_LOD and gan.lod == 0.0 and gan.resolution == SIDE


def test_set_lod_moves_generator_ema_and_critic_together():
    gan = tiny_gan()
    gan.set_lod(1.25)
    assert [nets.get_lod(n) for n in (gan.generator, gan.ema_generator, gan.discriminator)] == [1.25] * 3
    assert gan.lod == 1.25 and gan.resolution == 8
    gan.set_lod(2)
    # generate() uses the EMA generator at 4x4: 4x4 blocks of one value each.
    images = gan.generate(3)
    assert images.shape == (3, SIDE, SIDE, 1)
    np.testing.assert_array_equal(images, block_means(images, 4))
    with pytest.raises(ValueError, match=r"lod must be a float in \[0, 2\]"):
        gan.set_lod(2.5)


def test_critic_sees_real_images_at_the_level_of_detail():
    gan = tiny_gan()
    gan.compile(run_eagerly=True)
    x = faces(4)
    gan.set_lod(1.5)
    np.testing.assert_allclose(
        gan.real_at_lod(x), 0.5 * block_means(x, 2) + 0.5 * block_means(x, 4), atol=1e-6
    )
    logs = gan.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    expected = float(np.mean(gan.discriminator(0.5 * block_means(x, 2) + 0.5 * block_means(x, 4))))
    unprocessed = float(np.mean(gan.discriminator(x)))
    assert logs["d_real"] == pytest.approx(expected, abs=1e-5)
    assert abs(unprocessed - expected) > 1e-4  # the processing matters at this level


def test_generator_step_leaves_the_critic_unchanged_and_critic_step_the_generator():
    gan = tiny_gan()
    gan.compile()
    gan.build_optimizers()
    gan.set_lod(0.5)
    critic_before, generator_before = values(gan.discriminator.variables), values(gan.generator.variables)
    gan.generator_step(4)
    for before, after in zip(critic_before, values(gan.discriminator.variables)):
        np.testing.assert_array_equal(before, after)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(generator_before, values(gan.generator.variables)))
    generator_before = values(gan.generator.variables)
    gan.discriminator_step(gan.real_at_lod(faces(4)))
    for before, after in zip(generator_before, values(gan.generator.variables)):
        np.testing.assert_array_equal(before, after)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(critic_before, values(gan.discriminator.variables)))


def test_reset_optimizers_zeroes_moments_and_steps_but_keeps_the_learning_rates():
    gan = tiny_gan()
    gan.compile()
    gan.build_optimizers()
    gan.generator_step(4)
    gan.discriminator_step(faces(4))
    assert all(int(o.iterations) == 1 for o in gan.optimizers)
    assert any(np.abs(np.array(v)).max() > 0 for v in gan.g_optimizer.variables if "velocity" in v.name)
    gan.reset_optimizers()
    for optimizer in gan.optimizers:
        assert int(optimizer.iterations) == 0
        assert float(optimizer.learning_rate) == pytest.approx(1e-3)
        assert all(np.all(np.array(v) == 0) for v in optimizer.variables if v.name != "learning_rate")
    assert int(gan.generator_updates) == 1  # the EMA's warm-up goes on


def test_critic_step_adds_the_drift_term_on_real_scores():
    x = faces(4)
    results = {}
    for drift in (0.0, 1.0):
        keras.utils.set_random_seed(5)
        gan = tiny_gan(seed=5, drift=drift)
        gan.compile()
        gan.build_optimizers()
        real_scores = np.array(gan.discriminator(x, training=True))
        _, real_logits, _, penalties = gan.discriminator_step(x)
        np.testing.assert_allclose(real_logits, real_scores, rtol=1e-5, atol=1e-6)
        assert float(penalties["drift_penalty"]) == pytest.approx(float(np.mean(real_scores**2)), rel=1e-5)
        results[drift] = values(gan.discriminator.trainable_variables)
    assert any(np.abs(a - b).max() > 1e-6 for a, b in zip(results[0.0], results[1.0]))


def test_fit_grows_through_every_level_without_retracing_the_train_step():
    # 8x8 nets (levels 1 and 0): tracing the penalty's double gradient is most of this test's time.
    gan = tiny_gan(side=8)
    gan.compile()
    traces = []
    train_step = gan.train_step

    def counting_train_step(data):
        traces.append(1)  # Python runs only while tracing
        return train_step(data)

    gan.train_step = counting_train_step
    seen = []
    probe = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(gan.lod))
    growing = callbacks.ProgressiveGrowing(stabilize_images=4, fade_images=8)
    history = gan.fit(dataset(12, 4, side=8), epochs=2, verbose=0, callbacks=[growing, probe]).history
    # lod of each batch: images 0, 4, 8 | 12, 16, 20 -> 1, 1, 0.5 | 0, 0, 0.
    assert seen == [1.0, 1.0, 0.5, 0.0, 0.0, 0.0]
    assert history["lod"] == [0.5, 0.0] and history["resolution"] == [8.0, 8.0]
    assert int(gan.images_seen) == 24
    # Optimizer state reset as each fade starts (before batch 3) and ends (before batch 4).
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 3
    assert int(gan.generator_updates) == 6
    for key in ("d_loss", "g_loss", "gradient_penalty", "drift_penalty", "d_real", "d_fake"):
        assert np.all(np.isfinite(history[key])), key
    assert len(traces) == 1
    function = gan.train_function
    gan.set_lod(1.0)
    gan.fit(dataset(4, 4, side=8), epochs=1, verbose=0)
    assert gan.train_function is function and len(traces) == 1
    assert int(gan.images_seen) == 28 and int(gan.d_optimizer.iterations) == 4


def test_bad_arguments_are_named():
    generator = nets.progan_generator(LATENT, (SIDE, SIDE, 1), fmap_base=16, fmap_max=8)
    with pytest.raises(ValueError, match="drift must be a float >= 0"):
        ProgressiveGAN(generator, nets.progan_discriminator((SIDE, SIDE, 1), fmap_base=16), drift=-1.0)
    with pytest.raises(ValueError, match="the discriminator takes inputs of shape"):
        ProgressiveGAN(generator, nets.progan_discriminator((2 * SIDE, 2 * SIDE, 1), fmap_base=16))
    with pytest.raises(ValueError, match="exactly one zoo.layers.LevelOfDetail"):
        ProgressiveGAN(generator, nets.mlp_discriminator((SIDE, SIDE, 1)))


def test_real_images_pass_through_at_full_resolution():
    x = faces(2)
    np.testing.assert_array_equal(layers.images_at_lod(x, 0.0, MAX_LOD), x)


@pytest.mark.slow  # a traced step under MirroredStrategy
def test_images_seen_counts_the_global_batch_under_mirrored_strategy(two_replicas):
    with two_replicas.scope():
        gan = tiny_gan(side=8)
        gan.compile()
    growing = callbacks.ProgressiveGrowing(stabilize_images=8, fade_images=8)
    gan.fit(dataset(16, 8, side=8), epochs=1, verbose=0, callbacks=[growing])
    assert int(gan.images_seen.numpy()) == 16  # two global batches of 8, summed over the replicas
    assert gan.lod == 1.0 and np.isfinite(np.array(gan.generate(2))).all()
