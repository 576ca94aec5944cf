"""Reflection padding, as CycleGAN's generators use at their borders."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class ReflectionPadding2D(layers.Layer):
    """Pads `(batch, h, w, c)` feature maps by reflecting them at their borders.

    Zero padding makes a dark frame that a translation network learns to
    paint over; reflection keeps border statistics like the interior's, which
    is why CycleGAN pads its 7x7 and 3x3 convolutions this way. The edge pixel
    itself is not repeated (NumPy's and PyTorch's "reflect").

    Args:
        padding: int or `(pad_height, pad_width)`, rows added at the top and the
            bottom and columns added at the left and the right. Each must be
            smaller than the feature map's size along its axis.

    Example:
        >>> ReflectionPadding2D(3)(keras.ops.zeros((1, 8, 8, 2))).shape
        TensorShape([1, 14, 14, 2])

    Reference: Zhu et al., "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017 (appendix 7.2).
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        pair = (padding, padding) if isinstance(padding, int) else tuple(padding) if isinstance(padding, (tuple, list)) else ()
        if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pair):
            raise ValueError(f"padding must be an int >= 0 or a pair of them, got {padding!r}")
        self.padding = pair

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda size, pad: None if size is None else size + 2 * pad  # noqa: E731
        return (batch, grow(height, self.padding[0]), grow(width, self.padding[1]), channels)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"ReflectionPadding2D needs (batch, height, width, channels) inputs, got {input_shape}")
        for size, pad, axis in zip(input_shape[1:3], self.padding, ("height", "width")):
            if size is not None and pad >= size:
                raise ValueError(f"reflection padding {pad} needs a {axis} above {pad}, got {size}")

    def call(self, inputs):
        # Slices and flips rather than ops.pad(mode="reflect"): JAX pads by reflection only
        # where it can prove the axis is longer than the padding, which a symbolic size
        # (an export for any image size, jax2tf shape polymorphism) never shows.
        x = inputs
        for axis, pad in ((1, self.padding[0]), (2, self.padding[1])):
            if pad:
                head = ops.flip(_slice(x, axis, 1, pad + 1), axis=axis)
                tail = ops.flip(_slice(x, axis, -pad - 1, -1), axis=axis)
                x = ops.concatenate([head, x, tail], axis=axis)
        return x

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def _slice(x, axis, start, stop):
    """`x[start:stop]` along `axis` (1 or 2) of a 4-D tensor."""
    return x[:, start:stop] if axis == 1 else x[:, :, start:stop]
