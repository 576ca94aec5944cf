"""The TensorFlow engine: `GradientTape`, `tf.cond`, `tf.distribute` replica shares."""

import tensorflow as tf
from keras import ops


def replica_mean(loss):
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return loss
    return loss / ops.cast(replicas, loss.dtype)


def _loss_of(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def update(optimizer, variables, loss_fn):
    with tf.GradientTape() as tape:
        outputs = loss_fn()
        # Recorded too: under tf.distribute the share divides by the replica count.
        scaled = optimizer.scale_loss(replica_mean(_loss_of(outputs)))
    gradients = tape.gradient(scaled, variables)
    # A variable the loss does not reach (a block not yet faded in, a branch not
    # taken when run eagerly) gets a zero gradient, as JAX gives it.
    gradients = [ops.zeros_like(v) if g is None else g for g, v in zip(gradients, variables)]
    optimizer.apply(gradients, variables)
    return outputs


def update_players(players, loss_fn):
    with tf.GradientTape(persistent=True) as tape:
        losses, extra = loss_fn()
        scaled = [optimizer.scale_loss(replica_mean(loss)) for (optimizer, _), loss in zip(players, losses)]
    gradients = [tape.gradient(loss, variables) for loss, (_, variables) in zip(scaled, players)]
    del tape
    for (optimizer, variables), grads in zip(players, gradients):
        grads = [ops.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
        optimizer.apply(grads, variables)
    return losses, extra


def input_gradients(fn, inputs):
    inputs = ops.cast(inputs, "float32")
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = ops.sum(ops.cast(fn(inputs), "float32"))
    return ops.cast(tape.gradient(total, inputs), "float32")


def cond(pred, true_fn, false_fn):
    return ops.cond(pred, true_fn, false_fn)


def function(fn, variables):
    # A tf.function reads the variables when it runs.
    del variables
    return tf.function(fn, reduce_retracing=True)


def loop(step, variables):
    del variables

    @tf.function
    def run(count):
        history = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            history = history.write(i, step())
        return history.stack()

    return lambda count: run(tf.constant(count))


def stateless_normal(shape, seed, counter):
    seeds = tf.stack([tf.constant(seed, tf.int64), tf.cast(ops.convert_to_tensor(counter), tf.int64)])
    return tf.random.stateless_normal(shape, seed=seeds)


def map_examples(fn, inputs):
    outputs = [fn(*[x[i : i + 1] for x in inputs]) for i in range(inputs[0].shape[0])]
    return ops.concatenate(outputs, axis=0)


def run_once(fn, variables):
    del variables
    return fn()
