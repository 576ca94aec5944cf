"""The JAX engine: stateful-style training steps run statelessly.

Keras' JAX trainer calls `train_step(state, data)` with the values of every
variable and expects `(logs, new_state)` back. `train_step` below opens a
`keras.StatelessScope` that maps every variable of the model to its value in
`state`, runs the model's ordinary step inside it (reads see the scope's
values, `assign` records new ones), and reads the new state off the scope.

Inside that scope, `update` differentiates with `jax.value_and_grad`: the loss
runs in an inner scope in which the differentiated variables map to the traced
arguments and every other variable to its current value; the updates the loss
makes to other variables (batch-norm statistics, the seed generator's state)
come out as auxiliary outputs and are assigned in the outer scope, and the
optimizer then applies the gradients there. `input_gradients` and `cond` carry
variable updates out of `jax.vjp` and `jax.lax.cond` the same way, so no
traced value leaks out of the transformation that made it.
"""

import jax
import keras
from keras import ops
from keras.src.backend.common.stateless_scope import get_stateless_scope


def replica_mean(loss):
    # Under keras.distribution the loss is already the mean over the global batch.
    return loss


class _Recording(keras.StatelessScope):
    """A stateless scope over given values that remembers which variables were assigned."""

    def __init__(self, values, registry):
        super().__init__()
        self.state_mapping = dict(values)
        self.registry = registry  # id -> Variable, shared with the caller
        self.keys = []

    def add_update(self, update):
        variable, value = update
        self.state_mapping[id(variable)] = value
        self.registry[id(variable)] = variable
        if id(variable) not in self.keys:
            self.keys.append(id(variable))


def _current_values():
    scope = get_stateless_scope()
    return {} if scope is None else dict(scope.state_mapping)


def _run(fn, values, registry, exclude=()):
    """Runs `fn()` in a recording scope; returns its output and the values it assigned."""
    scope = _Recording(values, registry)
    with scope:
        out = fn()
    return out, {key: scope.state_mapping[key] for key in scope.keys if key not in exclude}


def _assign(assigned, updates):
    for key, value in updates.items():
        assigned[key].assign(value)


def _apply(optimizer, gradients, variables):
    """`optimizer.apply` through its stateless form.

    `apply` branches with `ops.cond` around variable updates in places (the loss
    scale of `mixed_float16`), which JAX cannot carry out of the branch; the
    stateless form is written for JAX.
    """
    optimizer_variables = optimizer.variables
    trainable, state = optimizer.stateless_apply(
        [v.value for v in optimizer_variables], gradients, [v.value for v in variables]
    )
    for variable, value in zip(variables, trainable):
        variable.assign(value)
    for variable, value in zip(optimizer_variables, state):
        variable.assign(value)


