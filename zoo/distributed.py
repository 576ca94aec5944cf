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
  (`make_strategy("multi_worker")`);
- a worker whose peers are not up yet waits for them in Python, saying every
  `WAIT_REPORT_S` seconds which ones it waits for (`wait_for_workers`), so
  that SIGTERM and Ctrl-C still stop it; during training they stop all the
  workers after the same batch, once the chief has saved the checkpoint
  (`StoppedBySignal`).

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
import signal
import socket
import sys
import tempfile
import threading
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from zoo import checks

STRATEGIES = ("default", "mirrored", "multi_worker")
WAIT_REPORT_S = 10  # seconds between the lines of a worker waiting for its peers (env ZOO_WAIT_REPORT_S)
PROBE_TIMEOUT_S = 0.5  # one TCP connect to a peer's address
# The signals that stop a run, in the order a message names them when several arrived.
STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT (Ctrl-C)"}


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


def make_strategy(name="default", devices=None, wait_report_s=None):
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
        wait_report_s: float > 0 or None, for "multi_worker": seconds between
            the lines printed while the other workers are not up (see
            `wait_for_workers`). Default None: `ZOO_WAIT_REPORT_S` from the
            environment, else `WAIT_REPORT_S`.

    Raises:
        StoppedBySignal: SIGTERM or SIGINT while waiting for the other workers.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if devices is not None and name != "mirrored":
        raise ValueError(f"devices: only the 'mirrored' strategy takes a device list, not {name!r}")
    if wait_report_s is not None and name != "multi_worker":
        raise ValueError(f"wait_report_s: only the 'multi_worker' strategy waits for other workers, not {name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    wait_for_workers(read_tf_config(), wait_report_s)
    return _multi_worker_strategy()


# -- waiting for the other workers, and stopping on a signal ---------------------------


class StoppedBySignal(SystemExit):
    """SIGTERM or SIGINT stopped a multi-worker wait or `distributed_fit`.

    A `SystemExit` whose code is 128 + the signal number: uncaught, it ends
    the program with the status a shell reports for that signal (143 for
    SIGTERM, 130 for Ctrl-C) and no traceback, and `except Exception` lets it
    pass. Its message (also printed on stderr) says where the run stopped and
    which checkpoint it keeps.

    Attributes:
        signum: int, the signal.
        message: str, what stopped and what was kept.
    """

    def __init__(self, signum, message):
        super().__init__(128 + signum)
        self.signum = signum
        self.message = message

    def __str__(self):
        return self.message


class _StopSignals:
    """In the `with` block, SIGTERM and SIGINT call `handler(signum, frame)`; the previous handlers come back after.

    Only the main thread may set handlers: elsewhere the block changes nothing.
    A handler that Python did not install (`getsignal` gives None) comes back
    as the default action.
    """

    def __init__(self, handler):
        self.handler = handler
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self.handler)
        return self

    def __exit__(self, *exc_info):
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous = {}
        return False


def cluster_tasks(config):
    """`[(name, "host:port")]` of the tasks that train together in a parsed `TF_CONFIG`: the chief, then the workers."""
    return [
        (f"{job} {index}", address)
        for job in ("chief", "worker")
        for index, address in enumerate(config["cluster"].get(job, ()))
    ]


def _host_port(address):
    host, _, port = str(address).rpartition(":")
    return host.strip("[]"), int(port)


def probe(address, timeout=PROBE_TIMEOUT_S):
    """None if a TCP connection to `address` ("host:port") opens within `timeout` seconds, else why it did not."""
    try:
        host, port = _host_port(address)
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ValueError:
        return "not a host:port address"
    except socket.gaierror:
        return "unknown host"
    except ConnectionRefusedError:
        return "not reachable: connection refused"
    except TimeoutError:
        return f"not reachable: no answer within {timeout:g} s"
    except OSError as error:
        return f"not reachable: {error.strerror or error}"


def waiting_line(me, total, since, waited, missing):
    """The line a waiting worker prints, e.g.

    `zoo: worker 1 of 2 waiting since 14:02:11 (40 s) for worker 0 (10.0.0.1:12345: not reachable: connection refused)`

    Args:
        me: str, this task ("worker 1").
        total: int, tasks in the cluster.
        since: float, when the wait began (`time.time()`), shown as local clock time.
        waited: float, seconds waited.
        missing: list of `(name, address, reason)` of the tasks not reachable yet; empty:
            all are, and TensorFlow's collective setup is what is left.
    """
    head = f"zoo: {me} of {total} waiting since {time.strftime('%H:%M:%S', time.localtime(since))} ({waited:.0f} s)"
    if not missing:
        return f"{head}: all workers reachable; waiting for TensorFlow's collective setup"
    return f"{head} for " + ", ".join(f"{name} ({address}: {reason})" for name, address, reason in missing)


