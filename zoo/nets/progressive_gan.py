"""Progressive GAN generator and discriminator (Karras et al. 2018) in one fixed graph.

Both nets are built at their full resolution once. A non-trainable level of
detail (`zoo.layers.LevelOfDetail`, one per net) selects the live
resolution: at `lod = k` the generator's output is its `2^-k` resolution's
toRGB image repeated up to full size, and the discriminator reads only the
input averaged over `2^k x 2^k` blocks; a fractional `lod` fades between
two resolutions (`zoo.layers.FadeIn`). Growing is assigning the variable, so
`fit` never retraces. Blocks finer than the live resolution are skipped
inside the graph (`zoo.layers.LodGate`, a conditional on the level, as the
reference code's "recursive" structure); with `skip_unused=False` every
block runs at every level (its "linear" structure), the unused ones
contributing exactly zero.
"""

import math

import keras
from keras import layers

from zoo.layers import (
    EqualizedConv2D,
    EqualizedDense,
    FadeIn,
    LevelOfDetail,
    LodGate,
    MinibatchStdDev,
    PixelNormalization,
)
from zoo import checks

LEAKY_GAIN = math.sqrt(2.0)  # He's gain before a leaky ReLU, as the reference code uses


def resolution_log2(image_shape):
    """`log2` of a square power-of-two side >= 4, checked."""
    height, width, _ = checks.image_shape(image_shape)
    if height != width or height < 4 or height & (height - 1):
        raise ValueError(f"image_shape must be square with a power-of-two side >= 4 (e.g. 32, 128), got {image_shape!r}")
    return int(math.log2(height))


def feature_maps(fmap_base=8192, fmap_decay=1.0, fmap_max=512):
    """The reference code's `nf(stage) = min(fmap_base / 2^(stage * fmap_decay), fmap_max)`.

    Stage `s` is resolution `2^(s + 1)`: `nf(1)` is the 4x4 width.
    """
    fmap_base = checks.positive_int(fmap_base, "fmap_base")
    fmap_max = checks.positive_int(fmap_max, "fmap_max")
    fmap_decay = checks.number(fmap_decay, "fmap_decay", at_least=0)

    def nf(stage):
        filters = min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)
        if filters < 1:
            raise ValueError(
                f"fmap_base={fmap_base} leaves no feature maps at {2 ** (stage + 1)}x{2 ** (stage + 1)}: "
                "raise fmap_base or lower fmap_decay"
            )
        return filters

    return nf


def _size(res):
    side = 2**res
    return f"{side}x{side}"


