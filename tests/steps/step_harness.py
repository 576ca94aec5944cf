"""Tools for the tests that pin each model's training step to its paper.

A test in `tests/steps/` runs a model's real training step (through `fit` or
`train_on_batch`) on tiny nets whose every input passes through a `Tap`, then
recomputes, independently and from the paper's formula, what the step must have
done: the logged losses, and with plain SGD at learning rate 1 every player's
weight change (`new - old = -gradient of the paper's loss`).

The tap is what makes this possible without knowing how a model draws its
noise: it records, in call order, every batch a net saw (the noise a
generator was given, the noised and packed images a discriminator judged, the
interpolates of a gradient penalty). The test reads those records back and
computes the losses from them with the nets at their pre-step weights.

Everything here goes through the public Keras API (layers, variables,
`keras.ops`), and the gradient helpers dispatch on the Keras backend, so the
tests run unchanged on any backend the training core supports.
"""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="zoo_tests")
class Tap(keras.layers.Layer):
    """Identity layer that records every batch it is called on, in order.

    The records live in non-trainable variables (so they survive a compiled
    training step on any backend): a buffer of `capacity` flattened batches of
    at most `max_elements` values, and each batch's size.

    Args:
        capacity: int, how many calls are recorded. Default 48.
        max_elements: int, the largest batch (all values) a call may carry.
    """

    def __init__(self, capacity=48, max_elements=8192, **kwargs):
        super().__init__(**kwargs)
        self.capacity = capacity
        self.max_elements = max_elements

    def build(self, input_shape):
        self.feature_shape = tuple(input_shape[1:])
        self.buffer = self.add_weight(
            shape=(self.capacity, self.max_elements), initializer="zeros", trainable=False, name="buffer"
        )
        self.sizes = self.add_weight(
            shape=(self.capacity,), initializer="zeros", trainable=False, dtype="int32", name="sizes"
        )
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, dtype="int32", name="count")

    def call(self, inputs):
        flat = ops.reshape(ops.cast(inputs, "float32"), (1, -1))
        size = ops.shape(flat)[1]
        flat = ops.pad(flat, [[0, 0], [0, self.max_elements - size]])
        index = ops.minimum(self.count.value, self.capacity - 1)
        self.buffer.assign(ops.slice_update(self.buffer.value, (index, 0), flat))
        batch = ops.reshape(ops.cast(ops.shape(inputs)[0], "int32"), (1,))
        self.sizes.assign(ops.slice_update(self.sizes.value, (index,), batch))
        self.count.assign(self.count.value + 1)
        return inputs

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, inputs.dtype)

    def reset(self):
        self.count.assign(0)

    def records(self):
        """The batches seen since the last `reset`, as float32 numpy arrays."""
        count = int(ops.convert_to_numpy(self.count.value))
        assert count <= self.capacity, f"tap {self.name} overflowed: {count} calls > {self.capacity}"
        buffer = ops.convert_to_numpy(self.buffer.value)
        sizes = ops.convert_to_numpy(self.sizes.value)
        out = []
        for i in range(count):
            n = int(sizes[i])
            elements = n * int(np.prod(self.feature_shape))
            out.append(buffer[i, :elements].reshape((n, *self.feature_shape)))
        return out

    def get_config(self):
        return {**super().get_config(), "capacity": self.capacity, "max_elements": self.max_elements}


def tapped(net, capacity=48, max_elements=8192):
    """`net` behind a `Tap` on each of its inputs, as a functional model.

    The wrapper has the same inputs, outputs and trainable variables as `net`
    (it holds `net` as a layer). Use `taps(wrapper)` to read the records and
    call `net` itself in the test's own computations.
    """
    inputs = [keras.Input(tuple(x.shape[1:]), dtype=x.dtype, name=x.name) for x in net.inputs]
    seen = [
        Tap(capacity, max_elements, name=f"tap_{i}")(x) for i, x in enumerate(inputs)
    ]
    outputs = net(seen if len(seen) > 1 else seen[0])
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=f"tapped_{net.name}")


def taps(wrapper):
    """The wrapper's `Tap` layers, one per input, in input order."""
    return [layer for layer in wrapper.layers if isinstance(layer, Tap)]


def reset_taps(*wrappers):
    for wrapper in wrappers:
        for tap in taps(wrapper):
            tap.reset()


def records(wrapper, index=0):
    """What input `index` of `wrapper` saw since the last reset, call by call."""
    return taps(wrapper)[index].records()


# -- tiny nets -----------------------------------------------------------------


