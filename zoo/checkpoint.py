"""Complete training state on disk, written atomically.

A checkpoint is a directory holding:

- `config.json`: the model's serialized config (nets included), so that
  `load_model(path)` rebuilds it without the code that created it;
- `state.npz`: every variable of the model (weights, batch-norm statistics,
  seed-generator states) and of each of its optimizers, in a fixed order;
- `progress.json`: epochs completed, batches done in the current epoch, and a
  fingerprint of the variables' shapes used to reject a mismatched model.

It is written to a temporary sibling directory and renamed into place, so a
kill at any moment leaves either the previous or the new checkpoint whole.
`progress.json` also records every other file's size and SHA-256, so a file
damaged later (a disk error, a copy cut short) is found before it is read.

**Snapshots.** Training keeps several checkpoints in one folder (what
`zoo.callbacks.TrainingCheckpoint` writes to `RUN_DIR/checkpoint`): the last
few states, each a checkpoint named by its progress (`epoch-000012`, or
`epoch-000012-batch-000300` for a state inside the 13th epoch), and `best`, the
state with the best value of a tracked metric. Every reader (`exists`,
`restore`, `load_model`, and so `zoo sample`, `zoo export`, `zoo evaluate`)
takes such a folder or a single checkpoint alike; from a folder it reads the
newest state that verifies, and says which damaged ones it passed over.
"""

import contextlib
import hashlib
import json
import os
import re
import sys
import time

import keras
import numpy as np

from zoo import files

BEST = "best"
_SNAPSHOT = re.compile(r"^epoch-(\d{6,})(?:-batch-(\d{6,}))?$")
_FILES = ("state.npz", "config.json")


class CorruptCheckpoint(ValueError):
    """A checkpoint whose files are missing, cut short or altered since it was written."""


def _build_optimizers(model):
    """Creates optimizer slots, under the model's distribution strategy if any."""
    if not (hasattr(model, "build_optimizers") and getattr(model, "compiled", False)):
        return
    strategy = getattr(model, "distribute_strategy", None)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model.build_optimizers()


def _optimizer_names(model):
    return list(getattr(model, "OPTIMIZERS", ()))


def _state_variables(model):
    """`{group: [variables]}` for the model and each of its built optimizers."""
    groups = {"model": list(model.variables)}
    for name in _optimizer_names(model):
        optimizer = getattr(model, name, None)
        if optimizer is not None:
            groups[name] = list(optimizer.variables)
    return groups


def _fingerprint(groups):
    return {group: [list(v.shape) for v in variables] for group, variables in groups.items()}


