"""Coupled GAN nets (Liu & Tuzel 2016): two generators and two discriminators that share layers.

The builders return *pairs* of functional models in which some layers are the
same objects, so their weights are shared: a shared layer belongs to both nets
and gets the gradients of both. In the paper's MNIST architecture (table 1)

- the generators share every layer but the last: the high-level layers decode
  the noise into "which digit, which style" once, and only the last layer
  renders it in each domain (a digit, its edges or its negative);
- the discriminators share every layer but the first: the low-level first
  layer reads each domain's pixels, the rest judges the shared abstraction.

Both generators take the *same* noise input tensor, so the shared part is one
set of nodes in one graph: `keras.Model(z, [g_a.output, g_b.output])` computes
it once. `num_shared` moves the boundary (0 gives two independent nets, the
paper's no-sharing control).
"""

import keras
from keras import layers

from zoo.layers import Conv2DTranspose
from zoo import checks
from zoo.nets.dcgan import _upsampling_plan

DOMAINS = ("a", "b")


def _check_num_shared(num_shared, num_blocks, what):
    """`num_shared`, or the paper's default `num_blocks - 1`, checked against the block count."""
    if num_shared is None:
        return num_blocks - 1
    if isinstance(num_shared, bool) or not isinstance(num_shared, int) or not 0 <= num_shared < num_blocks:
        raise ValueError(
            f"num_shared must be None or an int in [0, {num_blocks - 1}] ({what}), got {num_shared!r}"
        )
    return num_shared


def _check_channels_b(channels_b, image_shape):
    if channels_b is None:
        return image_shape[-1]
    return checks.positive_int(channels_b, "channels_b")


def cogan_generators(
    latent_dim=100,
    image_shape=(28, 28, 1),
    base_filters=128,
    num_shared=None,
    channels_b=None,
    name="cogan_generator",
):
    """Two generators sharing their first layers, one per domain, fed the same noise.

    Each generator projects the noise to `start x start x (base_filters * 2^n)`
    (7x7 for 28 px), batch normalisation and PReLU, then upsamples `n` times with
    3x3 stride-2 transposed convolutions, batch normalisation and PReLU, halving
    the filters, and ends in a 6x6 stride-1 transposed convolution to the
    image's channels with a float32 tanh. Those are `n + 2` blocks; the first
    `num_shared` are shared (the same layer objects in both nets), the rest are
    built once per domain. The paper shares all but the last (its table 1:
    FCONV 1024-512-256-128 shared, the 6x6 output layer not); the default
    `base_filters=128` keeps its last hidden width.

    Args:
        latent_dim: int, size of the noise vector. Default 100.
        image_shape: (height, width, channels) of domain A's images; the side must
            be 4, 7, 3 or 5 times a power of two (28, 32, 64, ...). Default (28, 28, 1).
        base_filters: int, filters of the last hidden block. Default 128.
        num_shared: int in [0, n + 1] or None, leading blocks both generators share.
            None (default): all but the output layer (the paper's MNIST setting);
            0: two independent generators.
        channels_b: int or None, channels of domain B's images. Default None: as A.
        name: str, prefix of the model names (`<name>_a`, `<name>_b`) and of
            the layer names (`shared_`, `a_`, `b_` after it).

    Returns:
        `(generator_a, generator_b)`: functional `keras.Model`s from the same
        noise input `(batch, latent_dim)` to `(batch, *image_shape)` in [-1, 1]
        (B with `channels_b` channels).

    Example:
    ```python
    g_a, g_b = zoo.nets.cogan_generators(latent_dim=100, image_shape=(28, 28, 1))
    z = keras.random.normal((16, 100))
    digits, edges = g_a(z), g_b(z)  # a corresponding pair per noise vector
    assert g_a.get_layer("cogan_generator_shared_dense") is g_b.get_layer("cogan_generator_shared_dense")
    ```

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks", NeurIPS
    2016, section 3 and table 1 (MNIST).
    """
    checks.positive_int(latent_dim, "latent_dim")
    checks.positive_int(base_filters, "base_filters")
    image_shape = checks.image_shape(image_shape)
    channels = {"a": image_shape[-1], "b": _check_channels_b(channels_b, image_shape)}
    start, steps = _upsampling_plan(image_shape)
    num_shared = _check_num_shared(num_shared, steps + 2, f"{steps + 2} blocks: projection, {steps} upsamplings, output")

    def block(index, x, prefix, domain):
        tag = f"{name}_{prefix}"
        if index == 0:
            filters = base_filters * 2**steps
            x = layers.Dense(start * start * filters, use_bias=False, name=f"{tag}_dense")(x)
            x = layers.Reshape((start, start, filters), name=f"{tag}_reshape")(x)
        elif index <= steps:
            filters = base_filters * 2 ** (steps - index)
            x = Conv2DTranspose(
                filters, 3, strides=2, padding="same", use_bias=False, name=f"{tag}_deconv{index}"
            )(x)
        else:
            x = Conv2DTranspose(channels[domain], 6, padding="same", name=f"{tag}_output")(x)
            return layers.Activation("tanh", dtype="float32", name=f"{tag}_images")(x)
        x = layers.BatchNormalization(name=f"{tag}_bn{index}")(x)
        return layers.PReLU(shared_axes=[1, 2], name=f"{tag}_prelu{index}")(x)

    z = keras.Input((latent_dim,), name="noise")
    x = z
    for index in range(num_shared):
        x = block(index, x, "shared", None)
    generators = []
    for domain in DOMAINS:
        y = x
        for index in range(num_shared, steps + 2):
            y = block(index, y, domain, domain)
        generators.append(keras.Model(z, y, name=f"{name}_{domain}"))
    return tuple(generators)


