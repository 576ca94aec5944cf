"""Equalised learning rate layers and pixel normalisation (ProGAN, StyleGAN, StyleGAN2)."""

import math

import keras
from keras import layers, ops

from zoo import checks


class _Equalized(layers.Layer):
    """Shared arguments and checks of the equalised layers."""

    def __init__(self, lr_multiplier=1.0, gain=1.0, use_bias=True, bias_init=0.0, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.lr_multiplier = checks.number(lr_multiplier, "lr_multiplier", above=0)
        self.gain = checks.number(gain, "gain", above=0)
        checks.boolean(use_bias, "use_bias")
        self.use_bias = use_bias
        self.bias_init = checks.number(bias_init, "bias_init")
        self.activation = keras.activations.get(activation)

    def _add_weights(self, kernel_shape, fan_in, units):
        # Stored weights are N(0, 1 / lr_multiplier^2); the He constant and the
        # multiplier are applied at run time, so every weight moves at the same
        # rate under Adam whatever its layer's fan-in (Karras 2018, sec. 4.1).
        self.weight_scale = self.gain * self.lr_multiplier / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel",
            shape=kernel_shape,
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(units,),
                initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier),
            )

    def _finish(self, x):
        if self.bias is not None:
            x = x + ops.cast(self.bias * self.lr_multiplier, x.dtype)
        return self.activation(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lr_multiplier": self.lr_multiplier,
                "gain": self.gain,
                "use_bias": self.use_bias,
                "bias_init": self.bias_init,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class EqualizedDense(_Equalized):
    """A dense layer with an equalised learning rate.

    The kernel is stored as N(0, 1) (divided by `lr_multiplier`) and scaled at
    run time by `gain * lr_multiplier / sqrt(fan_in)`; the bias is stored
    divided by `lr_multiplier` and multiplied back. `lr_multiplier=0.01` is
    StyleGAN's mapping network, whose weights move 100 times slower.

    Args:
        units: int, output size.
        lr_multiplier: float > 0, learning-rate multiplier. Default 1.0.
        gain: float > 0, multiplies the He constant (sqrt(2) before a leaky
            ReLU in ProGAN). Default 1.0.
        use_bias: bool. Default True.
        bias_init: float, initial bias value. Default 0.0 (StyleGAN2's style
            affines use 1.0, so every style starts at 1).
        activation: activation name or callable. Default None (linear).

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 4.1; Karras et al.,
    "A Style-Based Generator Architecture for GANs", CVPR 2019 (mapping
    learning rate 0.01).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = checks.positive_int(units, "units")

    def build(self, input_shape):
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError(f"EqualizedDense needs a known last input axis, got {input_shape}")
        self._add_weights((fan_in, self.units), fan_in, self.units)

    def call(self, inputs):
        kernel = ops.cast(self.kernel * self.weight_scale, inputs.dtype)
        return self._finish(ops.matmul(inputs, kernel))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


@keras.saving.register_keras_serializable(package="zoo")
class EqualizedConv2D(_Equalized):
    """A stride-1 "same" 2-D convolution with an equalised learning rate.

    Resolution changes are separate layers (upsampling before, average pooling
    after), as in ProGAN. The kernel is scaled at run time by
    `gain * lr_multiplier / sqrt(kernel_size^2 * in_channels)`.

    Args:
        filters: int, output channels.
        kernel_size: int, square kernel size. Default 3.
        **kwargs: `lr_multiplier`, `gain`, `use_bias`, `bias_init`,
            `activation` as in `EqualizedDense`.

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 4.1.
    """

    def __init__(self, filters, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.filters = checks.positive_int(filters, "filters")
        self.kernel_size = checks.positive_int(kernel_size, "kernel_size")

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) != 4 or channels is None:
            raise ValueError(
                f"EqualizedConv2D needs inputs (batch, height, width, channels) with known channels, got {input_shape}"
            )
        k = self.kernel_size
        self._add_weights((k, k, channels, self.filters), k * k * channels, self.filters)

    def call(self, inputs):
        kernel = ops.cast(self.kernel * self.weight_scale, inputs.dtype)
        return self._finish(ops.conv(inputs, kernel, strides=1, padding="same"))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class PixelNormalization(layers.Layer):
    """Scales each feature vector to unit root mean square: `x / sqrt(mean(x^2) + eps)`.

    The mean runs over the last (channel) axis, so on images each pixel's
    feature vector is normalised; on `(batch, dim)` codes it is StyleGAN's
    normalisation of z. Computed in float32 under mixed precision.

    Args:
        epsilon: float > 0. Default 1e-8.

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 4.2.
    """

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = checks.number(epsilon, "epsilon", above=0)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon)
        return ops.cast(x, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config
