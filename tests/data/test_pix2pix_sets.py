"""The pix2pix authors' datasets: downloaded once, extracted, read as side-by-side pairs; offline, a clear error."""

import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from zoo import cli, data, files
from zoo.data import pix2pix_sets


def write_archive(tmp_path, name="facades", count=3):
    """A `name.tar.gz` as the authors publish it: name/train/N.jpg and name/val/N.jpg, A|B side by side."""
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        folder = tmp_path / "src" / name / split
        folder.mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)).save(folder / f"{i + 1}.jpg")
    archive = tmp_path / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "src" / name, arcname=name)
    return f"file://{tmp_path}/{{name}}.tar.gz"


def test_a_set_is_downloaded_once_and_read_as_pairs(tmp_path, monkeypatch):
    monkeypatch.setattr(pix2pix_sets, "PIX2PIX_URL", write_archive(tmp_path))
    root = data.pix2pix_dataset("facades", cache_dir=str(tmp_path / "cache"))
    assert sorted(os.listdir(root)) == ["train", "val"] and len(os.listdir(os.path.join(root, "train"))) == 3
    os.remove(tmp_path / "facades.tar.gz")  # cached: no second download
    assert data.pix2pix_dataset("facades", cache_dir=str(tmp_path / "cache")) == root
    assert root.startswith(str(tmp_path / "cache"))  # the folder asked for, made if missing
    sources, targets = next(iter(data.paired_folder(os.path.join(root, "val"), direction="BtoA", image_size=16,
                                                    batch_size=3, shuffle=False)))
    assert sources.shape == targets.shape == (3, 16, 16, 3)


def test_zoo_train_pix2pix_takes_a_set_by_name(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pix2pix_sets, "PIX2PIX_URL", write_archive(tmp_path, "maps"))
    download = data.pix2pix_dataset
    monkeypatch.setattr(data, "pix2pix_dataset", lambda name: download(name, cache_dir=str(tmp_path / "cache")))
    code = cli.main(["train", "pix2pix", "--dataset", "maps", "--image-size", "16", "--batch-size", "2",
                     "--base-filters", "4", "--patch-layers", "1", "--epochs", "1", "--run-dir",
                     str(tmp_path / "run"), "--quiet"])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")


def test_offline_the_download_fails_at_once_naming_the_stand_in(tmp_path, monkeypatch):
    monkeypatch.setattr(pix2pix_sets, "PIX2PIX_URL", "http://zoo-test.invalid/{name}.tar.gz")
    with pytest.raises(files.DownloadError, match=r"pix2pix dataset facades \(http://zoo-test.invalid/facades.tar.gz\) "
                       "could not be loaded.*Offline, download and extract.*edges2photos"):
        data.pix2pix_dataset("facades", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="unknown pix2pix dataset 'shoes'; known: facades"):
        data.pix2pix_dataset("shoes")
