"""Data-parallel training on several devices and machines: zoo's own fit loop.

`keras.Model.fit` (Keras 3.15, TensorFlow backend) trains under
`tf.distribute.MirroredStrategy` but fails under
`tf.distribute.MultiWorkerMirroredStrategy` (keras-team/keras#20585):
in multi-worker mode its train function reduces every logged value with
`strategy.reduce("MEAN", value, axis=0)`, and the scalars that every
`train_step` returns have no axis 0 ("Invalid reduction dimension 0 for
input with 0 dimensions"). `distributed_fit` is the loop zoo uses instead:
the same steps as `fit` (one `strategy.run(model.train_step)` per batch inside
a `tf.function`), logs reduced to their mean over all replicas, and a real
`keras.callbacks.CallbackList`, so zoo's and Keras' callbacks keep working.

What multi-worker training adds, and the loop takes care of:

- every worker must run the same collective operations in the same order,
  so a stop asked by one worker (`TimeLimit`, `StopOnNaN`) is agreed by all
  after each batch, and every worker runs every callback;
- files are written by the chief only: on the other workers the callbacks
  that write (`TrainingCheckpoint`, `SampleGrid`, `CSVLogger`,
  `ModelCheckpoint`, `TensorBoard`, ...) are pointed at a temporary folder
  that is deleted afterwards (TensorFlow's multi-worker guide does the same:
  reading synchronised variables for a save is a collective operation, so
  the workers cannot simply skip it);
- `TF_CONFIG` names the cluster and this process's place in it
  (`make_strategy("multi_worker")`).

Example:
```python
strategy = zoo.distributed.make_strategy("multi_worker")  # first, before other TF work
with strategy.scope():
    gan = zoo.models.GAN(zoo.nets.dcgan_generator(128, (32, 32, 3)),
                         zoo.nets.dcgan_discriminator((32, 32, 3)))
    gan.compile()
data = zoo.distributed.shard_by_data(zoo.data.load("digits", batch_size=256))  # global batch
history = zoo.distributed.distributed_fit(gan, data, epochs=20, callbacks=[...])
```

Reference: Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet
in 1 Hour", 2017 (global batch and the linear learning-rate scaling rule).
"""

import json
import os
import shutil
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from zoo import checks

STRATEGIES = ("default", "mirrored", "multi_worker")


# -- strategies and the cluster -------------------------------------------------


def split_cpu(num_devices):
    """Splits the CPU into `num_devices` logical devices (for MirroredStrategy tests on CPU).

    Must run before TensorFlow initialises its devices (before any op). Returns
    the logical CPU device names.

    Args:
        num_devices: int >= 1, logical CPU devices to create.
    """
    checks.positive_int(num_devices, "num_devices")
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)
    except RuntimeError:
        pass  # already initialised: keep what is there (checked below)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < num_devices:
        raise ValueError(
            f"num_devices: asked for {num_devices} logical CPUs but TensorFlow was initialised "
            f"with {len(devices)}; call split_cpu before any TensorFlow work"
        )
    return devices[:num_devices]


def read_tf_config(environ=None):
    """The parsed `TF_CONFIG` (cluster and task) of this process, checked.

    Raises:
        ValueError: `TF_CONFIG` missing, not JSON, or without a cluster and a
            task that names one of its members.
    """
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    example = (
        'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\''
    )
    if not text:
        raise ValueError(f"TF_CONFIG is not set; multi-worker training needs e.g. {example}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); expected e.g. {example}") from None
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(f"TF_CONFIG needs a 'cluster' of addresses, got {text!r}")
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise ValueError(f"TF_CONFIG 'task' must name a job of the cluster ({sorted(cluster)}), got {task!r}")
    index = task.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise ValueError(
            f"TF_CONFIG task index must be in [0, {len(cluster[task['type']])}) for "
            f"{task['type']!r}, got {index!r}"
        )
    return config


