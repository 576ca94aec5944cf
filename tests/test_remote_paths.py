"""Run directories and export base paths behind a scheme (gs://, s3://), through tf.io.gfile.

No object store is reachable here, so these go through TensorFlow's `file://` file system,
which takes the same code path as `gs://`: any plain `os` call on such a path would make a
local `file:` folder in the working directory, which the tests look for, and the results
can be checked with plain tools. (TensorFlow's in-memory `remote://` was tried first: its
rename loses files moved after a copy, so it cannot stand in for an object store.)
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from test_callbacks import dataset, make_gan, state

from zoo import checkpoint, export, files, locks, training


@pytest.fixture
def remote(tmp_path, monkeypatch):
    """A file:// folder; the test runs in another folder, which must stay free of `file:` leaks."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield "file://" + str(tmp_path / "remote")
    assert os.listdir(work) == [], "a plain os call took a file:// path for a local one"


def read(path):
    with tf.io.gfile.GFile(path, "rb") as f:
        return f.read()


def test_atomic_writes_to_a_remote_path_leave_no_temporaries(remote):
    files.write_text(f"{remote}/a/b.txt", "one")
    files.write_text(f"{remote}/a/b.txt", "two")
    with files.atomic_directory(f"{remote}/a/folder") as tmp:
        os.makedirs(tmp)  # written locally, uploaded at the end
        open(os.path.join(tmp, "x"), "w").write("x")
    with files.atomic_directory(f"{remote}/a/folder") as tmp:
        os.makedirs(os.path.join(tmp, "sub"))
        open(os.path.join(tmp, "sub", "y"), "w").write("y")
    assert read(f"{remote}/a/b.txt") == b"two"
    assert sorted(files.listdir(f"{remote}/a")) == ["b.txt", "folder"]
    assert files.listdir(f"{remote}/a/folder") == ["sub"] and read(f"{remote}/a/folder/sub/y") == b"y"
    # What a killed write leaves (a hidden .NAME.tmp-*) is removed by the next writer.
    files.write_text(f"{remote}/a/.b.txt.tmp-dead", "half")
    assert files.remove_abandoned(f"{remote}/a/b.txt") == [f"{remote}/a/.b.txt.tmp-dead"]
    with pytest.raises(FileExistsError):
        files.rename(f"{remote}/a/b.txt", f"{remote}/a/folder")


def test_snapshots_on_a_remote_path_verify_and_fall_back(remote, capsys):
    gan = make_gan()
    directory = f"{remote}/run/checkpoint"
    for epoch in (1, 2, 3):
        checkpoint.save_snapshot(gan, directory, epoch=epoch, keep=2)
    assert sorted(files.listdir(directory)) == ["epoch-000002", "epoch-000003"]
    newest = f"{directory}/epoch-000003/state.npz"
    with tf.io.gfile.GFile(newest, "wb") as f:  # cut short
        f.write(b"PK")
    restored = make_gan(seed=5)
    assert checkpoint.restore(restored, directory)["epoch"] == 2
    assert "skipping the damaged checkpoint" in capsys.readouterr().err
    for a, b in zip(state(gan), state(restored)):
        np.testing.assert_array_equal(a, b)
    assert checkpoint.load_model(directory).built


def test_train_resumes_in_a_remote_run_directory(remote, tmp_path):
    run_dir = f"{remote}/run"
    reference = make_gan()
    reference.fit(dataset(2), epochs=2, verbose=0)
    training.train(make_gan(), dataset(2), epochs=1, run_dir=run_dir, verbose=0, num_samples=4)
    resumed = make_gan(seed=9)
    training.train(resumed, dataset(2), epochs=2, run_dir=run_dir, verbose=0, num_samples=4)
    local = tmp_path / "remote" / "run"
    assert sorted(os.listdir(local / "checkpoint")) == ["epoch-000001", "epoch-000002"]
    assert (local / "samples" / "latest.png").stat().st_size > 0
    assert [line.split(",")[0] for line in (local / "history.csv").read_text().splitlines()] == ["epoch", "0", "1"]
    assert json.loads((local / locks.LOCK_FILE).read_text() or "{}") == {}  # released
    assert not [name for name in os.listdir(local) if ".tmp-" in name]


