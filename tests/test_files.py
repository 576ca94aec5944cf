"""Atomic writes (zoo.files): the whole new file or the old one, never a partial file, no leftovers."""

import os
import stat
from pathlib import Path

import pytest

from zoo import files


def test_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"  # the folder is created
    files.write_text(path, "first")
    files.write_text(path, "second")
    assert path.read_text() == "second"
    assert os.listdir(path.parent) == ["out.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("good")
    with pytest.raises(RuntimeError, match="disk full"):
        with files.atomic_path(path, suffix=".keras") as tmp:
            assert tmp.endswith(".keras") and os.path.dirname(tmp) == str(tmp_path)
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "good"
    assert os.listdir(tmp_path) == ["model.keras"]


def test_the_mode_follows_the_umask_not_mkstemps_private_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        files.write_bytes(tmp_path / "a.bin", b"\x00")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o644


def test_atomic_directory_replaces_a_folder_whole_and_cleans_up(tmp_path):
    target = tmp_path / "checkpoint"
    with files.atomic_directory(target) as tmp:
        os.makedirs(tmp)
        (Path(tmp) / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with files.atomic_directory(target) as tmp:
        os.makedirs(tmp)
        (Path(tmp) / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]  # replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]  # no .old, no temporary folder


def test_atomic_directory_keeps_the_old_folder_when_the_write_fails(tmp_path):
    target = tmp_path / "1"
    with files.atomic_directory(target, replace=False) as tmp:
        os.makedirs(tmp)
        (Path(tmp) / "saved_model.pb").write_bytes(b"v1")
    with pytest.raises(RuntimeError, match="disk full"):
        with files.atomic_directory(target) as tmp:
            os.makedirs(tmp)
            (Path(tmp) / "saved_model.pb").write_bytes(b"half")
            raise RuntimeError("disk full")
    assert (target / "saved_model.pb").read_bytes() == b"v1"
    with pytest.raises(FileExistsError, match="already exists"):
        with files.atomic_directory(target, replace=False) as tmp:
            os.makedirs(tmp)
    assert (target / "saved_model.pb").read_bytes() == b"v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1"]


def test_fetch_returns_what_loads_and_names_what_failed_to_download():
    assert files.fetch(lambda: 3, "three", "count to three") == 3

    def offline():
        raise Exception("URL fetch failure")

    with pytest.raises(files.DownloadError, match=r"^the thing could not be loaded \(URL fetch failure\); it "
                       r"downloads from the internet once. Offline, use the other thing$") as raised:
        files.fetch(offline, "the thing", "use the other thing")
    assert isinstance(raised.value, RuntimeError) and str(raised.value.__cause__) == "URL fetch failure"


def test_fetch_probes_the_host_before_a_keras_download_but_not_before_reading_its_cache(tmp_path, monkeypatch):
    import keras

    probed = []

    def silent(urls):
        probed.extend(urls)
        return "silent.test could not be reached (no answer within 3 s)"

    def download(url, *args, **kwargs):
        raise AssertionError("no download may start when its host does not answer")

    from keras.src.utils import file_utils

    monkeypatch.setattr(files, "unreachable", silent)
    monkeypatch.setattr(file_utils, "urlretrieve", download)
    url = "https://silent.test/weights.bin"

    def load():
        return keras.utils.get_file("weights.bin", url, cache_dir=str(tmp_path))

    with pytest.raises(files.DownloadError, match=r"^the weights could not be loaded \(silent.test could not be "
                       r"reached \(no answer within 3 s\)\); it downloads from the internet once"):
        files.fetch(load, "the weights", "use others")
    assert probed == [url]
    assert file_utils.urlretrieve is download  # put back
    # Downloaded once, the file loads offline: no probe.
    (tmp_path / "datasets" / "weights.bin").write_bytes(b"w")
    probed.clear()
    assert files.fetch(load, "the weights", "use others") == str(tmp_path / "datasets" / "weights.bin")
    assert probed == []


def test_unreachable_probes_each_host_or_its_proxy_once_and_quickly(monkeypatch):
    import errno
    import socket
    import time

    tried = []

    def connect(target, timeout):
        tried.append((target, timeout))
        if target[0] == "down.test":
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        if target[0] == "silent.test":
            time.sleep(5)  # a lookup or a connection that never answers

        class Connection:
            def close(self):
                pass

        return Connection()

    monkeypatch.setattr(socket, "create_connection", connect)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    urls = ["https://up.test/a.gz", "https://up.test/b.gz", "http://down.test:8080/c.gz"]
    unreachable = f"[Errno {errno.ENETUNREACH}] Network is unreachable"  # 101 on Linux, 51 on macOS
    assert files.unreachable(urls) == f"down.test could not be reached ({unreachable})"
    assert sorted(target for target, _ in tried) == [("down.test", 8080), ("up.test", 443)]
    assert files.unreachable(urls[:2]) is None
    started = time.monotonic()
    assert files.unreachable(["https://silent.test/x"], timeout=0.2) == "silent.test could not be reached (no " \
        "answer within 0.2 s)"
    assert time.monotonic() - started < 2
    # Behind a proxy, the proxy is what must answer; no_proxy hosts are reached directly.
    monkeypatch.setenv("https_proxy", "http://down.test:3128")
    monkeypatch.setenv("no_proxy", "up.test")
    assert files.unreachable(["https://storage.googleapis.com/x"]) == \
        f"the proxy down.test:3128 (for storage.googleapis.com) could not be reached ({unreachable})"
    tried.clear()
    assert files.unreachable(["https://up.test/a.gz"]) is None and tried[0][0] == ("up.test", 443)


def test_remove_abandoned_clears_what_killed_writes_left(tmp_path):
    target = tmp_path / "checkpoint"
    (tmp_path / ".checkpoint.tmp-abc" / "contents").mkdir(parents=True)  # killed inside atomic_directory
    (tmp_path / ".checkpoint.tmp-def.png").write_bytes(b"")  # killed inside atomic_path
    (tmp_path / "checkpoint.old").mkdir()  # killed between the two renames...
    (tmp_path / ".other.tmp-1").mkdir()  # another target's: not touched
    # ... while the new one is not in place yet: .old is the checkpoint, kept.
    assert [os.path.basename(p) for p in sorted(files.remove_abandoned(target))] == [
        ".checkpoint.tmp-abc", ".checkpoint.tmp-def.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tmp-1", "checkpoint.old"]
    target.mkdir()  # once the checkpoint is whole, .old is left over
    assert [os.path.basename(p) for p in files.remove_abandoned(target)] == ["checkpoint.old"]
    assert files.remove_abandoned(tmp_path / "missing" / "checkpoint") == []


def test_remove_abandoned_in_clears_a_folder_of_temporaries(tmp_path):
    (tmp_path / ".epoch_0003.png.tmp-x1.png").write_bytes(b"")
    (tmp_path / ".history.csv.tmp-y2").write_bytes(b"")
    (tmp_path / ".checkpoint.tmp-z3").mkdir()
    (tmp_path / "epoch_0003.png").write_bytes(b"png")
    (tmp_path / ".zoo-lock").write_text("")
    removed = files.remove_abandoned_in(tmp_path)
    assert len(removed) == 3 and sorted(p.name for p in tmp_path.iterdir()) == [".zoo-lock", "epoch_0003.png"]
    assert files.remove_abandoned_in(tmp_path / "missing") == []
