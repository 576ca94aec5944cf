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
        ph, pw = self.padding
        if all(isinstance(size, int) for size in ops.shape(inputs)[1:3]):
            return ops.pad(inputs, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode="reflect")
        # A size known only when called (a JAX export for any image size, jax2tf shape
        # polymorphism): jnp.pad reflects only where it can prove the axis longer than
        # the padding, and slices leave sizes that do not simplify back to h + 2p for the
        # residual sums. Gathering at reflected indices keeps the size h + 2p exact.
        return _reflect(_reflect(inputs, ph, axis=1), pw, axis=2)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def _reflect(x, pad, axis):
    """`x` reflection-padded by `pad` along `axis`, by gathering at reflected indices."""
    if not pad:
        return x
    last = ops.shape(x)[axis] - 1
    index = ops.abs(ops.arange(last + 1 + 2 * pad) - pad)  # -p..h-1+p folded at 0
    return ops.take(x, last - ops.abs(last - index), axis=axis)  # and at h - 1
