"""Atomic writes: a reader sees the old file or folder or the whole new one, never half of it.

Every file zoo writes in place (classifier `.keras` files, PNG figures, TF Serving's model
config, benchmark results) goes through `atomic_path`: the data is written to a temporary
file in the same folder, then renamed over the target with `os.replace`. Checkpoints go
through `atomic_directory`, the same idea for a folder; export versions are written the
same way and claim their number at the rename (`zoo.export`).
A failed write removes the temporary file or folder and leaves the old target as it was.

What zoo downloads (pretrained weights, the pix2pix datasets, `keras.datasets`) goes through
`fetch`, so a machine without internet gets one message that says what needed the download
and what works offline, not a traceback from deep inside Keras. Before a tfds download,
`unreachable` probes the hosts for a few seconds, where tfds would retry for minutes.

**Remote paths.** A path with a scheme (`gs://bucket/runs/x`, `s3://...`, `hdfs://...`,
and `file:///...` or TensorFlow's in-memory `ram://...`, through which the tests take the
same code path) is read and written through TensorFlow's `tf.io.gfile`, so run
directories and export base paths may live in object stores. The functions below
(`exists`, `listdir`, `rename`, `open_file`, ...) take either kind of path. Atomic writes
to a remote path are prepared locally, uploaded to a hidden temporary name beside the
target and renamed into place; on object stores a rename copies, so the hidden name is
what keeps readers (TF Serving, zoo) from seeing half a write. Without TensorFlow a
remote path is a `RemotePathError` that says so.
"""

import contextlib
import errno
import os
import re
import shutil
import tempfile
import uuid

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class RemotePathError(ValueError):
    """A remote path (`gs://...`) where TensorFlow's `tf.io.gfile`, which zoo reads them through, is missing."""


def is_remote(path):
    """Whether `path` has a scheme (`gs://`, `s3://`, `file://`, `ram://`): read and written through tf.io.gfile."""
    return bool(_SCHEME.match(os.fspath(path)))


def _gfile(path):
    try:
        import tensorflow as tf
    except ImportError:
        scheme = _SCHEME.match(os.fspath(path)).group(1)
        raise RemotePathError(
            f"{path} is a {scheme}:// path: zoo reads and writes those through TensorFlow's tf.io.gfile, and "
            "TensorFlow is not installed here. Install it (pip install tensorflow), or use a local folder and "
            "copy it there afterwards (gsutil cp -r, aws s3 cp --recursive)") from None
    return tf.io.gfile


def exists(path):
    return _gfile(path).exists(path) if is_remote(path) else os.path.exists(path)


def isdir(path):
    return _gfile(path).isdir(path) if is_remote(path) else os.path.isdir(path)


def isfile(path):
    if is_remote(path):
        gfile = _gfile(path)
        return gfile.exists(path) and not gfile.isdir(path)
    return os.path.isfile(path)


def listdir(path):
    """The names in folder `path` (no trailing slashes); [] if it does not exist."""
    if is_remote(path):
        gfile = _gfile(path)
        return [name.rstrip("/") for name in gfile.listdir(path)] if gfile.isdir(path) else []
    return os.listdir(path) if os.path.isdir(path) else []


def makedirs(path):
    _gfile(path).makedirs(path) if is_remote(path) else os.makedirs(path, exist_ok=True)


def getsize(path):
    return _gfile(path).stat(path).length if is_remote(path) else os.path.getsize(path)


def remove(path):
    _gfile(path).remove(path) if is_remote(path) else os.remove(path)


