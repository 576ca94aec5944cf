"""Atomic writes: a reader sees the old file or folder or the whole new one, never half of it.

Every file zoo writes in place (classifier `.keras` files, PNG figures, TF Serving's model
config, benchmark results) goes through `atomic_path`: the data is written to a temporary
file in the same folder, then renamed over the target with `os.replace`. Checkpoints go
through `atomic_directory`, the same idea for a folder; export versions are written the
same way and claim their number at the rename (`zoo.export`).
A failed write removes the temporary file or folder and leaves the old target as it was.

What zoo downloads (pretrained weights, the pix2pix datasets) goes through `fetch`, so a
machine without internet gets one message that says what needed the download and what
works offline, not a traceback from deep inside Keras.
"""

import contextlib
import errno
import os
import shutil
import tempfile


def _file_mode():
    """The mode a plain `open(path, "w")` would give: 0o666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class DownloadError(RuntimeError):
    """Something zoo loads from the internet could not be fetched (no internet, a server down)."""


def fetch(load, what, offline):
    """`load()`, with its failure turned into a `DownloadError` naming `what` and the offline way.

    Keras raises a bare `Exception` for a failed download, so any failure of `load` counts;
    call `load` directly where nothing is downloaded.

    Args:
        load: a callable that downloads (once, then reads its cache) and returns the result.
        what: what needed the download, e.g. "InceptionV3 weights 'imagenet'".
        offline: what to do without internet, a sentence that follows "Offline, ".
    """
    try:
        return load()
    except Exception as error:
        raise DownloadError(f"{what} could not be loaded ({error}); it downloads from the internet once. "
                            f"Offline, {offline}") from error


# A write that fails for want of room or rights, not for a bug: said in one line.
_WRITE_FAILURES = {errno.ENOSPC: "the disk is full", getattr(errno, "EDQUOT", -1): "the disk quota is used up",
                   errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                   errno.EPERM: "permission denied"}


class WriteError(OSError):
    """A write that failed for want of room or rights; what was there before is intact."""


@contextlib.contextmanager
def explained_write_failures(what, path, kept):
    """Turns a full disk or a read-only folder during the block into a `WriteError` that says so.

    Args:
        what: what was being written, e.g. "the checkpoint".
        path: where.
        kept: what is intact, e.g. "the previous checkpoint is intact".
    """
    try:
        yield
    except WriteError:
        raise
    except OSError as error:
        reason = _WRITE_FAILURES.get(error.errno)
        if reason is None:
            raise
        raise WriteError(error.errno, f"could not write {what} to {path}: {reason} ({error.strerror}); {kept}. "
                         "Free space, or pick a folder you can write to, and run again") from error


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yields a temporary path beside `path`; when the block ends without error, it replaces `path`.

    Args:
        path: str or `Path` of the file to write; missing parent folders are created.
        suffix: the temporary file's suffix, for writers that choose a format by it
            (".keras", ".png"). Default ".tmp".

    Example:
    ```python
    with atomic_path("model.keras", suffix=".keras") as tmp:
        model.save(tmp)
    ```
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", suffix=suffix, dir=folder)
    os.close(handle)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())  # mkstemp makes the file private to its owner
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_bytes(path, data):
    """Writes `data` (bytes) to `path` atomically, flushed to disk; returns `path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return os.fspath(path)


def write_text(path, text):
    """Writes `text` (UTF-8) to `path` atomically, flushed to disk; returns `path`."""
    return write_bytes(path, text.encode("utf-8"))


def remove_abandoned(path):
    """Removes what atomic writes of `path` killed mid-write left beside it; returns the removed paths.

    That is the hidden `.NAME.tmp-*` files and folders of `atomic_path` / `atomic_directory`,
    and `NAME.old` when `NAME` itself is whole. Call it only where no other process writes
    `path` (a run directory whose lock this process holds): a live writer's temporary
    folder looks the same.
    """
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    if not os.path.isdir(parent):
        return []
    removed = []
    for entry in os.scandir(parent):
        if entry.name.startswith(f".{name}.tmp-") or (entry.name == f"{name}.old" and os.path.exists(path)):
            removed.append(_remove(entry))
    return removed


def _remove(entry):
    """Removes a `os.DirEntry` (a folder with its contents); returns its path."""
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path, ignore_errors=True)
    else:
        os.remove(entry.path)
    return entry.path


def remove_abandoned_in(folder):
    """`remove_abandoned` for every file of `folder`: removes all its `.NAME.tmp-*` entries.

    For a folder of a run directory whose lock this process holds (the run directory
    itself, its `samples/`); returns the removed paths.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return []
    removed = []
    for entry in os.scandir(folder):
        if entry.name.startswith(".") and ".tmp-" in entry.name:
            removed.append(_remove(entry))
    return removed


@contextlib.contextmanager
def atomic_directory(path, replace=True):
    """Yields a fresh folder path beside `path`; when the block ends without error, it becomes `path`.

    The yielded path does not exist yet (create it, or let a writer such as
    `tf.saved_model.save` do so); it sits inside a hidden `.NAME.tmp-*` folder in
    `path`'s parent, which servers polling the parent (TF Serving loads only
    all-digit version folders) and zoo's readers skip. A previous `path` is
    swapped out through `path.old`, so a kill between the two renames leaves
    `path.old` whole (`zoo.checkpoint` reads it then).

    Args:
        path: str or `Path` of the folder to write; missing parents are created.
        replace: bool, replace an existing `path` (default); False raises
            `FileExistsError` instead, for folders that must never be overwritten.
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    holder = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        yield os.path.join(holder, "contents")
        if os.path.exists(path):
            if not replace:
                raise FileExistsError(f"{path} already exists; not replaced")
            old = path + ".old"
            if os.path.exists(old):
                shutil.rmtree(old)
            os.rename(path, old)
            os.rename(os.path.join(holder, "contents"), path)
            shutil.rmtree(old)
        else:
            os.rename(os.path.join(holder, "contents"), path)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
