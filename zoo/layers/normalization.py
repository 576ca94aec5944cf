"""Batch normalisation as pix2pix tests it: each image normalised with its own statistics."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class ImageStatisticsNormalization(layers.Layer):
    """Normalises each image with its own mean and variance per channel, then scales and shifts.

    This is what a `BatchNormalization` layer computes in training mode on a
    batch of one image, without updating its moving averages: the pix2pix
    reference's test mode (`test.py` without `--eval` runs the generator in
    training mode with the batch size forced to 1), so the noise-free moving
    averages are never used. Per image it is instance normalisation with the
    batch-norm layer's scale and offset; an image's output does not depend on
    the other images of its batch, so a server may batch requests freely.

    `ImageStatisticsNormalization.sharing(batch_norm)` makes a layer that
    reads `batch_norm`'s own `gamma` and `beta` variables (no copy: training
    the batch-norm layer changes this one too) and never touches its moving
    statistics. Built from a config, the layer owns fresh `gamma` and `beta`.

    Args:
        axis: int, the channel axis. Default -1.
        epsilon: float > 0, added to the variance. Default 1e-3 (Keras'
            `BatchNormalization` default; `sharing` copies the layer's).
        center: bool, add the offset `beta`. Default True.
        scale: bool, multiply by the scale `gamma`. Default True.

    Example:
        >>> bn = keras.layers.BatchNormalization()
        >>> _ = bn(keras.ops.zeros((1, 4, 4, 3)))
        >>> ImageStatisticsNormalization.sharing(bn).gamma is bn.gamma
        True

    Reference: Isola et al., "Image-to-Image Translation with Conditional
    Adversarial Networks", CVPR 2017, section 3.3 (batch norm with the test
    batch's statistics, which at batch size 1 is instance normalisation);
    the reference's `test.py` (pytorch-CycleGAN-and-pix2pix), which sets
    `batch_size = 1`; Ulyanov et al., "Instance Normalization", 2016.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"axis must be an int, got {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"epsilon must be a number > 0, got {epsilon!r}")
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), bool(center), bool(scale)
        self.gamma = self.beta = None

    @classmethod
    def sharing(cls, batch_norm):
        """A built layer normalising as `batch_norm` would on one image, with its own gamma and beta."""
        if not isinstance(batch_norm, layers.BatchNormalization) or not batch_norm.built:
            raise ValueError(f"sharing needs a built keras.layers.BatchNormalization, got {batch_norm!r}")
        layer = cls(batch_norm.axis, batch_norm.epsilon, batch_norm.center, batch_norm.scale,
                    name=batch_norm.name, dtype=batch_norm.dtype_policy)
        layer.gamma, layer.beta = batch_norm.gamma, batch_norm.beta
        layer.built = True
        return layer

    def build(self, input_shape):
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"ImageStatisticsNormalization needs a known channel axis, got shape {input_shape}")
        if self.scale:
            self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        if self.center:
            self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, inputs, mask=None):  # noqa: ARG002 - a BatchNormalization node passes mask=None
        rank = len(inputs.shape)
        axis = self.axis % rank
        compute_dtype = inputs.dtype
        # Moments in float32 under a mixed-precision policy, as Keras' BatchNormalization does.
        x = ops.cast(inputs, "float32") if compute_dtype in ("float16", "bfloat16") else inputs
        reduce = [a for a in range(1, rank) if a != axis]
        mean, variance = ops.moments(x, reduce, keepdims=True)
        x = (x - mean) * ops.rsqrt(variance + self.epsilon)
        shape = [1] * rank
        shape[axis] = -1
        if self.scale:
            x = x * ops.reshape(ops.cast(self.gamma, x.dtype), shape)
        if self.center:
            x = x + ops.reshape(ops.cast(self.beta, x.dtype), shape)
        return ops.cast(x, compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}