def _describe(path):
    """`{"bytes": size, "sha256": hex digest}` of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with files.open_file(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": files.getsize(path), "sha256": digest.hexdigest()}


def _single(path):
    """The folder of the single checkpoint `path`: itself, or `path.old` if a swap was interrupted."""
    for folder in (path, path + ".old"):
        if files.isfile(os.path.join(folder, "progress.json")):
            return folder
    return None


def _read_progress_file(folder):
    try:
        with files.open_file(os.path.join(folder, "progress.json")) as f:
            progress = json.loads(f.read())
    except (OSError, ValueError) as error:
        raise CorruptCheckpoint(f"{folder}/progress.json cannot be read ({error})") from error
    if not isinstance(progress, dict) or "epoch" not in progress or "fingerprint" not in progress:
        raise CorruptCheckpoint(f"{folder}/progress.json is not a zoo checkpoint's progress file")
    return progress


def verify(folder, checksums=True):
    """Checks the single checkpoint in `folder` against its recorded sizes and checksums; returns its progress.

    Checkpoints written before sizes were recorded pass on the presence of their files.

    Args:
        folder: str, one checkpoint's folder (not a snapshot folder).
        checksums: bool, also compare SHA-256 digests (reads every byte); False compares sizes.

    Raises:
        CorruptCheckpoint: naming the first file that is missing, of the wrong size or altered.
    """
    progress = _read_progress_file(folder)
    recorded = progress.get("files") or {name: None for name in _FILES}
    for name, expected in recorded.items():
        path = os.path.join(folder, name)
        if not files.isfile(path):
            raise CorruptCheckpoint(f"{path} is missing")
        if expected is None:
            continue
        size = files.getsize(path)
        if size != expected["bytes"]:
            raise CorruptCheckpoint(f"{path} has {size} bytes, {expected['bytes']} were written")
        if checksums and _describe(path)["sha256"] != expected["sha256"]:
            raise CorruptCheckpoint(f"{path} has changed since it was written (SHA-256 differs)")
    return progress


def snapshot_name(epoch, step=0):
    """The folder name of the snapshot after `epoch` epochs and `step` batches: `epoch-000012(-batch-000300)`."""
    return f"epoch-{epoch:06d}" + (f"-batch-{step:06d}" if step else "")


def snapshots(directory):
    """The snapshot folders in `directory`, newest first (by their names' progress)."""
    found = []
    for name in files.listdir(directory):
        match = _SNAPSHOT.match(name)
        if match and files.isdir(os.path.join(directory, name)):
            found.append(((int(match.group(1)), int(match.group(2) or 0)), os.path.join(directory, name)))
    return [path for _, path in sorted(found, reverse=True)]


def _candidates(path):
    """Every checkpoint `path` names, newest first: its snapshots, `best`, and `path` as a single checkpoint.

    `best` and a single checkpoint are placed by the progress they record; at equal progress a
    snapshot comes first. An unreadable one sorts last (it is reported when tried).
    """
    path = os.fspath(path)
    ranked = []
    for folder in snapshots(path):
        match = _SNAPSHOT.match(os.path.basename(folder))
        ranked.append(((int(match.group(1)), int(match.group(2) or 0), 2), folder))
    for folder, rank in ((_single(os.path.join(path, BEST)), 1), (_single(path), 0)):
        if folder is None:
            continue
        try:
            progress = _read_progress_file(folder)
            ranked.append(((int(progress["epoch"]), int(progress["step"]), rank), folder))
        except CorruptCheckpoint:
            ranked.append(((-1, -1, rank), folder))
    return [folder for _, folder in sorted(ranked, key=lambda item: item[0], reverse=True)]


def locate(path, checksums=True):
    """The newest checkpoint under `path` that verifies, and the damaged newer ones passed over.

    Args:
        path: str, a single checkpoint or a snapshot folder.
        checksums: bool, verify SHA-256 digests (True) or only sizes (False).

    Returns:
        `(folder, progress, damaged)`: the folder to read, its progress dict, and a list of
        `(folder, reason)` for newer checkpoints that failed to verify. `(None, None, damaged)`
        when nothing under `path` verifies.
    """
    damaged = []
    for folder in _candidates(path):
        try:
            return folder, verify(folder, checksums), damaged
        except CorruptCheckpoint as error:
            damaged.append((folder, str(error)))
    return None, None, damaged


def _find(path):
    """`locate` with checksums, reporting fallbacks on stderr; raises if nothing verifies."""
    folder, progress, damaged = locate(path)
    for bad, reason in damaged:
        if folder is not None:
            print(f"skipping the damaged checkpoint {bad}: {reason}; reading {folder} instead", file=sys.stderr)
    if folder is None:
        if damaged:
            reasons = "; ".join(reason for _, reason in damaged)
            raise CorruptCheckpoint(f"no checkpoint under {path!r} verifies: {reasons}")
        raise FileNotFoundError(f"no checkpoint at {path!r} (expected {path}/progress.json or snapshots "
                                f"{snapshot_name(1)}, ... in it)")
    return folder, progress, damaged


def exists(path):
    """True if `path` holds a checkpoint, or snapshots of which one is whole (sizes checked)."""
    return locate(path, checksums=False)[0] is not None


def save(model, path, epoch=0, step=0, extra=None):
    """Writes the full training state of `model` to the directory `path`.

    Args:
        model: a compiled zoo model (optimizers are built first if needed).
        path: str, checkpoint directory (replaced atomically).
        epoch: int, epochs completed.
        step: int, batches completed in the current (unfinished) epoch.
        extra: optional JSON-serialisable dict stored in `progress.json`.
    """
    _build_optimizers(model)
    groups = _state_variables(model)
    arrays = {
        f"{group}/{i:05d}": keras.ops.convert_to_numpy(v)
        for group, variables in groups.items()
        for i, v in enumerate(variables)
    }
    bad = [
        key
        for key, value in arrays.items()
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value))
    ]
    if bad:
        raise ValueError(
            f"not saving a checkpoint with NaN or infinite values ({len(bad)} variables, "
            f"first {bad[0]}); {path} keeps its previous state"
        )
    progress = {
        "epoch": int(epoch),
        "step": int(step),
        "fingerprint": _fingerprint(groups),
        "extra": extra or {},
        "keras_version": keras.__version__,
    }
    config = keras.saving.serialize_keras_object(model)

    if exists(path):
        kept = f"the previous checkpoint in {path} is intact"
    elif exists(os.path.dirname(files.absolute(path))):
        kept = f"the earlier snapshots in {os.path.dirname(files.absolute(path))} are intact"
    else:
        kept = "nothing was written"
    with files.explained_write_failures("the checkpoint", path, kept), files.atomic_directory(path) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "state.npz"), "wb") as f:
            np.savez(f, **arrays)
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        progress["files"] = {name: _describe(os.path.join(tmp, name)) for name in _FILES}
        # Written last: its presence marks a complete checkpoint.
        with open(os.path.join(tmp, "progress.json"), "w") as f:
            json.dump(progress, f, indent=1)


