"""CycleGAN: four nets and four optimizers in one step, cycle and identity terms, the history pool."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets
from zoo.models import CycleGAN
from zoo.models.cycle_gan import ImagePool

SIZE = 16
KEYS = {"g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss"}


def make(channels_a=1, channels_b=1, size=SIZE, image_shape=(SIZE, SIZE), seed=1, **kwargs):
    def generator(cin, cout, name):
        return nets.resnet_generator(cin, cout, num_blocks=1, base_filters=4, num_downsamples=1, name=name)

    def discriminator(channels, name):
        return nets.patch_discriminator(channels, base_filters=4, num_layers=1, norm="instance", name=name)

    return CycleGAN(
        generator(channels_a, channels_b, "g_ab"),
        generator(channels_b, channels_a, "g_ba"),
        discriminator(channels_a, "d_a"),
        discriminator(channels_b, "d_b"),
        image_shape=image_shape,
        seed=seed,
        **kwargs,
    )


def unpaired(n=4, channels_a=1, channels_b=1, size=SIZE, seed=0, tensors=False):
    rng = np.random.default_rng(seed)
    images_a = rng.uniform(-1, 1, (n, size, size, channels_a)).astype("float32")
    images_b = np.tanh(rng.normal(0.5, 0.5, (n, size, size, channels_b))).astype("float32")
    return (tf.constant(images_a), tf.constant(images_b)) if tensors else (images_a, images_b)


def dataset(n=4, batch=2, **kwargs):
    return tf.data.Dataset.from_tensor_slices(unpaired(n, **kwargs)).batch(batch)


def snapshot(variables):
    return [np.array(v) for v in variables]


def unchanged(before, variables):
    return all(np.array_equal(b, np.array(v)) for b, v in zip(before, variables))


def all_changed(before, variables):
    return all(not np.array_equal(b, np.array(v)) for b, v in zip(before, variables))


def test_fit_takes_two_arrays_and_evaluate_updates_nothing():
    model = make(pool_size=2)
    model.compile(run_eagerly=True)
    images_a, images_b = unpaired(4)
    model.fit(images_a, images_b, batch_size=2, epochs=1, verbose=0)
    weights = snapshot(model.weights)
    scores = model.evaluate(images_a, images_b, batch_size=2, verbose=0, return_dict=True)
    assert set(scores) == KEYS and all(np.isfinite(v) for v in scores.values())
    assert unchanged(weights, model.weights)
    with pytest.raises(ValueError, match=r"\(images_a, images_b\) tuples"):
        model.train_step((images_a, images_b, images_a))


def test_train_on_batch_takes_the_two_domains_as_x_and_y():
    model = make(pool_size=2)
    model.compile()
    images_a, images_b = unpaired(2)
    logs = model.train_on_batch(images_a, images_b, return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    assert all(int(o.iterations) == 1 for o in model.optimizers)


def test_generator_step_leaves_the_discriminators_and_vice_versa():
    model = make(pool_size=2)
    model.compile(run_eagerly=True)
    model.build_optimizers()
    real_a, real_b = unpaired(2, tensors=True)
    discriminators = model.discriminator_a.weights + model.discriminator_b.weights
    d_before = snapshot(discriminators)
    g_before = snapshot(model.generator_ab.trainable_weights + model.generator_ba.trainable_weights)
    out = model.generator_step(real_a, real_b)
    assert unchanged(d_before, discriminators)
    assert all_changed(g_before, model.generator_ab.trainable_weights + model.generator_ba.trainable_weights)
    generators = model.generator_ab.weights + model.generator_ba.weights
    g_before = snapshot(generators)
    d_before = snapshot(model.discriminator_a.trainable_weights + model.discriminator_b.trainable_weights)
    model.discriminator_step(real_a, real_b, out["fake_a"], out["fake_b"])
    assert unchanged(g_before, generators)
    assert all_changed(d_before, model.discriminator_a.trainable_weights + model.discriminator_b.trainable_weights)
    assert [int(o.iterations) for o in model.optimizers] == [1, 1, 1, 1]


def test_generator_objective_weighs_cycle_and_identity_as_the_paper():
    real_a, real_b = unpaired(2, tensors=True)
    model = make(cycle_weight=10.0, identity_weight=0.5)
    out = model.generator_losses(real_a, real_b, training=False)
    expected = out["g_ab_loss"] + out["g_ba_loss"] + 10.0 * out["cycle_loss"] + 5.0 * out["identity_loss"]
    assert float(out["identity_loss"]) > 0
    np.testing.assert_allclose(float(out["total"]), float(expected), rtol=1e-6)
    identity = float(np.mean(np.abs(model.translate_ab(real_b) - real_b.numpy())))
    identity += float(np.mean(np.abs(model.translate_ba(real_a) - real_a.numpy())))
    np.testing.assert_allclose(float(out["identity_loss"]), identity, rtol=1e-5)

    off = make(identity_weight=0.0)
    out = off.generator_losses(real_a, real_b, training=False)
    assert float(out["identity_loss"]) == 0.0
    np.testing.assert_allclose(
        float(out["total"]), float(out["g_ab_loss"] + out["g_ba_loss"] + 10.0 * out["cycle_loss"]), rtol=1e-6
    )


def test_domains_with_different_channels_need_identity_weight_zero():
    with pytest.raises(ValueError, match="identity_weight must be 0 when the domains' channels differ"):
        make(channels_a=1, channels_b=3)
    model = make(channels_a=1, channels_b=3, identity_weight=0.0, pool_size=2)
    model.compile(run_eagerly=True)
    history = model.fit(dataset(n=2, channels_a=1, channels_b=3), epochs=1, verbose=0)
    assert history.history["identity_loss"] == [0.0]
    images_a, images_b = unpaired(2, channels_a=1, channels_b=3)
    assert model.translate_ab(images_a).shape == (2, SIZE, SIZE, 3)
    assert model.translate_ba(images_b).shape == (2, SIZE, SIZE, 1)
    np.testing.assert_allclose(np.array(model(images_a)), model.translate_ab(images_a), atol=1e-6)
    with pytest.raises(ValueError, match=r"domain A must have shape \(batch, height, width, 1\)"):
        model.translate_ab(images_b)
    with pytest.raises(ValueError, match="divisible by 2"):
        model.translate_ba(np.zeros((1, 15, 16, 3), "float32"))


def test_adversarial_terms_are_the_papers():
    real = np.array([[0.5], [2.0]], "float32")
    fake = np.array([[0.25], [-1.0]], "float32")
    least_squares = make()
    # Generators: E[(D(G(x)) - 1)^2]; discriminators: (E[(D(y) - 1)^2] + E[D(G(x))^2]) / 2.
    np.testing.assert_allclose(float(least_squares.adversarial_g_loss(fake)), (0.5625 + 4.0) / 2, rtol=1e-6)
    np.testing.assert_allclose(
        float(least_squares.adversarial_d_loss(real, fake)), ((0.25 + 1.0) / 2 + (0.0625 + 1.0) / 2) / 2, rtol=1e-6
    )
    cross_entropy = make(loss="non_saturating")
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    np.testing.assert_allclose(float(cross_entropy.adversarial_g_loss(fake)), np.mean(softplus(-fake)), rtol=1e-5)
    np.testing.assert_allclose(
        float(cross_entropy.adversarial_d_loss(real, fake)),
        (np.mean(softplus(-real)) + np.mean(softplus(fake))) / 2,
        rtol=1e-5,
    )


# -- the history pool ------------------------------------------------------------


def distinct(n, start=0):
    """`n` 1x1 images, image i holding the value start + i."""
    return tf.constant(np.arange(start, start + n, dtype="float32").reshape(n, 1, 1, 1))


def values(images):
    return np.asarray(images).reshape(-1).tolist()


def test_pool_fills_first_and_never_returns_an_image_it_was_not_given():
    pool = ImagePool(3, (1, 1, 1))
    assert values(pool(distinct(2), tf.constant([1, 2]))) == [0.0, 1.0]
    assert int(pool.count.numpy()) == 2
    given = {0.0, 1.0}
    # A batch that fills the last slot, then finds the pool full.
    returned = values(pool(distinct(4, start=2), tf.constant([3, 4])))
    assert returned[0] == 2.0 and int(pool.count.numpy()) == 3
    given |= {2.0, 3.0, 4.0, 5.0}
    assert set(returned) <= given
    for step in range(20):
        new = distinct(3, start=10 + 3 * step)
        given |= set(values(new))
        returned = values(pool(new, tf.constant([step, 7])))
        for i, value in enumerate(returned):
            assert value == values(new)[i] or value in given - set(values(new)), (step, returned)
        assert set(values(pool.images)[:3]) <= given
    assert int(pool.count.numpy()) == 3


def test_full_pool_swaps_half_the_images_for_stored_ones():
    pool = ImagePool(5, (1, 1, 1))
    pool(distinct(5), tf.constant([0, 0]))
    stored = set(values(pool.images)[:5])
    assert stored == {0.0, 1.0, 2.0, 3.0, 4.0}
    new = distinct(2000, start=100)
    returned = np.array(values(pool(new, tf.constant([5, 6]))))
    swapped = returned != np.array(values(new))
    assert abs(swapped.mean() - 0.5) < 0.05
    assert set(returned[swapped].tolist()) == stored  # each slot is drawn
    # Every slot now holds one of the swapped-in images.
    assert set(values(pool.images)[:5]) <= set(np.array(values(new))[swapped].tolist())


def test_pool_keeps_the_last_of_several_swaps_into_one_slot():
    pool = ImagePool(1, (1, 1, 1))
    pool(distinct(1, start=-1), tf.constant([0, 1]))
    new = distinct(16)
    returned = np.array(values(pool(new, tf.constant([2, 3]))))
    swapped = np.flatnonzero(returned != np.arange(16))
    assert swapped.size and np.all(returned[swapped] == -1.0)  # the image stored before this batch
    assert values(pool.images)[0] == float(swapped[-1])


def test_pool_draws_from_the_models_seed_in_a_compiled_step():
    model = make(pool_size=1)
    model.pool_a(distinct(1, start=-1) * tf.ones((1, SIZE, SIZE, 1)), model.draw_seed())
    draw = tf.function(lambda images: model.pooled(model.pool_a, images))
    choices = set()
    for _ in range(12):
        returned = np.array(draw(tf.zeros((1, SIZE, SIZE, 1))))
        choices.add(float(returned[0, 0, 0, 0]))
        model.pool_a.images.assign(-tf.ones_like(model.pool_a.images))
    assert choices == {0.0, -1.0}  # not frozen at trace time


def test_pool_size_zero_shows_the_newest_fakes_and_needs_no_image_size():
    model = make(pool_size=0, image_shape=None)
    assert model.pool_a is None and model.pool_b is None
    fakes = unpaired(2, tensors=True)[0]
    np.testing.assert_array_equal(np.array(model.pooled(model.pool_a, fakes)), np.array(fakes))
    with pytest.raises(ValueError, match="pass image_shape=\\(height, width\\), or pool_size=0"):
        make(pool_size=50, image_shape=None)


def test_replicas_keep_their_own_pools(two_replicas):
    strategy = two_replicas
    with strategy.scope():
        model = make(pool_size=2)
    fakes = strategy.experimental_distribute_values_from_function(
        lambda context: distinct(2, start=10 * context.replica_id_in_sync_group) * tf.ones((2, SIZE, SIZE, 1))
    )
    draw = tf.function(lambda images: model.pooled(model.pool_a, images))
    strategy.run(draw, args=(fakes,))
    pools = [v.numpy()[:2, 0, 0, 0].tolist() for v in strategy.experimental_local_results(model.pool_a.images.value)]
    counts = [int(v.numpy()) for v in strategy.experimental_local_results(model.pool_a.count.value)]
    assert pools == [[0.0, 1.0], [10.0, 11.0]] and counts == [2, 2]
    assert model.pool_a.images.numpy()[:2, 0, 0, 0].tolist() == [0.0, 1.0]  # saved: the first replica's


@pytest.mark.slow  # tracing the step for two replicas takes ~25 s on a busy CPU
def test_mirrored_fit_trains_with_a_pool_per_replica(two_replicas):
    strategy = two_replicas
    with strategy.scope():
        model = make(pool_size=2)
        model.compile()
        model.build_optimizers()
    history = model.fit(dataset(n=4, batch=4), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    pools = [np.array(v) for v in strategy.experimental_local_results(model.pool_a.images.value)]
    assert not np.allclose(pools[0][:2], pools[1][:2])  # each replica stored its own half batch


# -- configuration ---------------------------------------------------------------


def test_compile_takes_one_optimizer_per_net():
    model = make()
    model.compile(d_b_optimizer=keras.optimizers.SGD(0.1))
    assert CycleGAN.OPTIMIZERS == ("g_ab_optimizer", "g_ba_optimizer", "d_a_optimizer", "d_b_optimizer")
    assert len({id(o) for o in model.optimizers}) == 4
    for optimizer in model.optimizers[:3]:
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4) and optimizer.beta_1 == 0.5
    assert isinstance(model.d_b_optimizer, keras.optimizers.SGD)
    with pytest.raises(ValueError, match="takes g_ab_optimizer"):
        model.compile(optimizer="adam")


def test_nets_image_shape_taken_from_the_nets():
    generator = nets.resnet_generator(1, 1, num_blocks=1, base_filters=4, num_downsamples=1, image_size=8)
    other = nets.resnet_generator(1, 1, num_blocks=1, base_filters=4, num_downsamples=1, image_size=8)
    d_a = nets.patch_discriminator(1, base_filters=4, num_layers=1, image_size=8)
    d_b = nets.patch_discriminator(1, base_filters=4, num_layers=1, image_size=8)
    model = CycleGAN(generator, other, d_a, d_b, pool_size=2)
    assert model.pool_b.images.shape == (3, 8, 8, 1)
    with pytest.raises(ValueError, match="disagree on the image size"):
        CycleGAN(generator, other, d_a, d_b, image_shape=(16, 16))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cycle_weight": -1.0}, "cycle_weight must be a float >= 0"),
        ({"identity_weight": "0.5"}, "identity_weight must be a float >= 0"),
        ({"pool_size": -1}, "pool_size must be an int >= 0"),
        ({"pool_size": 2.5}, "pool_size must be an int >= 0"),
        ({"loss": "nope"}, "loss must be one of"),
        ({"loss": "wasserstein"}, "spectrally normalised"),
        ({"image_shape": (16,)}, "image_shape must be None"),
        ({"image_shape": (16, 16, 3)}, "image_shape has 3 channels"),
        ({"seed": "1"}, "seed must be an int"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_mismatched_nets_are_refused():
    g_ab = nets.resnet_generator(1, 3, num_blocks=1, base_filters=4, num_downsamples=1)
    g_ba = nets.resnet_generator(3, 1, num_blocks=1, base_filters=4, num_downsamples=1)
    d_1 = nets.patch_discriminator(1, base_filters=4, num_layers=1)
    d_3 = nets.patch_discriminator(3, base_filters=4, num_layers=1)
    with pytest.raises(ValueError, match="discriminator_a's input has 3 channels; expected 1"):
        CycleGAN(g_ab, g_ba, d_3, d_3, identity_weight=0.0, pool_size=0)
    with pytest.raises(ValueError, match="generator_ba's input has 1 channels; expected 3"):
        CycleGAN(g_ab, g_ab, d_1, d_3, identity_weight=0.0, pool_size=0)
    pix2pix_d = nets.patch_discriminator(3, source_channels=1, base_filters=4, num_layers=1)
    with pytest.raises(ValueError, match="discriminator_b must be a single-input keras.Model"):
        CycleGAN(g_ab, g_ba, d_1, pix2pix_d, identity_weight=0.0, pool_size=0)
    with pytest.raises(ValueError, match="pool_size must be a positive int"):
        ImagePool(0, (4, 4, 1))
    with pytest.raises(ValueError, match="image_shape must be \\(height, width, channels\\)"):
        ImagePool(2, (4, 4))


def generator_updates(g_ab_optimizer, g_ba_optimizer):
    """How far one generator step moves each generator (the L2 norm of its weight change)."""
    keras.utils.set_random_seed(5)
    model = make()
    model.compile(g_ab_optimizer=g_ab_optimizer, g_ba_optimizer=g_ba_optimizer, run_eagerly=True)
    model.build_optimizers()
    nets_ = (model.generator_ab, model.generator_ba)
    before = [snapshot(net.trainable_variables) for net in nets_]
    model.generator_step(*unpaired(2, tensors=True))
    return [
        np.sqrt(sum(np.sum((np.array(v) - b) ** 2) for b, v in zip(old, net.trainable_variables)))
        for old, net in zip(before, nets_)
    ]


def test_mixed_float16_unscales_each_generators_gradients_by_its_own_scale():
    reference = generator_updates(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    keras.mixed_precision.set_global_policy("mixed_float16")
    # Different scales: gradients taken at one optimizer's scale and unscaled by the other's would be 16x off.
    scaled = generator_updates(
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=4.0),
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=64.0),
    )
    assert min(reference) > 0
    np.testing.assert_allclose(scaled, reference, rtol=0.05)
    model = make(pool_size=2)
    model.compile(run_eagerly=True)
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.optimizers)
    history = model.fit(dataset(n=2, batch=2), epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())


def smooth(n, seed, scale=1.0):
    """8x8 images of 2x2 constant blocks: structure a tiny generator can carry both ways."""
    blocks = np.random.default_rng(seed).uniform(-1, 1, (n, 2, 2, 1)).astype("float32")
    return scale * np.kron(blocks, np.ones((1, 4, 4, 1), "float32"))


@pytest.mark.slow  # ~15-20 s on a busy CPU, most of it tracing the step
def test_cycle_loss_falls():
    # Without instance normalisation: on 8x8 images it erases each image's
    # contrast, which no generator can then restore (the cycle loss stalls near 0.5).
    def generator():
        return nets.resnet_generator(1, 1, num_blocks=1, base_filters=4, num_downsamples=1, norm=None)

    def discriminator():
        return nets.patch_discriminator(1, base_filters=4, num_layers=1, norm="instance")

    model = CycleGAN(
        generator(), generator(), discriminator(), discriminator(), image_shape=(8, 8), pool_size=4, seed=1
    )
    model.compile(**{name: keras.optimizers.Adam(2e-3, beta_1=0.5) for name in CycleGAN.OPTIMIZERS})
    held_out_a, held_out_b = tf.constant(smooth(8, 5)), tf.constant(smooth(8, 6, scale=-0.8))
    before = float(model.generator_losses(held_out_a, held_out_b, training=False)["cycle_loss"])
    train = tf.data.Dataset.from_tensor_slices((smooth(32, 1), smooth(32, 2, scale=-0.8))).batch(4)
    history = model.fit(train.repeat(25), epochs=1, verbose=0)  # 200 steps
    after = float(model.generator_losses(held_out_a, held_out_b, training=False)["cycle_loss"])
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert after < 0.4 * before, (before, after)
