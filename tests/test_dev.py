"""dev.py's set-up: a failed install says why when the disk is short of space."""

import collections
import importlib.util
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def dev():
    spec = importlib.util.spec_from_file_location("dev_under_test", os.path.join(ROOT, "dev.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Usage = collections.namedtuple("Usage", "total used free")


def failing_install(dev, monkeypatch, free_bytes, tmp_path):
    """ensure_installed with pip failing, the venv in tmp_path and the disk's free space faked."""
    monkeypatch.setattr(dev, "VENV", str(tmp_path))
    monkeypatch.setattr(dev, "PYTHON", str(tmp_path / "python"))
    (tmp_path / "python").write_text("")
    monkeypatch.setattr(dev, "STAMP", str(tmp_path / "stamp"))

    def pip(command, **kwargs):
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(dev, "run", pip)
    monkeypatch.setattr(dev.shutil, "disk_usage", lambda path: Usage(100e9, 100e9 - free_bytes, free_bytes))
    with pytest.raises(SystemExit) as exit_info:
        dev.ensure_installed()
    assert not os.path.exists(tmp_path / "stamp"), "a failed install must not be stamped as done"
    return str(exit_info.value.code)


def test_failed_install_on_a_full_disk_names_the_space(dev, monkeypatch, tmp_path):
    message = failing_install(dev, monkeypatch, 0.3e9, tmp_path)
    assert "pip exited with 1" in message
    assert "0.3 GB free" in message and f"about {dev.INSTALL_GB} GB" in message


def test_failed_install_with_room_does_not_blame_the_disk(dev, monkeypatch, tmp_path):
    message = failing_install(dev, monkeypatch, 50e9, tmp_path)
    assert "pip exited with 1" in message
    assert "GB free" not in message


def test_a_reinstall_with_most_of_it_in_place_does_not_blame_the_disk(dev, monkeypatch, tmp_path):
    monkeypatch.setattr(dev, "folder_size", lambda path: 8.4e9)  # .venv as a full install leaves it
    message = failing_install(dev, monkeypatch, 2e9, tmp_path)
    assert "pip exited with 1" in message and "GB free" not in message


def test_a_venv_that_cannot_be_created_is_one_message(dev, monkeypatch, tmp_path):
    import errno

    monkeypatch.setattr(dev, "VENV", str(tmp_path / "venv"))
    monkeypatch.setattr(dev, "PYTHON", str(tmp_path / "venv" / "bin" / "python"))

    def full(path, with_pip):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dev.venv, "create", full)
    monkeypatch.setattr(dev.shutil, "disk_usage", lambda path: Usage(100e9, 100e9, 0.0))
    with pytest.raises(SystemExit) as exit_info:
        dev.ensure_installed()
    message = str(exit_info.value.code)
    assert message.startswith(f"creating the virtualenv {tmp_path / 'venv'} failed ([Errno {errno.ENOSPC}] No space")
    assert "0.0 GB free" in message
