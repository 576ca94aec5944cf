"""DCGAN generators and discriminators (Radford et al. 2016) and the lecture's CelebA DCGAN.

Builders return named functional `keras.Model`s. Generators end in a float32
tanh (images in [-1, 1]); discriminators end in one float32 logit, so both stay
numerically safe under a mixed-precision policy.
"""

import keras
from keras import layers

from zoo.layers import Conv2D, Conv2DTranspose, MinibatchStdDev
from zoo import checks
from zoo.nets.conditioning import (
    check_conditioning,
    concat_label_maps,
    condition_on_labels,
    conditional_logits,
)


def check_discriminator_options(spectral_norm, minibatch_stddev, pack):
    """Checks the options shared by the discriminator builders.

    Returns the `MinibatchStdDev` group size (None: no layer) and the
    validated `pack`.
    """
    checks.boolean(spectral_norm, "spectral_norm")
    if minibatch_stddev is False or minibatch_stddev is None:
        group_size = None
    elif minibatch_stddev is True:
        group_size = 4  # MinibatchStdDev's default, as in ProGAN and StyleGAN2
    else:
        if isinstance(minibatch_stddev, bool) or not isinstance(minibatch_stddev, int) or minibatch_stddev < 1:
            raise ValueError(
                f"minibatch_stddev must be a bool or a positive int (the group size), got {minibatch_stddev!r}"
            )
        group_size = minibatch_stddev
    return group_size, checks.positive_int(pack, "pack")


def packed_shape(image_shape, pack):
    """The discriminator's input shape when it judges `pack` samples joined along channels."""
    return (*image_shape[:-1], image_shape[-1] * pack)


def maybe_spectral_norm(layer, spectral_norm, name=None):
    """`layer`, or `layer` wrapped in `keras.layers.SpectralNormalization`.

    The wrapper runs in float32 whatever the policy: Keras' wrapper writes
    the normalised kernel back into the layer's kernel in its own compute
    dtype, which under mixed_bfloat16 would round the float32 master weights
    to bfloat16 at every training call, and it casts its output to its
    input's dtype. The wrapped layer still computes in the policy's dtype.
    """
    if not spectral_norm:
        return layer
    return layers.SpectralNormalization(layer, dtype="float32", name=name)


def _upsampling_plan(image_shape):
    """Start resolution and number of stride-2 upsamplings for a square image."""
    height, width, _ = image_shape
    if height != width:
        raise ValueError(f"image_shape must be square, got {image_shape}")
    for start in (4, 7, 3, 5):
        steps = 0
        size = start
        while size < height:
            size *= 2
            steps += 1
        if size == height and steps >= 1:
            return start, steps
    raise ValueError(
        f"image_shape {image_shape}: the side must be 4, 7, 3 or 5 times a power "
        "of two (e.g. 28, 32, 64, 128)"
    )


