"""Atomic file writes: a reader sees the old file or the whole new one, never half of it.

Every file zoo writes in place (classifier `.keras` files, PNG figures, TF Serving's model
config, benchmark results) goes through `atomic_path`: the data is written to a temporary
file in the same folder, then renamed over the target with `os.replace`. A failed write
removes the temporary file and leaves the old target as it was.
"""

import contextlib
import os
import tempfile


def _file_mode():
    """The mode a plain `open(path, "w")` would give: 0o666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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