def dense_generator(latent_dim, image_shape, hidden=8, name="generator", seed=0):
    """noise -> tanh(dense) -> dense -> image; deterministic, no batch statistics."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    z = keras.Input((latent_dim,), name="noise")
    x = keras.layers.Dense(hidden, activation="tanh", kernel_initializer=init, bias_initializer=init)(z)
    x = keras.layers.Dense(int(np.prod(image_shape)), kernel_initializer=init, bias_initializer=init)(x)
    x = keras.layers.Reshape(image_shape)(x)
    return keras.Model(z, keras.layers.Activation("tanh")(x), name=name)


def dense_discriminator(image_shape, hidden=8, outputs=1, name="discriminator", seed=1):
    """image -> flatten -> tanh(dense) -> `outputs` logits."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Flatten()(images)
    x = keras.layers.Dense(hidden, activation="tanh", kernel_initializer=init, bias_initializer=init)(x)
    logits = keras.layers.Dense(outputs, kernel_initializer=init, bias_initializer=init)(x)
    return keras.Model(images, logits, name=name)


# -- weights and gradients -----------------------------------------------------


def sgd():
    """Plain SGD at learning rate 1: an update is exactly minus the gradient."""
    return keras.optimizers.SGD(learning_rate=1.0)


def values(variables):
    return [np.array(ops.convert_to_numpy(v.value)) for v in variables]


def assign(variables, new_values):
    for variable, value in zip(variables, new_values):
        variable.assign(value)


def gradients(loss_fn, variables):
    """Gradients of the scalar `loss_fn()` with respect to `variables`, as numpy.

    Variables that the loss does not use get zeros.
    """
    backend = keras.backend.backend()
    variables = list(variables)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, [v.value for v in variables])
    elif backend == "jax":
        import jax

        def pure(current):
            with keras.StatelessScope(state_mapping=list(zip(variables, current))):
                return loss_fn()

        grads = jax.grad(pure)([v.value for v in variables])
    elif backend == "torch":
        import torch

        for v in variables:
            v.value.grad = None
        loss_fn().backward()
        grads = [v.value.grad for v in variables]
    else:
        raise NotImplementedError(backend)
    return [
        np.zeros(v.shape, "float32") if g is None else np.array(ops.convert_to_numpy(g))
        for g, v in zip(grads, variables)
    ]


def input_gradients(fn, inputs):
    """`d sum(fn(x)) / dx` at `inputs`, differentiable again (for penalties).

    Call it inside a `gradients` loss function to take a gradient of a
    gradient, as WGAN-GP and R1 do.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(inputs, "float32")
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = ops.sum(fn(inputs))
        return tape.gradient(total, inputs)
    if backend == "jax":
        import jax

        return jax.grad(lambda x: ops.sum(fn(x)))(ops.convert_to_tensor(inputs, "float32"))
    if backend == "torch":
        import torch

        inputs = ops.convert_to_tensor(inputs, "float32").detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(ops.sum(fn(inputs)), inputs, create_graph=True)
        return grad
    raise NotImplementedError(backend)


def assert_sgd_update(before, after, grads, learning_rate=1.0, atol=2e-5, rtol=2e-4, what="weights"):
    """`after == before - learning_rate * grads` for every variable.

    `atol` is relative to the variable's largest gradient (when above 1): float32
    gradients computed in two different orders agree to about 1e-6 of their scale.
    """
    assert len(before) == len(after) == len(grads)
    for i, (b, a, g) in enumerate(zip(before, after, grads)):
        scale = max(1.0, float(np.max(np.abs(g))) if g.size else 1.0, float(np.max(np.abs(b))) if b.size else 1.0)
        np.testing.assert_allclose(
            a - b, -learning_rate * g, atol=atol * scale, rtol=rtol,
            err_msg=f"{what}: variable {i} did not move by minus the paper's gradient",
        )


def assert_unchanged(before, variables, what="weights"):
    for i, (b, a) in enumerate(zip(before, values(variables))):
        np.testing.assert_array_equal(a, b, err_msg=f"{what}: variable {i} changed")


def scalar(logs, key):
    return float(np.asarray(ops.convert_to_numpy(logs[key])))


def train_once(model, x, y=None):
    """One training step through `train_on_batch`; returns the logs as floats."""
    model.reset_metrics()
    logs = model.train_on_batch(x, y, return_dict=True)
    return {k: float(np.asarray(ops.convert_to_numpy(v))) for k, v in logs.items()}


# -- the papers' functions, written out once for every step test -----------------


def softplus(x):
    return ops.softplus(x)


def bce_with_logits(target, logits):
    """Binary cross-entropy `-t log s(l) - (1 - t) log(1 - s(l))`, elementwise."""
    return target * ops.softplus(-logits) + (1.0 - target) * ops.softplus(logits)