def make_strategy(name="default", devices=None):
    """Returns the `tf.distribute` strategy called `name`.

    Create it first thing (a multi-worker strategy must exist before other
    TensorFlow work), then build and compile the model inside its `scope()`.

    Args:
        name: str, one of:
            "default": the default strategy (one device; what `fit` uses
                without a scope);
            "mirrored": `MirroredStrategy` over `devices`, default all local
                GPUs, or the CPU when there is none (see `split_cpu` to test
                with several CPU replicas);
            "multi_worker": `MultiWorkerMirroredStrategy` over the machines
                that `TF_CONFIG` lists, each using its local GPUs (or CPU).
            Default "default".
        devices: list of str or None, device names for "mirrored". Default None.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if devices is not None and name != "mirrored":
        raise ValueError(f"devices: only the 'mirrored' strategy takes a device list, not {name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    read_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def num_workers(strategy=None):
    """How many worker processes train together (1 without a cluster)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return 1
    spec = resolver.cluster_spec().as_dict()
    return max(1, len(spec.get("chief", [])) + len(spec.get("worker", [])))


def is_multi_worker(strategy=None):
    """True when `strategy` spans several worker processes."""
    return num_workers(strategy) > 1


def is_chief(strategy=None):
    """True on the process that writes checkpoints, samples and logs.

    That is the "chief" task if the cluster has one, else worker 0; every
    process outside a multi-worker cluster is its own chief.
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not is_multi_worker(strategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def shard_by_data(dataset):
    """`dataset` with `AutoShardPolicy.DATA`: each worker keeps its slice of every global batch.

    The default policy (AUTO) shards files between workers where it finds
    them, so workers would see different examples than a single-process run;
    with DATA every worker reads the same global batches and keeps its
    replicas' share, which is what makes multi-worker and single-process runs
    comparable.
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(f"dataset must be a tf.data.Dataset, got {type(dataset).__name__}")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


# -- files: the chief writes, the other workers write to a temporary folder ---------

# (callback class path, attribute, set before on_train_begin?): a checkpoint is
# read from its real place at on_train_begin (every worker resumes from the
# chief's state) and only its writes are redirected.
_WRITERS = (
    ("zoo.callbacks.TrainingCheckpoint", "directory", False),
    ("zoo.callbacks.BestCheckpoint", "directory", False),
    ("zoo.callbacks.SampleGrid", "directory", True),
    ("zoo.callbacks.SampleGrid", "tensorboard_dir", True),
    ("zoo.callbacks.TranslationGrid", "directory", True),
    ("zoo.metrics.callback.EvaluationCallback", "jsonl_path", True),
    ("keras.callbacks.CSVLogger", "filename", True),
    ("zoo.callbacks.HistoryCSV", "filename", True),
    ("keras.callbacks.ModelCheckpoint", "filepath", True),
    ("keras.callbacks.TensorBoard", "log_dir", True),
)


def _writer_attributes(callback, before_begin):
    import importlib

    found = []
    for path, attribute, before in _WRITERS:
        if before != before_begin:
            continue
        module_name, class_name = path.rsplit(".", 1)
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if isinstance(callback, cls) and getattr(callback, attribute, None):
            found.append(attribute)
    return found


class _WorkerFiles:
    """Points the writing callbacks of a non-chief worker at a temporary folder, and back."""

    def __init__(self, callbacks, chief, task_name):
        self.callbacks = list(callbacks)
        self.chief = chief
        self.task_name = task_name
        self.directory = None
        self._saved = []
        for callback in self.callbacks:
            if isinstance(callback, keras.callbacks.BackupAndRestore):
                raise ValueError(
                    "callbacks: BackupAndRestore does not restore zoo's several optimizers; "
                    "use zoo.callbacks.TrainingCheckpoint"
                )

    def redirect(self, before_begin):
        if self.chief:
            return
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix=f"zoo-{self.task_name}-")
        for i, callback in enumerate(self.callbacks):
            if before_begin and hasattr(callback, "tidy"):  # reads the chief's checkpoint, leaves it as it is
                self._saved.append((callback, "tidy", callback.tidy))
                callback.tidy = False
            for attribute in _writer_attributes(callback, before_begin):
                original = getattr(callback, attribute)
                self._saved.append((callback, attribute, original))
                name = os.path.basename(os.path.normpath(str(original))) or attribute
                folder = os.path.join(self.directory, f"{i}-{attribute}")
                os.makedirs(folder, exist_ok=True)
                setattr(callback, attribute, os.path.join(folder, name))

    def restore(self):
        for callback, attribute, original in reversed(self._saved):
            setattr(callback, attribute, original)
        self._saved = []
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


