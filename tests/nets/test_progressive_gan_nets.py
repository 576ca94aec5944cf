"""ProGAN nets: shapes at every level of detail, exact fades, a critic blind to finer detail."""

import keras
import numpy as np
import pytest

from zoo import layers, nets
from zoo.nets import progressive_gan as progan

SIDE = 32
MAX_LOD = 3  # 32 -> 4x4
LATENT = 8


def tiny_generator(channels=3):
    return nets.progan_generator(LATENT, (SIDE, SIDE, channels), fmap_base=32, fmap_max=8)


def tiny_discriminator(channels=3):
    return nets.progan_discriminator((SIDE, SIDE, channels), fmap_base=32, fmap_max=8)


def noise(n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, LATENT)).astype("float32")


def upsample(images, factor):
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def to_rgb(generator, side, z):
    """The toRGB image of one resolution, straight from that layer (or its block's second output)."""
    if side == 4:
        output = generator.get_layer("to_rgb_4x4").output
    else:
        names = {layer.name for layer in generator.layers}
        block = f"gate_{side}x{side}" if f"gate_{side}x{side}" in names else f"block_{side}x{side}"
        output = generator.get_layer(block).output[1]
    probe = keras.Model(generator.input, output)
    return keras.ops.convert_to_numpy(probe(z))


def test_shapes_at_every_level_of_detail():
    generator, critic, z = tiny_generator(), tiny_discriminator(), noise()
    for lod in (0.0, 0.5, 1.0, 1.25, 2.0, 2.75, 3.0):
        nets.set_lod(generator, lod)
        nets.set_lod(critic, lod)
        assert nets.get_lod(generator) == lod
        images = keras.ops.convert_to_numpy(generator(z))
        assert images.shape == (4, SIDE, SIDE, 3) and np.all(np.isfinite(images))
        scores = keras.ops.convert_to_numpy(critic(images))
        assert scores.shape == (4, 1) and scores.dtype == np.float32 and np.all(np.isfinite(scores))


