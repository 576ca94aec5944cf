"""zoo.engine on the current backend: updates are minus the gradient, side effects survive.

`python3 dev.py test` runs this file on TensorFlow, then again on JAX (each step
inside the JAX trainer's protocol).
"""

import keras
import numpy as np
import pytest
from keras import ops

from zoo import engine

class Counter(keras.layers.Layer):
    """Identity that counts its calls in a non-trainable variable (a stand-in for BN statistics)."""

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

    def call(self, x):
        self.calls.assign(self.calls + 1.0)
        return x


class Harness(keras.Model):
    """A model whose train_step runs one engine operation chosen by the test."""

    def __init__(self, operation):
        super().__init__()
        self.counter = Counter()
        self.a = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
        self.b = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
        self.operation = operation
        self.built = False

    def call(self, x):
        return self.b(self.a(self.counter(x)))

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self.operation(self, x)


def x_batch():
    return np.array([[1.0, 2.0], [3.0, -1.0]], "float32")


def build(operation):
    model = Harness(operation)
    model(x_batch())
    model.counter.calls.assign(0.0)
    model.opt_a = keras.optimizers.SGD(1.0)
    model.opt_b = keras.optimizers.SGD(0.5)
    model.opt_a.build(model.a.trainable_variables)
    model.opt_b.build(model.b.trainable_variables)
    return model


def run_step(model):
    """Runs `model.train_step` once: eagerly on TensorFlow; on JAX jitted, inside a
    stateless scope over every variable, as Keras' JAX trainer runs a step."""
    if keras.backend.backend() != "jax":
        return model.train_step((x_batch(),))
    import jax

    variables = model.variables + model.opt_a.variables + model.opt_b.variables

    def pure(current):
        with keras.StatelessScope(state_mapping=list(zip(variables, current))) as scope:
            logs = model.train_step((x_batch(),))
        return logs, [scope.get_current_value(v) for v in variables]

    logs, new = jax.jit(pure)([v.value for v in variables])
    for variable, value in zip(variables, new):
        variable.assign(value)
    return logs


def values(variables):
    return [np.array(ops.convert_to_numpy(v.value)) for v in variables]


def test_update_is_minus_the_gradient_and_keeps_side_effects():
    def operation(model, x):
        def loss():
            return ops.mean(model(x) ** 2), 7.0

        out = engine.update(model.opt_a, model.a.trainable_variables, loss)
        return {"loss": out[0]}

    model = build(operation)
    a0, b0 = values(model.a.trainable_variables), values(model.b.trainable_variables)
    # Expected by hand: y = sum_j (x W + c)_j * 1 with W, c the first layer (all ones/zeros).
    x = x_batch()
    h = x @ a0[0] + a0[1]
    y = h @ b0[0] + b0[1]
    dy = 2 * y / len(y)
    grad_w = x.T @ (dy @ b0[0].T)
    grad_c = (dy @ b0[0].T).sum(0)
    logs = run_step(model)
    np.testing.assert_allclose(values(model.a.trainable_variables)[0], a0[0] - grad_w, rtol=1e-5)
    np.testing.assert_allclose(values(model.a.trainable_variables)[1], a0[1] - grad_c, rtol=1e-5)
    np.testing.assert_array_equal(values(model.b.trainable_variables)[0], b0[0])
    assert float(ops.convert_to_numpy(logs["loss"])) == pytest.approx(float(np.mean(y**2)), rel=1e-5)
    assert float(ops.convert_to_numpy(model.counter.calls.value)) == 1.0, "the loss's variable updates are kept"
    assert int(ops.convert_to_numpy(model.opt_a.iterations.value)) == 1


def test_update_players_takes_every_gradient_before_any_update():
    def operation(model, x):
        def losses():
            y = model(x)
            return [ops.mean(y**2), ops.mean(y)], None

        (la, lb), _ = engine.update_players(
            [(model.opt_a, model.a.trainable_variables), (model.opt_b, model.b.trainable_variables)], losses
        )
        return {"la": la, "lb": lb}

    model = build(operation)
    a0, b0 = values(model.a.trainable_variables), values(model.b.trainable_variables)
    x = x_batch()
    h = x @ a0[0] + a0[1]
    y = h @ b0[0] + b0[1]
    grad_a_w = x.T @ ((2 * y / len(y)) @ b0[0].T)  # of mean(y^2) wrt A's kernel
    grad_b_w = h.T @ (np.ones_like(y) / len(y))  # of mean(y) wrt B's kernel, at A's old weights
    run_step(model)
    np.testing.assert_allclose(values(model.a.trainable_variables)[0], a0[0] - 1.0 * grad_a_w, rtol=1e-5)
    np.testing.assert_allclose(values(model.b.trainable_variables)[0], b0[0] - 0.5 * grad_b_w, rtol=1e-5)
    assert float(ops.convert_to_numpy(model.counter.calls.value)) == 1.0, "one forward pass"


def test_input_gradients_are_differentiable_again():
    def operation(model, x):
        def penalty():
            grads = engine.input_gradients(lambda t: model(t), x)
            return ops.sum(grads**2)

        return {"p": engine.update(model.opt_b, model.b.trainable_variables, penalty)}

    model = build(operation)
    a0, b0 = values(model.a.trainable_variables), values(model.b.trainable_variables)
    # d sum(y)/dx = W_a W_b (per row), so the penalty is 2 * |W_a W_b|^2 and its gradient wrt W_b
    # is 2 * 2 * W_a^T W_a W_b; B's optimizer has learning rate 0.5.
    v = a0[0] @ b0[0]
    expected = b0[0] - 0.5 * 2 * 2 * a0[0].T @ v
    logs = run_step(model)
    assert float(ops.convert_to_numpy(logs["p"])) == pytest.approx(2 * float((v**2).sum()), rel=1e-5)
    np.testing.assert_allclose(values(model.b.trainable_variables)[0], expected, rtol=1e-5)
    assert float(ops.convert_to_numpy(model.counter.calls.value)) == 1.0


@pytest.mark.parametrize("take", [True, False])
def test_cond_keeps_the_variable_updates_of_the_branch_taken(take):
    def operation(model, x):
        out = engine.cond(
            ops.convert_to_tensor(take),
            lambda: ops.sum(model(x)),  # calls the counter
            lambda: ops.zeros((), "float32"),
        )
        return {"out": out}

    model = build(operation)
    run_step(model)
    assert float(ops.convert_to_numpy(model.counter.calls.value)) == (1.0 if take else 0.0)


def test_another_backend_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(NotImplementedError, match="tensorflow and jax.*'torch'"):
        engine.update(None, [], lambda: 0.0)