def progan_generator(
    latent_dim=512,
    image_shape=(1024, 1024, 3),
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    normalize_latents=True,
    epsilon=1e-8,
    skip_unused=True,
    name="progan_generator",
):
    """ProGAN generator: 4x4 from the noise, then nearest upsampling and two convs per resolution.

    The noise is pixel-normalised, mapped by an equalised dense layer (gain
    `sqrt(2) / 4`, as the reference code) to 4x4 feature maps, then each
    resolution doubles the size (nearest neighbour) and applies two 3x3
    equalised convolutions, each followed by leaky ReLU 0.2 and pixel
    normalisation. Every resolution has a linear 1x1 toRGB. The output is
    always full size: the live resolution's toRGB image repeated up to it,
    faded with the previous resolution's during a transition (`lod`, held by
    the `LevelOfDetail` layer named "lod"). The output is linear (no tanh),
    as in the paper; data are in [-1, 1].

    The dense layer's bias is per unit (`16 * nf(1)` values) where the
    reference code has one per 4x4 channel: the same function class.

    Args:
        latent_dim: int, size of the noise. Default 512.
        image_shape: (size, size, channels), size a power of 2 >= 4.
            Default (1024, 1024, 3).
        fmap_base: int, feature maps are `min(fmap_base / 2^(stage *
            fmap_decay), fmap_max)` at resolution `2^(stage + 1)`. Default 8192.
        fmap_decay: float >= 0. Default 1.0.
        fmap_max: int. Default 512.
        normalize_latents: bool, pixel-normalise the noise. Default True.
        epsilon: float > 0, pixel normalisation's epsilon. Default 1e-8.
        skip_unused: bool, skip the blocks finer than the live resolution
            (`zoo.layers.LodGate`); False runs every block at every level,
            with the same outputs. Default True.
        name: str, model name.

    Returns:
        A functional `keras.Model` `(batch, latent_dim) -> (batch, *image_shape)`.

    Example:
    ```python
    generator = zoo.nets.progan_generator(512, (128, 128, 3))
    zoo.nets.set_lod(generator, 5.0)  # 4x4 images repeated up to 128x128
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, table 2 and sec. 4.
    """
    checks.positive_int(latent_dim, "latent_dim")
    image_shape = checks.image_shape(image_shape)
    top = resolution_log2(image_shape)
    nf = feature_maps(fmap_base, fmap_decay, fmap_max)
    checks.boolean(normalize_latents, "normalize_latents")
    epsilon = checks.number(epsilon, "epsilon", above=0)
    checks.boolean(skip_unused, "skip_unused")
    channels = image_shape[-1]
    max_lod = top - 2

    z = keras.Input((latent_dim,), name="noise")
    lod = LevelOfDetail(max_lod, name="lod")(z)
    x = PixelNormalization(epsilon, name="normalize_noise")(z) if normalize_latents else z
    x = EqualizedDense(nf(1) * 16, gain=LEAKY_GAIN / 4, activation="leaky_relu", name="dense_4x4")(x)
    x = layers.Reshape((4, 4, nf(1)), name="reshape_4x4")(x)
    x = PixelNormalization(epsilon, name="pixel_norm_dense_4x4")(x)
    x = EqualizedConv2D(nf(1), 3, gain=LEAKY_GAIN, activation="leaky_relu", name="conv_4x4")(x)
    x = PixelNormalization(epsilon, name="pixel_norm_conv_4x4")(x)
    images = EqualizedConv2D(channels, 1, name="to_rgb_4x4")(x)
    for res in range(3, top + 1):
        size, stage_lod = _size(res), top - res
        block = _generator_block(x.shape[1:], nf(res - 1), channels, size, epsilon)
        if skip_unused:  # live while the stage's image has a weight: lod < stage_lod + 1
            x, rgb = LodGate(block, live_below=stage_lod + 1, name=f"gate_{size}")([x, lod])
        else:
            x, rgb = block(x)
        images = layers.UpSampling2D(2, interpolation="nearest", name=f"upsample_images_{size}")(images)
        images = FadeIn(stage_lod, name=f"fade_in_{size}")([rgb, images, lod])
    images = layers.Activation("linear", dtype="float32", name="images")(images)
    return keras.Model(z, images, name=name)


def _generator_block(feature_shape, filters, channels, size, epsilon):
    """Nearest upsampling and two convs with pixel norm, and the resolution's toRGB: `x -> [x, rgb]`."""
    inputs = keras.Input(feature_shape, name=f"features_{size}")
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"upsample_{size}")(inputs)
    for i in range(2):
        x = EqualizedConv2D(filters, 3, gain=LEAKY_GAIN, activation="leaky_relu", name=f"conv{i}_{size}")(x)
        x = PixelNormalization(epsilon, name=f"pixel_norm_conv{i}_{size}")(x)
    rgb = EqualizedConv2D(channels, 1, name=f"to_rgb_{size}")(x)
    return keras.Model(inputs, [x, rgb], name=f"block_{size}")