def test_a_remote_run_directory_has_one_writer_through_a_lease(remote, capsys):
    run_dir = f"{remote}/run"
    files.write_text(f"{run_dir}/{locks.LOCK_FILE}", json.dumps(
        {"pid": 4242, "host": "elsewhere", "started": "2026-12-06T10:00:00+00:00", "heartbeat": time.time()}))
    assert locks.holder(run_dir)["pid"] == 4242
    with pytest.raises(locks.RunDirectoryBusy, match=r"in use by pid 4242 on elsewhere.*lease was renewed \d+ s ago"):
        training.train(make_gan(), dataset(1), epochs=1, run_dir=run_dir, verbose=0)
    assert not files.exists(f"{run_dir}/checkpoint")
    # Not renewed for longer than the lease: its holder is gone; taken over with a message.
    files.write_text(f"{run_dir}/{locks.LOCK_FILE}", json.dumps(
        {"pid": 4242, "host": "elsewhere", "heartbeat": time.time() - locks.LEASE_SECONDS - 1}))
    assert locks.holder(run_dir) is None
    with locks.run_directory_lock(run_dir):
        held = json.loads(read(f"{run_dir}/{locks.LOCK_FILE}"))
        assert held["pid"] == os.getpid() and time.time() - held["heartbeat"] < 60
        assert locks.holder(run_dir)["pid"] == os.getpid()
    assert "took over the lock" in capsys.readouterr().err
    assert locks.holder(run_dir) is None


def test_exports_to_a_remote_base_path_claim_versions_and_load(remote, tmp_path):
    from zoo.serving import config

    base = f"{remote}/models"
    gan = make_gan()
    (first,) = export.export_model(gan, "remote", base_path=base)
    (second,) = export.export_model(gan, "remote", base_path=base)
    assert (first, second) == (f"{base}/remote/1", f"{base}/remote/2")
    assert export.versions(base, "remote") == [1, 2]
    assert sorted(os.listdir(tmp_path / "remote" / "models" / "remote")) == ["1", "2"]  # no hidden folder left
    assert export.read_metadata(export.resolve_export(f"{base}/remote"))["model"]
    images = tf.saved_model.load(second).signatures["serving_default"](noise=tf.zeros((2, 8)))["images"]
    assert images.shape == (2, 16, 16, 1)
    assert config.find_models(base) == {"remote": [1, 2]}


def test_without_tensorflow_a_remote_path_is_a_clear_error(tmp_path):
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from zoo import files\n"
        "try:\n"
        "    files.exists('gs://bucket/runs/x')\n"
        "except files.RemotePathError as error:\n"
        "    print(error)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "gs://bucket/runs/x is a gs:// path" in out.stdout and "TensorFlow is not installed" in out.stdout
    assert "local folder" in out.stdout


def test_the_command_line_trains_samples_and_exports_through_remote_paths(remote, tmp_path, capsys):
    from zoo import cli

    run_dir, base = f"{remote}/run", f"{remote}/models"
    code = cli.main(["train", "gan", "--dataset", "digits", "--batch-size", "8", "--steps-per-epoch", "2",
                     "--limit", "64", "--image-size", "16", "--run-dir", run_dir, "--quiet", "--epochs", "1",
                     "--export", "digits_gan", "--base-path", base])
    assert code == 0, capsys.readouterr().err
    assert cli.main(["sample", "--checkpoint", f"{run_dir}/checkpoint", "--num", "4",
                     "--output", str(tmp_path / "grid.png")]) == 0
    assert cli.main(["serve-config", "--base-path", base]) == 0
    local = tmp_path / "remote"
    assert (tmp_path / "grid.png").stat().st_size > 0 and (local / "run" / "samples" / "latest.png").exists()
    assert sorted(os.listdir(local / "models")) == ["digits_gan", "models.config"]
    assert 'base_path: "' in (local / "models" / "models.config").read_text()
