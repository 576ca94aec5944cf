"""Encoders and decoders of the autoencoder family (AE, VAE, conditional VAE, VAE-GAN).

An encoder maps images (and, when `num_classes` is set, int labels) to a code:
one output `code` for a plain autoencoder (`variational=False`), or two outputs
`z_mean` and `z_log_var` for a VAE. A decoder maps a code (and labels) to
per-pixel `logits` of the image's shape, in float32: the model turns them into
pixels (`sigmoid` for a Bernoulli likelihood, or reads them as the mean of a
Gaussian one), so the nets do not fix the likelihood.

Labels enter as in the conditional GANs (`zoo.nets.conditioning`): an int input
named `labels`, one-hot, joined to the flat features of the encoder and to the
code of the decoder (Sohn et al. 2015).
"""

import math

import keras
from keras import layers

from zoo.layers import Conv2D, Conv2DTranspose, DepthToSpace
from zoo import checks
from zoo.nets.conditioning import check_conditioning, label_input


def _with_labels(inputs, x, num_classes):
    """`(model inputs, x joined to the one-hot label)`; unchanged when unconditional."""
    if num_classes is None:
        return inputs, x
    check_conditioning(num_classes, "concat")
    labels = label_input()
    one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(labels)
    return [inputs, labels], layers.Concatenate(name="with_label")([x, one_hot])


def _code_heads(x, latent_dim, variational):
    if variational:
        z_mean = layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
        z_log_var = layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
        return [z_mean, z_log_var]
    return layers.Dense(latent_dim, dtype="float32", name="code")(x)


