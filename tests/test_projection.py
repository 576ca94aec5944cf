import keras
import numpy as np
import pytest
from keras import layers

from zoo import metrics, projection
from zoo.layers import NoiseInjection


def _nets(latent_dim=8, w_dim=8, noise_strength=0.01, with_noise=True, seed=0):
    """A tiny mapping (unit-normalised z, tanh MLP) and a 16x16 synthesis with two ws.

    `ws[:, 0]` makes a 4x4 map, `ws[:, 1]` modulates its channels after the first
    upsampling, so W+ can do things W cannot; two `NoiseInjection` layers (8x8 and
    16x16) with a small strength add detail that the codes cannot explain.
    """
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,))
    x = layers.UnitNormalization()(z)
    x = layers.Dense(w_dim, activation="tanh")(x)
    mapping = keras.Model(z, layers.Dense(w_dim)(x), name="mapping")
    ws = keras.Input((2, w_dim))
    h = layers.Dense(4 * 4 * 16, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(ws[:, 0])
    h = layers.Reshape((4, 4, 16))(h)
    h = layers.UpSampling2D()(h)
    h = layers.Conv2D(16, 3, padding="same")(h)
    h = layers.LeakyReLU(0.2)(h)
    if with_noise:
        h = NoiseInjection(seed=1, name="noise_8")(h)
    style = layers.Dense(16)(ws[:, 1])
    h = h * (1.0 + style[:, None, None, :])
    h = layers.UpSampling2D()(h)
    if with_noise:
        h = NoiseInjection(seed=2, name="noise_16")(h)
    images = layers.Conv2D(1, 3, padding="same", activation="tanh")(h)
    synthesis = keras.Model(ws, images, name="synthesis")
    for layer in projection.noise_layers(synthesis):
        layer.strength.assign(noise_strength)
    return mapping, synthesis


def _targets(mapping, synthesis, num=2, seed=5, mix=False):
    """Images of known codes, with their own noise maps (which projection cannot know)."""
    rng = np.random.default_rng(seed)
    w = np.asarray(mapping(rng.standard_normal((2 * num, 8)).astype("float32")))
    ws = np.stack([w[:num], w[num:] if mix else w[:num]], axis=1)
    noise = [rng.standard_normal((num,) + tuple(l.noise_const.shape[1:])) for l in projection.noise_layers(synthesis)]
    return projection.synthesize(synthesis, ws, noise), ws


def _lag_one_correlation(noise):
    """Mean over maps of the lag-1 autocorrelation along the width, per target."""
    return np.mean([np.mean(n * np.roll(n, 1, axis=2), axis=(1, 2, 3)) for n in noise], axis=0)


# -- pieces ------------------------------------------------------------------------------


def test_noise_regularization_exact_values():
    ones = np.ones((16, 16))
    checker = np.indices((16, 16)).sum(axis=0) % 2 * 2.0 - 1.0
    batch = np.stack([ones, checker])[..., None].astype("float32")
    # ones: every level (16, 8) gives 1 + 1; checkerboard: -1 products at 16 px (1 + 1),
    # then its 2x2 means are 0 at 8 px.
    np.testing.assert_allclose(projection.noise_regularization(batch), [4.0, 2.0], rtol=1e-6)
    small = np.ones((1, 4, 4, 1), "float32")  # at most 8 px: one level
    np.testing.assert_allclose(projection.noise_regularization([batch[:1], small]), [6.0], rtol=1e-6)
    white = np.random.default_rng(0).standard_normal((3, 64, 64, 1)).astype("float32")
    assert np.all(np.asarray(projection.noise_regularization(white)) < 1e-3)


def test_projection_schedule_ramps_up_and_down():
    schedule = projection.ProjectionSchedule(0.1, num_steps=1000, rampup_length=0.05, rampdown_length=0.25)
    rates = [float(schedule(step)) for step in (0, 25, 50, 500, 875, 1000)]
    # t = 0.025 is half the ramp-up; t = 0.875 is half the cosine ramp-down.
    np.testing.assert_allclose(rates, [0.0, 0.05, 0.1, 0.1, 0.05, 0.0], atol=1e-7)
    again = projection.ProjectionSchedule.from_config(schedule.get_config())
    assert float(again(875)) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lr_rampup_length"):
        projection.ProjectionSchedule(0.1, 100, rampup_length=2.0)
    with pytest.raises(ValueError, match="num_steps"):
        projection.ProjectionSchedule(0.1, 0)


def test_w_statistics_of_an_affine_mapping():
    z = keras.Input((4,))
    dense = layers.Dense(4, kernel_initializer=keras.initializers.Identity(2.0), bias_initializer="ones")
    mapping = keras.Model(z, dense(z))  # w = 2 z + 1
    w_avg, w_std = projection.w_statistics(mapping, num_samples=8000, seed=0)
    np.testing.assert_allclose(w_avg, np.ones(4), atol=0.1)
    assert w_std == pytest.approx(np.sqrt(4 * 4.0), rel=0.03)  # sqrt of the summed variances
    _, around_zero = projection.w_statistics(mapping, num_samples=8000, seed=0, w_avg=np.zeros(4))
    assert around_zero == pytest.approx(np.sqrt(4 * 5.0), rel=0.03)
    with pytest.raises(ValueError, match="w_avg"):
        projection.w_statistics(mapping, 100, w_avg=np.zeros(3))
    with pytest.raises(ValueError, match="w_avg_samples"):
        projection.w_statistics(mapping, 1)


def test_noise_layers_by_contract_in_flow_order_and_nested():
    mapping, synthesis = _nets()
    found = projection.noise_layers(synthesis)
    assert [layer.name for layer in found] == ["noise_8", "noise_16"]
    ws = keras.Input((2, 8))
    wrapper = keras.Model(ws, synthesis(ws))
    assert projection.noise_layers(wrapper) == found

    class DuckNoise(layers.Layer):
        def build(self, shape):
            self.noise_const = self.add_weight(shape=(1, shape[1], shape[2], 1), trainable=False)
            self.noise_mode = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            return x + self.noise_mode * self.noise_const

    x = keras.Input((4, 4, 2))
    duck = keras.Model(x, DuckNoise(name="duck")(x))
    assert [layer.name for layer in projection.noise_layers(duck)] == ["duck"]
    with pytest.raises(ValueError, match="keras.Model"):
        projection.noise_layers(lambda ws: ws)


def test_synthesize_with_noise_maps_is_deterministic_and_leaves_the_nets_alone():
    _, synthesis = _nets(noise_strength=0.5)
    ws = np.random.default_rng(0).standard_normal((2, 2, 8)).astype("float32")
    noise = [np.random.default_rng(i).standard_normal((2, s, s, 1)) for i, s in ((1, 8), (2, 16))]
    first = projection.synthesize(synthesis, ws, noise)
    np.testing.assert_array_equal(projection.synthesize(synthesis, ws, noise), first)
    # Each target uses its own maps: target 0 with target 1's maps renders differently.
    swapped = projection.synthesize(synthesis, ws[:1], [n[1:] for n in noise])
    assert np.abs(swapped[0] - first[0]).max() > 1e-2
    # The net's own noise (random mode) differs from the given maps.
    assert np.abs(projection.synthesize(synthesis, ws) - first).max() > 1e-2
    assert all(float(layer.noise_mode.numpy()) == 0.0 for layer in projection.noise_layers(synthesis))
    with pytest.raises(ValueError, match="one map per noise layer"):
        projection.synthesize(synthesis, ws, noise[:1])
    with pytest.raises(ValueError, match="ws must be"):
        projection.synthesize(synthesis, ws[:, :, :4])


# -- projection --------------------------------------------------------------------------


def test_projection_in_w_recovers_a_known_w_and_restores_the_net():
    mapping, synthesis = _nets()
    target, true_ws = _targets(mapping, synthesis)
    noise_layers = projection.noise_layers(synthesis)
    noise_layers[0].noise_mode.assign(1.0)  # one constant, one random: both must survive
    before = [(float(l.noise_mode.numpy()), l.noise_const.numpy().copy()) for l in noise_layers]
    weights = [w.numpy().copy() for w in synthesis.weights + mapping.weights]

    result = projection.project((mapping, synthesis), target, steps=80, w_avg_samples=1000)

    assert result.codes.shape == (2, 2, 8) and result.images.shape == target.shape
    assert result.history.shape == (80, 2) and len(result.noise) == 2
    np.testing.assert_array_equal(result.codes[:, 0], result.codes[:, 1])  # one w repeated
    np.testing.assert_allclose(result.codes[:, 0], true_ws[:, 0], atol=0.05)
    assert np.all(metrics.ssim(result.images, target, filter_size=7) > 0.95)
    assert np.all(result.history[-1] < result.history[0] / 100)
    np.testing.assert_allclose(result.distances, np.mean((result.images - target) ** 2, axis=(1, 2, 3)), rtol=1e-4)
    np.testing.assert_allclose(projection.synthesize(synthesis, result.codes, result.noise), result.images, atol=1e-6)
    for buffer, size in zip(result.noise, (8, 16)):  # renormalised after every step
        assert buffer.shape == (2, size, size, 1)
        np.testing.assert_allclose(buffer.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
        np.testing.assert_allclose(buffer.var(axis=(1, 2, 3)), 1.0, rtol=1e-4)
    for layer, (mode, const) in zip(noise_layers, before):
        assert float(layer.noise_mode.numpy()) == mode
        np.testing.assert_array_equal(layer.noise_const.numpy(), const)
    for variable, value in zip(synthesis.weights + mapping.weights, weights):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_w_plus_fits_a_w_target_as_well_as_w():
    # Without noise layers a target made from one w is reachable exactly in both spaces;
    # W+ has twice the parameters and needs the whole schedule to get there.
    mapping, synthesis = _nets(with_noise=False)
    target, _ = _targets(mapping, synthesis)
    options = dict(steps=150, w_avg_samples=500)
    in_w = projection.project((mapping, synthesis), target, space="w", **options)
    in_w_plus = projection.project((mapping, synthesis), target, space="w+", **options)
    assert np.all(in_w.distances < 1e-5)
    assert np.all(in_w_plus.distances <= in_w.distances + 1e-5)  # 1/20,000 of the targets' variance
    assert np.all(metrics.ssim(in_w_plus.images, target, filter_size=7) > 0.999)


@pytest.mark.slow
def test_w_plus_fits_mixed_styles_that_w_cannot():
    mapping, synthesis = _nets(with_noise=False)
    mixed, true_ws = _targets(mapping, synthesis, seed=7, mix=True)
    options = dict(steps=150, w_avg_samples=500)
    in_w = projection.project((mapping, synthesis), mixed, space="w", **options)
    in_w_plus = projection.project((mapping, synthesis), mixed, space="w+", **options)
    assert np.all(in_w_plus.distances < 0.1 * in_w.distances)
    assert np.all(metrics.ssim(in_w_plus.images, mixed, filter_size=7) > 0.99)
    assert np.abs(in_w_plus.codes[:, 0] - in_w_plus.codes[:, 1]).max() > 0.1


def test_noise_regularization_keeps_the_noise_maps_white():
    mapping, synthesis = _nets(noise_strength=0.3)
    # A smooth target that no code explains: free noise maps would copy its structure.
    rows, cols = np.meshgrid(np.linspace(-1, 1, 16), np.linspace(-1, 1, 16), indexing="ij")
    target = (0.8 * np.sin(2.5 * rows) * np.cos(2.0 * cols))[None, :, :, None].astype("float32")
    options = dict(steps=60, w_avg_samples=500)
    free = projection.project((mapping, synthesis), target, regularize_noise_weight=0.0, **options)
    kept = projection.project((mapping, synthesis), target, **options)
    assert _lag_one_correlation(free.noise)[0] > 0.3
    assert abs(_lag_one_correlation(kept.noise)[0]) < 0.1
    assert float(projection.noise_regularization(kept.noise)[0]) < 0.1 * float(
        projection.noise_regularization(free.noise)[0]
    )
    for buffer in kept.noise:
        np.testing.assert_allclose(buffer.var(), 1.0, rtol=1e-4)


def test_noise_modes_and_maps_survive_a_callback_that_raises():
    mapping, synthesis = _nets()
    target, _ = _targets(mapping, synthesis, num=1)
    noise_layers = projection.noise_layers(synthesis)
    noise_layers[1].noise_mode.assign(1.0)
    before = [(float(l.noise_mode.numpy()), l.noise_const.numpy().copy()) for l in noise_layers]
    calls = []

    def stop_at_three(step, ws, distances):
        calls.append((step, ws.shape, distances.shape))
        if step == 3:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        projection.project((mapping, synthesis), target, steps=10, w_avg_samples=200, callback=stop_at_three)
    assert calls == [(1, (1, 2, 8), (1,)), (2, (1, 2, 8), (1,)), (3, (1, 2, 8), (1,))]
    for layer, (mode, const) in zip(noise_layers, before):
        assert float(layer.noise_mode.numpy()) == mode
        np.testing.assert_array_equal(layer.noise_const.numpy(), const)


@pytest.mark.slow
def test_callback_steps_match_the_compiled_loop():
    mapping, synthesis = _nets()
    target, _ = _targets(mapping, synthesis, num=1)
    seen = []
    stepped = projection.project(
        (mapping, synthesis), target, steps=6, w_avg_samples=200, callback=lambda s, ws, d: seen.append(d[0])
    )
    compiled = projection.project((mapping, synthesis), target, steps=6, w_avg_samples=200)
    np.testing.assert_allclose(stepped.history, compiled.history, rtol=1e-5)
    np.testing.assert_allclose(seen, stepped.history[:, 0], rtol=1e-6)
    np.testing.assert_allclose(stepped.codes, compiled.codes, atol=1e-6)
    # The first step has learning rate 0: it only starts Adam's moments.
    assert seen[0] == pytest.approx(seen[1], rel=0.2)


@pytest.mark.slow
def test_targets_in_a_batch_are_projected_independently():
    mapping, synthesis = _nets()
    target, _ = _targets(mapping, synthesis, num=3)
    options = dict(steps=30, w_avg_samples=500)
    first = projection.project((mapping, synthesis), target[:2], **options)
    other = projection.project((mapping, synthesis), target[[0, 2]], **options)
    np.testing.assert_allclose(first.codes[0], other.codes[0], atol=1e-5)
    np.testing.assert_allclose(first.history[:, 0], other.history[:, 0], rtol=1e-4)
    assert np.abs(first.codes[1] - other.codes[1]).max() > 1e-2


def test_feature_loss_and_pixel_weight():
    mapping, synthesis = _nets(with_noise=False)
    target, _ = _targets(mapping, synthesis, num=2)

    def brightness(images):  # a feature blind to everything but the mean
        return keras.ops.mean(images, axis=(1, 2))

    options = dict(steps=40, w_avg_samples=500)
    result = projection.project((mapping, synthesis), target, features=brightness, **options)
    assert result.noise == []
    np.testing.assert_allclose(
        result.distances, np.sum((result.images.mean(axis=(1, 2)) - target.mean(axis=(1, 2))) ** 2, axis=1), rtol=1e-3
    )
    assert np.all(result.distances < 0.01 * result.history[0])
    assert np.all(np.mean((result.images - target) ** 2, axis=(1, 2, 3)) > 1e-3)  # pixels not matched

    mixed = projection.project((mapping, synthesis), target, features=brightness, pixel_weight=2.0, **options)
    expected = np.sum((mixed.images.mean(axis=(1, 2)) - target.mean(axis=(1, 2))) ** 2, axis=1)
    expected += 2.0 * np.mean((mixed.images - target) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(mixed.distances, expected, rtol=1e-3)


@pytest.mark.slow
def test_projection_with_a_domain_classifier_loss():
    from zoo import nets

    mapping, synthesis = _nets(with_noise=False)
    target, _ = _targets(mapping, synthesis, num=1)
    classifier = nets.domain_classifier((16, 16, 1), num_classes=3, feature_dim=16, filters=(4,))
    features = metrics.ppl_features_classifier(classifier)
    result = projection.project((mapping, synthesis), target, features=features, pixel_weight=1.0, steps=30,
                                w_avg_samples=200)
    assert result.history[-1, 0] < 0.5 * result.history[0, 0]


def test_project_rejects_bad_arguments():
    mapping, synthesis = _nets()
    target, _ = _targets(mapping, synthesis, num=1)
    cases = [
        (dict(space="z"), "space"),
        (dict(steps=0), "steps"),
        (dict(distance="l3"), "distance"),
        (dict(features=42), "features"),
        (dict(pixel_weight=1.0), "pixel_weight"),
        (dict(callback="print"), "callback"),
        (dict(w_avg=np.zeros(3)), "w_avg"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(noise_ramp_length=1.5), "noise_ramp_length"),
        (dict(regularize_noise_weight=-1.0), "regularize_noise_weight"),
        (dict(features=lambda images: images), r"features \(n, D\)"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            projection.project((mapping, synthesis), target, w_avg_samples=100, **kwargs)
    with pytest.raises(ValueError, match="target_images"):
        projection.project((mapping, synthesis), target[:, :8], w_avg_samples=100)
    z = keras.Input((8,))
    wide = keras.Model(z, layers.Dense(5)(z))
    with pytest.raises(ValueError, match="w_dim"):
        projection.project((wide, synthesis), target, w_avg_samples=100)


# -- zoo's StyleGAN2 nets -------------------------------------------------------------------


def _stylegan2_nets(noise_strength=0.05):
    from zoo import nets

    keras.utils.set_random_seed(0)
    mapping = nets.style_mapping(16, 16, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=16, channels=1, fmap_base=64, fmap_max=16)
    for layer in nets.noise_layers(synthesis):
        layer.strength.assign(noise_strength)  # initialised at 0: the noise would do nothing
    return mapping, synthesis


def test_projection_with_a_style_gan_models_ema_nets_and_w_avg():
    from zoo import models, nets

    mapping, synthesis = _stylegan2_nets()
    discriminator = nets.stylegan2_discriminator(16, channels=1, fmap_base=64, fmap_max=16)
    gan = models.StyleGAN(mapping, synthesis, discriminator, seed=0)
    for layer in nets.noise_layers(gan.ema_synthesis):
        layer.strength.assign(0.05)
    assert projection.noise_layers(gan.ema_synthesis) == nets.noise_layers(gan.ema_synthesis)
    rng = np.random.default_rng(0)
    gan.w_avg.assign(np.asarray(gan.ema_mapping(rng.standard_normal((64, 16)).astype("float32"))).mean(axis=0))
    w = np.asarray(gan.ema_mapping(rng.standard_normal((1, 16)).astype("float32")))
    layers_ = nets.noise_layers(gan.ema_synthesis)
    noise = [rng.standard_normal((1,) + tuple(layer.noise_const.shape[1:])) for layer in layers_]
    target = projection.synthesize(gan.ema_synthesis, w, noise)
    weights = [v.numpy().copy() for v in gan.ema_synthesis.weights]
    starts = []
    result = projection.project(
        gan, target, space="w+", steps=40, w_avg_samples=500,
        callback=lambda step, ws, distances: starts.append(ws) if step == 1 else None,
    )
    # The first step has learning rate 0: the codes are still w_avg on every layer.
    np.testing.assert_allclose(starts[0], np.broadcast_to(gan.w_avg.numpy(), starts[0].shape), atol=1e-7)
    assert result.codes.shape == (1, gan.num_ws, 16) and len(result.noise) == len(layers_)
    assert result.history[-1, 0] < 0.5 * result.history[0, 0]
    for variable, value in zip(gan.ema_synthesis.weights, weights):  # noise_mode and noise_const included
        np.testing.assert_array_equal(variable.numpy(), value)


@pytest.mark.slow
def test_projection_of_a_stylegan2_image_in_w_and_w_plus():
    mapping, synthesis = _stylegan2_nets()
    rng = np.random.default_rng(0)
    w = np.asarray(mapping(rng.standard_normal((2, 16)).astype("float32")))
    noise = [rng.standard_normal((2,) + tuple(l.noise_const.shape[1:])) for l in projection.noise_layers(synthesis)]
    target = projection.synthesize(synthesis, w, noise)
    in_w = projection.project((mapping, synthesis), target, space="w", steps=300, w_avg_samples=2000)
    in_w_plus = projection.project((mapping, synthesis), target, space="w+", steps=300, w_avg_samples=2000)
    assert np.all(metrics.ssim(in_w.images, target, filter_size=7) > 0.85)
    assert np.all(metrics.ssim(in_w_plus.images, target, filter_size=7) > 0.9)
    assert np.all(in_w_plus.distances <= 1.1 * in_w.distances)


# -- space "z": any generator --------------------------------------------------------------------


def _tiny_generator(code_shape=(4,)):
    keras.utils.set_random_seed(7)
    return keras.Sequential(
        [
            keras.Input(code_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(64, activation="tanh"),
            keras.layers.Reshape((8, 8, 1)),
        ]
    )


def test_project_recovers_a_planted_code():
    generator = _tiny_generator()
    planted = np.random.default_rng(6).standard_normal((3, 4)).astype("float32")
    target = keras.ops.convert_to_numpy(generator(planted))
    weights = [w.copy() for w in generator.get_weights()]
    fit = projection.project(generator, target, steps=300, learning_rate=0.05)
    codes, losses, history = fit.codes, fit.distances, fit.history
    np.testing.assert_allclose(fit.images, keras.ops.convert_to_numpy(generator(codes)), atol=1e-6)
    assert fit.noise == []
    assert codes.shape == (3, 4) and losses.shape == (3,) and history.shape == (300, 3)
    assert history[0].min() > 1e-3  # the zero start is far from the targets
    assert losses.max() < 1e-6
    assert losses.max() < 1e-3 * history[0].min()
    reconstructed = keras.ops.convert_to_numpy(generator(codes))
    np.testing.assert_allclose(losses, np.mean((reconstructed - target) ** 2, axis=(1, 2, 3)), rtol=1e-3, atol=1e-9)
    for before, after in zip(weights, generator.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_project_treats_images_independently_and_regularization_shrinks_codes():
    generator = _tiny_generator()
    target = keras.ops.convert_to_numpy(generator(np.random.default_rng(8).standard_normal((2, 4)) * 2.0))
    together = projection.project(generator, target, steps=60, initial="random", seed=3).codes
    start = np.random.default_rng(3).standard_normal((2, 4)).astype("float32")
    alone = projection.project(generator, target[1:], steps=60, initial=start[1]).codes
    np.testing.assert_allclose(together[1], alone[0], rtol=1e-4, atol=1e-5)
    shrunk = projection.project(generator, target, steps=60, initial=start, regularization=1.0).codes
    assert np.linalg.norm(shrunk) < 0.9 * np.linalg.norm(together)


def test_project_into_a_w_plus_shaped_code_space():
    generator = _tiny_generator(code_shape=(3, 4))
    planted = np.random.default_rng(9).standard_normal((2, 3, 4)).astype("float32")
    target = keras.ops.convert_to_numpy(generator(planted))
    codes, _, history, losses, _ = projection.project(generator, target, steps=200, distance="l1")
    assert codes.shape == (2, 3, 4)
    assert losses.max() < 0.02 * history[0].min()
    # a plain callable has no input shape: the code shape comes from `initial`
    mean_w = np.zeros((2, 3, 4), "float32")
    codes, _, _, losses, _ = projection.project(lambda w: generator(w), target, steps=200, initial=mean_w)
    assert codes.shape == (2, 3, 4) and losses.max() < 1e-4


def test_project_accepts_a_feature_space_distance():
    generator = _tiny_generator()
    target = keras.ops.convert_to_numpy(generator(np.random.default_rng(10).standard_normal((2, 4))))
    calls = []

    def pooled_distance(a, b):
        calls.append(1)
        pool = keras.layers.AveragePooling2D(2)
        return keras.ops.mean(keras.ops.square(pool(a) - pool(b)), axis=(1, 2, 3))

    codes, _, history, losses, _ = projection.project(generator, target, steps=100, distance=pooled_distance)
    assert calls and losses.max() < 0.01 * history[0].min()




@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(steps=0), "steps must be an int >= 1"),
        (dict(learning_rate=0.0), "learning_rate must be a positive"),
        (dict(regularization=-1.0), "regularization must be a finite number >= 0"),
        (dict(distance="l3"), "distance must be"),
        (dict(distance=lambda a, b: keras.ops.mean(keras.ops.square(a - b))), r"distance must return one value per image"),
        (dict(latent_dim=5), r"latent_dim=5 does not match the generator's input shape \(4,\)"),
        (dict(initial=np.zeros((2, 5))), r"initial must have shape \(2, 4\) or \(4,\)"),
        (dict(initial="mean"), "initial must be None"),
        (dict(target_images=np.zeros((2, 4, 4, 1))), "generator makes images of shape"),
        (dict(target_images=np.zeros((0, 8, 8, 1))), "target_images must be a non-empty batch"),
    ],
)
def test_project_in_z_rejects_bad_arguments(kwargs, match):
    arguments = dict(generator=_tiny_generator(), target_images=np.zeros((2, 8, 8, 1)), steps=2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        projection.project(**arguments)


def test_project_needs_a_code_shape_for_a_plain_callable():
    generator = _tiny_generator()
    with pytest.raises(ValueError, match="cannot tell the code shape"):
        projection.project(lambda z: generator(z), np.zeros((2, 8, 8, 1)), steps=2)


def test_project_takes_zoo_models_and_checks_the_space():
    from zoo import presets

    gan = presets.get("dcgan").build((16, 16, 1), base_filters=4, latent_dim=4, ema_momentum=0.9)
    planted = np.random.default_rng(2).standard_normal((2, 4)).astype("float32")
    target = gan.generate(planted)
    fit = projection.project(gan, target, steps=5)  # through the EMA generator, in Z
    assert fit.codes.shape == (2, 4) and fit.history.shape == (5, 2)
    np.testing.assert_allclose(fit.images, gan.generate(fit.codes), atol=1e-5)
    vae = presets.get("vae").build((16, 16, 1), latent_dim=3)
    fit = projection.project(vae, target, steps=2)  # through the decoder, to images in [-1, 1]
    assert fit.codes.shape == (2, 3)
    np.testing.assert_allclose(fit.images, vae.decode(fit.codes), atol=1e-5)
    with pytest.raises(ValueError, match='space "w" needs a StyleGAN'):
        projection.project(gan, target, space="w")
    with pytest.raises(ValueError, match='space "z" takes no w_avg; its options: latent_dim, initial'):
        projection.project(gan, target, w_avg=np.zeros(4))
