import importlib.util
import os

import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "mnist_cgan.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("mnist_cgan", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_draws_the_label_grid_evaluates_and_exports(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--evaluate", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert os.path.isfile(result["grid"])
    assert len(result["history"]["d_loss"]) == 1  # --smoke's one epoch, not the preset's 20
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")
    meta = export.read_metadata(result["export"])
    assert meta["num_classes"] == 10 and meta["image_shape"] == [28, 28, 1]
    scores = result["evaluation"]
    assert 0.0 <= scores["worst_label_accuracy1797"] <= scores["accuracy1797"] <= 1.0
    assert scores["fid1797_full"] > 0 and scores["fid_floor"] > 0


def test_full_scale_path_reads_mnist_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=8):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--base-filters", "4",
             "--precision", "float32", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    assert export.read_metadata(result["export"])["image_shape"] == [28, 28, 1]
