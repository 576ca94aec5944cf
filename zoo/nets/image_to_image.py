"""Image-to-image architectures: pix2pix's U-Net and PatchGAN, CycleGAN's ResNet generator,
and the encoder-decoder colouriser of the lecture (Deep Koalarization).

Every builder takes the number of channels and an optional `image_size`; with
`image_size=None` (the default) the spatial size is left open, so a net trained on
crops runs convolutionally on larger images (any size divisible by its stride,
`net_stride(net)`). Generators end in a float32 tanh, discriminators in float32
logits, so both are safe under a mixed-precision policy.
"""

import keras
from keras import layers, ops

from zoo import checks
from zoo.layers import Conv2D, Conv2DTranspose, NoiseDropout, ReflectionPadding2D

NORMS = ("batch", "instance", None)


def _weights():
    """The pix2pix/CycleGAN initialisation: N(0, 0.02) kernels."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def _norm(kind, name):
    if kind == "batch":
        return layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02), name=name
        )
    # groups=-1: one group per channel, i.e. instance normalisation.
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def _input(channels, image_size, name):
    checks.positive_int(channels, f"{name}_channels")
    if image_size is None:
        height = width = None
    else:
        height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        checks.positive_int(height, "image_size")
        checks.positive_int(width, "image_size")
    return keras.Input((height, width, channels), name=name)


def _check_divisible(image_size, stride, net):
    if image_size is None:
        return
    for size in (image_size, image_size) if isinstance(image_size, int) else image_size:
        if size % stride:
            raise ValueError(f"{net} needs an image_size divisible by {stride}, got {image_size!r}")


def net_stride(net):
    """The factor a fully convolutional net's input size must be divisible by.

    The product of the strides of its downsampling convolutions (`2 **
    num_downsamples` for the U-Net and the ResNet generator). Read from the
    layers, so it holds for a net reloaded from a file too.
    """
    stride = 1
    for layer in net._flatten_layers(include_self=False):
        if isinstance(layer, layers.Conv2D) and not isinstance(layer, layers.Conv2DTranspose):
            stride *= int(layer.strides[0])
    return stride


def unet_depth(image_size):
    """The paper's U-Net-<size>: halve down to 1x1 (8 layers at 256), at most 8 times."""
    depth = 0
    while depth < 8 and image_size % 2 ** (depth + 1) == 0:
        depth += 1
    return depth


