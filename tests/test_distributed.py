"""zoo.distributed: the fit loop for tf.distribute strategies, multi-worker included."""

import csv
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from zoo import callbacks as zoo_callbacks
from zoo import checkpoint, distributed, nets, training
from zoo.models import GAN

SHAPE = (16, 16, 1)
LATENT = 8
EPOCHS = 2


def small_gan():
    """The DCGAN of the two-process test: 16x16x1, 4 base filters, Adam 1e-3."""
    generator = nets.dcgan_generator(LATENT, SHAPE, base_filters=4)
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
    gan = GAN(generator, discriminator, seed=3)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    return gan


def training_data():
    """4 global batches of 8 fixed images (4 per replica with two replicas)."""
    images = np.random.default_rng(0).uniform(-1, 1, (32, *SHAPE)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)


def mlp_gan(seed=7):
    keras.utils.set_random_seed(seed)
    generator = nets.mlp_generator(LATENT, (8, 8, 1), hidden_units=(16,))
    discriminator = nets.mlp_discriminator((8, 8, 1), hidden_units=(16,), dropout=0.0)
    gan = GAN(generator, discriminator, seed=3)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    return gan


def mlp_data(n=16, batch=4):
    images = np.random.default_rng(1).uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True)


def weights(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_weights(a, b, atol=1e-6):
    wa, wb = weights(a), weights(b)
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(x, y, atol=atol)


class Recorder(keras.callbacks.Callback):
    """Records the hooks called and the batch logs; can stop after a given (epoch, batch)."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.calls, self.batch_logs, self.stop_at, self._epoch = [], [], stop_at, None

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch}")
        self.batch_logs.append(dict(logs))
        if self.stop_at == (self._epoch, batch):
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


# -- same results as fit ------------------------------------------------------------


def test_matches_fit_on_one_device():
    reference = mlp_gan()
    expected = reference.fit(mlp_data(), epochs=EPOCHS, verbose=0).history
    gan = mlp_gan()
    before = weights(gan)
    history = distributed.distributed_fit(gan, mlp_data(), epochs=EPOCHS, verbose=0)
    assert any(not np.array_equal(b, a) for b, a in zip(before, weights(gan)))
    assert_same_weights(reference, gan)
    assert set(history.history) == set(expected) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for key in expected:
        np.testing.assert_allclose(history.history[key], expected[key], rtol=1e-6)


@pytest.mark.slow
def test_matches_fit_under_mirrored_strategy(two_replicas):
    with two_replicas.scope():
        reference = mlp_gan()
        gan = mlp_gan()
    expected = reference.fit(mlp_data(), epochs=EPOCHS, verbose=0).history
    history = distributed.distributed_fit(gan, mlp_data(), epochs=EPOCHS, verbose=0)
    assert_same_weights(reference, gan)
    for key in expected:
        np.testing.assert_allclose(history.history[key], expected[key], rtol=1e-6)


def test_critic_updates_take_fresh_real_batches_under_mirrored_strategy(two_replicas):
    """Each replica splits its share of the step's batch into d_steps critic batches (issue 25)."""
    with two_replicas.scope():
        keras.utils.set_random_seed(7)
        generator = nets.mlp_generator(LATENT, (8, 8, 1), hidden_units=(16,))
        critic = nets.mlp_discriminator((8, 8, 1), hidden_units=(16,), dropout=0.0)
        gan = GAN(generator, critic, loss="wasserstein", clip_value=0.05, d_steps=2, seed=3)
        gan.compile()
    history = distributed.distributed_fit(gan, mlp_data(n=32, batch=8), epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations.numpy()) == 2 * 4 and int(gan.g_optimizer.iterations.numpy()) == 4
    assert all(np.isfinite(values).all() for values in history.history.values())


class BatchMean(keras.Model):
    """Learns nothing; logs its batch's mean through a tracker ("tracked") and raw ("batch_mean")."""

    def __init__(self):
        super().__init__()
        self.tracker = keras.metrics.Mean(name="tracked")

    @property
    def metrics(self):
        return [self.tracker]

    def call(self, inputs):
        return inputs

    def train_step(self, data):
        self.tracker.update_state(ops.mean(data))
        return {"tracked": self.tracker.result(), "batch_mean": ops.mean(data)}


def test_logged_values_are_global_batch_means(two_replicas):
    # Batches of 0..3, 4..7, ...: replica 0 sees [0, 1] (mean 0.5), replica 1
    # [2, 3] (mean 2.5); the global mean 1.5 is logged only if the per-replica
    # values are averaged over the replicas (first replica: 0.5; sum: 3).
    data = tf.data.Dataset.from_tensor_slices(np.arange(16, dtype="float32")[:, None]).batch(4)
    with two_replicas.scope():
        model = BatchMean()
        model.compile()
    recorder = Recorder()
    history = distributed.distributed_fit(model, data, epochs=1, callbacks=[recorder], verbose=0)
    batch_means = [1.5, 5.5, 9.5, 13.5]
    np.testing.assert_allclose([logs["batch_mean"] for logs in recorder.batch_logs], batch_means)
    np.testing.assert_allclose([logs["tracked"] for logs in recorder.batch_logs], np.cumsum(batch_means) / [1, 2, 3, 4])
    assert history.history == {"tracked": [7.5], "batch_mean": [13.5]}
    # What fit logs for the same model and data.
    fit_recorder = Recorder()
    fit_history = model.fit(data, epochs=1, callbacks=[fit_recorder], verbose=0)
    assert fit_recorder.batch_logs == recorder.batch_logs
    assert fit_history.history == history.history


# -- callbacks --------------------------------------------------------------------------


def test_callback_hooks_stop_and_learning_rate_schedule():
    gan = mlp_gan()
    recorder = Recorder()
    decay = zoo_callbacks.LinearDecay(decay_start=0.5)
    history = distributed.distributed_fit(gan, mlp_data(n=8), epochs=2, callbacks=[recorder, decay], verbose=0)
    assert recorder.calls == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", "epoch_end 0",
        "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1", "epoch_end 1",
        "train_end",
    ]
    assert recorder.params["epochs"] == 2 and recorder.params["steps"] == 2
    assert history.epoch == [0, 1] and gan.history is history
    # LinearDecay over 2 epochs from the middle: epoch 1 trains at half the rate.
    for optimizer in gan.optimizers:
        assert float(optimizer.learning_rate) == pytest.approx(0.5e-2)

    stopper = Recorder(stop_at=(0, 0))
    time_limit = zoo_callbacks.TimeLimit(3600)
    history = distributed.distributed_fit(gan, mlp_data(n=8), epochs=3, callbacks=[stopper, time_limit], verbose=0)
    assert stopper.calls == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0", "epoch_end 0", "train_end"]
    assert history.epoch == [0] and not time_limit.stopped_early


