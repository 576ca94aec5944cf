"""Weight normalisation (Salimans & Kingma 2016) for dense layers."""

import keras
from keras import layers, ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class WeightNormDense(layers.Layer):
    """A dense layer whose kernel is a direction `v` times a learned length `g`.

    `y = activation(x @ (g * v / ||v||) + b)`, the norm taken per output unit.
    Decoupling a weight vector's length from its direction conditions
    gradient descent better; the Improved-GAN discriminators use it on every
    layer. The paper's data-dependent initialisation of `g` and `b` is not
    done here: `g` starts at 1, so each unit's pre-activation starts with the
    scale of its input.

    Args:
        units: int, output size.
        activation: activation name or callable. Default None (linear).
        use_bias: bool, add a bias. Default True.
        train_scale: bool, learn `g` (else it keeps its initial value, 1 or
            the one set by `initialize_weight_norm`). Default True.
        kernel_initializer: initializer of the direction `v`. Default
            `RandomNormal(stddev=0.05)`, as in the paper's code.
        epsilon: float, added to `||v||^2` before the square root. Default 1e-12.

    Reference: Salimans & Kingma, "Weight Normalization: A Simple
    Reparameterization to Accelerate Training of Deep Neural Networks",
    NeurIPS 2016.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        train_scale=True,
        kernel_initializer=None,
        epsilon=1e-12,
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.positive_int(units, "units")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.train_scale = train_scale
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.RandomNormal(stddev=0.05)
        )
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer=self.kernel_initializer
        )
        self.scale = self.add_weight(
            name="scale", shape=(self.units,), initializer="ones", trainable=self.train_scale
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            if self.use_bias
            else None
        )

    def call(self, inputs):
        kernel = ops.cast(self.kernel, self.compute_dtype)
        norm = ops.sqrt(ops.sum(ops.square(kernel), axis=0) + self.epsilon)
        outputs = ops.matmul(inputs, kernel) * (ops.cast(self.scale, self.compute_dtype) / norm)
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, self.compute_dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "train_scale": self.train_scale,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "epsilon": self.epsilon,
            }
        )
        return config


def initialize_weight_norm(model, inputs, training=True):
    """Data-dependent initialisation of every `WeightNormDense` layer in `model`.

    Layer by layer, in the order of `model.layers`, sets the scale `g` and bias
    `b` so that the layer's pre-activations on `inputs` have mean 0 and
    standard deviation 1 per unit, as in Salimans & Kingma (2016, sec. 3).
    Later layers see the already initialised earlier ones.

    Args:
        model: a functional `keras.Model`.
        inputs: a batch of model inputs (a few hundred examples).
        training: bool, run the layers below in training mode (noise layers
            on, as in the reference code). Default True.

    Returns:
        The number of layers initialised.
    """
    count = 0
    for layer in model.layers:
        if not isinstance(layer, WeightNormDense):
            continue
        below = keras.Model(model.input, layer.input)
        x = ops.convert_to_tensor(below(inputs, training=training), "float32")
        kernel = ops.cast(layer.kernel, "float32")
        direction = kernel / ops.sqrt(ops.sum(ops.square(kernel), axis=0) + layer.epsilon)
        pre = ops.matmul(ops.reshape(x, (-1, x.shape[-1])), direction)
        mean = ops.mean(pre, axis=0)
        std = ops.sqrt(ops.mean(ops.square(pre - mean), axis=0) + 1e-8)
        layer.scale.assign(1.0 / std)
        if layer.bias is not None:
            layer.bias.assign(-mean / std)
        count += 1
    return count