def progan_discriminator(
    image_shape=(1024, 1024, 3),
    fmap_base=8192,
    fmap_decay=1.0,
    fmap_max=512,
    minibatch_stddev=4,
    skip_unused=True,
    name="progan_discriminator",
):
    """ProGAN discriminator (critic): fromRGB, two convs and average pooling per resolution, one score.

    Mirrors the generator: each resolution has a 1x1 fromRGB and a block of
    two 3x3 equalised convolutions with leaky ReLU 0.2 followed by 2x2
    average pooling; the 4x4 block appends the minibatch standard deviation,
    then a 3x3 conv, an equalised dense layer and a linear score (gain 1).
    No normalisation (the WGAN-GP penalty is per example). At level of
    detail `lod = k` (the `LevelOfDetail` layer named "lod") the blocks
    finer than `2^-k` of the resolution are bypassed: the score depends on the
    input averaged over `2^k x 2^k` blocks only; a fractional `lod` fades the
    finer block in.

    Args:
        image_shape: (size, size, channels), size a power of 2 >= 4.
            Default (1024, 1024, 3).
        fmap_base, fmap_decay, fmap_max: feature maps as in
            `progan_generator`. Defaults 8192, 1.0, 512.
        minibatch_stddev: int >= 1 (the group size) or None/0 for no
            minibatch standard deviation layer. Default 4.
        skip_unused: bool, skip the blocks whose output has no weight at
            the current level (`zoo.layers.LodGate`); the 1x1 fromRGB layers
            always run. Default True.
        name: str, model name.

    Returns:
        A functional `keras.Model` `(batch, *image_shape) -> (batch, 1)` float32 scores.

    Example:
    ```python
    critic = zoo.nets.progan_discriminator((128, 128, 3))
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, table 2 and sec. 3.
    """
    image_shape = checks.image_shape(image_shape)
    top = resolution_log2(image_shape)
    nf = feature_maps(fmap_base, fmap_decay, fmap_max)
    if minibatch_stddev not in (None, 0):
        checks.positive_int(minibatch_stddev, "minibatch_stddev")
    checks.boolean(skip_unused, "skip_unused")
    max_lod = top - 2

    def from_rgb(res):
        return EqualizedConv2D(nf(res - 1), 1, gain=LEAKY_GAIN, activation="leaky_relu", name=f"from_rgb_{_size(res)}")

    def gated(layer, inputs, name, **live):
        return LodGate(layer, **live, name=name)([inputs, lod]) if skip_unused else layer(inputs)

    images = keras.Input(image_shape, name="images")
    lod = LevelOfDetail(max_lod, name="lod")(images)
    image = x = images
    for res in range(top, 2, -1):
        size, stage_lod = _size(res), top - res
        # A stage's block is live while its output has a weight: lod < stage_lod + 1. The finest
        # block starts with its fromRGB; the others' 1x1 fromRGB are cheap and always run.
        block = _critic_block(x.shape[1:], nf(res - 1), nf(res - 2), size, from_rgb(res) if res == top else None)
        x = gated(block, x, f"gate_{size}", live_below=stage_lod + 1)
        image = layers.AveragePooling2D(2, name=f"downsample_images_{size}")(image)
        x = FadeIn(stage_lod, name=f"fade_in_{size}")([x, from_rgb(res - 1)(image), lod])
    if minibatch_stddev:
        x = MinibatchStdDev(group_size=minibatch_stddev, name="minibatch_stddev")(x)
    x = EqualizedConv2D(nf(1), 3, gain=LEAKY_GAIN, activation="leaky_relu", name="conv_4x4")(x)
    x = layers.Flatten(name="flatten")(x)
    x = EqualizedDense(nf(0), gain=LEAKY_GAIN, activation="leaky_relu", name="dense_4x4")(x)
    scores = EqualizedDense(1, dtype="float32", name="scores")(x)
    return keras.Model(images, scores, name=name)


def _critic_block(feature_shape, filters0, filters1, size, from_rgb=None):
    """(fromRGB,) two convs and 2x2 average pooling: `x -> x` at half the size."""
    inputs = keras.Input(feature_shape, name=f"features_{size}")
    x = inputs if from_rgb is None else from_rgb(inputs)
    x = EqualizedConv2D(filters0, 3, gain=LEAKY_GAIN, activation="leaky_relu", name=f"conv0_{size}")(x)
    x = EqualizedConv2D(filters1, 3, gain=LEAKY_GAIN, activation="leaky_relu", name=f"conv1_{size}")(x)
    x = layers.AveragePooling2D(2, name=f"downsample_{size}")(x)
    return keras.Model(inputs, x, name=f"block_{size}")


def find_layer(net, name):
    """The layer called `name` in a progressive net, also inside its blocks and gates."""
    stack = list(net.layers)
    while stack:
        layer = stack.pop(0)
        if layer.name == name:
            return layer
        stack.extend(getattr(layer, "layers", []))
        if isinstance(layer, LodGate):
            stack.append(layer.block)
    raise ValueError(f"{net.name!r} has no layer named {name!r}")


def lod_layer(net):
    """The `LevelOfDetail` layer of a progressive net (searched in nested models too).

    Raises:
        ValueError: `net` has none or several.
    """
    found, stack = [], list(getattr(net, "layers", []))
    while stack:
        layer = stack.pop()
        if isinstance(layer, LevelOfDetail):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    if len(found) != 1:
        raise ValueError(
            f"{getattr(net, 'name', net)!r} must hold exactly one zoo.layers.LevelOfDetail layer "
            f"(build it with zoo.nets.progan_generator/progan_discriminator), found {len(found)}"
        )
    return found[0]


def set_lod(net, lod):
    """Sets a progressive net's level of detail (0 = full resolution)."""
    lod_layer(net).assign(lod)


def get_lod(net):
    """A progressive net's level of detail as a float."""
    return lod_layer(net).value()