def _loss_of(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def update(optimizer, variables, loss_fn):
    base = _current_values()
    keys = [id(v) for v in variables]
    assigned = {}

    def scaled_loss(values):
        current = dict(base)
        current.update(zip(keys, values))

        def run():
            outputs = loss_fn()
            return optimizer.scale_loss(_loss_of(outputs)), outputs

        (scaled, outputs), updates = _run(run, current, assigned, exclude=set(keys))
        return scaled, (outputs, updates)

    start = [v.value for v in variables]
    (_, (outputs, updates)), gradients = jax.value_and_grad(scaled_loss, has_aux=True)(start)
    _assign(assigned, updates)
    _apply(optimizer, gradients, variables)
    return outputs


def update_players(players, loss_fn):
    base = _current_values()
    variables = [v for _, player in players for v in player]
    keys = [id(v) for v in variables]
    if len(set(keys)) != len(keys):
        raise ValueError("update_players: the players' variable lists overlap")
    assigned = {}

    def scaled_losses(values):
        current = dict(base)
        current.update(zip(keys, values))

        def run():
            losses, extra = loss_fn()
            scaled = [optimizer.scale_loss(loss) for (optimizer, _), loss in zip(players, losses)]
            return ops.stack([ops.cast(loss, "float32") for loss in scaled]), (losses, extra)

        (stacked, outputs), updates = _run(run, current, assigned, exclude=set(keys))
        return stacked, (outputs, updates)

    start = [v.value for v in variables]
    stacked, pullback, (outputs, updates) = jax.vjp(scaled_losses, start, has_aux=True)
    _assign(assigned, updates)
    offset = 0
    for i, (optimizer, player) in enumerate(players):
        (grads,) = pullback(ops.one_hot(i, len(players), dtype=stacked.dtype))
        _apply(optimizer, grads[offset : offset + len(player)], player)
        offset += len(player)
    return outputs


def input_gradients(fn, inputs):
    base = _current_values()
    assigned = {}

    def total(x):
        out, updates = _run(lambda: ops.sum(ops.cast(fn(x), "float32")), base, assigned)
        return out, updates

    inputs = ops.cast(inputs, "float32")
    out, pullback, updates = jax.vjp(total, inputs, has_aux=True)
    (gradients,) = pullback(ops.ones_like(out))
    _assign(assigned, updates)
    return ops.cast(gradients, "float32")


def cond(pred, true_fn, false_fn):
    base = _current_values()
    assigned = {}
    # A first, abstract pass finds which variables each branch assigns, so that
    # both branches can return the same structure: every assigned variable's value.
    for fn in (true_fn, false_fn):
        jax.eval_shape(lambda fn=fn: _run(fn, base, assigned))
    keys = sorted(assigned)

    def branch(fn):
        def run(_):
            out, updates = _run(fn, base, assigned)
            return out, [updates.get(k, base.get(k, assigned[k].value)) for k in keys]

        return run

    out, values = jax.lax.cond(pred, branch(true_fn), branch(false_fn), None)
    _assign(assigned, dict(zip(keys, values)))
    return out


def _groups(model, with_optimizer=True):
    groups = [model.trainable_variables, model.non_trainable_variables]
    if with_optimizer:
        groups.append(model.optimizer.variables)
    groups.append(model.metrics_variables)
    return groups


def _stateless(model, step, state, data, with_optimizer):
    groups = _groups(model, with_optimizer)
    mapping = [pair for variables, values in zip(groups, state) for pair in zip(variables, values)]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    new_state = tuple([scope.get_current_value(v) for v in variables] for variables in groups)
    return logs, new_state


def train_step(model, step, state, data):
    """`(state, data) -> (logs, state)` for Keras' JAX trainer, running `step(data)`."""
    return _stateless(model, step, state, data, with_optimizer=True)


def test_step(model, step, state, data):
    return _stateless(model, step, state, data, with_optimizer=False)


# -- compiled functions and loops outside `fit` ------------------------------------------


def _split(fn, variables, *args):
    """`(read, written)`: `variables` less those `fn(*args)` assigns, and those it assigns.

    An abstract run (`jax.eval_shape`) finds what `fn` assigns, listed or not.
    """
    variables = list({id(v): v for v in variables}.values())
    keys = [id(v) for v in variables]
    assigned = {}

    def abstract(values, args):
        _run(lambda: fn(*args), dict(zip(keys, values)), assigned)

    jax.eval_shape(abstract, [v.value for v in variables], args)
    return [v for v in variables if id(v) not in assigned], list(assigned.values())


def _mapping(variables, values):
    return {id(v): value for v, value in zip(variables, values)}


def function(fn, variables):
    compiled = []

    def build(args, kwargs):
        read, written = _split(lambda a, k: fn(*a, **k), variables, args, kwargs)

        def pure(read_values, written_values, args, kwargs):
            values = {**_mapping(read, read_values), **_mapping(written, written_values)}
            out, updates = _run(lambda: fn(*args, **kwargs), values, {})
            return out, [updates.get(id(v), values[id(v)]) for v in written]

        compiled.extend([read, written, jax.jit(pure)])

    def call(*args, **kwargs):
        if not compiled:
            build(args, kwargs)
        read, written, jitted = compiled
        out, values = jitted([v.value for v in read], [v.value for v in written], args, kwargs)
        for variable, value in zip(written, values):
            variable.assign(value)
        return out

    return call


def loop(step, variables):
    compiled = []

    def build():
        read, written = _split(step, variables)

        def run(read_values, written_values, count):
            def body(carry, _):
                values = {**_mapping(read, read_values), **_mapping(written, carry)}
                out, updates = _run(step, values, {})
                return [updates.get(id(v), values[id(v)]) for v in written], out

            return jax.lax.scan(body, written_values, length=count)

        compiled.extend([read, written, jax.jit(run, static_argnums=2)])

    def run(count):
        if not compiled:
            build()
        read, written, jitted = compiled
        values, history = jitted([v.value for v in read], [v.value for v in written], int(count))
        for variable, value in zip(written, values):
            variable.assign(value)
        return history

    return run


def stateless_normal(shape, seed, counter):
    key = jax.random.fold_in(jax.random.key(seed), ops.cast(counter, "uint32"))
    return jax.random.normal(key, shape, "float32")


def map_examples(fn, inputs):
    def one(*example):
        return fn(*[x[None] for x in example])[0]

    return jax.vmap(one)(*[ops.convert_to_tensor(x) for x in inputs])


def run_once(fn, variables):
    return function(fn, variables)()