def _report_interval(report_every):
    if report_every is None:
        text = os.environ.get("ZOO_WAIT_REPORT_S")
        if not text:
            return WAIT_REPORT_S
        try:
            report_every = float(text)
        except ValueError:
            raise ValueError(f"ZOO_WAIT_REPORT_S must be a number of seconds > 0, got {text!r}") from None
        name = "ZOO_WAIT_REPORT_S"
    else:
        name = "wait_report_s"
    checks.number(report_every, name, above=0)
    return report_every


def _listen(address):
    """A listening socket on the port of `address`, or None where it cannot be opened (TensorFlow then says why)."""
    try:
        port = _host_port(address)[1]
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", port))
    except (OSError, ValueError):
        return None


def wait_for_workers(config=None, report_every=None, stream=None):
    """Waits until every other task of the cluster answers on its address, saying whom it waits for.

    `MultiWorkerMirroredStrategy()` waits for all the workers itself, but
    inside TensorFlow, holding Python's global lock, and with TensorFlow's own
    SIGTERM handler (which only records the signal): a worker whose peers
    are not up printed nothing and ignored SIGTERM and Ctrl-C until they
    came. `make_strategy` waits here first, in Python: every `report_every`
    seconds one line on stderr (`waiting_line`) names the workers that do
    not answer yet, since when this one waits and for how long; SIGTERM and
    SIGINT end the wait with `StoppedBySignal` (training has not started,
    nothing was written). Meanwhile this worker listens on its own address
    so that the others see it is up (without accepting: connections are
    reset when the socket closes, before TensorFlow opens the port).

    Args:
        config: dict or None, the parsed `TF_CONFIG`. Default None: `read_tf_config()`.
        report_every: float > 0 or None, seconds between the lines. Default None:
            `ZOO_WAIT_REPORT_S` from the environment, else `WAIT_REPORT_S`.
        stream: file or None, where the lines go. Default None: `sys.stderr`.

    Returns:
        The seconds waited.

    Raises:
        StoppedBySignal: on SIGTERM or SIGINT (only in the main thread,
            the only one where Python runs signal handlers).
    """
    config = read_tf_config() if config is None else config
    every = _report_interval(report_every)
    stream = sys.stderr if stream is None else stream
    task = config["task"]
    me = f"{task['type']} {task.get('index', 0)}"
    tasks = cluster_tasks(config)
    peers = [(name, address) for name, address in tasks if name != me]
    if not peers or len(peers) == len(tasks):  # alone, or not one of the training tasks (an evaluator)
        return 0.0
    since, start = time.time(), time.monotonic()
    missing = {name: (address, "not probed yet") for name, address in peers}

    def stop(signum, frame):
        names = ", ".join(missing) or "TensorFlow's collective setup"
        raise StoppedBySignal(
            signum,
            f"zoo: {me} of {len(tasks)} stopped by {STOP_SIGNALS[signum]} after waiting "
            f"{time.monotonic() - start:.0f} s for {names}; training had not started and nothing was written",
        )

    reported = False
    beacon = _listen(dict(tasks)[me])
    try:
        with _StopSignals(stop):
            next_report = start + every
            while True:
                for name, address in peers:
                    if name in missing:
                        reason = probe(address)
                        if reason is None:
                            del missing[name]
                        else:
                            missing[name] = (address, reason)
                if not missing:
                    break
                now = time.monotonic()
                if now >= next_report:
                    lacking = [(name, address, reason) for name, (address, reason) in missing.items()]
                    print(waiting_line(me, len(tasks), since, now - start, lacking), file=stream, flush=True)
                    reported, next_report = True, now + every
                time.sleep(min(0.25, max(0.01, next_report - now)))
    except StoppedBySignal as stopped:
        print(stopped.message, file=stream, flush=True)
        raise
    finally:
        if beacon is not None:
            beacon.close()
    waited = time.monotonic() - start
    if reported:
        print(f"zoo: {me} of {len(tasks)}: all workers reachable after {waited:.0f} s; TensorFlow's collective "
              "setup follows", file=stream, flush=True)
    return waited


def _multi_worker_strategy():
    """`MultiWorkerMirroredStrategy()`, made with SIGTERM and SIGINT at their default action.

    Its setup holds Python's global lock until all workers have joined, so
    no Python handler could run then: at the default action Ctrl-C and
    SIGTERM end the process at once. The setup also installs TensorFlow's
    own SIGTERM handler (a preemption notifier that only records the
    signal); putting Python's handlers back afterwards replaces it, so that
    SIGTERM stops the process again.
    """
    with _StopSignals(signal.SIG_DFL):
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
    """`agree(stop, signum=None) -> (stop, signum)`, the same on every worker (one all-reduce).

    `stop` is True if any replica of any worker asked to stop or received a
    signal; `signum` is the first of `STOP_SIGNALS` that any worker received,
    else None.
    """
    order = list(STOP_SIGNALS)

    @tf.function
    def count(votes):
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(tf.identity, args=(votes,)), axis=None)

    def agree(stop, signum=None):
        votes = [1.0 if stop or signum else 0.0] + [1.0 if signum == s else 0.0 for s in order]
        counts = np.asarray(count(tf.constant(votes, "float32")))
        received = [s for s, n in zip(order, counts[1:]) if n > 0]
        return bool(counts[0] > 0), (received[0] if received else None)

    return agree


