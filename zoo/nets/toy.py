"""Fully connected generator and packed discriminator of PacGAN's 2-D experiments."""

import keras
from keras import layers

from zoo import checks


def toy_generator(
    latent_dim=2,
    data_dim=2,
    hidden_units=(400, 400, 400, 400),
    batch_norm=True,
    name="toy_generator",
):
    """Multilayer-perceptron generator of PacGAN's ring and grid experiments.

    Each hidden layer is Dense -> BatchNormalization -> ReLU; the output is a linear
    Dense layer of `data_dim` units in float32, since the points are not bounded.
    With batch normalisation the hidden Dense layers have no bias, as in PacGAN's code
    (the normalisation's offset takes its place). Feed it `N(0, I)` noise.

    Args:
        latent_dim: int, noise size. Default 2 (PacGAN's 2-D Gaussian).
        data_dim: int, size of a sample. Default 2.
        hidden_units: sizes of the hidden layers. Default (400, 400, 400, 400).
        batch_norm: bool, batch-normalise the hidden layers. Default True.
        name: str, model name. Default "toy_generator".

    Returns:
        `keras.Model` from `noise` `(batch, latent_dim)` to `samples`
        `(batch, data_dim)`.

    Raises:
        ValueError: on a non-positive `latent_dim` or `data_dim`, empty or
            non-positive `hidden_units`, or a non-bool `batch_norm`.

    Example:
        >>> generator = toy_generator()
        >>> generator(keras.random.normal((2500, 2))).shape
        TensorShape([2500, 2])

    Reference: Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018.
    """
    checks.positive_int(latent_dim, "latent_dim")
    checks.positive_int(data_dim, "data_dim")
    units = checks.positive_ints(hidden_units, "hidden_units")
    checks.boolean(batch_norm, "batch_norm")
    z = keras.Input((latent_dim,), name="noise")
    x = z
    for n in units:
        x = layers.Dense(n, use_bias=not batch_norm)(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    samples = layers.Dense(data_dim, dtype="float32", name="samples")(x)
    return keras.Model(z, samples, name=name)


def toy_discriminator(
    data_dim=2,
    pack=1,
    hidden_units=(200, 200, 200),
    spectral_norm=False,
    name="toy_discriminator",
):
    """Packed multilayer-perceptron discriminator of PacGAN's 2-D experiments: one logit.

    PacGAN's discriminator judges `pack` samples at once, all real or all generated,
    concatenated into one vector of `data_dim * pack` features; `pack=1` is the usual
    GAN discriminator. Each hidden layer is Dense -> LeakyReLU(0.2). PacGAN used
    linear maxout units with 5 pieces; LeakyReLU is a simpler choice with a fifth of
    the weights per layer.

    Args:
        data_dim: int, size of one sample. Default 2.
        pack: int, samples per discriminator input (PacGAN's degree of packing m).
            Default 1.
        hidden_units: sizes of the hidden layers. Default (200, 200, 200).
        spectral_norm: bool, wrap every Dense layer (the output one too) in
            `keras.layers.SpectralNormalization`. Default False.
        name: str, model name. Default "toy_discriminator".

    Returns:
        `keras.Model` from `samples` `(batch, data_dim * pack)` to float32 `logits`
        `(batch, 1)`.

    Raises:
        ValueError: on a non-positive `data_dim` or `pack`, empty or non-positive
            `hidden_units`, or a non-bool `spectral_norm`.

    Example:
        >>> discriminator = toy_discriminator(pack=2)
        >>> points = keras.random.normal((100, 2))
        >>> # Consecutive rows form a pack: 100 points give 50 inputs of 4 features.
        >>> discriminator(keras.ops.reshape(points, (-1, 2 * 2))).shape
        TensorShape([50, 1])

    Reference: Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018.
    """
    checks.positive_int(data_dim, "data_dim")
    checks.positive_int(pack, "pack")
    units = checks.positive_ints(hidden_units, "hidden_units")
    checks.boolean(spectral_norm, "spectral_norm")

    def dense(n, **kwargs):
        if spectral_norm:
            # The wrapper takes the name and dtype, so the output layer stays "logits".
            return layers.SpectralNormalization(layers.Dense(n, dtype=kwargs.get("dtype")), **kwargs)
        return layers.Dense(n, **kwargs)

    samples = keras.Input((data_dim * pack,), name="samples")
    x = samples
    for n in units:
        x = dense(n)(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = dense(1, dtype="float32", name="logits")(x)
    return keras.Model(samples, logits, name=name)