def rmtree(path):
    """Removes folder `path` and what is in it; nothing if it is gone."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    gfile = _gfile(path)
    with contextlib.suppress(Exception):  # gone already, or removed by someone else meanwhile
        gfile.rmtree(path)


def rename(source, target, overwrite=False):
    """Renames a file or folder; raises `FileExistsError` if `target` exists and not `overwrite`.

    Locally an `os.rename`/`os.replace` (atomic); remotely `tf.io.gfile.rename`, which object
    stores carry out as a copy and a delete.
    """
    if is_remote(source):
        _remote_rename(source.rstrip("/"), target.rstrip("/"), overwrite)
        return
    if overwrite:
        os.replace(source, target)
        return
    if os.path.exists(target):  # os.rename would replace an empty folder
        raise FileExistsError(errno.EEXIST, f"{target} already exists")
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(errno.EEXIST, f"{target} already exists") from error
        raise


def _remote_rename(source, target, overwrite):
    """A folder is moved file by file (object stores have no folders to rename; some of
    tf.io.gfile's file systems rename a folder's name alone), then removed."""
    import tensorflow as tf

    gfile = _gfile(source)
    if not gfile.isdir(source):
        try:
            gfile.rename(source, target, overwrite=overwrite)
        except tf.errors.AlreadyExistsError as error:
            raise FileExistsError(errno.EEXIST, f"{target} already exists") from error
        return
    if gfile.exists(target):
        if not overwrite:
            raise FileExistsError(errno.EEXIST, f"{target} already exists")
        gfile.rmtree(target)
    for root, _, names in gfile.walk(source):
        folder = target + root.rstrip("/")[len(source):]
        gfile.makedirs(folder)
        for name in names:
            gfile.rename(f"{root.rstrip('/')}/{name}", f"{folder}/{name}", overwrite=False)
    rmtree(source)


def open_file(path, mode="r"):
    """`open(path, mode)`, or a `tf.io.gfile.GFile` for a remote path."""
    return _gfile(path).GFile(path, mode) if is_remote(path) else open(path, mode)


def absolute(path):
    """`os.path.abspath` for a local path; a remote one as it is."""
    return os.fspath(path) if is_remote(path) else os.path.abspath(os.fspath(path))


def upload(local, remote):
    """Copies the local file or folder `local` to `remote` (which must not exist)."""
    gfile = _gfile(remote)
    if os.path.isfile(local):
        gfile.copy(local, remote, overwrite=False)
        return
    for root, _, names in os.walk(local):
        folder = remote + ("/" + os.path.relpath(root, local).replace(os.sep, "/") if root != local else "")
        gfile.makedirs(folder)
        for name in names:
            gfile.copy(os.path.join(root, name), f"{folder}/{name}", overwrite=False)


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
        with _probed_keras_downloads():
            return load()
    except Exception as error:
        raise DownloadError(f"{what} could not be loaded ({error}); it downloads from the internet once. "
                            f"Offline, {offline}") from error


class _Unreachable(OSError):
    """A download's host did not answer the probe before the download began."""


@contextlib.contextmanager
def _probed_keras_downloads():
    """In the block, a download by `keras.utils.get_file` first probes its host (`unreachable`).

    Keras downloads with `urlretrieve`, which has no timeout: where a network drops packets
    it waits for minutes. The probe runs only when a file is really downloaded (not when
    Keras finds it in its cache), so data downloaded once still loads offline. Where a
    Keras release keeps no `urlretrieve` in `keras.src.utils.file_utils`, nothing changes.
    """
    try:
        from keras.src.utils import file_utils
    except ImportError:
        file_utils = None
    download = getattr(file_utils, "urlretrieve", None)
    if download is None:
        yield
        return

    def probed(url, *args, **kwargs):
        trouble = unreachable([url])
        if trouble:
            raise _Unreachable(trouble)
        return download(url, *args, **kwargs)

    file_utils.urlretrieve = probed
    try:
        yield
    finally:
        file_utils.urlretrieve = download


# Seconds a reachability probe waits for each host (its name lookup included) before calling it unreachable.
PROBE_TIMEOUT = 3.0


def unreachable(urls, timeout=PROBE_TIMEOUT):
    """The first host that a download of `urls` needs and cannot reach, with why; None when every one answers.

    A quick TCP connection to each URL's host and port (to the proxy instead, where
    `https_proxy`/`http_proxy` send the URL through one), all at once and each within
    `timeout` seconds, name lookup included: a machine without internet learns it in
    seconds, where the downloaders' own retries take minutes.

    Args:
        urls: iterable of str, the URLs a download will fetch.
        timeout: float, seconds to wait. Default `PROBE_TIMEOUT` (3).

    Returns:
        None, or str such as "storage.googleapis.com could not be reached ([Errno 101] Network is unreachable)".
    """
    import socket
    import threading
    import time
    import urllib.parse
    import urllib.request

    targets = {}
    proxies = urllib.request.getproxies()
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            continue
        name, target = parts.hostname, (parts.hostname, parts.port or {"http": 80}.get(parts.scheme, 443))
        proxy = proxies.get(parts.scheme)
        if proxy and not urllib.request.proxy_bypass(parts.hostname):
            proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            name = f"the proxy {proxy_parts.hostname}:{proxy_parts.port or 80} (for {parts.hostname})"
            target = (proxy_parts.hostname, proxy_parts.port or 80)
        targets.setdefault(target, name)
    failures = {}

    def connect(target):
        try:
            socket.create_connection(target, timeout=timeout).close()
        except OSError as error:
            failures[target] = str(error) or type(error).__name__

    # Threads, because a name lookup takes no timeout of its own.
    threads = {target: threading.Thread(target=connect, args=(target,), daemon=True) for target in targets}
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout
    for target, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            failures.setdefault(target, f"no answer within {timeout:g} s")
    for target, name in targets.items():
        if target in failures:
            return f"{name} could not be reached ({failures[target]})"
    return None


