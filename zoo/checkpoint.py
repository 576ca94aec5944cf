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
"""

import contextlib
import json
import os

import keras
import numpy as np

from zoo import files


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


def _resolve(path):
    """The directory to read: `path`, or `path.old` if a swap was interrupted."""
    if os.path.isdir(path):
        return path
    if os.path.isdir(path + ".old"):
        return path + ".old"
    return None


def exists(path):
    """True if a readable checkpoint is at `path`."""
    found = _resolve(path)
    return found is not None and os.path.isfile(os.path.join(found, "progress.json"))


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

    kept = f"the previous checkpoint in {path} is intact" if exists(path) else "nothing was written"
    with files.explained_write_failures("the checkpoint", path, kept), files.atomic_directory(path) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "state.npz"), "wb") as f:
            np.savez(f, **arrays)
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        # Written last: its presence marks a complete checkpoint.
        with open(os.path.join(tmp, "progress.json"), "w") as f:
            json.dump(progress, f, indent=1)


def read_progress(path):
    """Returns the `progress.json` dict of the checkpoint at `path`."""
    found = _resolve(path)
    if found is None or not os.path.isfile(os.path.join(found, "progress.json")):
        raise FileNotFoundError(f"no checkpoint at {path!r} (expected {path}/progress.json)")
    with open(os.path.join(found, "progress.json")) as f:
        return json.load(f)


def restore(model, path, include_optimizers=True):
    """Loads the state saved by `save` into `model`; returns its progress dict.

    Args:
        model: the model to restore, built like the one that was saved.
        path: str, checkpoint directory.
        include_optimizers: bool, also restore the optimizers (the model must
            be compiled). Default True.

    Raises:
        FileNotFoundError: no checkpoint at `path`.
        ValueError: the checkpoint was written by a model with other variables.
    """
    progress = read_progress(path)
    found = _resolve(path)
    if include_optimizers:
        _build_optimizers(model)
    groups = _state_variables(model)
    expected = _fingerprint(groups)
    saved = progress["fingerprint"]
    wanted = list(saved) if include_optimizers else ["model"]
    for group in wanted:
        if group not in expected:
            raise ValueError(
                f"checkpoint {path!r} holds state for {group!r}, which this model does not "
                "have (compile it before restoring)"
            )
        if expected[group] != saved[group]:
            raise ValueError(
                f"checkpoint {path!r} does not match this model: {group!r} has "
                f"{len(saved[group])} variables saved and {len(expected[group])} here, or "
                "their shapes differ; was it written by another architecture?"
            )
    with np.load(os.path.join(found, "state.npz")) as arrays:
        for group in wanted:
            for i, variable in enumerate(groups[group]):
                variable.assign(arrays[f"{group}/{i:05d}"])
    return progress


def load_model(path, compile=True):
    """Rebuilds the model saved at `path` from its config and restores its state.

    Args:
        path: str, checkpoint directory.
        compile: bool, compile it (default optimizers) and restore the
            optimizers' state too. Default True.
    """
    found = _resolve(path)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    with open(os.path.join(found, "config.json")) as f:
        config = json.load(f)
    import zoo.models  # noqa: F401  (registers zoo's serializable classes)

    # A compiled model's config carries its optimizers (`get_compile_config`).
    model = keras.saving.deserialize_keras_object(config)
    if compile and not model.compiled:
        model.compile()
    restore(model, path, include_optimizers=compile)
    return model
