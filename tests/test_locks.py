"""One writer per run directory (zoo.locks), and export versions claimed at the rename."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

from zoo import cli, export, locks

HOLD = textwrap.dedent(
    """
    import sys, time
    from zoo import locks
    with locks.run_directory_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(600)
    """
)


def _holding_process(run_dir):
    """A process that holds `run_dir`'s lock until killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_writer_is_refused_and_a_killed_holders_lock_taken_over(tmp_path, capsys):
    run_dir = tmp_path / "run"
    holder = _holding_process(run_dir)
    try:
        with pytest.raises(locks.RunDirectoryBusy, match=rf"{run_dir} is in use by pid {holder.pid} on "
                           rf"{socket.gethostname()}, started 20.*: one run directory has one writer.*--run-dir"):
            with locks.run_directory_lock(run_dir):
                pass
        assert locks.holder(run_dir)["pid"] == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # kill -9 released the OS lock; the file still names the dead holder.
    assert locks.holder(run_dir) is None
    with locks.run_directory_lock(run_dir):
        with locks.run_directory_lock(run_dir):  # re-entrant in one process
            assert json.loads((run_dir / locks.LOCK_FILE).read_text())["pid"] == os.getpid()
    assert f"took over the lock of {run_dir}, left by pid {holder.pid}" in capsys.readouterr().err
    # A clean exit leaves no holder: the next writer takes it without a message.
    with locks.run_directory_lock(run_dir):
        pass
    assert "took over" not in capsys.readouterr().err and locks.holder(run_dir) is None


def test_zoo_train_refuses_a_busy_run_directory_at_once(tmp_path, capsys):
    run_dir = tmp_path / "run"
    holder = _holding_process(run_dir)
    try:
        code = cli.main(["train", "dcgan", "--dataset", "digits", "--epochs", "1", "--limit", "16", "--batch-size",
                         "8", "--run-dir", str(run_dir), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and f"is in use by pid {holder.pid}" in err and err.count("\n") == 1
        assert not (run_dir / "checkpoint").exists() and not (run_dir / "history.csv").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def _finished_export(folder, index):
    path = folder / f"export-{index}"
    path.mkdir()
    (path / "saved_model.pb").write_text(str(index))
    return str(path)


def test_concurrent_claims_each_get_their_own_version(tmp_path):
    folder = tmp_path / "name"
    folder.mkdir()
    (folder / "3").mkdir()  # an existing version: the claims start after it
    (folder / "3" / "saved_model.pb").write_text("old")
    sources = [_finished_export(tmp_path, i) for i in range(10)]
    claimed, errors = [None] * 10, []
    start = threading.Barrier(10)

    def claim(i):
        try:
            start.wait()
            claimed[i] = export._claim(sources[i], str(folder), None)
        except Exception as error:  # noqa: BLE001 -- reported below
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(int(os.path.basename(p)) for p in claimed) == list(range(4, 14))
    # Each export is whole where it landed, and the old version is untouched.
    contents = sorted((folder / os.path.basename(p) / "saved_model.pb").read_text() for p in claimed)
    assert contents == sorted(str(i) for i in range(10)) and (folder / "3" / "saved_model.pb").read_text() == "old"
    with pytest.raises(FileExistsError, match="already exists; pass another version"):
        export._claim(_finished_export(tmp_path, 99), str(folder), 5)


def test_concurrent_zoo_exports_and_what_a_killed_one_leaves(tmp_path):
    """Three `zoo export` processes of one name at once: three complete versions, no error."""
    import keras

    from zoo import checkpoint, models, nets

    keras.utils.set_random_seed(0)
    gan = models.GAN(nets.mlp_generator(4, (8, 8, 1), hidden_units=(8,)), nets.mlp_discriminator((8, 8, 1),
                                                                                                  hidden_units=(8,)))
    gan.compile()
    checkpoint.save(gan, str(tmp_path / "checkpoint"))
    base = tmp_path / "models"
    # What an export killed mid-write leaves: a hidden folder owned by a process that has ended.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = base / "tiny" / ".export.tmp-killed"
    leftover.mkdir(parents=True)
    (leftover / "owner.json").write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    live = base / "tiny" / ".export.tmp-running"
    live.mkdir()
    (live / "owner.json").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "zoo.cli", "export", "--checkpoint", str(tmp_path / "checkpoint"), "--name",
               "tiny", "--base-path", str(base)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    assert export.versions(str(base), "tiny") == [1, 2, 3]
    for version in (1, 2, 3):
        assert (base / "tiny" / str(version) / "saved_model.pb").is_file()
        assert (base / "tiny" / str(version) / "assets.extra" / "zoo.json").is_file()
    assert not leftover.exists() and live.exists()  # the live export's folder is not touched
    assert sum("left by an export" in err for _, err in outputs) == 1
    assert sorted(name for name in os.listdir(base / "tiny") if name.startswith(".")) == [".export.tmp-running"]


def test_the_lock_is_released_when_the_block_fails(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with locks.run_directory_lock(tmp_path):
            raise RuntimeError("boom")
    assert locks.holder(tmp_path) is None
    assert (tmp_path / locks.LOCK_FILE).read_text() == ""  # emptied: no stale holder to report


def _disk_full(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_a_full_disk_keeps_the_last_checkpoint_and_export_and_says_so(tmp_path, monkeypatch, capsys):
    import keras
    import numpy as np

    from zoo import checkpoint, files, models, nets

    keras.utils.set_random_seed(0)
    gan = models.GAN(nets.mlp_generator(4, (8, 8, 1), hidden_units=(8,)), nets.mlp_discriminator((8, 8, 1),
                                                                                                  hidden_units=(8,)))
    gan.compile()
    path = str(tmp_path / "checkpoint")
    checkpoint.save(gan, path, epoch=1)
    export.export_generator(gan, "tiny", base_path=str(tmp_path / "models"))
    before = sorted(os.listdir(tmp_path)), sorted(os.listdir(tmp_path / "models" / "tiny"))
    with monkeypatch.context() as patch:
        patch.setattr(np, "savez", _disk_full)
        with pytest.raises(files.WriteError, match=rf"could not write the checkpoint to {path}: the disk is full "
                           rf"\(No space left on device\); the previous checkpoint in {path} is intact"):
            checkpoint.save(gan, path, epoch=2)
    with monkeypatch.context() as patch:
        patch.setattr(export._Archive, "write_out", _disk_full)
        with pytest.raises(files.WriteError, match="could not write the export to .*tiny: the disk is full .*no "
                           "version was added and the others are intact"):
            export.export_generator(gan, "tiny", base_path=str(tmp_path / "models"))
    assert (sorted(os.listdir(tmp_path)), sorted(os.listdir(tmp_path / "models" / "tiny"))) == before
    assert checkpoint.read_progress(path)["epoch"] == 1 and export.versions(str(tmp_path / "models"), "tiny") == [1]
    # zoo train says it in one line.
    monkeypatch.setattr(np, "savez", _disk_full)
    code = cli.main(["train", "dcgan", "--dataset", "digits", "--epochs", "1", "--limit", "16", "--batch-size", "8",
                     "--steps-per-epoch", "1", "--run-dir", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "could not write the checkpoint to" in err and "the disk is full" in err
    assert err.strip().count("\n") == 0, err
