"""One writer per run directory: a lock file that names its holder and dies with it.

`zoo.training.train` (and so `zoo train`) holds `RUN_DIR/.zoo-lock` while it trains.
A second writer stops at once with `RunDirectoryBusy`, whose message names the holder
(pid, host, start time, command) and what to do. The lock is an advisory `fcntl.flock`
on that file, which the operating system releases when its process ends however it
ends (kill -9 included), so a crashed run's lock is recognised as stale and taken over
with a message: resuming after a crash needs no flag. Where `flock` is unavailable
(Windows), the file's pid is checked instead on the same host. A remote run directory
(`gs://...`, written through tf.io.gfile) has a lease instead: the holder renews a
heartbeat time in the file every 30 s, and a lock not renewed for 120 s is stale.

Locks are re-entrant within one process: `zoo.training.train_phases` holds the run
directory while each phase's `train` takes it (or a subfolder) again.
"""

import contextlib
import datetime
import json
import os
import socket
import sys
import threading
import time
import uuid

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_FILE = ".zoo-lock"

_held = {}  # real path of a lock file -> [open file, depth]
_guard = threading.Lock()


class RunDirectoryBusy(RuntimeError):
    """Another live process is writing to this run directory."""


def _holder_text(holder):
    if not holder:
        return "another process (its lock file names no holder)"
    return (f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
            + (f" ({holder['command']})" if holder.get("command") else ""))


def _read_holder(f):
    try:
        f.seek(0)
        return json.loads(f.read() or "{}")
    except (OSError, ValueError):
        return {}


def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, TypeError, ValueError):
        return True  # someone else's live process, or nothing we can tell
    return True


@contextlib.contextmanager
def run_directory_lock(run_dir, what="training"):
    """Holds `run_dir`'s lock for the block; raises `RunDirectoryBusy` if a live process holds it.

    Args:
        run_dir: str or `Path` of the run directory (created if missing).
        what: str, what the holder is doing, written into the lock for the message
            another writer gets. Default "training".

    Raises:
        RunDirectoryBusy: if another live process holds the lock; the message names it
            and says to wait for it, stop it, or use another run directory.

    Example:
    ```python
    with zoo.locks.run_directory_lock("runs/dcgan"):
        model.fit(...)
    ```
    """
    from zoo import files

    run_dir = os.fspath(run_dir)
    remote = files.is_remote(run_dir)
    with files.explained_write_failures("the run directory's lock", run_dir, "nothing was written"):
        files.makedirs(run_dir)
        if not remote:
            open(os.path.join(run_dir, LOCK_FILE), "a").close()
    path = os.path.join(run_dir, LOCK_FILE) if remote else os.path.realpath(os.path.join(run_dir, LOCK_FILE))
    with _guard:
        if path in _held:
            _held[path][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                _held[path][1] -= 1
        return
    with (_lease if remote else _flock)(path, run_dir, _holder_record(what)):
        yield path


def _holder_record(what):
    return {
        "pid": os.getpid(), "host": socket.gethostname(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:300],
        "doing": what,
    }


def _took_over(run_dir, previous):
    print(f"zoo: took over the lock of {run_dir}, left by {_holder_text(previous)}, which is no longer "
          "running", file=sys.stderr, flush=True)


def _busy(run_dir, holder, why="this one's process is alive"):
    return RunDirectoryBusy(
        f"{run_dir} is in use by {_holder_text(holder)}: one run directory has one writer. Wait for it to "
        f"finish, stop it (its checkpoint resumes), or pass another --run-dir. A lock left by a process that "
        f"no longer runs is taken over by itself; {why}."
    )


@contextlib.contextmanager
def _flock(path, run_dir, record):
    """A local run directory's lock: an `flock` the operating system releases with its process."""
    f = open(path, "a+")
    try:
        previous = _acquire(f, path, run_dir)
        if previous:
            _took_over(run_dir, previous)
        f.seek(0)
        f.truncate()
        f.write(json.dumps(record))
        f.flush()
        with _guard:
            _held[path] = [f, 1]
        try:
            yield
        finally:
            with _guard:
                del _held[path]
            # Emptied, not removed: removing would let a waiting process lock a file
            # no longer in the folder while a third creates a new one.
            f.seek(0)
            f.truncate()
            f.flush()
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    finally:
        f.close()


# A remote run directory (`gs://...`) has no flock: its lock is a lease, the holder record
# plus a heartbeat time that a thread renews every HEARTBEAT_SECONDS. A lock whose heartbeat
# is older than LEASE_SECONDS is stale (its holder died, or lost the network) and taken over.
HEARTBEAT_SECONDS = 30.0
LEASE_SECONDS = 120.0


def _read_lease(path):
    from zoo import files

    try:
        with files.open_file(path) as f:
            return json.loads(f.read() or "{}")
    except Exception:  # absent, being rewritten, or not JSON: no holder
        return {}


def _write_lease(path, record):
    from zoo import files

    files.write_text(path, json.dumps({**record, "heartbeat": time.time()}))


@contextlib.contextmanager
def _lease(path, run_dir, record):
    """A remote run directory's lock: a lease renewed by a heartbeat thread, written through tf.io.gfile."""
    from zoo import files

    recorded = _read_lease(path)
    age = time.time() - float(recorded.get("heartbeat", 0) or 0)
    if recorded.get("pid") is not None and age < LEASE_SECONDS:
        raise _busy(run_dir, recorded,
                    f"this one's lease was renewed {age:.0f} s ago (stale after {LEASE_SECONDS:.0f} s)")
    record = {**record, "token": uuid.uuid4().hex}
    _write_lease(path, record)
    if _read_lease(path).get("token") != record["token"]:  # another writer took it at the same moment
        raise _busy(run_dir, _read_lease(path), "it took the lock as this one did")
    if recorded.get("pid") is not None:
        _took_over(run_dir, recorded)
    stop = threading.Event()

    def renew():
        while not stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(Exception):  # a failed renewal is retried; the lease outlasts a few
                _write_lease(path, record)

    heartbeat = threading.Thread(target=renew, name="zoo-lock-heartbeat", daemon=True)
    heartbeat.start()
    with _guard:
        _held[path] = [None, 1]
    try:
        yield
    finally:
        with _guard:
            del _held[path]
        stop.set()
        heartbeat.join()
        with contextlib.suppress(Exception):
            files.write_text(path, "")


def _acquire(f, path, run_dir):
    """Locks `f`; returns the stale holder it replaces (a dict), or None."""
    holder = _read_holder(f)
    busy = _busy(run_dir, holder)
    if fcntl is not None:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        # Locked: whoever wrote the file before (if anyone) has ended.
        return holder or None
    if holder and holder.get("host") == socket.gethostname() and _pid_alive(holder.get("pid")):
        raise busy
    return holder or None


def holder(run_dir):
    """The holder recorded in `run_dir`'s lock (a dict), or None when no live process holds it."""
    from zoo import files

    path = os.path.join(os.fspath(run_dir), LOCK_FILE)
    if files.is_remote(path):
        recorded = _read_lease(path)
        age = time.time() - float(recorded.get("heartbeat", 0) or 0)
        return recorded if recorded.get("pid") is not None and age < LEASE_SECONDS else None
    if not os.path.exists(path):
        return None
    with open(path, "a+") as f:
        recorded = _read_holder(f)
        if fcntl is None:
            alive = recorded and recorded.get("host") == socket.gethostname() and _pid_alive(recorded.get("pid"))
            return recorded if alive else None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return recorded or {}
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return None
