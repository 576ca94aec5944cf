import csv
import functools
import importlib.util
import math
import os
import tarfile

import pytest
import tensorflow as tf

import zoo
from zoo import export
from zoo.data import pix2pix_sets

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "pix2pix_facades.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("pix2pix_facades", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smoke_trains_on_paired_files_scores_exports_and_resumes(tmp_path, capsys):
    run_dir, models = tmp_path / "run", tmp_path / "models"
    argv = ["--smoke", "--precision", "float32", "--run-dir", str(run_dir), "--base-path", str(models)]
    recipe = load_recipe()
    result = recipe.main(argv)

    # The smoke data goes through the real pix2pix file format: photo | edge map side by side.
    pair = tf.io.decode_png(tf.io.read_file(str(run_dir / "smoke_data" / "train" / "000.png")))
    assert pair.shape == (64, 128, 3)
    assert len(os.listdir(run_dir / "smoke_data" / "test")) == 8
    assert os.path.isfile(result["grid"])
    assert os.path.isfile(run_dir / "samples" / "epoch_0001.png")

    scores = result["evaluation"]
    assert scores["split"] == "test" and scores["num_images"] == 8
    assert 0.0 < scores["l1"] < 2.0
    assert 0.0 < scores["psnr"] < 100.0 and math.isfinite(scores["psnr"])
    assert -1.0 <= scores["ssim"] <= 1.0

    meta = export.read_metadata(result["export"])
    assert meta["model"] == "Pix2Pix" and meta["colour_space"] == "rgb"
    assert meta["input_channels"] == [3] and meta["output_channels"] == 3
    assert meta["stride"] == 32 and meta["train_image_size"] == 32 and meta["pix2pix_direction"] == "BtoA"
    assert result["served_shape"] == (4, 64, 64, 3)  # twice the training size

    # Same run dir, one more epoch: continues from the checkpoint instead of starting over.
    resumed = recipe.main([*argv, "--epochs", "2"])
    assert "Resuming from" in capsys.readouterr().out
    assert len(resumed["history"]["g_loss"]) == 1
    with open(run_dir / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]
    assert os.path.isfile(run_dir / "samples" / "epoch_0002.png")
    assert resumed["export"].endswith(os.path.join("pix2pix_facades", "2"))


def test_default_data_is_the_facades_archive_read_labels_to_photo(tmp_path, monkeypatch):
    # A stand-in for facades.tar.gz: facades/{train,val,test}/*.jpg, photo (white) | labels (black).
    pair = tf.concat([tf.fill((8, 8, 3), 255), tf.zeros((8, 8, 3), tf.int32)], axis=1)
    for split in ("train", "val", "test"):
        os.makedirs(tmp_path / "facades" / split)
        tf.io.write_file(str(tmp_path / "facades" / split / "1.jpg"), tf.io.encode_jpeg(tf.cast(pair, tf.uint8)))
    with tarfile.open(tmp_path / "facades.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "facades", arcname="facades")
    recipe = load_recipe()
    monkeypatch.setattr(pix2pix_sets, "PIX2PIX_URL", tmp_path.as_uri() + "/{name}.tar.gz")
    monkeypatch.setattr(zoo.data, "pix2pix_dataset", functools.partial(zoo.data.pix2pix_dataset, cache_dir=str(tmp_path / "k")))

    args = recipe.parse_args([])
    root = recipe.data_root(args)
    assert sorted(os.listdir(root)) == ["test", "train", "val"]
    labels, photos = recipe.held_out(os.path.join(root, "test"), args, 8)
    assert labels.max() < -0.9 and photos.min() > 0.9  # BtoA: the right half is the source
