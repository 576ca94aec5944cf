"""The step-test harness itself: taps record what a compiled step saw, gradients are right."""

import keras
import numpy as np
import pytest
from keras import ops

import step_harness as h


def finite_difference(loss_fn, variable, index, eps=1e-3):
    old = np.array(ops.convert_to_numpy(variable.value))
    step = np.zeros_like(old)
    step[index] = eps
    variable.assign(old + step)
    up = float(ops.convert_to_numpy(loss_fn()))
    variable.assign(old - step)
    down = float(ops.convert_to_numpy(loss_fn()))
    variable.assign(old)
    return (up - down) / (2 * eps)


def test_taps_record_every_call_of_a_compiled_step_in_order():
    discriminator = h.tapped(h.dense_discriminator((4, 4, 1)))
    model = keras.Sequential([discriminator])
    model.compile(optimizer=h.sgd(), loss="mse", jit_compile=False)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4, 4, 1)).astype("float32"), rng.normal(size=(2, 4, 4, 1)).astype("float32")
    model.train_on_batch(a, np.zeros((3, 1), "float32"))
    model.train_on_batch(b, np.zeros((2, 1), "float32"))
    seen = h.records(discriminator)
    assert [s.shape for s in seen] == [(3, 4, 4, 1), (2, 4, 4, 1)]
    np.testing.assert_array_equal(seen[0], a)
    np.testing.assert_array_equal(seen[1], b)
    h.reset_taps(discriminator)
    assert h.records(discriminator) == []


def test_gradients_and_gradients_of_input_gradients_match_finite_differences():
    net = h.dense_discriminator((2, 2, 1))
    x = np.random.default_rng(1).normal(size=(3, 2, 2, 1)).astype("float32")

    def penalty():
        grads = h.input_gradients(lambda t: net(t), x)
        return ops.mean(ops.sum(ops.reshape(grads, (3, -1)) ** 2, axis=1)) + ops.mean(net(x) ** 2)

    grads = h.gradients(penalty, net.trainable_variables)
    for variable, grad in zip(net.trainable_variables, grads):
        index = (0,) * len(variable.shape)
        assert finite_difference(penalty, variable, index) == pytest.approx(float(grad[index]), rel=2e-2, abs=1e-4)


def test_sgd_update_check_fails_on_a_wrong_update():
    before = [np.ones((2, 2), "float32")]
    grads = [np.full((2, 2), 0.5, "float32")]
    h.assert_sgd_update(before, [before[0] - grads[0]], grads)
    with pytest.raises(AssertionError, match="did not move"):
        h.assert_sgd_update(before, [before[0] - 0.9 * grads[0]], grads)


