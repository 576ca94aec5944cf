"""The MNIST nets of the Improved-GAN semi-supervised experiments (Salimans et al. 2016)."""

import math

import keras
from keras import layers

from zoo.layers import WeightNormDense
from zoo import checks

# The name of the discriminator's last hidden layer: the features that the
# generator matches and the default `SemiSupervisedGAN(feature_layer=...)`.
FEATURES = "features"


def sgan_generator(
    latent_dim=100, image_shape=(28, 28, 1), hidden_units=(500, 500), weight_norm=True, name="sgan_generator"
):
    """Fully connected generator of the Improved-GAN MNIST experiments.

    Each hidden layer is a bias-free dense layer, batch normalisation without
    a learned scale, and softplus; the output layer has `prod(image_shape)`
    sigmoid units, weight-normalised as in the reference code, reshaped to the
    image and mapped from [0, 1] to zoo's [-1, 1]. The reference feeds it
    uniform [0, 1) noise (`SemiSupervisedGAN`'s default `noise="uniform"`).

    Args:
        latent_dim: int, noise size. Default 100.
        image_shape: output (height, width, channels). Default (28, 28, 1).
        hidden_units: sizes of the hidden layers. Default (500, 500).
        weight_norm: bool, weight-normalise the output layer (with a learned
            scale). Default True.
        name: str, model name.

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016 (code: openai/improved-gan, train_mnist_feature_matching.py).
    """
    checks.positive_int(latent_dim, "latent_dim")
    checks.boolean(weight_norm, "weight_norm")
    image_shape = checks.image_shape(image_shape)
    units = checks.positive_ints(hidden_units, "hidden_units")
    z = keras.Input((latent_dim,), name="noise")
    x = z
    for n in units:
        x = layers.Dense(n, use_bias=False)(x)
        # The reference's batch norm: epsilon 1e-6, a learned shift, no learned scale.
        x = layers.BatchNormalization(scale=False, epsilon=1e-6)(x)
        x = layers.Activation("softplus")(x)
    size = math.prod(image_shape)
    # Sigmoid pixels in [0, 1] as in the reference, then mapped to zoo's [-1, 1]:
    # `2 sigmoid(a) - 1 = tanh(a / 2)`. A plain tanh would double the output layer's
    # initial slope (with weight norm, its initial scale) relative to the reference.
    if weight_norm:
        x = WeightNormDense(size, activation="sigmoid", train_scale=True, kernel_initializer="glorot_uniform")(x)
    else:
        x = layers.Dense(size, activation="sigmoid")(x)
    x = layers.Reshape(image_shape)(x)
    images = layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="images")(x)
    return keras.Model(z, images, name=name)


def sgan_discriminator(
    image_shape=(28, 28, 1),
    num_classes=10,
    hidden_units=(1000, 500, 250, 250, 250),
    input_noise=0.3,
    hidden_noise=0.5,
    weight_norm=True,
    name="sgan_discriminator",
):
    """Fully connected K-class discriminator of the Improved-GAN MNIST experiments.

    Images in [-1, 1] are first mapped to [0, 1], the reference code's range.
    Gaussian noise on the input (std `input_noise`) and after every hidden
    ReLU layer (std `hidden_noise`), active in training only; `num_classes`
    logits. Read as a K+1 classifier whose "fake" logit is fixed at 0, the
    probability that an image is real is `Z / (Z + 1)` with `Z = sum exp(logits)`
    (see `zoo.models.SemiSupervisedGAN`). The last hidden layer is named
    "features": the generator's feature-matching target.

    Args:
        image_shape: input (height, width, channels). Default (28, 28, 1).
        num_classes: int, number of real classes K. Default 10.
        hidden_units: sizes of the hidden layers. Default (1000, 500, 250, 250, 250).
        input_noise: float >= 0, std of the noise added to the input. Default 0.3.
        hidden_noise: float >= 0, std of the noise after each hidden layer. Default 0.5.
        weight_norm: bool, weight-normalised dense layers (`zoo.layers.WeightNormDense`)
            as in the paper; False uses plain `Dense`. Default True.
        name: str, model name.

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016 (code: openai/improved-gan, train_mnist_feature_matching.py).
    """
    image_shape = checks.image_shape(image_shape)
    checks.positive_int(num_classes, "num_classes")
    units = checks.positive_ints(hidden_units, "hidden_units")
    input_noise = checks.number(input_noise, "input_noise", at_least=0)
    hidden_noise = checks.number(hidden_noise, "hidden_noise", at_least=0)
    checks.boolean(weight_norm, "weight_norm")

    def dense(n, activation, train_scale=False, **kwargs):
        if weight_norm:
            # As in the reference code, only the output layer learns its scale.
            # Normal(0.1) directions as in the reference code: with weight norm the
            # initial length of v sets how fast its direction turns under Adam.
            return WeightNormDense(
                n, activation=activation, train_scale=train_scale,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.1), **kwargs
            )
        return layers.Dense(n, activation=activation, **kwargs)

    images = keras.Input(image_shape, name="images")
    # The reference code's pixels are in [0, 1]; its noise levels are relative to that.
    x = layers.Rescaling(0.5, offset=0.5)(images)
    x = layers.Flatten()(x)
    if input_noise:
        x = layers.GaussianNoise(input_noise)(x)
    for i, n in enumerate(units):
        x = dense(n, "relu", name=FEATURES if i == len(units) - 1 else None)(x)
        if hidden_noise:
            x = layers.GaussianNoise(hidden_noise)(x)
    logits = dense(num_classes, None, train_scale=True, dtype="float32", name="logits")(x)
    return keras.Model(images, logits, name=name)