def conv_encoder(
    image_shape=(28, 28, 1),
    latent_dim=16,
    filters=(32, 64),
    hidden_units=256,
    variational=True,
    num_classes=None,
    name="conv_encoder",
):
    """Convolutional encoder: strided 3x3 convolutions, a dense layer, the code.

    Each entry of `filters` is a Conv2D with stride 2 and ReLU (the keras.io VAE's
    encoder with a wider dense layer), then Flatten, the one-hot label when
    conditional, Dense(`hidden_units`, ReLU), and the code head(s).

    Args:
        image_shape: input (height, width, channels). Default (28, 28, 1).
        latent_dim: int, code size. Default 16.
        filters: channels of the strided convolutions. Default (32, 64).
        hidden_units: int, width of the dense layer before the code. Default 256.
        variational: bool. True (default): outputs `[z_mean, z_log_var]`; False:
            one output `code`.
        num_classes: None (default) or int >= 2; adds an int `labels` input.
        name: str, model name.

    Returns:
        `keras.Model` from `images` (and `labels`) to the code output(s), float32.

    Example:
        >>> encoder = conv_encoder((28, 28, 1), latent_dim=2)
        >>> z_mean, z_log_var = encoder(keras.ops.zeros((4, 28, 28, 1)))
        >>> z_mean.shape
        TensorShape([4, 2])

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
    the keras.io example "Variational AutoEncoder" (fchollet).
    """
    image_shape = checks.image_shape(image_shape)
    checks.positive_int(latent_dim, "latent_dim")
    filters = checks.positive_ints(filters, "filters")
    checks.positive_int(hidden_units, "hidden_units")
    checks.boolean(variational, "variational")
    images = keras.Input(image_shape, name="images")
    x = images
    for f in filters:
        x = Conv2D(f, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    inputs, x = _with_labels(images, x, num_classes)
    x = layers.Dense(hidden_units, activation="relu")(x)
    return keras.Model(inputs, _code_heads(x, latent_dim, variational), name=name)


def conv_decoder(
    latent_dim=16,
    image_shape=(28, 28, 1),
    filters=(64, 32),
    num_classes=None,
    upsampling="transpose",
    name="conv_decoder",
):
    """Convolutional decoder: the encoder mirrored, per-pixel logits out.

    Dense to a `(h / 2^n, w / 2^n, filters[0])` map (n = `len(filters)`), then
    with `upsampling="transpose"` each entry of `filters` is a Conv2DTranspose
    with stride 2 and ReLU, then a 3x3 convolution to the image's channels,
    linear, in float32. With `upsampling="subpixel"` the last entry is instead a
    3x3 convolution with ReLU at half the image's size, followed by a linear 3x3
    convolution to `4 * channels` and `zoo.layers.DepthToSpace(2)` (Shi et al.
    2016): the same number of doublings at about half the cost, since nothing
    is computed at full resolution (on binarised MNIST it also reached a lower
    validation loss per epoch; see `benchmarks/mnist_vae.py`).

    Args:
        latent_dim: int, code size. Default 16.
        image_shape: output (height, width, channels); height and width must be
            divisible by `2 ** len(filters)`. Default (28, 28, 1).
        filters: channels of the transposed convolutions. Default (64, 32).
        num_classes: None (default) or int >= 2; adds an int `labels` input.
        upsampling: "transpose" (default) or "subpixel", how the last doubling
            is done (see above).
        name: str, model name.

    Returns:
        `keras.Model` from `code` (and `labels`) to float32 `logits` of `image_shape`.

    Example:
        >>> decoder = conv_decoder(2, (28, 28, 1))
        >>> decoder(keras.ops.zeros((4, 2))).shape
        TensorShape([4, 28, 28, 1])

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
    the keras.io example "Variational AutoEncoder" (fchollet).
    """
    checks.positive_int(latent_dim, "latent_dim")
    height, width, channels = checks.image_shape(image_shape)
    filters = checks.positive_ints(filters, "filters")
    if upsampling not in ("transpose", "subpixel"):
        raise ValueError(f'upsampling must be "transpose" or "subpixel", got {upsampling!r}')
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(
            f"image_shape {image_shape!r}: height and width must be divisible by "
            f"2 ** len(filters) = {factor}"
        )
    code = keras.Input((latent_dim,), name="code")
    inputs, x = _with_labels(code, code, num_classes)
    x = layers.Dense((height // factor) * (width // factor) * filters[0], activation="relu")(x)
    x = layers.Reshape((height // factor, width // factor, filters[0]))(x)
    if upsampling == "transpose":
        for f in filters:
            x = Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(x)
        logits = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="logits")(x)
        return keras.Model(inputs, logits, name=name)
    for f in filters[:-1]:
        x = Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(filters[-1], 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(4 * channels, 3, padding="same", dtype="float32", name="subpixel_logits")(x)
    logits = DepthToSpace(2, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def mlp_encoder(
    image_shape=(28, 28, 1),
    latent_dim=50,
    hidden_units=(200, 200),
    activation="tanh",
    variational=True,
    num_classes=None,
    name="mlp_encoder",
):
    """Fully connected encoder: the one-stochastic-layer VAE of Burda et al.

    Flatten (plus the one-hot label), Dense layers of `hidden_units` with
    `activation`, then the code head(s). The defaults are Burda et al.'s MNIST
    architecture (2 x 200 tanh units, 50 latent units).

    Args:
        image_shape: input (height, width, channels). Default (28, 28, 1).
        latent_dim: int, code size. Default 50.
        hidden_units: sizes of the hidden layers. Default (200, 200).
        activation: Keras activation of the hidden layers. Default "tanh".
        variational: bool, `[z_mean, z_log_var]` (default) or one `code` output.
        num_classes: None (default) or int >= 2; adds an int `labels` input.
        name: str, model name.

    Returns:
        `keras.Model` from `images` (and `labels`) to the code output(s), float32.

    Reference: Burda, Grosse & Salakhutdinov, "Importance Weighted
    Autoencoders", ICLR 2016, sec. 5 and appendix.
    """
    image_shape = checks.image_shape(image_shape)
    checks.positive_int(latent_dim, "latent_dim")
    units = checks.positive_ints(hidden_units, "hidden_units")
    checks.boolean(variational, "variational")
    images = keras.Input(image_shape, name="images")
    inputs, x = _with_labels(images, layers.Flatten()(images), num_classes)
    for n in units:
        x = layers.Dense(n, activation=activation)(x)
    return keras.Model(inputs, _code_heads(x, latent_dim, variational), name=name)


def mlp_decoder(
    latent_dim=50,
    image_shape=(28, 28, 1),
    hidden_units=(200, 200),
    activation="tanh",
    num_classes=None,
    name="mlp_decoder",
):
    """Fully connected decoder: the mirror of `mlp_encoder`, per-pixel logits out.

    Args:
        latent_dim: int, code size. Default 50.
        image_shape: output (height, width, channels). Default (28, 28, 1).
        hidden_units: sizes of the hidden layers. Default (200, 200).
        activation: Keras activation of the hidden layers. Default "tanh".
        num_classes: None (default) or int >= 2; adds an int `labels` input.
        upsampling: "transpose" (default) or "subpixel", how the last doubling
            is done (see above).
        name: str, model name.

    Returns:
        `keras.Model` from `code` (and `labels`) to float32 `logits` of `image_shape`.

    Reference: Burda, Grosse & Salakhutdinov, "Importance Weighted
    Autoencoders", ICLR 2016, sec. 5 and appendix.
    """
    checks.positive_int(latent_dim, "latent_dim")
    image_shape = checks.image_shape(image_shape)
    units = checks.positive_ints(hidden_units, "hidden_units")
    code = keras.Input((latent_dim,), name="code")
    inputs, x = _with_labels(code, code, num_classes)
    for n in units:
        x = layers.Dense(n, activation=activation)(x)
    x = layers.Dense(math.prod(image_shape), dtype="float32")(x)
    logits = layers.Reshape(image_shape, dtype="float32", name="logits")(x)
    return keras.Model(inputs, logits, name=name)