def _alone(stop, signum=None):
    return bool(stop or signum), signum


class _SignalStop:
    """`distributed_fit`'s signal handler: a first SIGTERM/SIGINT asks to stop after the batch; a second, at once."""

    def __init__(self):
        self.signum = None

    def __call__(self, signum, frame):
        if self.signum is not None:
            raise StoppedBySignal(signum, "")  # the message is written where the run's state is known
        self.signum = signum


def _last_checkpoint(callbacks):
    """The newest whole checkpoint the `TrainingCheckpoint`s among `callbacks` keep (sizes checked), or None."""
    from zoo import callbacks as zoo_callbacks
    from zoo import checkpoint

    for callback in callbacks:
        if isinstance(callback, zoo_callbacks.TrainingCheckpoint) and callback.directory:
            folder = checkpoint.locate(callback.directory, checksums=False)[0]
            if folder is not None:
                return folder
    return None


def _stop_message(signum, here, at_once, where, callbacks):
    how = "at once by a second " if at_once else "by "
    sent = "" if here else " (sent to another worker)"
    folder = _last_checkpoint(callbacks)
    if folder is None:
        kept = "no checkpoint was saved (zoo.callbacks.TrainingCheckpoint keeps one to resume from)"
    else:
        kept = f"the last checkpoint {folder} is intact; run the same command to resume"
    return f"zoo: training stopped {how}{STOP_SIGNALS[signum]}{sent} {where}; {kept}"


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

    SIGTERM or SIGINT (Ctrl-C) during the loop stops every worker after the
    same batch: the callbacks end the epoch as for any early stop (a
    `TrainingCheckpoint` saves the state after that batch), then
    `StoppedBySignal` is raised, naming the last checkpoint; uncaught, it
    exits with status 143 or 130; a signal after the last epoch's end still
    raises it. A second signal stops this process at once, leaving the
    last complete checkpoint as it was (checkpoints are written atomically);
    the other workers then wait in their next collective step.

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

    Raises:
        StoppedBySignal: SIGTERM or SIGINT during training (see above).

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
    agree = _make_agreement(strategy) if multi_worker else _alone
    signals = _SignalStop()
    stopped_by, where = None, "before the first batch"

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
        try:
            with _StopSignals(signals):
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
                    where = f"at the start of epoch {epoch + 1} of {epochs}"
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
                                    f"the dataset ran out of data after {seen} global batches in epoch "
                                    f"{epoch + 1}; give a repeated dataset or fewer steps_per_epoch"
                                )
                            iterator = None
                            break
                        end = step + per_call - 1
                        step, seen = step + per_call, seen + per_call
                        where = (f"in epoch {epoch + 1} of {epochs} after batch {step}"
                                 f"{f' of {steps}' if steps else ''}")
                        callback_list.on_train_batch_end(end, logs)
                        stop, stopped_by = agree(model.stop_training, signals.signum)
                        if stop:
                            if stopped_by is not None:
                                who = " all workers" if multi_worker else ""
                                others = ", and leaves the other workers waiting" if multi_worker else ""
                                print(f"zoo: {STOP_SIGNALS[stopped_by]}: stopping{who} after this batch (the "
                                      f"checkpoint is saved first; a second signal stops this process at once{others})",
                                      file=sys.stderr, flush=True)
                            model.stop_training = True
                            break
                    if num_batches is not None and seen >= num_batches:
                        iterator = None
                    epoch_logs = _epoch_logs(model, logs)
                    callback_list.on_epoch_end(epoch, epoch_logs)
                    where = f"after epoch {epoch + 1} of {epochs}" if stopped_by is None or step == steps else where
                    training_logs = epoch_logs
                    stop, stopped_by = agree(model.stop_training, signals.signum)
                    if stop:
                        model.stop_training = True
                        break
                _finalize_optimizers(model)
                callback_list.on_train_end(logs=training_logs)
        finally:
            model.train_function = previous_train_function
            files.restore()
    except StoppedBySignal as second:
        message = _stop_message(second.signum, True, True, where, callbacks)
        print(message, file=sys.stderr, flush=True)
        raise StoppedBySignal(second.signum, message) from None
    if stopped_by is None and signals.signum is not None:
        # It came after the last epoch's agreement, while the optimizers were finalised or
        # the callbacks ended training: every epoch ran, but what comes after (an export,
        # an evaluation) must not.
        stopped_by, where = signals.signum, "after its last epoch, as training ended"
    if stopped_by is not None:
        message = _stop_message(stopped_by, signals.signum is not None, False, where, callbacks)
        print(message, file=sys.stderr, flush=True)
        raise StoppedBySignal(stopped_by, message)
    return model.history


def _epoch_logs(model, logs):
    """The trackers' global results when the step logs are exactly them (as `fit` does), else `logs`."""
    logs = dict(logs or {})
    results = model.get_metrics_result()
    if logs and set(logs) == set(results):
        return dict(results)
    return logs
