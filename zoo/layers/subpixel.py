"""Sub-pixel upsampling: channels rearranged into space."""

import keras
from keras import layers, ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class DepthToSpace(layers.Layer):
    """Rearranges `(h, w, c * r * r)` feature maps into `(h * r, w * r, c)` images.

    With a convolution before it, this is the sub-pixel convolution of Shi et
    al.: an upsampling layer that computes every output pixel at the low
    resolution, so it costs `r * r` times less than a stride-`r` transposed
    convolution of the same width at the high one. The channel order matches
    `tf.nn.depth_to_space` (output pixel `(h * r + i, w * r + j)`, channel `k`
    comes from input channel `(i * r + j) * c + k`).

    Args:
        block_size: int >= 2, the upsampling factor `r`.

    Example:
        >>> DepthToSpace(2)(keras.ops.zeros((1, 14, 14, 4))).shape
        TensorShape([1, 28, 28, 1])

    Reference: Shi et al., "Real-Time Single Image and Video Super-Resolution
    Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
    """

    def __init__(self, block_size, **kwargs):
        super().__init__(**kwargs)
        checks.integer(block_size, "block_size", at_least=2)
        self.block_size = block_size

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = self.block_size
        scale = lambda size: None if size is None else size * r  # noqa: E731
        return (batch, scale(height), scale(width), channels // (r * r))

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) != 4 or channels is None or channels % (self.block_size**2):
            raise ValueError(
                f"DepthToSpace({self.block_size}) needs (batch, height, width, channels) inputs with "
                f"channels divisible by {self.block_size ** 2}, got shape {tuple(input_shape)}"
            )

    def call(self, inputs):
        r = self.block_size
        shape = ops.shape(inputs)
        height, width, channels = shape[1], shape[2], inputs.shape[-1] // (r * r)
        x = ops.reshape(inputs, (-1, height, width, r, r, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, height * r, width * r, channels))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}
