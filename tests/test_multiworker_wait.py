"""zoo.distributed: a worker says what it waits for, and SIGTERM / Ctrl-C stop it cleanly.

Issue 27: a multi-worker worker whose peers were not up printed nothing for
10 minutes and ignored SIGTERM (TensorFlow's setup holds Python's global lock
and installs its own SIGTERM handler, which only records the signal).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest

from zoo import callbacks as zoo_callbacks
from zoo import checkpoint, distributed

from test_distributed import _free_ports, mlp_data, mlp_gan

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _config(ports, index=0):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return {"cluster": cluster, "task": {"type": "worker", "index": index}}


class _Lines:
    """Collects what `wait_for_workers` prints."""

    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.extend(line for line in text.splitlines() if line)

    def flush(self):
        pass


# -- the peer probe and the status line ---------------------------------------------------


def test_probe_tells_a_listening_peer_from_a_missing_one():
    listening = socket.create_server(("127.0.0.1", 0))
    try:
        up = f"127.0.0.1:{listening.getsockname()[1]}"
        down = f"127.0.0.1:{_free_ports(1)[0]}"
        assert distributed.probe(up) is None
        assert distributed.probe(down) == "not reachable: connection refused"
        assert distributed.probe("no-such-host.invalid:1") == "unknown host"
        assert distributed.probe("nonsense") == "not a host:port address"
    finally:
        listening.close()


def test_waiting_line():
    since = time.mktime((2026, 12, 6, 14, 2, 11, 0, 0, -1))
    line = distributed.waiting_line(
        "worker 1", 3, since, 40.2,
        [("worker 0", "10.0.0.1:12345", "not reachable: connection refused"), ("worker 2", "b:1", "unknown host")],
    )
    assert line == ("zoo: worker 1 of 3 waiting since 14:02:11 (40 s) for worker 0 (10.0.0.1:12345: not reachable: "
                    "connection refused), worker 2 (b:1: unknown host)")
    assert distributed.waiting_line("chief 0", 2, since, 5, []) == (
        "zoo: chief 0 of 2 waiting since 14:02:11 (5 s): all workers reachable; waiting for TensorFlow's "
        "collective setup")


def test_cluster_tasks_and_the_report_interval(monkeypatch):
    config = {"cluster": {"worker": ["a:1", "b:2"], "chief": ["c:3"], "evaluator": ["e:4"]},
              "task": {"type": "worker", "index": 1}}
    assert distributed.cluster_tasks(config) == [("chief 0", "c:3"), ("worker 0", "a:1"), ("worker 1", "b:2")]
    monkeypatch.setenv("ZOO_WAIT_REPORT_S", "soon")
    with pytest.raises(ValueError, match="ZOO_WAIT_REPORT_S"):
        distributed.wait_for_workers(config)
    monkeypatch.setenv("ZOO_WAIT_REPORT_S", "0")
    with pytest.raises(ValueError, match="ZOO_WAIT_REPORT_S"):
        distributed.wait_for_workers(config)
    with pytest.raises(ValueError, match="wait_report_s"):
        distributed.wait_for_workers(config, report_every=-1)
    with pytest.raises(ValueError, match="wait_report_s"):
        distributed.make_strategy("mirrored", wait_report_s=1)
    # An evaluator does not train with the others: it does not wait for them.
    monkeypatch.delenv("ZOO_WAIT_REPORT_S")
    evaluator = dict(config, task={"type": "evaluator", "index": 0})
    assert distributed.wait_for_workers(evaluator) == 0.0


# -- the wait, in this process --------------------------------------------------------------


def test_wait_reports_the_missing_worker_until_it_comes():
    """Worker 0 waits for worker 1, which starts listening after about 1.5 s.

    Meanwhile worker 0 answers on its own address (so that worker 1 would see
    it), prints a line naming worker 1 every 0.3 s, and one last line when
    worker 1 answers.
    """
    mine, theirs = _free_ports(2)
    lines, seen_me, late = _Lines(), [], []

    def peer():
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if distributed.probe(f"127.0.0.1:{mine}") is None:
                seen_me.append(True)
            time.sleep(0.1)
        late.append(socket.create_server(("127.0.0.1", theirs)))

    thread = threading.Thread(target=peer)
    thread.start()
    try:
        waited = distributed.wait_for_workers(_config([mine, theirs]), report_every=0.3, stream=lines)
    finally:
        thread.join()
        for s in late:
            s.close()
    assert 1.4 < waited < 10
    assert seen_me
    waiting = [line for line in lines.lines if "waiting since" in line]
    assert len(waiting) >= 2, lines.lines
    for line in waiting:
        assert re.fullmatch(
            rf"zoo: worker 0 of 2 waiting since \d\d:\d\d:\d\d \(\d+ s\) for worker 1 "
            rf"\(127\.0\.0\.1:{theirs}: not reachable: connection refused\)", line), line
    assert lines.lines[-1].startswith("zoo: worker 0 of 2: all workers reachable after")
    assert distributed.probe(f"127.0.0.1:{mine}") is not None  # the port is free again for TensorFlow


def test_wait_prints_nothing_when_the_workers_are_up():
    listening = socket.create_server(("127.0.0.1", 0))
    mine = _free_ports(1)[0]
    lines = _Lines()
    try:
        config = _config([listening.getsockname()[1], mine], index=1)
        assert distributed.wait_for_workers(config, report_every=0.01, stream=lines) < 1
    finally:
        listening.close()
    assert lines.lines == []


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_the_wait(signum, status):
    lines = _Lines()
    before = signal.getsignal(signum)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signum))
    timer.start()
    start = time.monotonic()
    with pytest.raises(distributed.StoppedBySignal) as stopped:
        distributed.wait_for_workers(_config(_free_ports(2)), report_every=60, stream=lines)
    timer.join()
    assert time.monotonic() - start < 5
    assert stopped.value.code == status and stopped.value.signum == signum
    name = "SIGTERM" if signum == signal.SIGTERM else r"SIGINT \(Ctrl-C\)"
    assert re.fullmatch(rf"zoo: worker 0 of 2 stopped by {name} after waiting \d+ s for worker 1; training had "
                        "not started and nothing was written", str(stopped.value))
    assert lines.lines == [str(stopped.value)]
    assert signal.getsignal(signum) is before


# -- a worker process started alone --------------------------------------------------------


def _start_alone(tmp_path):
    """Worker 1 of a localhost cluster of two, without worker 0, reporting every second."""
    ports = _free_ports(2)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", ZOO_WAIT_REPORT_S="1",
               TF_CONFIG=json.dumps(_config(ports, index=1)), PYTHONPATH=ROOT)
    code = "from zoo import distributed; distributed.make_strategy('multi_worker'); print('strategy made')"
    log = open(tmp_path / "worker1.log", "w+")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log, ports


def _read(log):
    log.flush()
    log.seek(0)
    return log.read()


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_worker_alone_says_whom_it_waits_for_and_stops_on_a_signal(tmp_path, signum, status):
    process, log, ports = _start_alone(tmp_path)
    try:
        deadline = time.monotonic() + 120  # importing TensorFlow on a busy machine
        while "waiting since" not in _read(log) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        text = _read(log)
        assert process.poll() is None, text
        assert re.search(rf"zoo: worker 1 of 2 waiting since \d\d:\d\d:\d\d \(\d+ s\) for worker 0 "
                         rf"\(127\.0\.0\.1:{ports[0]}: not reachable: connection refused\)", text), text
        assert distributed.probe(f"127.0.0.1:{ports[1]}") is None  # it answers on its own address
        start = time.monotonic()
        process.send_signal(signum)
        assert process.wait(timeout=20) == status
        assert time.monotonic() - start < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = _read(log)
    log.close()
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT (Ctrl-C)"
    assert f"stopped by {name} after waiting" in text
    assert "for worker 0; training had not started and nothing was written" in text
    assert "strategy made" not in text and "Traceback" not in text


# -- stopping distributed_fit -----------------------------------------------------------------


class _SendSignal(keras.callbacks.Callback):
    """Sends `signum` to this process after the given (epoch, batch)s."""

    def __init__(self, signum, at):
        super().__init__()
        self.signum, self.at, self.batches, self._epoch = signum, list(at), [], 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append((self._epoch, batch))
        if (self._epoch, batch) in self.at:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_training_after_the_batch_with_a_checkpoint(tmp_path, capsys, signum, status):
    gan = mlp_gan()
    directory = str(tmp_path / "checkpoint")
    sender = _SendSignal(signum, [(1, 1)])
    before = signal.getsignal(signum)
    with pytest.raises(distributed.StoppedBySignal) as stopped:
        distributed.distributed_fit(gan, mlp_data(), epochs=3, verbose=0,
                                    callbacks=[zoo_callbacks.TrainingCheckpoint(directory), sender])
    assert stopped.value.code == status
    assert sender.batches == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]  # no batch after the signal
    folder = os.path.join(directory, checkpoint.snapshot_name(1, 2))
    assert checkpoint.verify(folder)["step"] == 2  # the state after the batch, saved before stopping
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT (Ctrl-C)"
    assert str(stopped.value) == (f"zoo: training stopped by {name} in epoch 2 of 3 after batch 2 of 4; the last "
                                  f"checkpoint {folder} is intact; run the same command to resume")
    err = capsys.readouterr().err
    assert f"zoo: {name}: stopping after this batch" in err and str(stopped.value) in err
    assert signal.getsignal(signum) is before
    # The same run resumes from there and ends.
    history = distributed.distributed_fit(gan, mlp_data(), epochs=3, verbose=0,
                                          callbacks=[zoo_callbacks.TrainingCheckpoint(directory)])
    assert len(history.history["d_loss"]) == 2 and np.isfinite(history.history["d_loss"]).all()


def test_a_second_signal_stops_at_once_and_keeps_the_last_checkpoint(tmp_path):
    gan = mlp_gan()
    directory = str(tmp_path / "checkpoint")

    class SecondDuringSave(zoo_callbacks.TrainingCheckpoint):
        def _save(self, epoch, step, logs):
            if self.model.stop_training:
                os.kill(os.getpid(), signal.SIGTERM)  # the second one, as the stop's save begins
            super()._save(epoch, step, logs)

    with pytest.raises(distributed.StoppedBySignal) as stopped:
        distributed.distributed_fit(gan, mlp_data(), epochs=3, verbose=0,
                                    callbacks=[SecondDuringSave(directory), _SendSignal(signal.SIGTERM, [(1, 0)])])
    assert stopped.value.code == 143
    assert checkpoint.snapshots(directory) == [os.path.join(directory, checkpoint.snapshot_name(1))]
    assert str(stopped.value) == (
        "zoo: training stopped at once by a second SIGTERM in epoch 2 of 3 after batch 1 of 4; the last checkpoint "
        f"{os.path.join(directory, checkpoint.snapshot_name(1))} is intact; run the same command to resume")


def test_a_signal_as_training_ends_still_stops_the_program(tmp_path, capsys):
    gan = mlp_gan()
    directory = str(tmp_path / "checkpoint")

    class SignalAtTrainEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            os.kill(os.getpid(), signal.SIGTERM)  # after the last epoch's agreement

    with pytest.raises(distributed.StoppedBySignal) as stopped:
        distributed.distributed_fit(gan, mlp_data(), epochs=1, verbose=0,
                                    callbacks=[zoo_callbacks.TrainingCheckpoint(directory), SignalAtTrainEnd()])
    assert stopped.value.code == 143
    folder = os.path.join(directory, checkpoint.snapshot_name(1))
    assert str(stopped.value) == ("zoo: training stopped by SIGTERM after its last epoch, as training ended; the last "
                                  f"checkpoint {folder} is intact; run the same command to resume")
    assert str(stopped.value) in capsys.readouterr().err


@pytest.mark.slow
def test_two_workers_started_apart_wait_then_stop_together_on_sigterm(tmp_path):
    """Worker 0 starts alone and says it waits for worker 1; once worker 1 is up
    both train, until worker 1 alone gets SIGTERM: both stop after the same
    batch with status 143, and the chief's checkpoint of that batch verifies."""
    ports = _free_ports(2)
    run_dir = tmp_path / "run"
    script = os.path.join(HERE, "multiworker_signal_task.py")
    processes, logs = [], []
    try:
        for index in range(2):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", ZOO_WAIT_REPORT_S="1",
                       TF_CONFIG=json.dumps(_config(ports, index=index)))
            logs.append(open(tmp_path / f"worker{index}.log", "w+"))
            processes.append(subprocess.Popen([sys.executable, script, str(run_dir)], env=env, stdout=logs[-1],
                                              stderr=subprocess.STDOUT))
            if index == 0:
                deadline = time.monotonic() + 120
                while "waiting since" not in _read(logs[0]) and time.monotonic() < deadline:
                    assert processes[0].poll() is None, _read(logs[0])
                    time.sleep(0.2)
        statuses = [process.wait(timeout=600) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    texts = [_read(log) for log in logs]
    for log in logs:
        log.close()
    assert statuses == [143, 143], texts
    assert f"for worker 1 (127.0.0.1:{ports[1]}: not reachable: connection refused)" in texts[0]
    assert "zoo: worker 0 of 2: all workers reachable after" in texts[0]
    folder = os.path.join(run_dir, "checkpoint", checkpoint.snapshot_name(1, 2))
    assert checkpoint.verify(folder)["step"] == 2
    kept = f"in epoch 2 of 3 after batch 2 of 4; the last checkpoint {folder} is intact"
    assert f"zoo: training stopped by SIGTERM (sent to another worker) {kept}" in texts[0]
    assert f"zoo: training stopped by SIGTERM {kept}" in texts[1]
    assert all("training ended" not in text and "Traceback" not in text for text in texts)
    assert all("after make_strategy, a handler catches SIGTERM: False" in text for text in texts)