def test_training_checkpoint_resumes_mid_epoch_to_the_uninterrupted_weights(tmp_path):
    uninterrupted = mlp_gan()
    distributed.distributed_fit(uninterrupted, mlp_data(), epochs=2, verbose=0)

    directory = str(tmp_path / "checkpoint")
    first = mlp_gan()
    stop = Recorder(stop_at=(0, 1))  # after 2 of the 4 batches of epoch 1
    csv_log = str(tmp_path / "history.csv")
    distributed.distributed_fit(
        first, mlp_data(), epochs=2, verbose=0,
        callbacks=[stop, zoo_callbacks.TrainingCheckpoint(directory), keras.callbacks.CSVLogger(csv_log, append=True)],
    )
    assert checkpoint.read_progress(directory)["epoch"] == 0
    assert checkpoint.read_progress(directory)["step"] == 2

    resumed = mlp_gan(seed=99)  # other initial weights: everything must come from the checkpoint
    resume = zoo_callbacks.TrainingCheckpoint(directory)
    recorder = Recorder()
    history = distributed.distributed_fit(
        resumed, mlp_data(), epochs=2, verbose=0,
        callbacks=[resume, recorder, keras.callbacks.CSVLogger(csv_log, append=True)],
    )
    assert resume.restored["step"] == 2
    assert history.epoch == [0, 1]
    assert len(recorder.batch_logs) == 4 + 4  # the 2 skipped batches report no logs
    assert recorder.batch_logs[:2] == [{}, {}] and all(recorder.batch_logs[2:])
    assert checkpoint.read_progress(directory)["epoch"] == 2
    assert_same_weights(uninterrupted, resumed, atol=1e-5)
    with open(csv_log) as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "0", "1"]