def cogan_discriminators(
    image_shape=(28, 28, 1),
    filters=(20, 50),
    hidden_units=500,
    num_shared=None,
    channels_b=None,
    name="cogan_discriminator",
):
    """Two discriminators sharing their last layers, one per domain.

    The paper's MNIST discriminator, a LeNet: per conv block a 5x5 valid
    convolution and 2x2 max pooling (no other nonlinearity, as in the paper's
    table 1), then a dense layer with PReLU and one float32 logit. Those are
    `len(filters) + 2` blocks; the last `num_shared` are shared (the same layer
    objects in both nets), the first ones are built once per domain. The paper
    shares all but the first and reports that the discriminators' sharing
    hardly matters (it saves parameters); the generators' sharing is what
    couples the pairs.

    Args:
        image_shape: (height, width, channels) of domain A's images; at least 16 px
            for the default two conv blocks (each takes 4 pixels, then halves).
            Default (28, 28, 1).
        filters: sequence of ints, filters of the conv blocks. Default (20, 50).
        hidden_units: int, width of the dense layer. Default 500.
        num_shared: int in [0, len(filters) + 1] or None, trailing blocks both
            discriminators share. None (default): all but the first (the paper);
            0: two independent discriminators.
        channels_b: int or None, channels of domain B's images. Default None: as A.
        name: str, prefix of the model and layer names.

    Returns:
        `(discriminator_a, discriminator_b)`: functional `keras.Model`s from
        `(batch, *image_shape)` (B with `channels_b` channels) to logits `(batch, 1)`.

    Example:
    ```python
    d_a, d_b = zoo.nets.cogan_discriminators((28, 28, 1))
    logits_a, logits_b = d_a(digits), d_b(edges)
    ```

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks", NeurIPS
    2016, section 3 and table 1 (MNIST).
    """
    image_shape = checks.image_shape(image_shape)
    channels = {"a": image_shape[-1], "b": _check_channels_b(channels_b, image_shape)}
    try:
        filters = tuple(filters)
    except TypeError:
        filters = None
    if not filters or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in filters):
        raise ValueError(f"filters must be a non-empty sequence of positive ints, got {filters!r}")
    checks.positive_int(hidden_units, "hidden_units")
    size = min(image_shape[:2])
    for _ in filters:
        size = (size - 4) // 2
    if size < 1:
        smallest = 1
        for _ in filters:
            smallest = 2 * smallest + 4
        raise ValueError(
            f"image_shape {image_shape} is too small for {len(filters)} blocks of a 5x5 valid "
            f"convolution and 2x2 pooling: the side must be at least {smallest}"
        )
    num_blocks = len(filters) + 2
    num_shared = _check_num_shared(
        num_shared, num_blocks, f"{num_blocks} blocks: {len(filters)} conv, dense, logit"
    )

    def block_layers(index, prefix):
        tag = f"{name}_{prefix}"
        if index < len(filters):
            return [
                layers.Conv2D(filters[index], 5, name=f"{tag}_conv{index + 1}"),
                layers.MaxPooling2D(2, name=f"{tag}_pool{index + 1}"),
            ]
        if index == len(filters):
            return [
                layers.Flatten(name=f"{tag}_flatten"),
                layers.Dense(hidden_units, name=f"{tag}_dense"),
                layers.PReLU(name=f"{tag}_prelu"),
            ]
        return [layers.Dense(1, dtype="float32", name=f"{tag}_logits")]

    first_shared = num_blocks - num_shared
    shared = [block_layers(index, "shared") for index in range(first_shared, num_blocks)]
    discriminators = []
    for domain in DOMAINS:
        images = keras.Input((*image_shape[:2], channels[domain]), name=f"images_{domain}")
        x = images
        own = [block_layers(index, domain) for index in range(first_shared)]
        for layer in (layer for block in own + shared for layer in block):
            x = layer(x)
        discriminators.append(keras.Model(images, x, name=f"{name}_{domain}"))
    return tuple(discriminators)