def unet_generator(
    input_channels=3,
    output_channels=3,
    num_downsamples=8,
    base_filters=64,
    max_filters=512,
    norm="batch",
    dropout=0.5,
    num_dropout=3,
    dropout_at_inference=False,
    image_size=None,
    name="unet_generator",
):
    """The pix2pix U-Net: an encoder-decoder with skip connections between mirrored layers.

    Encoder `C64-C128-C256-C512-...` (4x4 convolutions of stride 2, LeakyReLU 0.2,
    no normalisation on the first and the innermost layer), decoder of 4x4
    transposed convolutions with ReLU, each concatenated with the encoder layer of
    the same size; dropout on the first `num_dropout` decoder layers is the
    model's noise source (Isola et al. 2017, section 3.2.1 and appendix 6.1.1).

    Args:
        input_channels: int, channels of the source image (3 for RGB, 1 for L). Default 3.
        output_channels: int, channels produced (3, or 2 for ab). Default 3.
        num_downsamples: int >= 2, stride-2 layers; the bottleneck is
            `2 ** num_downsamples` times smaller than the input (8: 256 -> 1). Default 8.
        base_filters: int, filters of the first layer (doubling up to `max_filters`). Default 64.
        max_filters: int. Default 512.
        norm: "batch" (the paper), "instance" or None. The paper trains with
            batch 1 and normalises with the test batch's own statistics at test
            time, which is instance normalisation; Keras' batch norm uses its
            moving averages at inference instead, so "instance" is the closer
            match at batch size 1.
        dropout: float in [0, 1). Default 0.5.
        num_dropout: int >= 0, decoder layers with dropout. Default 3.
        dropout_at_inference: bool, keep the dropout on in `predict` and exports
            (`zoo.layers.NoiseDropout`), the paper's test-time noise, so one
            input gives varied outputs. Default False (deterministic outputs).
        image_size: None (any size divisible by `2 ** num_downsamples`), an int or
            `(height, width)`. Default None.

    Returns:
        `keras.Model` from `(batch, h, w, input_channels)` to
        `(batch, h, w, output_channels)` in [-1, 1]; `net_stride(model)` is
        `2 ** num_downsamples`.

    Example:
        >>> g = unet_generator(num_downsamples=5, base_filters=8)
        >>> g(keras.ops.zeros((1, 64, 64, 3))).shape
        TensorShape([1, 64, 64, 3])

    Reference: Isola et al., "Image-to-Image Translation with Conditional
    Adversarial Networks", CVPR 2017; Ronneberger et al., "U-Net", MICCAI 2015.
    """
    checks.integer(num_downsamples, "num_downsamples", at_least=2)
    checks.positive_int(base_filters, "base_filters")
    checks.positive_int(max_filters, "max_filters")
    checks.choice(norm, "norm", NORMS)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    checks.integer(num_dropout, "num_dropout", at_least=0)
    stride = 2**num_downsamples
    _check_divisible(image_size, stride, "unet_generator")
    source = _input(input_channels, image_size, "source")
    filters = [min(base_filters * 2**i, max_filters) for i in range(num_downsamples)]

    x, skips = source, []
    for i, f in enumerate(filters):
        if i:
            x = layers.LeakyReLU(0.2, name=f"down{i}_lrelu")(x)
        x = Conv2D(
            f, 4, strides=2, padding="same", use_bias=norm is None or i in (0, num_downsamples - 1),
            kernel_initializer=_weights(), name=f"down{i}_conv",
        )(x)
        if norm and 0 < i < num_downsamples - 1:
            x = _norm(norm, f"down{i}_norm")(x)
        skips.append(x)
    for j, skip in enumerate(reversed(skips[:-1])):
        level = num_downsamples - 2 - j
        x = layers.ReLU(name=f"up{level}_relu")(x)
        x = Conv2DTranspose(
            filters[level], 4, strides=2, padding="same", use_bias=norm is None,
            kernel_initializer=_weights(), name=f"up{level}_conv",
        )(x)
        if norm:
            x = _norm(norm, f"up{level}_norm")(x)
        if j < num_dropout and dropout:
            if dropout_at_inference:
                x = NoiseDropout(dropout, name=f"up{level}_dropout")(x)
            else:
                x = layers.Dropout(dropout, name=f"up{level}_dropout")(x)
        x = layers.Concatenate(name=f"up{level}_skip")([x, skip])
    x = layers.ReLU(name="out_relu")(x)
    x = Conv2DTranspose(
        output_channels, 4, strides=2, padding="same", kernel_initializer=_weights(), dtype="float32",
        name="out_conv",
    )(x)
    outputs = layers.Activation("tanh", dtype="float32", name="translated")(x)
    return keras.Model(source, outputs, name=name)


