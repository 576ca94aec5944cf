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
- `function(fn, variables)`, `loop(step, variables)`, `run_once(fn, variables)`:
  `fn` or a loop over `step()` compiled (`tf.function`; `jax.jit`, with the
  variables' current values passed in at every call), and one call run the
  cheaper way; with `map_examples` (a per-example loop, `jax.vmap` on JAX),
  `stateless_normal` and `stateless_scope` (a `StatelessScope` that nests),
  they serve the tools that run a generator outside `fit` (PPL, projection).
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


def function(fn, variables=()):
    """`fn` compiled: a `tf.function` on TensorFlow, `jax.jit` on JAX.

    On JAX the values of `variables` are passed to the compiled function as
    arguments at every call, so later changes to them (training, a callback)
    are seen; a variable `fn` reads but that is not listed is read at its value
    when `fn` is first traced. Variables that `fn` assigns (a noise layer's seed
    state) are found by a first, abstract run and carried in and out the same
    way. On TensorFlow `variables` is not needed: a `tf.function` reads them.

    Args:
        fn: callable on tensors (or nested lists of them, or None), returning
            tensors; written with `keras.ops`.
        variables: the variables `fn` reads, e.g. `model.variables` of the nets it calls.

    Returns:
        callable with `fn`'s signature.
    """
    return _backend().function(fn, list(variables))


def run_once(fn, variables=()):
    """`fn()`, run the cheaper way for one call: eagerly on TensorFlow, compiled on JAX.

    TensorFlow's eager kernels are ready to run, where tracing a `tf.function`
    costs more than one forward pass; JAX compiles every eager operation for
    its shapes, so one `jax.jit` of the whole of `fn` (see `function`) is
    cheaper.

    Args:
        fn: callable with no arguments returning tensors.
        variables: the variables `fn` reads (passed in on JAX).
    """
    return _backend().run_once(fn, list(variables))


def loop(step, variables=()):
    """A compiled loop: `run(count)` calls `step()` `count` times and stacks its outputs.

    `step` takes no arguments and returns a float32 tensor; it updates variables
    as a training step does (`update`, `assign`). TensorFlow runs the loop in one
    `tf.function` (`tf.range` and a `TensorArray`); JAX in one `jax.lax.scan`
    under `jax.jit` whose carry holds the values of `variables` and of every
    variable `step` assigns (found by a first, abstract run), assigned back when
    the loop ends. A variable read but not listed is read at its value when the
    loop is first traced.

    Args:
        step: callable with no arguments returning a float32 tensor.
        variables: the variables `step` reads or updates.

    Returns:
        `run(count)`: int `count >= 1` -> float32 tensor `(count, *step's output shape)`.
    """
    return _backend().loop(step, list(variables))


def map_examples(fn, inputs):
    """`fn` on each example as a batch of one, the results concatenated on axis 0.

    `concatenate([fn(*[x[i : i + 1] for x in inputs]) for i in range(n)])`:
    TensorFlow runs that loop (a compiled graph holds one copy of `fn` per
    example); JAX one `jax.vmap`, so a compiled function holds `fn` once
    whatever the batch (the projector renders each target with its own noise
    maps this way).

    Args:
        fn: callable on tensors `(1, ...)` returning a tensor `(1, ...)`.
        inputs: list of tensors with the same static leading size `n`.

    Returns:
        tensor `(n, ...)`.
    """
    return _backend().map_examples(fn, list(inputs))


def stateless_normal(shape, seed, counter):
    """N(0, 1) float32 draws determined by `(seed, counter)`; `counter` may be a tensor.

    The same `(seed, counter)` gives the same draws on one backend (TensorFlow:
    `tf.random.stateless_normal` with seed `[seed, counter]`; JAX: `seed`'s key
    folded with `counter`), not across them.
    """
    return _backend().stateless_normal(tuple(shape), int(seed), counter)


def stateless_scope(mapping):
    """A `keras.StatelessScope` over `mapping` that keeps the enclosing scope's values.

    Keras' stateless scopes do not nest: inside one, a variable it does not map
    reads its own stored value. This scope starts from the values of the
    stateless scope in force when it is made (a JAX training step's, a compiled
    `function`'s), then maps the pairs of `mapping` over them.

    Args:
        mapping: list of `(variable, value)` pairs.
    """
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    outer = get_stateless_scope()
    scope = keras.StatelessScope(mapping)
    if outer is not None:
        scope.state_mapping = {**outer.state_mapping, **scope.state_mapping}
    return scope


def jax_train_step(model, step, state, data):
    from zoo.engine import jax as impl

    return impl.train_step(model, step, state, data)


def jax_test_step(model, step, state, data):
    from zoo.engine import jax as impl

    return impl.test_step(model, step, state, data)


def replica_mean(loss):
    """A per-replica mean loss as its share of the global mean (see `zoo.models.base`)."""
    return _backend().replica_mean(loss)


__all__ = [
    "PlayersOptimizer",
    "cond",
    "function",
    "input_gradients",
    "loop",
    "map_examples",
    "replica_mean",
    "run_once",
    "stateless_normal",
    "stateless_scope",
    "update",
    "update_players",
]