def test_non_chief_worker_writes_only_to_a_temporary_folder(tmp_path, monkeypatch):
    directory = str(tmp_path / "checkpoint")
    chief_model = mlp_gan()
    distributed.distributed_fit(
        chief_model, mlp_data(), epochs=1, verbose=0, callbacks=[zoo_callbacks.TrainingCheckpoint(directory)]
    )
    saved_state = os.path.getmtime(os.path.join(directory, checkpoint.snapshot_name(1), "state.npz"))

    monkeypatch.setattr(distributed, "is_chief", lambda strategy=None: False)
    made = []
    real_mkdtemp = distributed.tempfile.mkdtemp
    monkeypatch.setattr(distributed.tempfile, "mkdtemp", lambda **kw: made.append(real_mkdtemp(**kw)) or made[-1])
    csv_path, samples = str(tmp_path / "history.csv"), str(tmp_path / "samples")
    resume = zoo_callbacks.TrainingCheckpoint(directory)
    grid = zoo_callbacks.SampleGrid(samples, num_images=4)
    logger = keras.callbacks.CSVLogger(csv_path)
    worker = mlp_gan(seed=99)
    history = distributed.distributed_fit(worker, mlp_data(), epochs=2, verbose=0, callbacks=[resume, grid, logger])

    assert resume.restored["epoch"] == 1  # resumed from the chief's checkpoint ...
    assert history.epoch == [1]
    assert os.path.getmtime(os.path.join(directory, checkpoint.snapshot_name(1), "state.npz")) == saved_state  # ... without writing it
    assert checkpoint.read_progress(directory)["epoch"] == 1
    assert not os.path.exists(csv_path) and not os.path.exists(samples)
    made = [path for path in made if os.path.basename(path).startswith("zoo-worker")]
    assert len(made) == 1 and not os.path.exists(made[0])  # the temporary folder is removed
    assert (resume.directory, grid.directory, logger.filename) == (directory, samples, csv_path)


# -- arguments and strategies ----------------------------------------------------------


def test_bad_arguments(two_replicas):
    gan = mlp_gan()
    with pytest.raises(ValueError, match="epochs"):
        distributed.distributed_fit(gan, mlp_data(), epochs=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        distributed.distributed_fit(gan, mlp_data(), steps_per_epoch=0)
    with pytest.raises(ValueError, match="steps_per_epoch is needed"):
        distributed.distributed_fit(gan, mlp_data().repeat())
    with pytest.raises(ValueError, match="dataset must be"):
        distributed.distributed_fit(gan, np.zeros((4, 8, 8, 1)))
    with pytest.raises(ValueError, match="strategy.scope"):
        distributed.distributed_fit(gan, mlp_data(), strategy=two_replicas)
    with pytest.raises(ValueError, match="compiled"):
        distributed.distributed_fit(GAN(gan.generator, gan.discriminator), mlp_data())
    with pytest.raises(ValueError, match="TrainingCheckpoint"):
        distributed.distributed_fit(gan, mlp_data(), callbacks=[keras.callbacks.BackupAndRestore("/tmp/x")])
    with pytest.raises(ValueError, match="strategy must be one of"):
        distributed.make_strategy("horovod")
    with pytest.raises(ValueError, match="devices"):
        distributed.make_strategy("default", devices=["/cpu:0"])


def test_read_tf_config():
    good = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    assert distributed.read_tf_config({"TF_CONFIG": json.dumps(good)}) == good
    for text, match in [
        (None, "not set"),
        ("{", "not valid JSON"),
        (json.dumps({"task": good["task"]}), "cluster"),
        (json.dumps({"cluster": good["cluster"], "task": {"type": "ps", "index": 0}}), "task"),
        (json.dumps({"cluster": good["cluster"], "task": {"type": "worker", "index": 2}}), "index"),
    ]:
        with pytest.raises(ValueError, match=match):
            distributed.read_tf_config({} if text is None else {"TF_CONFIG": text})


def test_multi_worker_strategy_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG is not set"):
        distributed.make_strategy("multi_worker")


class _Cluster:
    """A stand-in strategy: only its `cluster_resolver` is read."""

    def __init__(self, cluster, task_type, task_id):
        self.cluster_resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id
        )


