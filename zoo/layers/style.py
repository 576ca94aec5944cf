"""Layers of the style-based generators: modulated convolution, noise, AdaIN, learned constant.

Used by `zoo.nets.stylegan2_synthesis` (ModulatedConv2D, NoiseInjection,
LearnedConstant) and `zoo.nets.stylegan_synthesis` (AdaIN, NoiseInjection,
LearnedConstant). Every layer does its normalisation maths in float32 and
returns the compute dtype, so the nets run under `mixed_bfloat16`.
"""

import math

import keras
from keras import layers, ops

from zoo import checks


def upsample_bilinear_2x(x):
    """Doubles height and width by bilinear interpolation (half-pixel centres).

    Inside the image this is the FIR filter [1, 3, 3, 1] of the StyleGAN2
    code applied after zero insertion (every new pixel is 3/4 of its nearest
    old pixel plus 1/4 of the next one); at the border the edge pixel is
    repeated instead of padding with zeros.
    """
    shape = ops.shape(x)
    height = x.shape[1] if x.shape[1] is not None else shape[1]
    width = x.shape[2] if x.shape[2] is not None else shape[2]
    y = ops.image.resize(x, (height * 2, width * 2), interpolation="bilinear")
    return ops.cast(y, x.dtype)


@keras.saving.register_keras_serializable(package="zoo")
class ModulatedConv2D(layers.Layer):
    """StyleGAN2's modulated (and demodulated) 2-D convolution, without grouped convolution.

    Called on `[x, style]`: `x` `(batch, height, width, in_channels)` and the
    per-sample style `style` `(batch, in_channels)`, which the net computes
    from `w` with the layer's own affine, `EqualizedDense(in_channels,
    bias_init=1.0)`. The paper modulates the kernel of every sample,
    `w'_ijk = s_i * w_ijk`, and demodulates it,
    `w''_ijk = w'_ijk / sqrt(sum_{i,k} w'_ijk^2 + eps)`. Convolution is linear,
    so this layer computes the same thing with one shared kernel: it scales
    the input channels by the style, convolves with the (equalised) kernel,
    then multiplies each sample's output map `j` by
    `d_j = rsqrt(sum_{i,k} (w_ijk * s_i)^2 + eps)` (a `(batch, filters)`
    matrix product `s^2 @ sum_k w^2`). This is the "fused_modconv=False" path
    of the reference code; it needs no grouped convolution, which is slow or
    missing on CPU.

    The kernel is stored as N(0, 1) and scaled at run time by
    `1 / sqrt(kernel_size^2 * in_channels)` (equalised learning rate). With
    `upsample=True` the input is doubled by bilinear interpolation before the
    stride-1 convolution (see `upsample_bilinear_2x`: bilinear interpolation
    is the paper's [1, 3, 3, 1] FIR upsampling filter inside the image); we
    chose this over the paper's transposed convolution + FIR blur for
    simplicity, the two differ only by where the blur sits and at the border.
    The demodulation coefficients and the kernel scaling are computed in
    float32; the convolution runs in the compute dtype.

    Args:
        filters: int, output channels.
        kernel_size: int, square kernel size. Default 3 (1 for toRGB).
        demodulate: bool, divide by the expected output std. Default True
            (toRGB layers use False).
        upsample: bool, double the resolution first. Default False.
        use_bias: bool, add a learned bias after demodulation. Default True.
            (The reference adds it after the noise; a constant commutes with
            the noise addition, so it can live here.)
        epsilon: float > 0, inside the demodulation square root. Default 1e-8.

    Example:
    ```python
    x = keras.Input((8, 8, 16))
    w = keras.Input((32,))
    style = zoo.layers.EqualizedDense(16, bias_init=1.0)(w)
    y = zoo.layers.ModulatedConv2D(8, 3, upsample=True)([x, style])  # (None, 16, 16, 8)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, sec. 2.2 and eq. 1-3.
    """

    def __init__(self, filters, kernel_size=3, demodulate=True, upsample=False, use_bias=True,
                 epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.filters = checks.positive_int(filters, "filters")
        self.kernel_size = checks.positive_int(kernel_size, "kernel_size")
        self.demodulate = checks.boolean(demodulate, "demodulate")
        self.upsample = checks.boolean(upsample, "upsample")
        self.use_bias = checks.boolean(use_bias, "use_bias")
        self.epsilon = checks.number(epsilon, "epsilon", above=0)

    def build(self, input_shapes):
        try:
            x_shape, style_shape = input_shapes
        except (TypeError, ValueError):
            raise ValueError(
                f"ModulatedConv2D is called on [x, style], got input shapes {input_shapes}"
            ) from None
        if len(x_shape) != 4 or x_shape[-1] is None:
            raise ValueError(
                f"ModulatedConv2D needs x (batch, height, width, channels) with known channels, got {x_shape}"
            )
        channels = x_shape[-1]
        if len(style_shape) != 2 or style_shape[-1] != channels:
            raise ValueError(
                f"ModulatedConv2D needs style (batch, {channels}) for x with {channels} channels, "
                f"got {style_shape}"
            )
        k = self.kernel_size
        self.weight_scale = 1.0 / math.sqrt(k * k * channels)
        # autocast=False: the demodulation is computed from float32 weights
        # whatever the policy.
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, channels, self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            autocast=False,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer="zeros", autocast=False
            )

    def call(self, inputs):
        x, style = inputs
        dtype = x.dtype
        style = ops.cast(style, "float32")
        kernel = ops.cast(self.kernel, "float32") * self.weight_scale
        x = x * ops.cast(style[:, None, None, :], dtype)
        if self.upsample:
            x = upsample_bilinear_2x(x)
        y = ops.conv(x, ops.cast(kernel, dtype), strides=1, padding="same")
        if self.demodulate:
            energy = ops.sum(ops.square(kernel), axis=(0, 1))  # (in, filters)
            coefficients = ops.rsqrt(ops.matmul(ops.square(style), energy) + self.epsilon)
            y = y * ops.cast(coefficients[:, None, None, :], dtype)
        if self.bias is not None:
            y = y + ops.cast(self.bias, dtype)
        return y

    def compute_output_shape(self, input_shapes):
        batch, height, width, _ = input_shapes[0]
        if self.upsample:
            height = None if height is None else 2 * height
            width = None if width is None else 2 * width
        return (batch, height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "demodulate": self.demodulate,
                "upsample": self.upsample,
                "use_bias": self.use_bias,
                "epsilon": self.epsilon,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class NoiseInjection(layers.Layer):
    """Adds per-pixel Gaussian noise scaled by a learned strength: `x + strength * noise`.

    `noise` has shape `(batch, height, width, 1)` (one value per pixel, shared
    by the channels). Which noise is used depends on the non-trainable
    float32 scalar `noise_mode`:

    - 0 (the default): fresh N(0, 1) noise at every call, drawn statelessly
      from the layer's `keras.random.SeedGenerator` (so it changes between
      calls of a traced function too); on TensorFlow the replica id is folded
      in (every replica of a `tf.distribute` strategy gets its own noise);
    - 1: the non-trainable variable `noise_const` `(1, height, width, 1)`,
      initialised N(0, 1): deterministic output, and the variable can be
      optimised directly (StyleGAN2 projection does this);
    - values in between mix the two linearly.

    `strength` is a trainable scalar (StyleGAN2) or one value per channel
    (`per_channel=True`, StyleGAN), initialised at 0, so a new layer is the
    identity. The noise is drawn in float32 and added in the compute dtype.

    Args:
        per_channel: bool, one strength per channel (StyleGAN) instead of a
            single scalar (StyleGAN2). Default False.
        seed: int or None, seed of the noise generator. Default None.

    Example:
    ```python
    x = keras.Input((8, 8, 16))
    noise = zoo.layers.NoiseInjection()
    y = noise(x)
    noise.noise_mode.assign(1.0)  # from now on use noise.noise_const
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 3.2 (per-channel
    scaling factors); Karras et al., "Analyzing and Improving the Image
    Quality of StyleGAN", CVPR 2020, appendix D (projection optimises the
    noise maps).
    """

    def __init__(self, per_channel=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.per_channel = checks.boolean(per_channel, "per_channel")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 4 or any(size is None for size in input_shape[1:]):
            raise ValueError(
                f"NoiseInjection needs inputs (batch, height, width, channels) of known sizes, got {input_shape}"
            )
        _, height, width, channels = input_shape
        self.strength = self.add_weight(
            name="strength",
            shape=(channels,) if self.per_channel else (),
            initializer="zeros",
            autocast=False,
        )
        self.noise_const = self.add_weight(
            name="noise_const",
            shape=(1, height, width, 1),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            dtype="float32",
            autocast=False,
        )
        self.noise_mode = self.add_weight(
            name="noise_mode",
            shape=(),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            autocast=False,
        )

    def _fresh(self, shape):
        """N(0, 1) noise of `shape`, float32, from the layer's seed generator."""
        if keras.backend.backend() != "tensorflow":
            # keras.distribution shards one global draw: no replica id to fold in.
            return keras.random.normal(shape, dtype="float32", seed=self.seed_generator)
        import tensorflow as tf

        seed = ops.cast(self.seed_generator.next(), "int64")
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        seed = tf.random.experimental.stateless_fold_in(seed, replica)
        return tf.random.stateless_normal(shape, seed=seed)

    def call(self, inputs):
        shape = ops.shape(inputs)
        fresh = self._fresh((shape[0], shape[1], shape[2], 1))
        mode = ops.cast(self.noise_mode, "float32")
        noise = mode * ops.cast(self.noise_const, "float32") + (1.0 - mode) * fresh
        added = ops.cast(self.strength, "float32") * noise
        return inputs + ops.cast(added, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"per_channel": self.per_channel, "seed": self.seed})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class AdaIN(layers.Layer):
    """Adaptive instance normalisation: `ys * (x - mean(x)) / std(x) + yb`.

    Called on `[x, ys, yb]` with `x` `(batch, height, width, channels)` and the
    styles `ys`, `yb` `(batch, channels)`. The mean and the variance run over
    height and width, per sample and channel, in float32. In StyleGAN the
    styles come from two affines of `w`: `EqualizedDense(channels,
    bias_init=1.0)` for `ys` (so every scale starts at 1) and
    `EqualizedDense(channels)` for `yb`.

    Args:
        epsilon: float > 0, added to the variance. Default 1e-8 (StyleGAN's).

    Example:
    ```python
    x = keras.Input((8, 8, 16))
    w = keras.Input((32,))
    ys = zoo.layers.EqualizedDense(16, bias_init=1.0)(w)
    yb = zoo.layers.EqualizedDense(16)(w)
    y = zoo.layers.AdaIN()([x, ys, yb])
    ```

    Reference: Huang & Belongie, "Arbitrary Style Transfer in Real-time with
    Adaptive Instance Normalization", ICCV 2017; Karras et al., "A
    Style-Based Generator Architecture for Generative Adversarial Networks",
    CVPR 2019, eq. 1.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = checks.number(epsilon, "epsilon", above=0)

    def build(self, input_shapes):
        try:
            x_shape, scale_shape, bias_shape = input_shapes
        except (TypeError, ValueError):
            raise ValueError(f"AdaIN is called on [x, ys, yb], got input shapes {input_shapes}") from None
        if len(x_shape) != 4:
            raise ValueError(f"AdaIN needs x (batch, height, width, channels), got {x_shape}")
        for name, shape in (("ys", scale_shape), ("yb", bias_shape)):
            if len(shape) != 2 or shape[-1] != x_shape[-1]:
                raise ValueError(f"AdaIN needs {name} (batch, {x_shape[-1]}), got {shape}")

    def call(self, inputs):
        x, scale, bias = inputs
        dtype = x.dtype
        x = ops.cast(x, "float32")
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        variance = ops.mean(ops.square(x - mean), axis=(1, 2), keepdims=True)
        normalised = (x - mean) * ops.rsqrt(variance + self.epsilon)
        scale = ops.cast(scale, "float32")[:, None, None, :]
        bias = ops.cast(bias, "float32")[:, None, None, :]
        return ops.cast(scale * normalised + bias, dtype)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config


@keras.saving.register_keras_serializable(package="zoo")
class LearnedConstant(layers.Layer):
    """A learned `(size, size, channels)` tensor repeated for every sample of the batch.

    The input of the style-based synthesis networks: called on any tensor
    whose first axis is the batch (the `ws` input), it returns
    `(batch, size, size, channels)` in the compute dtype; the input's values
    are not used.

    Args:
        channels: int, channels of the constant.
        size: int, height and width. Default 4.
        initializer: Keras initializer or identifier. Default
            `RandomNormal(stddev=1.0)` (StyleGAN2); StyleGAN uses "ones".

    Example:
    ```python
    ws = keras.Input((10, 512))
    x = zoo.layers.LearnedConstant(512)(ws)  # (None, 4, 4, 512)
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 2 ("learned constant").
    """

    def __init__(self, channels, size=4, initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = checks.positive_int(channels, "channels")
        self.size = checks.positive_int(size, "size")
        self.initializer = keras.initializers.get(
            initializer if initializer is not None else keras.initializers.RandomNormal(stddev=1.0)
        )

    def build(self, input_shape):
        self.const = self.add_weight(
            name="const",
            shape=(1, self.size, self.size, self.channels),
            initializer=self.initializer,
        )

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        const = ops.cast(self.const, self.compute_dtype)
        return ops.broadcast_to(const, (batch, self.size, self.size, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "channels": self.channels,
                "size": self.size,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
