"""Snapshots: the last N training states plus the best, verified on resume, with fallback."""

import json
import os

import keras
import numpy as np
import pytest
from test_callbacks import Kill, dataset, make_gan, state

from zoo import callbacks, checkpoint, training


def snapshot_names(directory):
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))


def test_snapshots_keep_the_newest_n_and_leave_no_temporaries(tmp_path):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    for epoch in range(1, 6):
        checkpoint.save_snapshot(gan, directory, epoch=epoch, keep=2)
    checkpoint.save_snapshot(gan, directory, epoch=5, step=3, keep=2)
    assert sorted(os.listdir(directory)) == ["epoch-000005", "epoch-000005-batch-000003"]
    assert checkpoint.snapshots(directory) == [os.path.join(directory, "epoch-000005-batch-000003"),
                                               os.path.join(directory, "epoch-000005")]
    assert checkpoint.read_progress(directory)["step"] == 3
    recorded = checkpoint.read_progress(directory)["files"]
    assert set(recorded) == {"state.npz", "config.json"} and all(len(f["sha256"]) == 64 for f in recorded.values())


def test_a_truncated_or_altered_newest_snapshot_is_passed_over(tmp_path, capsys):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    for epoch in (1, 2, 3):
        checkpoint.save_snapshot(gan, directory, epoch=epoch)
    newest = os.path.join(directory, "epoch-000003", "state.npz")
    with open(newest, "r+b") as f:  # same size, one byte flipped: only the checksum sees it
        f.seek(os.path.getsize(newest) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert checkpoint.exists(directory)  # sizes still match
    with pytest.raises(checkpoint.CorruptCheckpoint, match="SHA-256 differs"):
        checkpoint.verify(os.path.join(directory, "epoch-000003"))
    progress = checkpoint.restore(make_gan(), directory)
    assert progress["epoch"] == 2 and progress["read_from"].endswith("epoch-000002")
    assert "skipping the damaged checkpoint" in capsys.readouterr().err

    with open(os.path.join(directory, "epoch-000002", "state.npz"), "r+b") as f:
        f.truncate(100)  # cut short: the size check sees it, no hashing needed
    assert checkpoint.read_progress(directory)["epoch"] == 3  # sizes only: the flipped byte goes unseen
    assert not checkpoint.exists(os.path.join(directory, "epoch-000002"))
    folder, _, damaged = checkpoint.locate(directory)
    assert folder.endswith("epoch-000001")
    assert [os.path.basename(path) for path, _ in damaged] == ["epoch-000003", "epoch-000002"]
    assert "has 100 bytes" in damaged[1][1]


def test_unreadable_progress_and_missing_files_are_damage_too(tmp_path):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    for epoch in (1, 2, 3):
        checkpoint.save_snapshot(gan, directory, epoch=epoch)
    with open(os.path.join(directory, "epoch-000003", "progress.json"), "w") as f:
        f.write('{"epoch": 3, "fing')  # cut short mid-write by another tool
    os.remove(os.path.join(directory, "epoch-000002", "config.json"))
    folder, progress, damaged = checkpoint.locate(directory)
    assert folder.endswith("epoch-000001") and progress["epoch"] == 1
    reasons = dict((os.path.basename(path), reason) for path, reason in damaged)
    assert "cannot be read" in reasons["epoch-000003"] and "is missing" in reasons["epoch-000002"]
    assert checkpoint.load_model(directory).built


def test_nothing_that_verifies_is_an_error_naming_each_reason(tmp_path):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    checkpoint.save_snapshot(gan, directory, epoch=1)
    os.truncate(os.path.join(directory, "epoch-000001", "state.npz"), 10)
    assert not checkpoint.exists(directory)
    with pytest.raises(checkpoint.CorruptCheckpoint, match="no checkpoint under .* verifies: .*has 10 bytes"):
        checkpoint.restore(gan, directory)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        checkpoint.restore(gan, str(tmp_path / "empty"))


def test_a_checkpoint_without_recorded_sizes_still_loads_beside_newer_snapshots(tmp_path):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    checkpoint.save(gan, directory, epoch=2)  # the single-checkpoint layout of earlier versions
    progress_file = os.path.join(directory, "progress.json")
    with open(progress_file) as f:
        progress = json.load(f)
    del progress["files"]
    with open(progress_file, "w") as f:
        json.dump(progress, f)
    assert checkpoint.restore(gan, directory)["epoch"] == 2
    checkpoint.save_snapshot(gan, directory, epoch=3)
    assert checkpoint.read_progress(directory)["epoch"] == 3
    checkpoint.save_snapshot(gan, directory, epoch=1, keep=None)  # older than the single one
    assert [os.path.basename(f) for f in checkpoint._candidates(directory)] == ["epoch-000003", "checkpoint",
                                                                                 "epoch-000001"]


def test_resume_falls_back_from_a_corrupt_newest_snapshot_and_ends_with_the_same_weights(tmp_path, capsys):
    """The issue's check: the newest snapshot is damaged; training resumes from the one before it."""
    keras.utils.set_random_seed(11)
    reference = make_gan()
    reference.fit(dataset(), epochs=4, verbose=0)

    directory = str(tmp_path / "checkpoint")
    keras.utils.set_random_seed(11)
    interrupted = make_gan()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(dataset(), epochs=4, verbose=0,
                        callbacks=[callbacks.TrainingCheckpoint(directory, keep=2), Kill(2, 3)])
    assert snapshot_names(directory) == ["epoch-000001", "epoch-000002"]
    os.truncate(os.path.join(directory, "epoch-000002", "state.npz"), 1000)

    keras.utils.set_random_seed(99)
    resumed = make_gan()
    resumer = callbacks.TrainingCheckpoint(directory, keep=2)
    history = resumed.fit(dataset(), epochs=4, verbose=0, callbacks=[resumer])
    out = capsys.readouterr()
    assert resumer.restored["epoch"] == 1 and history.epoch == [1, 2, 3]
    assert "skipping the damaged checkpoint" in out.err and "set the damaged" in out.out
    for a, b in zip(state(reference), state(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    names = os.listdir(directory)
    assert sorted(n for n in names if n.startswith("epoch-") and "damaged" not in n) == ["epoch-000003",
                                                                                         "epoch-000004"]
    assert any(n.startswith("epoch-000002.damaged-") for n in names)  # kept for a look, read by no one


def test_snapshot_every_epochs_and_every_batches_across_epoch_ends(tmp_path):
    gan = make_gan()
    every_two = str(tmp_path / "every_two")
    gan.fit(dataset(2), epochs=5, verbose=0, callbacks=[callbacks.TrainingCheckpoint(every_two, keep=None, every=2)])
    assert snapshot_names(every_two) == ["epoch-000002", "epoch-000004", "epoch-000005"]  # and the last

    by_batches = str(tmp_path / "by_batches")
    gan = make_gan()
    # 2 batches an epoch, a snapshot every 3 trained batches: after batch 1 of epoch 2, after epoch 3
    # (its last batch: saved as the state after the epoch), after batch 1 of epoch 5, and the last.
    gan.fit(dataset(2), epochs=6, verbose=0,
            callbacks=[callbacks.TrainingCheckpoint(by_batches, save_freq=3, keep=None, every=None)])
    assert snapshot_names(by_batches) == ["epoch-000001-batch-000001", "epoch-000003", "epoch-000004-batch-000001",
                                          "epoch-000006"]
    with pytest.raises(ValueError, match="keep must be a positive int"):
        callbacks.TrainingCheckpoint(by_batches, keep=0)
    with pytest.raises(ValueError, match="every must be a positive int"):
        callbacks.TrainingCheckpoint(by_batches, every=1.5)


class LogScore(keras.callbacks.Callback):
    """Adds a made-up metric to the epoch logs, as an EvaluationCallback would."""

    def __init__(self, scores, key="fid2k_full"):
        super().__init__()
        self.scores, self.key = scores, key

    def on_epoch_end(self, epoch, logs=None):
        if self.scores.get(epoch) is not None:
            logs[self.key] = self.scores[epoch]
            logs[self.key + "_std"] = 0.1


def test_best_snapshot_follows_the_metric_and_survives_a_resume(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    directory = os.path.join(run_dir, "checkpoint")
    scores = {0: 30.0, 1: 20.0, 2: None, 3: 25.0}  # epoch 3 is not scored
    training.train(make_gan(), dataset(2), epochs=4, run_dir=run_dir, best="fid", keep=1, verbose=0,
                   callbacks=[LogScore(scores)])
    best = checkpoint.read_progress(os.path.join(directory, "best"))
    assert best["epoch"] == 2 and best["extra"]["best"] == {"monitor": "fid", "value": 20.0, "mode": "min"}
    assert snapshot_names(directory) == ["best", "epoch-000004"]
    assert "fid2k_full 20 is the best so far" in capsys.readouterr().out
    # Fallback: the newest snapshot damaged, best (epoch 2) is the newest whole state.
    os.truncate(os.path.join(directory, "epoch-000004", "state.npz"), 10)
    assert checkpoint.read_progress(directory)["epoch"] == 2

    # A resumed run compares against the recorded value: 22 is not better than 20, 15 is.
    training.train(make_gan(), dataset(2), epochs=6, run_dir=run_dir, best="fid", keep=1, verbose=0,
                   callbacks=[LogScore({2: 22.0, 3: 22.0, 4: 15.0, 5: 16.0})])
    best = checkpoint.read_progress(os.path.join(directory, "best"))
    assert best["epoch"] == 5 and best["extra"]["best"]["value"] == 15.0


def test_best_checkpoint_picks_the_direction_and_refuses_an_ambiguous_name(tmp_path):
    gan = make_gan()
    directory = str(tmp_path / "checkpoint")
    best = callbacks.BestCheckpoint(directory, "is")
    gan.fit(dataset(2), epochs=3, verbose=0, callbacks=[LogScore({0: 2.0, 1: 5.0, 2: 3.0}, key="is2k"), best])
    assert best.best == 5.0 and checkpoint.read_progress(os.path.join(directory, "best"))["epoch"] == 2
    ambiguous = callbacks.BestCheckpoint(directory, "pr")

    class LogBoth(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs.update(pr2k3_full_precision=0.5, pr2k3_full_recall=0.4)

    with pytest.raises(ValueError, match="matches several logged values"):
        make_gan().fit(dataset(1), epochs=1, verbose=0, callbacks=[LogBoth(), ambiguous])
    with pytest.raises(ValueError, match="mode must be"):
        callbacks.BestCheckpoint(directory, "fid", mode="lowest")
