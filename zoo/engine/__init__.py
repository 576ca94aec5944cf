"""The training core: what differs between Keras backends in a training step.

A zoo model writes its training step once, with `keras.ops` and
`keras.random`, in the stateful style of a TensorFlow `train_step`: read the
variables, compute a loss, update a player. The few operations that need the
backend go through this module, which picks the implementation for
`keras.backend.backend()` at call time:

- `update(optimizer, variables, loss_fn)`: one optimizer step on `variables`
  for the scalar loss that `loss_fn()` returns (or the first item of what it
  returns; the rest is handed back), with the optimizer's loss scaling and the
  replica share of the loss applied. TensorFlow differentiates with a
  `GradientTape`; JAX with `jax.value_and_grad` over the variables' current
  values, inside a `keras.StatelessScope` that carries every other variable
  the loss updates (batch-norm statistics, the noise generator's state).
- `input_gradients(fn, inputs)`: `d sum(fn(x)) / dx`, differentiable again;
  the penalties that need an inner gradient (WGAN-GP, R1, path length) use it.
- `cond(pred, true_fn, false_fn)`: a branch whose side effects (variable
  updates) survive on every backend; lazy regularisers use it.
- `PlayersOptimizer`: one `keras.optimizers.Optimizer` whose variables are all
  the players' optimizers' variables. Keras' JAX trainer threads only
  `model.optimizer.variables` through its jitted step, so a multi-player model
  sets this as `model.optimizer`.
- `jax_train_step(model, step, state, data)`: runs the stateful-style
  `step(data)` under the JAX trainer's `(state, data) -> (logs, state)`
  protocol.

Only this package (with data loading and export) imports a backend module.
"""

import keras

from zoo.engine.players import PlayersOptimizer


def _backend():
    name = keras.backend.backend()
    if name == "tensorflow":
        from zoo.engine import tensorflow as impl
    elif name == "jax":
        from zoo.engine import jax as impl
    else:
        raise NotImplementedError(
            f"zoo trains on the tensorflow and jax Keras backends; KERAS_BACKEND is {name!r}"
        )
    return impl


def update(optimizer, variables, loss_fn):
    """Applies one step of `optimizer` to `variables` for the loss of `loss_fn()`.

    Args:
        optimizer: a built `keras.optimizers.Optimizer` (a `LossScaleOptimizer`
            under `mixed_float16`: the loss is scaled before differentiating).
        variables: the list of variables to differentiate and update.
        loss_fn: callable with no arguments returning a scalar loss, or a tuple
            whose first item is the scalar loss.

    Returns:
        What `loss_fn()` returned (computed before the update).
    """
    return _backend().update(optimizer, list(variables), loss_fn)


def update_players(players, loss_fn):
    """One update of several players from one forward pass, each for its own loss.

    Every player's gradient is taken at the variables' values before any of
    the updates (a persistent tape on TensorFlow, one `jax.vjp` pulled back
    once per player on JAX), then each optimizer applies its own.

    Args:
        players: list of `(optimizer, variables)`; the variable lists must not overlap.
        loss_fn: callable with no arguments returning `(losses, extra)`: `losses`
            a list with one scalar per player (the same tensor may serve several),
            `extra` anything to hand back.

    Returns:
        `(losses, extra)` as `loss_fn()` returned them.
    """
    return _backend().update_players([(o, list(v)) for o, v in players], loss_fn)


def input_gradients(fn, inputs):
    """Gradients of `sum(fn(inputs))` with respect to `inputs`, in float32.

    Differentiable with respect to the variables that `fn` reads, so that a
    loss built from these gradients (a gradient penalty) can be minimised.
    """
    return _backend().input_gradients(fn, inputs)


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()`, keeping their variable updates.

    Both functions take no arguments and return tensors of the same structure.
    """
    return _backend().cond(pred, true_fn, false_fn)


def jax_train_step(model, step, state, data):
    from zoo.engine import jax as impl

    return impl.train_step(model, step, state, data)


def jax_test_step(model, step, state, data):
    from zoo.engine import jax as impl

    return impl.test_step(model, step, state, data)


def replica_mean(loss):
    """A per-replica mean loss as its share of the global mean (see `zoo.models.base`)."""
    return _backend().replica_mean(loss)


__all__ = ["PlayersOptimizer", "cond", "input_gradients", "replica_mean", "update", "update_players"]