def test_chief_and_workers():
    workers = {"worker": ["a:1", "b:1"]}
    assert distributed.is_chief(_Cluster(workers, "worker", 0))
    assert not distributed.is_chief(_Cluster(workers, "worker", 1))
    assert distributed.num_workers(_Cluster(workers, "worker", 1)) == 2
    with_chief = {"chief": ["c:1"], "worker": ["a:1"]}
    assert distributed.is_chief(_Cluster(with_chief, "chief", 0))
    assert not distributed.is_chief(_Cluster(with_chief, "worker", 0))
    assert distributed.num_workers(_Cluster(with_chief, "worker", 0)) == 2
    assert distributed.is_chief() and distributed.num_workers() == 1
    assert not distributed.is_multi_worker(tf.distribute.get_strategy())
    policy = distributed.shard_by_data(mlp_data()).options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.DATA


def test_workers_that_start_from_different_states_are_named():
    same = [[1, 0.25], [1, 0.25 + 1e-8]]
    assert distributed._disagreement(same) is None
    for rows in ([[1, 0.25], [0, 0.25]], [[1, 0.25], [1, 3.5]]):
        message = distributed._disagreement(rows)
        assert "all machines share" in message and "start epochs" in message


# -- the zoo command --------------------------------------------------------------------


def test_train_with_a_strategy_checks_the_model_was_built_under_it(two_replicas, tmp_path):
    outside = mlp_gan()
    with pytest.raises(ValueError, match="strategy.scope"):
        training.train(outside, mlp_data(), epochs=1, run_dir=str(tmp_path), strategy=two_replicas)
    with two_replicas.scope():
        inside = mlp_gan()
    history = training.train(
        inside, mlp_data(), epochs=1, run_dir=str(tmp_path), strategy=two_replicas, samples=False, verbose=0
    )
    assert np.isfinite(history.history["d_loss"][0])
    assert checkpoint.read_progress(str(tmp_path / "checkpoint"))["epoch"] == 1


def test_zoo_train_strategy_arguments(capsys, monkeypatch):
    from zoo import cli

    common = ["train", "gan", "--dataset", "digits", "--epochs", "1"]
    assert cli.main([*common, "--cpu-replicas", "2"]) == 2
    assert "--cpu-replicas needs --strategy mirrored" in capsys.readouterr().err
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cli.main([*common, "--strategy", "multi_worker"]) == 2
    assert "TF_CONFIG is not set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*common, "--strategy", "parameter_server"])
    assert "invalid choice" in capsys.readouterr().err


# -- two worker processes ----------------------------------------------------------------


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _save_init(work_dir, model):
    np.savez(work_dir / "init.npz", **{f"{i:03d}": w for i, w in enumerate(weights(model))})


def _run_workers(work_dir, command):
    """Starts `python *command` as workers 0 and 1 of a localhost cluster (one CPU each)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        log = open(os.path.join(work_dir, f"worker{index}.log"), "w")
        process = subprocess.Popen([sys.executable, *command], env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
    return processes


def _wait(processes, work_dir, timeout=900):
    """Waits for the workers; asserts they succeeded; returns their logs."""
    try:
        for process, log in processes:
            process.wait(timeout=timeout)
            log.close()
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.kill()
    logs = []
    for index, (process, _) in enumerate(processes):
        with open(os.path.join(work_dir, f"worker{index}.log")) as f:
            logs.append(f.read())
        assert process.returncode == 0, logs[-1][-3000:]
    return logs


def _run_tasks(work_dir, *args):
    """Runs tests/multiworker_task.py on two workers; returns their JSON records."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiworker_task.py")
    _wait(_run_workers(work_dir, [script, str(work_dir), *args]), work_dir)
    records = []
    for index in range(2):
        with open(os.path.join(work_dir, f"worker{index}.json")) as f:
            records.append(json.load(f))
    return records