def test_integer_lod_outputs_exactly_that_resolutions_to_rgb_upsampled():
    generator, z = tiny_generator(), noise()
    for lod in range(MAX_LOD + 1):
        nets.set_lod(generator, float(lod))
        side = SIDE // 2**lod
        expected = upsample(to_rgb(generator, side, z), 2**lod)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(generator(z)), expected)
        # Each stage's image differs, so a wrong stage would fail the equality above.
        if lod < MAX_LOD:
            coarser = upsample(to_rgb(generator, side // 2, z), 2 ** (lod + 1))
            assert np.abs(coarser - expected).max() > 1e-3


def test_fractional_lod_is_the_linear_blend_of_two_resolutions():
    generator, z = tiny_generator(), noise()
    for lod, alpha in ((1, 0.25), (2, 0.5), (0, 0.9)):
        nets.set_lod(generator, lod + alpha)
        side = SIDE // 2**lod
        fine = to_rgb(generator, side, z)
        coarse = upsample(to_rgb(generator, side // 2, z), 2)
        expected = upsample((1 - alpha) * fine + alpha * coarse, 2**lod)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(generator(z)), expected, rtol=1e-5, atol=1e-6)


def block_means(images, block):
    n, h, w, c = images.shape
    means = images.reshape(n, h // block, block, w // block, block, c).mean(axis=(2, 4))
    return upsample(means, block)


def test_critic_at_lod_k_ignores_detail_finer_than_2_to_the_k():
    critic = tiny_discriminator()
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (4, SIDE, SIDE, 3)).astype("float32")
    pattern = rng.uniform(-0.5, 0.5, images.shape).astype("float32")

    def score(x, at):
        nets.set_lod(critic, at)
        return keras.ops.convert_to_numpy(critic(x))

    for lod in (1, 2, 3):
        fine = pattern - block_means(pattern, 2**lod)  # averages to 0 over every 2^k x 2^k block
        coarse = block_means(pattern, 2**lod)  # constant over each block
        base = score(images, float(lod))
        np.testing.assert_allclose(score(images + fine, float(lod)), base, rtol=1e-4, atol=1e-5)
        assert np.abs(score(images + coarse, float(lod)) - base).max() > 1e-3
        # One level finer, the same perturbation is seen: the test can fail.
        assert np.abs(score(images + fine, lod - 1.0) - score(images, lod - 1.0)).max() > 1e-3
        # During the fade towards the finer level it is seen, in proportion.
        assert np.abs(score(images + fine, lod - 0.5) - score(images, lod - 0.5)).max() > 1e-4


def test_critic_at_lod_k_reads_the_block_averages():
    critic = tiny_discriminator()
    images = np.random.default_rng(2).uniform(-1, 1, (4, SIDE, SIDE, 3)).astype("float32")
    nets.set_lod(critic, 2.0)
    np.testing.assert_allclose(
        critic(block_means(images, 4)), critic(images), rtol=1e-4, atol=1e-5
    )


def test_images_at_lod_blends_block_averages():
    images = np.random.default_rng(3).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    at = lambda lod: keras.ops.convert_to_numpy(layers.images_at_lod(images, lod, 2))  # noqa: E731
    np.testing.assert_array_equal(at(0.0), images)
    np.testing.assert_allclose(at(1.0), block_means(images, 2), atol=1e-6)
    np.testing.assert_allclose(at(2.0), block_means(images, 4), atol=1e-6)
    np.testing.assert_allclose(at(1.25), 0.75 * block_means(images, 2) + 0.25 * block_means(images, 4), atol=1e-6)


def test_filters_follow_the_reference_schedule():
    # nf(stage) = min(fmap_base / 2^stage, fmap_max): 32 -> 16, 16, 8, 4 at 4, 8, 16, 32 px.
    generator = nets.progan_generator(LATENT, (32, 32, 1), fmap_base=64, fmap_max=16)
    layer = lambda net, name: progan.find_layer(net, name)  # noqa: E731
    assert layer(generator, "conv_4x4").filters == 16
    assert layer(generator, "conv1_8x8").filters == 16
    assert layer(generator, "conv1_16x16").filters == 8
    assert layer(generator, "conv1_32x32").filters == 4
    assert layer(generator, "dense_4x4").units == 16 * 16
    critic = nets.progan_discriminator((32, 32, 1), fmap_base=64, fmap_max=16)
    assert layer(critic, "from_rgb_32x32").filters == 4
    assert layer(critic, "conv1_32x32").filters == 8
    assert layer(critic, "minibatch_stddev").output.shape[-1] == 17
    assert layer(critic, "dense_4x4").units == 16


def test_equalized_layers_have_the_papers_gains():
    generator = tiny_generator()
    assert progan.find_layer(generator, "dense_4x4").gain == pytest.approx(np.sqrt(2) / 4)
    assert progan.find_layer(generator, "conv0_8x8").gain == pytest.approx(np.sqrt(2))
    assert progan.find_layer(generator, "to_rgb_8x8").gain == 1.0
    assert tiny_discriminator().get_layer("scores").gain == 1.0


def built_pair(builder, *args, skip_unused):
    keras.utils.set_random_seed(7)
    return builder(*args, fmap_base=32, fmap_max=8, skip_unused=skip_unused)


@pytest.mark.parametrize("builder,args", [
    (nets.progan_generator, (LATENT, (SIDE, SIDE, 3))),
    (nets.progan_discriminator, ((SIDE, SIDE, 3),)),
])
def test_skipping_unused_blocks_changes_nothing_but_skips_them(builder, args):
    skipping, running = (built_pair(builder, *args, skip_unused=flag) for flag in (True, False))
    copied = 0
    for layer in running.layers + [sub for block in running.layers for sub in getattr(block, "layers", [])]:
        if layer.weights and not isinstance(layer, (keras.Model, layers.LevelOfDetail)):
            layer.set_weights(progan.find_layer(skipping, layer.name).get_weights())
            copied += 1
    assert copied == len([w for w in skipping.weights if w.name == "kernel"])
    rng = np.random.default_rng(4)
    x = noise() if builder is nets.progan_generator else rng.uniform(-1, 1, (4, SIDE, SIDE, 3)).astype("float32")
    for lod in (0.0, 0.5, 1.0, 1.75, 2.0, 3.0):
        nets.set_lod(skipping, lod)
        nets.set_lod(running, lod)
        np.testing.assert_allclose(skipping(x), running(x), rtol=1e-6, atol=1e-6)
    # Poison the 32x32 block: at lod >= 1 it has weight 0, and only the skipping net never runs it.
    for net in (skipping, running):
        conv = progan.find_layer(net, "conv0_32x32")
        conv.kernel.assign(np.full(conv.kernel.shape, np.nan, "float32"))
        nets.set_lod(net, 1.0)
    assert np.all(np.isfinite(skipping(x))) and np.all(np.isnan(running(x)))


def test_config_round_trip_keeps_the_level_of_detail():
    for net, x in ((tiny_generator(), noise()), (tiny_discriminator(), np.ones((4, SIDE, SIDE, 3), "float32"))):
        nets.set_lod(net, 1.5)
        clone = keras.Model.from_config(net.get_config())
        clone.set_weights(net.get_weights())
        assert nets.get_lod(clone) == 1.5
        np.testing.assert_allclose(clone(x), net(x), atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="power-of-two side"):
        nets.progan_generator(LATENT, (24, 24, 3))
    with pytest.raises(ValueError, match="power-of-two side"):
        nets.progan_discriminator((32, 16, 3))
    with pytest.raises(ValueError, match="fmap_base=8 leaves no feature maps"):
        nets.progan_generator(LATENT, (64, 64, 3), fmap_base=8)
    with pytest.raises(ValueError, match="minibatch_stddev"):
        nets.progan_discriminator((8, 8, 3), minibatch_stddev=-1)
    with pytest.raises(ValueError, match=r"lod must be a float in \[0, 3\]"):
        nets.set_lod(tiny_generator(), 3.5)
    with pytest.raises(ValueError, match="skip_unused must be True or False"):
        nets.progan_discriminator((8, 8, 3), skip_unused="yes")
    with pytest.raises(ValueError, match="exactly one zoo.layers.LevelOfDetail"):
        nets.get_lod(nets.mlp_generator(LATENT, (8, 8, 1)))


@pytest.mark.slow  # building the 1024 px nets takes ~10 s
def test_full_size_nets_match_the_papers_parameter_counts():
    # Karras et al. 2018, table 2: 23.1M trainable parameters each.
    generator = nets.progan_generator(512, (1024, 1024, 3))
    critic = nets.progan_discriminator((1024, 1024, 3))
    count = lambda net: sum(int(np.prod(w.shape)) for w in net.trainable_weights)  # noqa: E731
    assert round(count(generator) / 1e5) == 231 and round(count(critic) / 1e5) == 231


def test_outputs_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    generator, critic = tiny_generator(), tiny_discriminator()
    for lod in (0.5, 2.0):
        nets.set_lod(generator, lod)
        nets.set_lod(critic, lod)
        images = generator(noise())
        scores = critic(images)
        assert keras.backend.standardize_dtype(images.dtype) == "float32"
        assert keras.backend.standardize_dtype(scores.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(scores)))