def dcgan_generator(
    latent_dim=100,
    image_shape=(64, 64, 3),
    base_filters=64,
    num_classes=None,
    label_dim=None,
    name="dcgan_generator",
):
    """DCGAN generator: project and reshape, then stride-2 transposed convolutions.

    The noise is projected to `start x start x (base_filters * 2^(n-1))` and
    upsampled `n` times (64 px: 4 -> 64 in four steps; 32 px: three; 28 px:
    7 -> 28 in two), each followed by batch normalisation and ReLU, halving the
    filters each time, with a tanh output. No pooling, no fully connected
    hidden layers, as the paper prescribes.

    Args:
        latent_dim: int, size of the noise vector. Default 100.
        image_shape: (height, width, channels) of the output. Default (64, 64, 3).
        base_filters: int, filters of the last hidden layer. Default 64.
        num_classes: int or None. None (default) builds the unconditional
            generator; an int adds a second input, int `labels` of shape
            `(batch,)`, joined to the noise (Mirza & Osindero 2014).
        label_dim: int or None, how labels are joined: None (default) as a
            one-hot vector, an int as a learned embedding of that size.
        name: str, model name.

    Returns:
        A functional `keras.Model` from `(batch, latent_dim)` (and `labels`
        when conditional) to `(batch, *image_shape)`.

    Reference: Radford et al., "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", ICLR 2016, fig. 1.
    """
    checks.positive_int(latent_dim, "latent_dim")
    checks.positive_int(base_filters, "base_filters")
    image_shape = checks.image_shape(image_shape)
    start, steps = _upsampling_plan(image_shape)
    init = keras.initializers.RandomNormal(stddev=0.02)
    z = keras.Input((latent_dim,), name="noise")
    inputs, x = condition_on_labels(z, num_classes, label_dim)
    filters = base_filters * 2 ** (steps - 1)
    x = layers.Dense(start * start * filters, use_bias=False, kernel_initializer=init)(x)
    x = layers.Reshape((start, start, filters))(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for i in range(steps - 1):
        filters //= 2
        x = Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init
        )(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = Conv2DTranspose(
        image_shape[-1], 4, strides=2, padding="same", kernel_initializer=init
    )(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(inputs, images, name=name)


def dcgan_discriminator(
    image_shape=(64, 64, 3),
    base_filters=64,
    num_classes=None,
    conditioning="projection",
    spectral_norm=False,
    minibatch_stddev=False,
    pack=1,
    normalization="batch",
    name="dcgan_discriminator",
):
    """DCGAN discriminator: stride-2 convolutions with LeakyReLU(0.2), one logit.

    Batch normalisation on every layer but the first, doubling the filters
    until the feature map is 4x4 (or 7x7 for 28 px), then one linear logit.

    With `spectral_norm=True` every convolution and the logit layer are
    wrapped in `keras.layers.SpectralNormalization` and the batch
    normalisation is dropped, as in the SN-GAN discriminators (batch norm
    rescales each layer by batch statistics, which undoes the Lipschitz
    bound); every convolution then has a bias. Keras' wrapper divides the
    kernel by its largest singular value (one power iteration per call) in
    training mode and writes the result back into the kernel, so gradients
    act on the normalised kernel rather than flowing through the
    normalisation as in the paper.

    Args:
        image_shape: (height, width, channels) of the input. Default (64, 64, 3).
        base_filters: int, filters of the first layer. Default 64.
        num_classes: int or None. None (default): unconditional. With an int,
            `conditioning` says how the label enters (see
            `zoo.nets.conditional_logits`).
        conditioning: "projection" (default; Miyato & Koyama 2018), "concat"
            (one-hot label maps joined to the image channels; Mirza &
            Osindero 2014) or "auxiliary" (no label input, `1 + num_classes`
            logits: real/fake then class; Odena et al. 2017). Ignored when
            `num_classes` is None.
        spectral_norm: bool, spectrally normalise every convolution and the
            logit layer, without batch norm (see above; with "projection" the
            label embedding is not normalised). Default False.
        minibatch_stddev: bool or int, insert `zoo.layers.MinibatchStdDev`
            before the last convolution block: True for groups of 4, an int
            for that group size. Default False.
        pack: int, PacGAN: the net judges `pack` images joined along the
            channel axis, so its input has `channels * pack` channels (train
            with `zoo.models.GAN(..., pack=pack)`). Unconditional nets only.
            Default 1.
        normalization: "batch" (default, DCGAN), "layer" (per-example layer
            normalisation, the WGAN-GP paper's choice for a critic: a gradient
            penalty is per example, which batch statistics break) or None.
            Ignored with `spectral_norm=True` (no normalisation layer then).
        name: str, model name.

    Returns:
        A functional `keras.Model` from `(batch, *image_shape)` (with
        `channels * pack` channels; and int `labels` `(batch,)` for
        "projection"/"concat") to logits `(batch, 1)` (`(batch, 1 + num_classes)`
        for "auxiliary").

    Example:
    ```python
    # SN-GAN style discriminator with a minibatch-stddev feature.
    discriminator = zoo.nets.dcgan_discriminator(
        (32, 32, 3), spectral_norm=True, minibatch_stddev=4
    )
    ```

    Reference: Radford et al., ICLR 2016, sec. 3; Miyato et al., "Spectral
    Normalization for Generative Adversarial Networks", ICLR 2018; Karras et
    al., "Progressive Growing of GANs", ICLR 2018, sec. 3; Lin et al.,
    "PacGAN: The power of two samples in generative adversarial networks",
    NeurIPS 2018.
    """
    checks.positive_int(base_filters, "base_filters")
    if normalization not in ("batch", "layer", None):
        raise ValueError(f"normalization must be 'batch', 'layer' or None, got {normalization!r}")
    image_shape = checks.image_shape(image_shape)
    _, steps = _upsampling_plan(image_shape)
    init = keras.initializers.RandomNormal(stddev=0.02)
    check_conditioning(num_classes, conditioning)
    group_size, pack = check_discriminator_options(spectral_norm, minibatch_stddev, pack)
    if pack > 1 and num_classes is not None:
        raise ValueError(
            f"pack={pack} needs num_classes=None: a packed discriminator would judge "
            "images of different labels at once"
        )
    images = keras.Input(packed_shape(image_shape, pack), name="images")
    inputs, x = images, images
    if num_classes is not None and conditioning != "auxiliary":
        labels = keras.Input((), dtype="int32", name="labels")
        inputs = [images, labels]
        if conditioning == "concat":
            x = concat_label_maps(images, labels, num_classes)
    filters = base_filters
    for i in range(steps):
        if group_size is not None and i == steps - 1:
            x = MinibatchStdDev(group_size, name="minibatch_stddev")(x)
        conv = Conv2D(
            filters,
            4,
            strides=2,
            padding="same",
            use_bias=spectral_norm or i == 0 or normalization is None,
            kernel_initializer=init,
        )
        x = maybe_spectral_norm(conv, spectral_norm)(x)
        if i > 0 and not spectral_norm:
            if normalization == "batch":
                x = layers.BatchNormalization()(x)
            elif normalization == "layer":
                x = layers.LayerNormalization(axis=(1, 2, 3))(x)
        x = layers.LeakyReLU(0.2)(x)
        filters *= 2
    # "features": the last convolution's activations, the feature space of
    # feature matching and of the VAE-GAN's reconstruction loss.
    x = layers.Flatten(name="features")(x)
    logits = conditional_logits(x, inputs, num_classes, conditioning, kernel_initializer=init, spectral_norm=spectral_norm)
    return keras.Model(inputs, logits, name=name)


def keras_dcgan_generator(latent_dim=128, image_shape=(64, 64, 3), name="keras_dcgan_generator"):
    """The generator of the lecture's CelebA DCGAN (Chollet's Keras example).

    Dense to 8x8x128 at 1/8 of the output size, three stride-2 transposed
    convolutions (128, 256, 512 filters, kernel 4, LeakyReLU 0.2), then a 5x5
    convolution to the image channels. The example ends in a sigmoid on [0, 1]
    data; zoo's data lives in [-1, 1], so this ends in tanh (the same function
    up to an affine change of the output).

    Args:
        latent_dim: int, noise size. Default 128 (the example's value).
        image_shape: output shape; the side must be divisible by 8. Default (64, 64, 3).
        name: str, model name.

    Reference: F. Chollet, "Deep Learning with Python", 2nd ed., sec. 12.5;
    keras.io example "DCGAN to generate face images".
    """
    checks.positive_int(latent_dim, "latent_dim")
    image_shape = checks.image_shape(image_shape)
    if image_shape[0] % 8 or image_shape[1] % 8:
        raise ValueError(f"image_shape sides must be divisible by 8, got {image_shape}")
    start_h, start_w = image_shape[0] // 8, image_shape[1] // 8
    z = keras.Input((latent_dim,), name="noise")
    x = layers.Dense(start_h * start_w * 128)(z)
    x = layers.Reshape((start_h, start_w, 128))(x)
    for filters in (128, 256, 512):
        x = Conv2DTranspose(filters, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(image_shape[-1], 5, padding="same")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(z, images, name=name)


def keras_dcgan_discriminator(
    image_shape=(64, 64, 3),
    dropout=0.2,
    spectral_norm=False,
    minibatch_stddev=False,
    pack=1,
    name="keras_dcgan_discriminator",
):
    """The discriminator of the lecture's CelebA DCGAN (Chollet's Keras example).

    Three stride-2 4x4 convolutions (64, 128, 128 filters, LeakyReLU 0.2),
    flatten, dropout 0.2, one logit (the example's sigmoid moves into the loss).

    Args:
        image_shape: input shape. Default (64, 64, 3).
        dropout: float, dropout rate before the logit. Default 0.2.
        spectral_norm: bool, wrap the convolutions and the logit layer in
            `keras.layers.SpectralNormalization` (see `dcgan_discriminator`).
            Default False.
        minibatch_stddev: bool or int, insert `zoo.layers.MinibatchStdDev`
            before the last convolution (True: groups of 4, an int: that group
            size). Default False.
        pack: int, PacGAN packing: the input has `channels * pack` channels.
            Default 1.
        name: str, model name.

    Reference: F. Chollet, "Deep Learning with Python", 2nd ed., sec. 12.5.
    """
    image_shape = checks.image_shape(image_shape)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    group_size, pack = check_discriminator_options(spectral_norm, minibatch_stddev, pack)
    images = keras.Input(packed_shape(image_shape, pack), name="images")
    x = images
    for i, filters in enumerate((64, 128, 128)):
        if group_size is not None and i == 2:
            x = MinibatchStdDev(group_size, name="minibatch_stddev")(x)
        x = maybe_spectral_norm(Conv2D(filters, 4, strides=2, padding="same"), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    logits = conditional_logits(x, images, None, None, spectral_norm=spectral_norm)
    return keras.Model(images, logits, name=name)
