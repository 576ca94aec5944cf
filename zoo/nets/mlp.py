"""Fully connected generator and discriminator of the original GAN (Goodfellow et al. 2014)."""

import math

import keras
from keras import layers

from zoo.layers import MinibatchStdDev
from zoo import checks
from zoo.nets.dcgan import check_discriminator_options, maybe_spectral_norm, packed_shape


def mlp_generator(latent_dim=100, image_shape=(28, 28, 1), hidden_units=(256, 512, 1024), name="mlp_generator"):
    """Multilayer-perceptron generator of the vanilla GAN.

    Dense layers with LeakyReLU(0.2) and batch normalisation, a tanh output of
    `prod(image_shape)` units reshaped to the image. The paper used ReLU
    hidden units and a sigmoid on [0, 1] data; this is the form that trains
    reliably on [-1, 1] data.

    Args:
        latent_dim: int, noise size. Default 100.
        image_shape: output (height, width, channels). Default (28, 28, 1).
        hidden_units: sizes of the hidden layers. Default (256, 512, 1024).
        name: str, model name.

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    checks.positive_int(latent_dim, "latent_dim")
    image_shape = checks.image_shape(image_shape)
    units = checks.positive_ints(hidden_units, "hidden_units")
    z = keras.Input((latent_dim,), name="noise")
    x = z
    for n in units:
        x = layers.Dense(n)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(math.prod(image_shape))(x)
    x = layers.Reshape(image_shape)(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return keras.Model(z, images, name=name)


def mlp_discriminator(
    image_shape=(28, 28, 1),
    hidden_units=(512, 256),
    dropout=0.3,
    spectral_norm=False,
    minibatch_stddev=False,
    pack=1,
    name="mlp_discriminator",
):
    """Multilayer-perceptron discriminator of the vanilla GAN: one logit.

    Dense layers with LeakyReLU(0.2) and dropout (the paper used maxout units
    with dropout).

    Args:
        image_shape: input (height, width, channels). Default (28, 28, 1).
        hidden_units: sizes of the hidden layers. Default (512, 256).
        dropout: float, dropout rate after each hidden layer. Default 0.3.
        spectral_norm: bool, wrap every dense layer, the logit layer included,
            in `keras.layers.SpectralNormalization` (Miyato et al. 2018; see
            `zoo.nets.dcgan_discriminator`). Default False.
        minibatch_stddev: bool or int, insert `zoo.layers.MinibatchStdDev`
            before the logit layer (True: groups of 4, an int: that group
            size; Karras et al. 2018). Default False.
        pack: int, PacGAN (Lin et al. 2018): the net judges `pack` images
            joined along the channel axis, so its input has `channels * pack`
            channels. Default 1.
        name: str, model name.

    Example:
    ```python
    discriminator = zoo.nets.mlp_discriminator((28, 28, 1), pack=2)  # input (28, 28, 2)
    gan = zoo.models.GAN(zoo.nets.mlp_generator(), discriminator, pack=2)
    ```

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    image_shape = checks.image_shape(image_shape)
    units = checks.positive_ints(hidden_units, "hidden_units")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    group_size, pack = check_discriminator_options(spectral_norm, minibatch_stddev, pack)
    images = keras.Input(packed_shape(image_shape, pack), name="images")
    x = layers.Flatten()(images)
    for n in units:
        x = maybe_spectral_norm(layers.Dense(n), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        x = layers.Dropout(dropout)(x)
    if group_size is not None:
        x = MinibatchStdDev(group_size, name="minibatch_stddev")(x)
    if spectral_norm:
        dense = layers.Dense(1, dtype="float32", name="logits_dense")
        logits = maybe_spectral_norm(dense, True, name="logits")(x)
    else:
        logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