def read_progress(path):
    """Returns the `progress.json` dict of the newest whole checkpoint at `path` (sizes checked)."""
    folder, progress, damaged = locate(path, checksums=False)
    if folder is None:
        _find(path)  # raises, naming what is wrong
    return progress


def restore(model, path, include_optimizers=True):
    """Loads the state saved by `save` into `model`; returns its progress dict.

    From a snapshot folder it reads the newest snapshot that verifies (sizes and
    SHA-256 of every file), passing over damaged newer ones with a message on stderr.

    Args:
        model: the model to restore, built like the one that was saved.
        path: str, checkpoint or snapshot directory.
        include_optimizers: bool, also restore the optimizers (the model must
            be compiled). Default True.

    Returns:
        The progress dict, plus `read_from`: the folder read, and `damaged`: a list of
        `(folder, reason)` for the newer checkpoints passed over.

    Raises:
        FileNotFoundError: no checkpoint at `path`.
        CorruptCheckpoint: checkpoints are there, but none verifies.
        ValueError: the checkpoint was written by a model with other variables.
    """
    folder, progress, damaged = _find(path)
    _assign(model, folder, progress, include_optimizers)
    return {**progress, "read_from": folder, "damaged": damaged}


def _assign(model, folder, progress, include_optimizers):
    if include_optimizers:
        _build_optimizers(model)
    groups = _state_variables(model)
    expected = _fingerprint(groups)
    saved = progress["fingerprint"]
    wanted = list(saved) if include_optimizers else ["model"]
    for group in wanted:
        if group not in expected:
            raise ValueError(
                f"checkpoint {folder!r} holds state for {group!r}, which this model does not "
                "have (compile it before restoring)"
            )
        if expected[group] != saved[group]:
            raise ValueError(
                f"checkpoint {folder!r} does not match this model: {group!r} has "
                f"{len(saved[group])} variables saved and {len(expected[group])} here, or "
                "their shapes differ; was it written by another architecture?"
            )
    with files.open_file(os.path.join(folder, "state.npz"), "rb") as f, np.load(f) as arrays:
        for group in wanted:
            for i, variable in enumerate(groups[group]):
                variable.assign(arrays[f"{group}/{i:05d}"])


def load_model(path, compile=True):
    """Rebuilds the model saved at `path` from its config and restores its state.

    Args:
        path: str, checkpoint or snapshot directory (the newest snapshot that verifies is read).
        compile: bool, compile it (default optimizers) and restore the
            optimizers' state too. Default True.
    """
    folder, progress, _ = _find(path)
    with files.open_file(os.path.join(folder, "config.json")) as f:
        config = json.loads(f.read())
    import zoo.models  # noqa: F401  (registers zoo's serializable classes)

    # A compiled model's config carries its optimizers (`get_compile_config`).
    model = keras.saving.deserialize_keras_object(config)
    if compile and not model.compiled:
        model.compile()
    _assign(model, folder, progress, include_optimizers=compile)
    return model


def save_snapshot(model, directory, epoch=0, step=0, keep=3, extra=None):
    """Saves a snapshot into `directory` (see `save`), then removes all but the newest `keep`.

    Args:
        model, epoch, step, extra: as for `save`.
        directory: str, the snapshot folder (`RUN_DIR/checkpoint`).
        keep: int >= 1, snapshots to keep, or None for all. `best` is never removed.

    Returns:
        The paths of the snapshots removed.
    """
    save(model, os.path.join(directory, snapshot_name(epoch, step)), epoch=epoch, step=step, extra=extra)
    return [] if keep is None else [_discard(folder) for folder in snapshots(directory)[keep:]]


def save_best(model, directory, epoch, step, monitor, value, mode):
    """Saves the state with the best `monitor` value so far to `directory/best`, recording the value."""
    best = {"monitor": monitor, "value": float(value), "mode": mode}
    save(model, os.path.join(directory, BEST), epoch=epoch, step=step, extra={"best": best})


def best_value(directory, monitor):
    """The recorded value of `directory/best` if it tracked `monitor`, else None."""
    folder = _single(os.path.join(directory, BEST))
    if folder is None:
        return None
    try:
        best = _read_progress_file(folder).get("extra", {}).get("best", {})
    except CorruptCheckpoint:
        return None
    return best.get("value") if best.get("monitor") == monitor else None


def set_aside(folder):
    """Renames a damaged checkpoint to `NAME.damaged-<time>` (no reader takes it); returns the new path."""
    target = f"{folder}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    files.rename(folder, target)
    return target


def _discard(folder):
    """Removes a snapshot: renamed to a hidden temporary first, so a kill mid-way leaves no half snapshot."""
    parent, name = os.path.split(folder)
    files.remove_abandoned(folder)  # an earlier removal killed mid-way
    files.rename(folder, os.path.join(parent, f".{name}.tmp-removed"))
    files.remove_abandoned(folder)
    return folder