# -- the loop ------------------------------------------------------------------------


def check_model(model, strategy):
    """Raises a ValueError unless `model` is compiled and its variables belong to `strategy`."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    if not model.compiled:
        raise ValueError("model must be compiled (inside strategy.scope()) before distributed_fit")
    for variable in model.trainable_variables:
        if not strategy.extended.variable_created_in_scope(variable.value):
            raise ValueError(
                f"model: variable {variable.path} was not created under the strategy "
                f"({type(strategy).__name__}); build and compile the model inside strategy.scope()"
            )


def _build_optimizers(model, strategy):
    with strategy.scope():
        if hasattr(model, "build_optimizers"):
            model.build_optimizers()
        elif getattr(model, "optimizer", None) is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)


def _finalize_optimizers(model):
    # What fit does for `optimizer` (and MultiOptimizerModel.fit for each of
    # its optimizers): e.g. copy EMA weights into the model.
    if hasattr(model, "optimizer_variables"):
        for name, variables in model.optimizer_variables().items():
            getattr(model, name).finalize_variable_values(variables)
    elif getattr(model, "optimizer", None) is not None:
        model.optimizer.finalize_variable_values(model.trainable_weights)


def reduce_logs(strategy, outputs):
    """The per-replica values a `train_step` returned, averaged over all replicas.

    Inside `strategy.run` a Keras metric tracker's `result()` reads the
    replica's own (sync-on-read) variables, so each replica returns the mean
    over its share of the batch; with equal shares their mean is the mean
    over the global batch (what `fit` logs, and what the trackers give when
    read outside the replicas after the step). Scalar logs (the usual case)
    are stacked and reduced together: one all-reduce per step.
    """
    values = tf.nest.flatten(outputs)
    if not values:
        return outputs
    first = [strategy.experimental_local_results(v)[0] for v in values]
    if all(v.shape.rank == 0 for v in first):
        stacked = strategy.run(lambda *vs: tf.stack([tf.cast(v, "float32") for v in vs]), args=tuple(values))
        means = tf.unstack(strategy.reduce(tf.distribute.ReduceOp.MEAN, stacked, axis=None), num=len(values))
        return tf.nest.pack_sequence_as(outputs, means)

    def reduce(value):
        value = strategy.run(lambda v: tf.cast(v, "float32"), args=(value,))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)

    return tf.nest.map_structure(reduce, outputs)


def make_train_function(model, strategy):
    """`train_function(iterator)`: `model.steps_per_execution` distributed train steps.

    Each step is `strategy.run(model.train_step, (batch,))` in a `tf.function`
    (XLA as `model.jit_compile` says), its logs reduced by `reduce_logs`;
    returns the last step's logs. Raises `StopIteration` when the iterator is
    exhausted before the first step.
    """

    def step_on_data(data):
        return reduce_logs(strategy, strategy.run(model.train_step, args=(data,)))

    if not model.run_eagerly:
        step_on_data = tf.function(step_on_data, reduce_retracing=True, jit_compile=model.jit_compile)
    per_call = max(1, int(getattr(model, "steps_per_execution", 1) or 1))

    def train_function(iterator):
        logs = None
        for _ in range(per_call):
            try:
                data = next(iterator)
            except (StopIteration, tf.errors.OutOfRangeError):
                if logs is None:
                    raise StopIteration from None
                break
            logs = step_on_data(data)
        return logs

    return train_function


def _make_agreement(strategy):
    """`agree(flag) -> bool`: True if any replica of any worker says True (one all-reduce)."""

    @tf.function
    def any_replica(flag):
        votes = strategy.run(tf.identity, args=(flag,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None) > 0.0

    return lambda flag: bool(any_replica(tf.constant(1.0 if flag else 0.0)))


def _check_workers_agree(strategy, model, start_epoch):
    """Raises the same ValueError on every worker unless all start from the same epoch and weights.

    A worker that could not read the chief's checkpoint (a run directory not
    shared between the machines) would otherwise train other weights for
    another number of epochs, and the others would wait for it forever.
    """
    checksum = sum(
        float(np.sum(np.asarray(keras.ops.convert_to_numpy(v), "float64"))) for v in model.trainable_variables
    )
    mine = tf.constant([float(start_epoch), checksum], "float32")

    @tf.function
    def gather(value):
        return strategy.gather(strategy.run(lambda v: tf.expand_dims(v, 0), args=(value,)), axis=0)

    message = _disagreement(np.asarray(gather(mine)))
    if message:
        raise ValueError(message)


def _disagreement(rows):
    """A message when the replicas' (start epoch, weight checksum) rows differ, else None."""
    rows = np.asarray(rows, "float64")
    if np.array_equal(rows[:, 0], np.full(len(rows), rows[0, 0])) and np.allclose(rows[:, 1], rows[0, 1], rtol=1e-5):
        return None
    return (
        f"the workers start from different states (start epochs {rows[:, 0].astype(int).tolist()}, weight "
        f"checksums {rows[:, 1].tolist()}): every worker must resume from the chief's checkpoint, so put "
        "the run directory on storage that all machines share"
    )