def fetch_checked(file_name, url, sha256_prefix, what, offline):
    """Downloads `url` once into `~/.keras/models/file_name` and checks its SHA-256; returns its path.

    For published weights read by name and checksum (the FID Inception, LPIPS' VGG16): a
    file already in `~/.keras/models` is not downloaded again.

    Args:
        file_name: str, the cached file's name.
        url: str, where to download it from.
        sha256_prefix: str, the start of its SHA-256 hex digest.
        what: what the file is, e.g. "torchvision's VGG16 weights for LPIPS", for messages.
        offline: what to do without internet (see `fetch`).

    Raises:
        DownloadError: it could not be downloaded.
        ValueError: the file's digest is another's (a partial or replaced file).
    """
    import hashlib

    import keras

    path = fetch(lambda: keras.utils.get_file(file_name, url, cache_subdir="models"), what, offline)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if not digest.hexdigest().startswith(sha256_prefix):
        raise ValueError(f"{path} is not {what} (its SHA-256 does not start with {sha256_prefix}); "
                         "delete it and download again")
    return path


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
    if is_remote(path):
        with _remote_atomic_path(path, suffix) as tmp:
            yield tmp
        return
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


def _hidden_beside(path):
    """A fresh hidden temporary name beside remote `path`: `.NAME.tmp-<random>` (what remove_abandoned takes)."""
    parent, name = path.rstrip("/").rsplit("/", 1)
    return f"{parent}/.{name}.tmp-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def _remote_atomic_path(path, suffix):
    """`atomic_path` for a remote `path`: written locally, uploaded to a hidden name, renamed into place."""
    makedirs(path.rstrip("/").rsplit("/", 1)[0])
    with tempfile.TemporaryDirectory(prefix="zoo-upload-") as local:
        tmp = os.path.join(local, "file" + suffix)
        yield tmp
        hidden = _hidden_beside(path)
        try:
            upload(tmp, hidden)
            rename(hidden, path, overwrite=True)
        except BaseException:
            with contextlib.suppress(Exception):
                remove(hidden)
            raise


def write_bytes(path, data):
    """Writes `data` (bytes) to `path` (local or remote) atomically, flushed to disk; returns `path`."""
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
    path = absolute(path).rstrip("/")
    parent, name = os.path.split(path)
    removed = []
    for entry in listdir(parent):
        if entry.startswith(f".{name}.tmp-") or (entry == f"{name}.old" and exists(path)):
            removed.append(_remove(os.path.join(parent, entry)))
    return removed


def _remove(path):
    """Removes a file or a folder with its contents (a symlink itself, not its target); returns `path`."""
    if not is_remote(path) and os.path.islink(path):
        os.remove(path)
    elif isdir(path):
        rmtree(path)
    else:
        remove(path)
    return path


def remove_abandoned_in(folder):
    """`remove_abandoned` for every file of `folder`: removes all its `.NAME.tmp-*` entries.

    For a folder of a run directory whose lock this process holds (the run directory
    itself, its `samples/`); returns the removed paths.
    """
    folder = os.fspath(folder)
    return [_remove(os.path.join(folder, name)) for name in listdir(folder) if name.startswith(".") and ".tmp-" in name]


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
    path = os.fspath(path)
    if is_remote(path):
        with _remote_atomic_directory(path.rstrip("/"), replace) as tmp:
            yield tmp
        return
    path = os.path.abspath(path)
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


@contextlib.contextmanager
def _remote_atomic_directory(path, replace):
    """`atomic_directory` for a remote `path`: written locally, uploaded to a hidden folder, renamed into place."""
    with tempfile.TemporaryDirectory(prefix="zoo-upload-") as local:
        yield os.path.join(local, "contents")
        holder = _hidden_beside(path)
        try:
            upload(os.path.join(local, "contents"), f"{holder}/contents")
            if exists(path):
                if not replace:
                    raise FileExistsError(f"{path} already exists; not replaced")
                old = path + ".old"
                rmtree(old)
                rename(path, old)
                rename(f"{holder}/contents", path)
                rmtree(old)
            else:
                rename(f"{holder}/contents", path)
        finally:
            rmtree(holder)