@pytest.mark.slow
def test_two_workers_train_like_two_mirrored_replicas(two_replicas, tmp_path):
    """Two worker processes (MultiWorkerMirroredStrategy, one CPU each) against
    one process with MirroredStrategy over two logical CPUs.

    Held equal: the initial weights (saved here, loaded by the workers), the
    model's seed (so its SeedGenerator states start equal), the replica ids
    (worker i is replica i, as logical CPU i is replica i here: `draw_seed`
    folds the replica id into the seed, so each replica draws the same noise
    in both runs), and the data: the same 4 global batches of 8 per epoch,
    which both strategies split into halves, the first half to replica 0
    (the workers read them with AutoShardPolicy.DATA). So the two runs make
    the same updates, up to the order of float additions in the all-reduces,
    and must log the same global means. Worker i is compared with replica i's
    copy of every variable: batch-norm moving statistics are not
    synchronised (aggregation "none"), so each replica keeps those of its own
    half-batches, in one process as across two; the chief's, which it saves,
    are replica 0's, as `get_weights` gives under MirroredStrategy.
    """
    with two_replicas.scope():
        keras.utils.set_random_seed(7)
        reference = small_gan()
    _save_init(tmp_path, reference)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "multiworker_task.py")
    workers = _run_workers(tmp_path, [script, str(tmp_path)])
    recorder = Recorder()
    expected = distributed.distributed_fit(reference, training_data(), epochs=EPOCHS, callbacks=[recorder], verbose=0)
    _wait(workers, tmp_path)
    records = []
    for index in range(2):
        with open(tmp_path / f"worker{index}.json") as f:
            records.append(json.load(f))

    assert [r["chief"] for r in records] == [True, False]
    assert [r["replicas"] for r in records] == [2, 2]
    for index, record in enumerate(records):
        with np.load(tmp_path / f"worker{index}.npz") as final:
            trained = [final[f"{i:03d}"] for i in range(len(final.files))]
        replica = [np.array(two_replicas.experimental_local_results(v.value)[index]) for v in reference.weights]
        assert len(trained) == len(replica)
        for a, b in zip(trained, replica):
            np.testing.assert_allclose(a, b, atol=2e-5)
        assert len(record["batch_logs"]) == EPOCHS * 4
        for got, want in zip(record["batch_logs"], recorder.batch_logs):
            assert set(got) == set(want)
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-6)
        for key, values in expected.history.items():
            np.testing.assert_allclose(record["history"][key], values, rtol=1e-4, atol=1e-6)
    # The chief alone wrote the log (appending: a second writer would add rows)
    # and the checkpoint.
    with open(tmp_path / "run" / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == [str(e) for e in range(EPOCHS)]
    assert checkpoint.read_progress(str(tmp_path / "run" / "checkpoint"))["epoch"] == EPOCHS
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint", "history.csv"]
    # Worker 1 alone asks to stop after its second batch; both stop there
    # (else worker 0 would wait forever in the next all-reduce).
    assert [r["stopped_run_batches"] for r in records] == [2, 2]


@pytest.mark.slow
def test_keras_fit_fails_under_multi_worker_strategy(tmp_path):
    """keras-team/keras#20585, the reason for zoo's own loop: if this fails,
    Keras' fit works with several workers again and may replace distributed_fit."""
    keras.utils.set_random_seed(7)
    _save_init(tmp_path, small_gan())
    records = _run_tasks(tmp_path, "--keras-fit")
    for record in records:
        assert record["keras_fit_error"] and "reduction dimension" in record["keras_fit_error"]


@pytest.mark.slow
def test_zoo_train_on_two_workers(tmp_path):
    """`zoo train --strategy multi_worker` on two processes: the chief alone
    prints, writes the run directory (checkpoint, sample grids, one CSV row per
    epoch) and exports; both finish."""
    run_dir, base = tmp_path / "run", tmp_path / "models"
    command = ["-m", "zoo.cli", "train", "dcgan", "--dataset", "digits", "--strategy", "multi_worker",
               "--batch-size", "8", "--steps-per-epoch", "2", "--limit", "64", "--image-size", "16",
               "--base-filters", "4", "--latent-dim", "8", "--epochs", "2", "--precision", "float32",
               "--run-dir", str(run_dir), "--export", "digits_dcgan", "--base-path", str(base), "--quiet"]
    chief_log, worker_log = _wait(_run_workers(tmp_path, command), tmp_path)
    assert "4 on each of 2 replicas, multi_worker" in chief_log and "exported" in chief_log
    assert "training" not in worker_log and "exported" not in worker_log
    assert checkpoint.read_progress(str(run_dir / "checkpoint"))["epoch"] == 2
    assert sorted(os.listdir(run_dir / "samples")) == ["epoch_0001.png", "epoch_0002.png", "latest.png"]
    with open(run_dir / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]
    assert os.listdir(base / "digits_dcgan") == ["1"]
