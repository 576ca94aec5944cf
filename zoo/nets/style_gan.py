"""Style-based generators and StyleGAN2's discriminator (Karras et al. 2019, 2020).

A style-based generator is two nets, trained together but used apart:

- `style_mapping`: `z (batch, latent_dim) -> w (batch, w_dim)`, an 8-layer MLP
  with a 100x smaller learning rate;
- `stylegan2_synthesis` / `stylegan_synthesis`: ONE input `ws`
  `(batch, num_ws, w_dim)` -> images `(batch, H, W, channels)`, roughly in
  [-1, 1] (no tanh, no clipping). Layer `i` reads only `ws[:, i]`, so the
  model can feed the same `w` everywhere, mix two `w`s (style mixing) or
  optimise one `w` per layer (W+ projection). `num_ws = 2 * log2(H) - 2`
  (`synthesis.input_shape[1]`).

Channels at resolution `res` are `min(fmap_base // (res / 2), fmap_max)`, the
`nf()` of the official TensorFlow code: with the defaults 512 up to 32 px
(StyleGAN2: 64 px) then halving.

Images end in a float32 layer named "images" and the discriminator in a
float32 logit, so the nets run under a `mixed_bfloat16` policy.
"""

import math

import keras
from keras import layers

from zoo.layers import (
    AdaIN,
    EqualizedConv2D,
    EqualizedDense,
    LearnedConstant,
    MinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    PixelNormalization,
)
from zoo import checks

_GAIN = math.sqrt(2.0)  # He gain before a leaky ReLU


