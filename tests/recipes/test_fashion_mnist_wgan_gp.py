import gzip
import importlib.util
import os
import struct

import numpy as np
import pytest

import zoo
from zoo import export
from zoo.data.mnist_idx import IMAGES_FILE, LABELS_FILE

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "fashion_mnist_wgan_gp.py")
DIAGNOSTICS = ("diag_diversity", "diag_d_gap", "diag_collapse")


def load_recipe():
    spec = importlib.util.spec_from_file_location("fashion_mnist_wgan_gp", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=1))


def tiny_idx_folder(directory):
    """10,000 28x28 IDX images (the split needs that many): image i a bar at row 2 * (i % 10)."""
    labels = (np.arange(10_000) % 10).astype(np.uint8)
    images = np.zeros((10_000, 28, 28), np.uint8)
    for digit in range(10):
        images[labels == digit, 2 * digit + 4, 4:24] = 255
    directory.mkdir()
    write_idx(directory / f"{IMAGES_FILE}.gz", images)
    write_idx(directory / f"{LABELS_FILE}.gz", labels)
    return directory


def test_smoke_trains_with_diagnostics_evaluates_draws_the_grid_and_exports(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--evaluate", "--d-steps", "1", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert os.path.isfile(result["grid"])
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")
    assert result["export"] == str(tmp_path / "models" / "fashion_mnist_wgan_gp" / "1")
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [28, 28, 1] and meta["latent_dim"] == 128
    history = result["history"]
    for key in ("d_loss", "g_loss", "gradient_penalty", *DIAGNOSTICS):
        assert len(history[key]) == 1 and np.isfinite(history[key][0]), key
    scores = result["evaluation"]
    assert scores["fid1797_full"] > 0 and scores["fid_floor"] > 0


@pytest.mark.slow  # trains on 8,000 digits; the smoke test runs the same recipe code
def test_idx_folder_trains_on_the_first_8000_and_scores_against_the_last_2000(tmp_path, monkeypatch):
    train_classifier = zoo.metrics.train_domain_classifier
    seen = {}

    def one_epoch_classifier(images, labels, **kwargs):
        seen["images"] = len(images)
        return train_classifier(images, labels, **{**kwargs, "epochs": 1})

    # judged_scores imports it from its module when called
    monkeypatch.setattr(zoo.metrics.classifier, "train_domain_classifier", one_epoch_classifier)
    result = load_recipe().main(
        ["--data", str(tiny_idx_folder(tmp_path / "idx")), "--epochs", "1", "--steps-per-epoch", "1",
         "--batch-size", "4", "--base-filters", "4", "--d-steps", "1", "--minutes", "5", "--evaluate",
         "--precision", "float32", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert seen["images"] == 6_000  # 8,000 training images less the 2,000 of the floor
    scores = result["evaluation"]
    assert set(scores) == {"fid2k_full", "fid_floor"}
    assert scores["fid_floor"] < scores["fid2k_full"]  # one step of training is far from real
    assert 0 < result["train_seconds"] < 300
    assert export.read_metadata(result["export"])["image_shape"] == [28, 28, 1]


def test_full_scale_path_reads_fashion_mnist_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--base-filters", "4", "--d-steps", "1",
             "--precision", "float32", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [28, 28, 1] and meta["latent_dim"] == 128
    assert all(key in result["history"] for key in DIAGNOSTICS)
