"""Layers that let a discriminator look at a whole minibatch, against mode collapse."""

import math

import keras
from keras import layers, ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class MinibatchStdDev(layers.Layer):
    """Appends the minibatch standard deviation as extra feature maps.

    The batch of `N` samples is split into groups of `G = min(group_size, N)`
    samples (`N` must be divisible by `G`). As in the reference code, the
    groups are strided: with `M = N / G`, sample `n` belongs to group
    `n mod M`. Within each group the standard deviation over the `G` samples
    is taken for every feature, the channels are split into `num_features`
    parts, and each part's deviations are averaged over positions and
    channels. Each sample gets its group's `num_features` numbers appended as
    constant feature maps. A generator that collapses to a few outputs makes
    these numbers small, which the discriminator can detect.

    Inputs: `(batch, height, width, channels)` -> `(..., channels + num_features)`,
    or `(batch, features)` -> `(batch, features + num_features)` (any rank
    >= 2 works: the middle axes are averaged like height and width). The
    statistic is computed in float32 and cast to the compute dtype, so the
    layer works under a mixed-precision policy.

    Args:
        group_size: int, samples per group (capped at the batch size).
            Default 4.
        num_features: int, statistics appended; must divide the channels.
            Default 1 (ProGAN); StyleGAN2 uses 1 too.
        epsilon: float > 0, added to the variance inside the square root.
            Default 1e-8.

    Example:
    ```python
    x = keras.Input((4, 4, 128))
    y = zoo.layers.MinibatchStdDev(group_size=4)(x)  # (None, 4, 4, 129)
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 3; the grouped form
    of Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020.
    """

    def __init__(self, group_size=4, num_features=1, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = checks.positive_int(group_size, "group_size")
        self.num_features = checks.positive_int(num_features, "num_features")
        checks.number(epsilon, "epsilon", above=0)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"MinibatchStdDev needs inputs of rank >= 2 (batch, ..., channels), got {input_shape}"
            )
        channels = input_shape[-1]
        if channels is None or channels % self.num_features:
            raise ValueError(
                f"num_features={self.num_features} must divide the input channels, got {channels}"
            )
        self.built = True

    def _group(self, batch):
        """Group size `min(group_size, batch)`, checked to divide the batch."""
        if isinstance(batch, int):
            group = min(self.group_size, batch)
            if batch % group:
                raise ValueError(
                    f"MinibatchStdDev(group_size={self.group_size}) needs a batch divisible by "
                    f"{group}, got a batch of {batch} (use drop_remainder=True or another batch size)"
                )
            return group
        group = ops.minimum(self.group_size, batch)
        # A dynamic batch is only known when the graph runs (TensorFlow graphs only:
        # JAX traces with static shapes).
        import tensorflow as tf

        check = tf.debugging.assert_equal(
            batch % group,
            0,
            message=f"MinibatchStdDev(group_size={self.group_size}) needs a batch divisible by "
            "min(group_size, batch) (use drop_remainder=True or another batch size)",
        )
        with tf.control_dependencies([check]):
            return tf.identity(group)

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, middle, channels = shape[0], tuple(inputs.shape[1:-1]), inputs.shape[-1]
        middle = tuple(shape[1 + i] if size is None else size for i, size in enumerate(middle))
        group = self._group(batch)
        parts = self.num_features
        x = ops.cast(inputs, "float32")
        # (G, M, *middle, F, C/F): axis 0 runs over the members of a group.
        x = ops.reshape(x, (group, -1, *middle, parts, channels // parts))
        variance = ops.mean(ops.square(x - ops.mean(x, axis=0, keepdims=True)), axis=0)
        std = ops.sqrt(variance + self.epsilon)
        reduce_axes = (*range(1, 1 + len(middle)), len(middle) + 2)
        std = ops.mean(std, axis=reduce_axes)  # (M, F)
        maps = ops.reshape(std, (-1, *(1,) * len(middle), parts))
        maps = ops.tile(maps, (group, *middle, 1))
        return ops.concatenate([inputs, ops.cast(maps, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else channels + self.num_features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"group_size": self.group_size, "num_features": self.num_features, "epsilon": self.epsilon}
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class MinibatchDiscrimination(layers.Layer):
    """Appends, per sample, how close it is to the other samples of the batch.

    The input is flattened to `x` `(batch, A)` and projected by a learned
    tensor `T` `(A, B * C)` to `M` `(batch, B, C)`: `B = num_kernels` rows of
    `C = kernel_dim` numbers per sample. For each kernel `b`,
    `c_b(i, j) = exp(-||M_i,b - M_j,b||_1)` and
    `o(x_i)_b = sum_{j != i} c_b(i, j)`; the output is `concat(x, o)`. When
    the generator collapses, fakes are close to each other and `o` grows,
    which the discriminator learns to penalise. As in the paper's code, the
    sample itself (`c_b(i, i) = 1`) is left out of the sum.

    The maths runs in float32 and the result is cast to the compute dtype.
    Memory grows as `batch^2 * num_kernels * kernel_dim`.

    Args:
        num_kernels: int, `B`, number of closeness features. Default 50.
        kernel_dim: int, `C`, size of each projection. Default 5.
        kernel_initializer: initializer of `T`. Default
            `RandomNormal(stddev=0.05)`, as in the paper's code.

    Inputs: `(batch, ...)` with known non-batch dimensions; output
    `(batch, A + num_kernels)` with `A` the flattened input size.

    Example:
    ```python
    x = keras.Input((256,))
    y = zoo.layers.MinibatchDiscrimination(num_kernels=50, kernel_dim=5)(x)  # (None, 306)
    ```

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016, sec. 3.2.
    """

    def __init__(self, num_kernels=50, kernel_dim=5, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = checks.positive_int(num_kernels, "num_kernels")
        self.kernel_dim = checks.positive_int(kernel_dim, "kernel_dim")
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.RandomNormal(stddev=0.05)
        )

    def build(self, input_shape):
        if len(input_shape) < 2 or any(size is None for size in input_shape[1:]):
            raise ValueError(
                f"MinibatchDiscrimination needs inputs (batch, ...) with known sizes, got {input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(math.prod(input_shape[1:]), self.num_kernels * self.kernel_dim),
            initializer=self.kernel_initializer,
        )

    def call(self, inputs):
        flat = ops.reshape(inputs, (-1, self.kernel.shape[0]))
        m = ops.matmul(ops.cast(flat, "float32"), ops.cast(self.kernel, "float32"))
        m = ops.reshape(m, (-1, self.num_kernels, self.kernel_dim))
        # (batch, 1, B, C) - (1, batch, B, C): every pair (i, j).
        distances = ops.sum(ops.abs(m[:, None] - m[None, :]), axis=-1)
        closeness = ops.sum(ops.exp(-distances), axis=1) - 1.0  # drop j == i: exp(0) = 1
        return ops.concatenate([flat, ops.cast(closeness, flat.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]) + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