def _features(fmap_base, fmap_max):
    """`nf(res)`: feature maps at resolution `res`."""
    checks.positive_int(fmap_base, "fmap_base")
    checks.positive_int(fmap_max, "fmap_max")
    return lambda res: max(1, min(2 * fmap_base // res, fmap_max))


def _gained_leaky_relu(x, name):
    """StyleGAN2's activation: leaky ReLU (slope 0.2) times sqrt(2)."""
    x = layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)
    return layers.Rescaling(_GAIN, name=f"{name}_gain")(x)


def _scaled_sum(x, t, name):
    """The residual merge `(x + t) / sqrt(2)`, which keeps unit variance."""
    x = layers.Add(name=f"{name}_add")([x, t])
    return layers.Rescaling(1.0 / _GAIN, name=f"{name}_merge")(x)


def noise_layers(synthesis):
    """The noise layers of a synthesis net (`zoo.layers.NoiseInjection`), input side first.

    Searches nested models too. Projection sets each layer's `noise_mode` to 1
    and optimises its `noise_const`; fixing every `noise_mode` at 1 makes the
    synthesis deterministic.

    Args:
        synthesis: `keras.Model`, e.g. from `stylegan2_synthesis`.

    Returns:
        list of `NoiseInjection` layers, in the order the data flows through
        them (lowest resolution first).

    Example:
    ```python
    for layer in zoo.nets.noise_layers(synthesis):
        layer.noise_mode.assign(1.0)
    ```
    """
    if not isinstance(synthesis, keras.Model):
        raise ValueError(f"synthesis must be a keras.Model, got {type(synthesis).__name__}")
    found = []
    for layer in synthesis.layers:
        # By the contract (`noise_mode` and `noise_const`), so that stand-ins and
        # other noise layers count: `StyleGAN`, projection and PPL use this too.
        if hasattr(layer, "noise_mode") and hasattr(layer, "noise_const"):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(noise_layers(layer))
    return found


def style_mapping(
    latent_dim=512,
    w_dim=512,
    num_layers=8,
    lr_multiplier=0.01,
    normalize_latent=True,
    name="mapping",
):
    """StyleGAN's mapping network: `z -> w` through an MLP.

    `z` is scaled to unit root mean square (`zoo.layers.PixelNormalization`),
    then `num_layers` equalised dense layers of width `w_dim`, each with a
    leaky ReLU (slope 0.2, He gain sqrt(2)) and learning-rate multiplier
    `lr_multiplier`. The last layer computes in float32, so `w` is float32
    under a mixed policy (the model's running mean of `w` and truncation are
    done on it).

    Args:
        latent_dim: int, size of `z`. Default 512.
        w_dim: int, size of `w` and of the hidden layers. Default 512.
        num_layers: int, dense layers. Default 8.
        lr_multiplier: float > 0, learning-rate multiplier of every layer.
            Default 0.01.
        normalize_latent: bool, pixel-normalise `z` first. Default True.
        name: str, model name. Default "mapping".

    Returns:
        A functional `keras.Model` from `z` `(batch, latent_dim)` to `w`
        `(batch, w_dim)`.

    Example:
    ```python
    mapping = zoo.nets.style_mapping(latent_dim=64, w_dim=64)
    w = mapping(keras.random.normal((4, 64)))  # (4, 64)
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 2 and appendix C.
    """
    checks.positive_int(latent_dim, "latent_dim")
    checks.positive_int(w_dim, "w_dim")
    checks.positive_int(num_layers, "num_layers")
    checks.boolean(normalize_latent, "normalize_latent")
    z = keras.Input((latent_dim,), name="z")
    x = PixelNormalization(name="normalize_z")(z) if normalize_latent else z
    for i in range(num_layers):
        x = EqualizedDense(
            w_dim,
            lr_multiplier=lr_multiplier,
            gain=_GAIN,
            activation="leaky_relu",
            dtype="float32" if i == num_layers - 1 else None,
            name=f"fc{i}",
        )(x)
    return keras.Model(z, x, name=name)


def _modulated_layer(x, ws, index, filters, name, upsample=False):
    """Affine of `ws[:, index]` -> modulated 3x3 conv -> noise -> leaky ReLU * sqrt(2)."""
    style = EqualizedDense(x.shape[-1], bias_init=1.0, name=f"{name}_affine")(ws[:, index])
    x = ModulatedConv2D(filters, 3, upsample=upsample, name=name)([x, style])
    x = NoiseInjection(name=f"{name}_noise")(x)
    return _gained_leaky_relu(x, name)


def _to_rgb(x, ws, index, channels, name):
    """Affine of `ws[:, index]` -> modulated 1x1 conv without demodulation, in float32."""
    style = EqualizedDense(x.shape[-1], bias_init=1.0, name=f"{name}_affine")(ws[:, index])
    return ModulatedConv2D(channels, 1, demodulate=False, dtype="float32", name=name)([x, style])


def stylegan2_synthesis(
    resolution,
    w_dim=512,
    channels=3,
    fmap_base=16384,
    fmap_max=512,
    architecture="skip",
    name="synthesis",
):
    """StyleGAN2's synthesis network: learned 4x4 constant, modulated convolutions, noise.

    At 4x4: the learned constant (`zoo.layers.LearnedConstant`, N(0, 1)) and
    one 3x3 layer. Then a block per resolution: a 3x3 layer that doubles the
    resolution and a 3x3 layer. Each layer is an affine of its own `w`
    (`EqualizedDense`, bias 1) giving the style, a `ModulatedConv2D` with
    demodulation, `NoiseInjection` (one scalar strength, initialised 0), and
    a leaky ReLU times sqrt(2). Upsampling is bilinear (the paper's
    [1, 3, 3, 1] filter inside the image; see `zoo.layers.ModulatedConv2D`).

    - `architecture="skip"` (the paper's generator, config E/F): every
      resolution has a toRGB layer (modulated 1x1 convolution without
      demodulation, its own `w`), and the RGB images are upsampled
      (bilinear) and summed.
    - `architecture="resnet"`: each block adds a bias-free 1x1 convolution of
      its (upsampled) input, `(x + skip) / sqrt(2)`; only the last resolution
      has a toRGB. `num_ws` is the same: a toRGB's entry is also the next
      block's first layer's.

    Layer `i` reads `ws[:, i]`: the 4x4 convolution 0 and toRGB 1; at
    resolution `2^r` the upsampling layer `2r - 5`, the second layer `2r - 4`
    and the toRGB `2r - 3`; `num_ws = 2 * log2(resolution) - 2`. The toRGB
    layers and the RGB sum compute in float32.

    Args:
        resolution: int, power of two >= 4, output height and width.
        w_dim: int, size of each `w`. Default 512.
        channels: int, image channels. Default 3.
        fmap_base: int, channels at resolution `res` are
            `min(2 * fmap_base // res, fmap_max)`. Default 16384 (config F).
        fmap_max: int, channel cap. Default 512.
        architecture: "skip" (default) or "resnet".
        name: str, model name. Default "synthesis".

    Returns:
        A functional `keras.Model` from `ws` `(batch, num_ws, w_dim)` to
        float32 images `(batch, resolution, resolution, channels)`.

    Example:
    ```python
    synthesis = zoo.nets.stylegan2_synthesis(32, w_dim=64, fmap_base=256, fmap_max=64)
    num_ws = synthesis.input_shape[1]  # 8
    w = zoo.nets.style_mapping(64, 64)(keras.random.normal((2, 64)))
    images = synthesis(keras.ops.repeat(w[:, None], num_ws, axis=1))  # (2, 32, 32, 3)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, sec. 2 and 4.1, fig. 2 and 7.
    """
    log2 = int(math.log2(checks.power_of_two(resolution, "resolution")))
    checks.positive_int(w_dim, "w_dim")
    checks.positive_int(channels, "channels")
    nf = _features(fmap_base, fmap_max)
    checks.choice(architecture, "architecture", ("skip", "resnet"))
    num_ws = 2 * log2 - 2
    ws = keras.Input((num_ws, w_dim), name="ws")
    x = LearnedConstant(nf(4), name="const")(ws)
    x = _modulated_layer(x, ws, 0, nf(4), name="b4_conv")
    rgb = None
    if architecture == "skip" or log2 == 2:
        rgb = _to_rgb(x, ws, 1, channels, name="b4_torgb")
    for r in range(3, log2 + 1):
        res = 2**r
        block_input = x
        x = _modulated_layer(x, ws, 2 * r - 5, nf(res), name=f"b{res}_conv0", upsample=True)
        x = _modulated_layer(x, ws, 2 * r - 4, nf(res), name=f"b{res}_conv1")
        if architecture == "resnet":
            # A 1x1 convolution commutes with upsampling: convolve first, on
            # the smaller map.
            t = EqualizedConv2D(nf(res), 1, use_bias=False, name=f"b{res}_skip")(block_input)
            t = layers.UpSampling2D(interpolation="bilinear", name=f"b{res}_skip_up")(t)
            x = _scaled_sum(x, t, name=f"b{res}")
        if architecture == "skip" or r == log2:
            new = _to_rgb(x, ws, 2 * r - 3, channels, name=f"b{res}_torgb")
            if rgb is None:
                rgb = new
            else:
                up = layers.UpSampling2D(interpolation="bilinear", dtype="float32", name=f"b{res}_rgb_up")(rgb)
                rgb = layers.Add(dtype="float32", name=f"b{res}_rgb")([up, new])
    images = layers.Activation("linear", dtype="float32", name="images")(rgb)
    return keras.Model(ws, images, name=name)


def stylegan2_discriminator(
    resolution,
    channels=3,
    fmap_base=16384,
    fmap_max=512,
    architecture="resnet",
    mbstd_group_size=4,
    name="discriminator",
):
    """StyleGAN2's residual discriminator: images -> one float32 logit.

    A 1x1 fromRGB convolution, then per resolution down to 8x8 a block: a
    3x3 convolution, a 3x3 convolution followed by 2x2 average pooling (the
    downsampling), each with a leaky ReLU (slope 0.2, He gain sqrt(2)); with
    `architecture="resnet"` a bias-free 1x1 convolution of the average-pooled
    block input is added, `(x + skip) / sqrt(2)`. At 4x4:
    `zoo.layers.MinibatchStdDev` (one feature, groups of `mbstd_group_size`),
    a 3x3 convolution, a dense layer and the linear logit. All layers are
    equalised. Average pooling replaces the paper's [1, 3, 3, 1] FIR filter +
    stride-2 convolution (a box filter instead of a binomial one, as in
    ProGAN).

    Args:
        resolution: int, power of two >= 4, input height and width.
        channels: int, image channels. Default 3.
        fmap_base: int, channels at resolution `res` are
            `min(2 * fmap_base // res, fmap_max)`. Default 16384.
        fmap_max: int, channel cap. Default 512.
        architecture: "resnet" (default, the paper's) or "orig" (the same
            blocks without the residual 1x1 path).
        mbstd_group_size: int or None, group size of the minibatch standard
            deviation (capped at the batch; the batch must be divisible by
            it). None leaves the layer out. Default 4.
        name: str, model name. Default "discriminator".

    Returns:
        A functional `keras.Model` from images
        `(batch, resolution, resolution, channels)` to float32 logits
        `(batch, 1)`.

    Example:
    ```python
    discriminator = zoo.nets.stylegan2_discriminator(32, fmap_base=256, fmap_max=64)
    logits = discriminator(keras.random.normal((4, 32, 32, 3)))  # (4, 1)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, sec. 4.1 and fig. 7c.
    """
    log2 = int(math.log2(checks.power_of_two(resolution, "resolution")))
    checks.positive_int(channels, "channels")
    nf = _features(fmap_base, fmap_max)
    checks.choice(architecture, "architecture", ("resnet", "orig"))
    if mbstd_group_size is not None:
        checks.positive_int(mbstd_group_size, "mbstd_group_size")
    images = keras.Input((resolution, resolution, channels), name="images")
    x = EqualizedConv2D(
        nf(resolution), 1, gain=_GAIN, activation="leaky_relu", name=f"b{resolution}_fromrgb"
    )(images)
    for r in range(log2, 2, -1):
        res = 2**r
        block_input = x
        x = EqualizedConv2D(nf(res), 3, gain=_GAIN, activation="leaky_relu", name=f"b{res}_conv0")(x)
        # The downsampling is linear, so it sits before the activation.
        x = EqualizedConv2D(nf(res // 2), 3, gain=_GAIN, name=f"b{res}_conv1")(x)
        x = layers.AveragePooling2D(2, name=f"b{res}_down")(x)
        x = layers.LeakyReLU(0.2, name=f"b{res}_conv1_lrelu")(x)
        if architecture == "resnet":
            t = layers.AveragePooling2D(2, name=f"b{res}_skip_down")(block_input)
            t = EqualizedConv2D(nf(res // 2), 1, use_bias=False, name=f"b{res}_skip")(t)
            x = _scaled_sum(x, t, name=f"b{res}")
    if mbstd_group_size is not None:
        x = MinibatchStdDev(group_size=mbstd_group_size, num_features=1, name="b4_mbstd")(x)
    x = EqualizedConv2D(nf(4), 3, gain=_GAIN, activation="leaky_relu", name="b4_conv")(x)
    x = layers.Flatten(name="b4_flatten")(x)
    x = EqualizedDense(nf(4), gain=_GAIN, activation="leaky_relu", name="b4_fc")(x)
    logits = EqualizedDense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)


def _adain_layer(x, ws, index, name):
    """StyleGAN's layer epilogue: noise -> leaky ReLU -> AdaIN with the styles of `ws[:, index]`."""
    x = NoiseInjection(per_channel=True, name=f"{name}_noise")(x)
    x = layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)
    w = ws[:, index]
    scale = EqualizedDense(x.shape[-1], bias_init=1.0, name=f"{name}_style_scale")(w)
    bias = EqualizedDense(x.shape[-1], name=f"{name}_style_bias")(w)
    return AdaIN(name=f"{name}_adain")([x, scale, bias])


def stylegan_synthesis(
    resolution,
    w_dim=512,
    channels=3,
    fmap_base=8192,
    fmap_max=512,
    upsample_interpolation="bilinear",
    name="synthesis",
):
    """StyleGAN's (2019) synthesis network: learned constant, AdaIN, per-channel noise.

    At 4x4 the learned constant (`zoo.layers.LearnedConstant`, initialised to
    ones) and one 3x3 convolution; then per resolution an x2 upsampling, a
    3x3 convolution and a 3x3 convolution (equalised, He gain sqrt(2)). The
    constant and every convolution are followed by the layer epilogue:
    `NoiseInjection` with one strength per channel (initialised 0), leaky
    ReLU 0.2, and `AdaIN` whose scale `ys` (bias 1) and bias `yb` are two
    affines of the layer's own `w`. The last layer is a linear 1x1 toRGB in
    float32; there is no skip or residual path and no tanh.

    Upsampling: "bilinear" (default) equals the paper's nearest upsampling
    followed by its [1, 2, 1] blur (the blur sits after the convolution in
    the reference code; both are linear filters, so the order only matters
    at the border); "nearest" is ProGAN's. The constant has no bias of its
    own (the reference adds one, which is redundant with the learned
    constant).

    Layer `i` reads `ws[:, i]`: 0 and 1 at 4x4, `2r - 4` and `2r - 3` at
    resolution `2^r`; `num_ws = 2 * log2(resolution) - 2`, as in StyleGAN2.

    Args:
        resolution: int, power of two >= 4, output height and width.
        w_dim: int, size of each `w`. Default 512.
        channels: int, image channels. Default 3.
        fmap_base: int, channels at resolution `res` are
            `min(2 * fmap_base // res, fmap_max)`. Default 8192 (the paper's).
        fmap_max: int, channel cap. Default 512.
        upsample_interpolation: "bilinear" (default) or "nearest".
        name: str, model name. Default "synthesis".

    Returns:
        A functional `keras.Model` from `ws` `(batch, num_ws, w_dim)` to
        float32 images `(batch, resolution, resolution, channels)`.

    Example:
    ```python
    synthesis = zoo.nets.stylegan_synthesis(32, w_dim=64, fmap_base=128, fmap_max=64)
    images = synthesis(keras.random.normal((2, synthesis.input_shape[1], 64)))  # (2, 32, 32, 3)
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 2-3 and fig. 1b.
    """
    log2 = int(math.log2(checks.power_of_two(resolution, "resolution")))
    checks.positive_int(w_dim, "w_dim")
    checks.positive_int(channels, "channels")
    nf = _features(fmap_base, fmap_max)
    checks.choice(upsample_interpolation, "upsample_interpolation", ("bilinear", "nearest"))
    num_ws = 2 * log2 - 2
    ws = keras.Input((num_ws, w_dim), name="ws")
    x = LearnedConstant(nf(4), initializer="ones", name="const")(ws)
    x = _adain_layer(x, ws, 0, name="b4_const")
    x = EqualizedConv2D(nf(4), 3, gain=_GAIN, name="b4_conv")(x)
    x = _adain_layer(x, ws, 1, name="b4_conv")
    for r in range(3, log2 + 1):
        res = 2**r
        x = layers.UpSampling2D(interpolation=upsample_interpolation, name=f"b{res}_up")(x)
        x = EqualizedConv2D(nf(res), 3, gain=_GAIN, name=f"b{res}_conv0")(x)
        x = _adain_layer(x, ws, 2 * r - 4, name=f"b{res}_conv0")
        x = EqualizedConv2D(nf(res), 3, gain=_GAIN, name=f"b{res}_conv1")(x)
        x = _adain_layer(x, ws, 2 * r - 3, name=f"b{res}_conv1")
    images = EqualizedConv2D(channels, 1, dtype="float32", name="images")(x)
    return keras.Model(ws, images, name=name)