def patch_discriminator(
    input_channels=3,
    source_channels=None,
    base_filters=64,
    num_layers=3,
    norm="batch",
    image_size=None,
    name="patch_discriminator",
):
    """The PatchGAN: a grid of real/fake logits, each judging one image patch.

    `num_layers=3` is the paper's 70x70 PatchGAN (`C64-C128-C256-C512`, 4x4
    convolutions, the first three of stride 2, LeakyReLU 0.2, no normalisation
    on the first, then a 4x4 convolution to one logit per patch); a 256x256
    input gives 30x30 logits. With `source_channels` the discriminator is
    conditional, as in pix2pix: it takes `[source, image]` and judges the pair.

    Args:
        input_channels: int, channels of the judged image. Default 3.
        source_channels: int or None, channels of the conditioning source image
            (pix2pix); None for an unconditional discriminator (CycleGAN). Default None.
        base_filters: int. Default 64.
        num_layers: int >= 1, stride-2 layers; the receptive field is 70 for 3,
            34 for 2, 142 for 4. Default 3.
        norm: "batch", "instance" or None. Default "batch".
        image_size: None (any size) or an int / `(height, width)`. Default None.

    Returns:
        `keras.Model` from `image` (or `[source, image]`) to float32 logits
        `(batch, h', w', 1)`.

    Reference: Isola et al. 2017, section 3.2.2 and appendix 6.1.2; Li & Wand,
    "Precomputed Real-Time Texture Synthesis with Markovian GANs", ECCV 2016.
    """
    checks.positive_int(base_filters, "base_filters")
    checks.positive_int(num_layers, "num_layers")
    checks.choice(norm, "norm", NORMS)
    image = _input(input_channels, image_size, "image")
    inputs = image
    x = image
    if source_channels is not None:
        source = _input(source_channels, image_size, "source")
        inputs = [source, image]
        x = layers.Concatenate(name="pair")([source, image])
    for i in range(num_layers + 1):
        filters = base_filters * 2 ** min(i, 3)
        x = layers.ZeroPadding2D(1, name=f"conv{i}_pad")(x)
        x = Conv2D(
            filters, 4, strides=2 if i < num_layers else 1, use_bias=norm is None or i == 0,
            kernel_initializer=_weights(), name=f"conv{i}",
        )(x)
        if norm and i:
            x = _norm(norm, f"conv{i}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.ZeroPadding2D(1, name="logits_pad")(x)
    logits = layers.Conv2D(1, 4, kernel_initializer=_weights(), dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def resnet_generator(
    input_channels=3,
    output_channels=3,
    num_blocks=9,
    base_filters=64,
    num_downsamples=2,
    norm="instance",
    image_size=None,
    name="resnet_generator",
):
    """CycleGAN's generator: downsample, residual blocks, upsample, with reflection padding.

    `c7s1-64, d128, d256, R256 x num_blocks, u128, u64, c7s1-3` (Zhu et al.
    2017, appendix 7.2; Johnson et al. 2016): 6 blocks for 128x128 images, 9 for
    256x256 and larger. Instance normalisation is
    `GroupNormalization(groups=-1)`.

    Args:
        input_channels, output_channels: ints. Default 3, 3.
        num_blocks: int >= 1, residual blocks. Default 9.
        base_filters: int, filters of the first layer. Default 64.
        num_downsamples: int >= 0, stride-2 convolutions (and as many stride-2
            transposed ones). Default 2.
        norm: "instance" (default), "batch" or None.
        image_size: None (any size divisible by `2 ** num_downsamples`) or an int
            / `(height, width)`. Default None.

    Returns:
        `keras.Model` from `(batch, h, w, input_channels)` to
        `(batch, h, w, output_channels)` in [-1, 1].

    Reference: Zhu et al., "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017.
    """
    checks.positive_int(num_blocks, "num_blocks")
    checks.positive_int(base_filters, "base_filters")
    checks.integer(num_downsamples, "num_downsamples", at_least=0)
    checks.choice(norm, "norm", NORMS)
    stride = 2**num_downsamples
    _check_divisible(image_size, stride, "resnet_generator")
    source = _input(input_channels, image_size, "source")

    def conv_norm_relu(x, filters, kernel, strides, prefix, transpose=False):
        if transpose:
            x = Conv2DTranspose(
                filters, kernel, strides=strides, padding="same", use_bias=norm is None,
                kernel_initializer=_weights(), name=f"{prefix}_conv",
            )(x)
        else:
            x = Conv2D(
                filters, kernel, strides=strides, padding="valid" if strides == 1 else "same",
                use_bias=norm is None, kernel_initializer=_weights(), name=f"{prefix}_conv",
            )(x)
        if norm:
            x = _norm(norm, f"{prefix}_norm")(x)
        return layers.ReLU(name=f"{prefix}_relu")(x)

    x = ReflectionPadding2D(3, name="in_pad")(source)
    x = conv_norm_relu(x, base_filters, 7, 1, "in")
    for i in range(num_downsamples):
        x = conv_norm_relu(x, base_filters * 2 ** (i + 1), 3, 2, f"down{i}")
    filters = base_filters * 2**num_downsamples
    for b in range(num_blocks):
        shortcut = x
        y = ReflectionPadding2D(1, name=f"res{b}_pad1")(x)
        y = conv_norm_relu(y, filters, 3, 1, f"res{b}_a")
        y = ReflectionPadding2D(1, name=f"res{b}_pad2")(y)
        y = layers.Conv2D(filters, 3, use_bias=norm is None, kernel_initializer=_weights(), name=f"res{b}_b_conv")(y)
        if norm:
            y = _norm(norm, f"res{b}_b_norm")(y)
        x = layers.Add(name=f"res{b}_add")([shortcut, y])
    for i in reversed(range(num_downsamples)):
        x = conv_norm_relu(x, base_filters * 2**i, 3, 2, f"up{i}", transpose=True)
    x = ReflectionPadding2D(3, name="out_pad")(x)
    x = layers.Conv2D(output_channels, 7, kernel_initializer=_weights(), dtype="float32", name="out_conv")(x)
    outputs = layers.Activation("tanh", dtype="float32", name="translated")(x)
    return keras.Model(source, outputs, name=name)


def colourisation_net(
    base_filters=64,
    fusion_extractor=None,
    image_size=None,
    name="colourisation_net",
):
    """The lecture's encoder-decoder colouriser: L channel in, ab channels out.

    Encoder of 3x3 ReLU convolutions (`64/2, 128, 128/2, 256, 256/2, 512, 512,
    256` for `base_filters=64`), an optional fusion layer joining a global
    embedding of the whole image to every position (then a 1x1 convolution to
    256), and a decoder of convolutions and 2x upsamplings back to the input
    size ending in 2 tanh channels (Baldassarre et al. 2017, figure 2).

    Args:
        base_filters: int, 64 in the paper. Default 64.
        fusion_extractor: None (no fusion) or a `keras.Model` mapping RGB images
            in [-1, 1] (its own input size) to a vector `(batch, d)`, e.g.
            Inception-ResNet-v2 with ImageNet weights (see
            `recipes/colourisation.py`). It is frozen and run inside the net on
            the grey input resized to its input size, so the exported net
            needs only the L channel. Default None.
        image_size: None (any size divisible by 8) or an int / `(height, width)`.

    Returns:
        `keras.Model` from L `(batch, h, w, 1)` in [-1, 1] (`zoo.data` model
        range) to ab `(batch, h, w, 2)` in [-1, 1].

    Reference: Baldassarre, Gonzalez Morin & Rodes-Guirao, "Deep Koalarization:
    Image Colorization using CNNs and Inception-ResNet-v2", 2017 (Wallner 2017).
    """
    from zoo.layers import GlobalFusion

    checks.positive_int(base_filters, "base_filters")
    _check_divisible(image_size, 8, "colourisation_net")
    if fusion_extractor is not None:
        if not isinstance(fusion_extractor, keras.Model) or len(fusion_extractor.output_shape) != 2:
            raise ValueError(
                "fusion_extractor must be a keras.Model mapping RGB images to vectors (batch, d), "
                f"got {fusion_extractor!r}"
            )
        extractor_size = tuple(fusion_extractor.input_shape[1:3])
        if None in extractor_size or fusion_extractor.input_shape[-1] != 3:
            raise ValueError(
                "fusion_extractor needs a fixed (height, width, 3) input, got "
                f"{fusion_extractor.input_shape}"
            )
        fusion_extractor.trainable = False
    f = base_filters
    luminance = _input(1, image_size, "luminance")

    def conv(x, filters, label, strides=1, activation="relu"):
        return Conv2D(filters, 3, strides=strides, padding="same", activation=activation, name=label)(x)

    x = luminance
    for i, (filters, strides) in enumerate(
        [(f, 2), (2 * f, 1), (2 * f, 2), (4 * f, 1), (4 * f, 2), (8 * f, 1), (8 * f, 1), (4 * f, 1)]
    ):
        x = conv(x, filters, f"encoder{i}", strides)
    if fusion_extractor is not None:
        grey = layers.Resizing(*extractor_size, name="fusion_resize")(luminance)
        grey = layers.Concatenate(name="fusion_rgb")([grey, grey, grey])
        embedding = fusion_extractor(grey, training=False)
        x = GlobalFusion(name="fusion")([x, embedding])
        x = layers.Conv2D(4 * f, 1, activation="relu", name="fusion_conv")(x)
    x = conv(x, 2 * f, "decoder0")
    x = layers.UpSampling2D(name="decoder0_up")(x)
    x = conv(x, f, "decoder1")
    x = conv(x, f, "decoder2")
    x = layers.UpSampling2D(name="decoder2_up")(x)
    x = conv(x, f // 2 or 1, "decoder3")
    x = layers.Conv2D(2, 3, padding="same", dtype="float32", name="decoder4")(x)
    x = layers.Activation("tanh", dtype="float32", name="ab_tanh")(x)
    outputs = layers.UpSampling2D(dtype="float32", name="ab")(x)
    return keras.Model(luminance, outputs, name=name)


def inception_resnet_fusion(weights="auto"):
    """Deep Koalarization's fusion extractor: frozen Inception-ResNet-v2, or None with the reason.

    Args:
        weights: "auto" (ImageNet weights, downloaded and cached by Keras), "off",
            or the path of those weights (`.h5`).

    Returns:
        `(net or None, message)`: the net maps RGB images in [-1, 1] (its own
        preprocessing range, zoo's) to class probabilities, for
        `colourisation_net(fusion_extractor=net)`; None when `weights` is "off" or
        cannot be loaded (no internet, no cached file, a bad path), the message
        saying why, so training goes on without fusion.
    """
    if weights == "off":
        return None, "fusion off (--fusion off)"
    source = "imagenet" if weights == "auto" else weights
    try:
        net = keras.applications.InceptionResNetV2(weights=source)
    except Exception as error:  # noqa: BLE001 - any failure to load means no fusion, with the reason
        reason = str(error).splitlines()[0][:200]
        return None, f"fusion off: Inception-ResNet-v2 ImageNet weights are not available ({reason})"
    return net, f"fusion on: Inception-ResNet-v2 ({source}), {net.output_shape[-1]}-d embedding"