def _distribute(dataset, strategy):
    """(distributed dataset, global batches per pass or None)."""
    if isinstance(dataset, tf.distribute.DistributedDataset):
        return dataset, None
    if isinstance(dataset, tf.data.Dataset):
        cardinality = int(dataset.cardinality())
        if cardinality == 0:
            raise ValueError("dataset is empty")
        if cardinality == tf.data.INFINITE_CARDINALITY:
            cardinality = -1
        return strategy.experimental_distribute_dataset(dataset), (cardinality if cardinality > 0 else None)
    if callable(dataset):
        return strategy.distribute_datasets_from_function(dataset), None
    raise ValueError(
        "dataset must be a tf.data.Dataset of global batches, a distributed dataset, or a function "
        f"input_context -> per-worker dataset; got {type(dataset).__name__}"
    )


def distributed_fit(
    model,
    dataset,
    epochs=1,
    steps_per_epoch=None,
    callbacks=(),
    strategy=None,
    verbose="auto",
    initial_epoch=0,
):
    """Trains `model` like `model.fit`, under any `tf.distribute` strategy, multi-worker included.

    Each batch is one `strategy.run(model.train_step)` inside a `tf.function`;
    the returned logs are averaged over all replicas (`reduce_logs`), so the
    logged numbers are means over the global batch, as `fit` logs them. The
    callbacks get the hooks `fit` calls (`on_train_begin`, `on_epoch_begin`,
    `on_train_batch_begin/end`, `on_epoch_end`, `on_train_end`), honour
    `model.stop_training`, and a `History` is returned; under one device or a
    `MirroredStrategy` the updates are those of `fit`.

    With several workers, a stop asked on any worker is agreed by all after
    every batch, the progress bar is shown on the chief only, and the files
    the callbacks write (see the module docstring) are written by the chief
    only; the other workers' copies go to a temporary folder, removed at
    the end. All workers must run the same number of steps: give every
    worker the same number of full global batches (`drop_remainder=True`
    and a known cardinality, or `steps_per_epoch`).

    Args:
        model: keras.Model, compiled inside `strategy.scope()` (its
            optimizers are built here, inside the scope).
        dataset: the data, one of: a `tf.data.Dataset` of *global* batches
            (each replica gets `global_batch / num_replicas_in_sync` of each;
            with several workers use `shard_by_data` so that each worker keeps
            its slice of every global batch); a distributed dataset; or a
            function `input_context -> per-worker tf.data.Dataset` batched
            with `input_context.get_per_replica_batch_size(global_batch)`.
        epochs: int, index of the last epoch (as in `fit`). Default 1.
        steps_per_epoch: int or None, global batches per epoch; the iterator
            then carries on across epochs, as in `fit`. Default None: one pass.
        callbacks: iterable of `keras.callbacks.Callback`. Default ().
        strategy: tf.distribute.Strategy or None, the strategy the model was
            built under. Default None: `model.distribute_strategy`.
        verbose: "auto", 0, 1 or 2, as in `fit` (0 on non-chief workers).
            Default "auto".
        initial_epoch: int, epoch to start from (a restored
            `TrainingCheckpoint` overrides it). Default 0.

    Returns:
        The `keras.callbacks.History` of the run.

    Example:
    ```python
    strategy = zoo.distributed.make_strategy("multi_worker")
    with strategy.scope():
        vae = zoo.models.VAE(encoder, decoder)
        vae.compile()
    zoo.distributed.distributed_fit(vae, zoo.distributed.shard_by_data(data), epochs=10)
    ```

    Reference: keras-team/keras#20585 (`fit` under MultiWorkerMirroredStrategy);
    TensorFlow's "Custom training loop with Keras and MultiWorkerMirroredStrategy"
    guide (chief-only saving with temporary folders on the other workers).
    """
    strategy = strategy if strategy is not None else model.distribute_strategy
    if not isinstance(strategy, tf.distribute.Strategy):
        raise ValueError(f"strategy must be a tf.distribute.Strategy or None, got {strategy!r}")
    checks.positive_int(epochs, "epochs")
    if steps_per_epoch is not None and (
        isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1
    ):
        raise ValueError(f"steps_per_epoch must be a positive int or None, got {steps_per_epoch!r}")
    checks.integer(initial_epoch, "initial_epoch", at_least=0)
    check_model(model, strategy)
    distributed, num_batches = _distribute(dataset, strategy)
    if num_batches is None and steps_per_epoch is None and isinstance(dataset, tf.data.Dataset):
        if int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY:
            raise ValueError("steps_per_epoch is needed with an infinite (repeated) dataset")

    chief = is_chief(strategy)
    multi_worker = is_multi_worker(strategy)
    resolver = getattr(strategy, "cluster_resolver", None)
    task_name = f"{resolver.task_type}{resolver.task_id}" if resolver is not None else "worker"
    files = _WorkerFiles(callbacks, chief, task_name)
    agree = _make_agreement(strategy) if multi_worker else bool

    _build_optimizers(model, strategy)
    previous_train_function = model.train_function
    model.train_function = make_train_function(model, strategy)
    per_call = max(1, int(getattr(model, "steps_per_execution", 1) or 1))
    steps = steps_per_epoch or num_batches
    callback_list = keras.callbacks.CallbackList(
        files.callbacks,
        add_history=True,
        add_progbar=chief and verbose != 0,
        verbose=verbose if chief else 0,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    try:
        files.redirect(before_begin=True)
        model.stop_training = False
        callback_list.on_train_begin()
        files.redirect(before_begin=False)
        start = getattr(model, "_initial_epoch", None) or initial_epoch
        if multi_worker:
            _check_workers_agree(strategy, model, start)
        iterator, seen = None, 0
        training_logs = None
        for epoch in range(start, epochs):
            model.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            if iterator is None or steps_per_epoch is None:
                iterator, seen = iter(distributed), 0
            logs, step = {}, 0
            while steps is None or step < steps:
                callback_list.on_train_batch_begin(step)
                try:
                    logs = model.train_function(iterator)
                except StopIteration:
                    if steps is not None:
                        warnings.warn(
                            f"the dataset ran out of data after {seen} global batches in epoch {epoch + 1}; "
                            "give a repeated dataset or fewer steps_per_epoch"
                        )
                    iterator = None
                    break
                end = step + per_call - 1
                step, seen = step + per_call, seen + per_call
                callback_list.on_train_batch_end(end, logs)
                if agree(model.stop_training):
                    model.stop_training = True
                    break
            if num_batches is not None and seen >= num_batches:
                iterator = None
            epoch_logs = _epoch_logs(model, logs)
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if agree(model.stop_training):
                model.stop_training = True
                break
        _finalize_optimizers(model)
        callback_list.on_train_end(logs=training_logs)
    finally:
        model.train_function = previous_train_function
        files.restore()
    return model.history


def _epoch_logs(model, logs):
    """The trackers' global results when the step logs are exactly them (as `fit` does), else `logs`."""
    logs = dict(logs or {})
    results = model.get_metrics_result()
    if logs and set(logs) == set(results):
        return dict(results)
    return logs
