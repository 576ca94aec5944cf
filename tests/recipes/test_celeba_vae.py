import importlib.util
import os

import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "celeba_vae.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("celeba_vae", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_draws_the_attribute_figure_and_exports(tmp_path):
    result = load_recipe().main(["--smoke", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")])
    assert set(result["figures"]) == {"samples", "interpolation", "attribute"}
    assert all(os.path.isfile(p) for p in result["figures"].values())
    assert result["attribute_vector_norm"] > 0
    assert export.read_metadata(result["export"])["image_shape"] == [32, 32, 1]  # LFW is greyscale


def test_full_scale_path_reads_celeba_attributes_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=16):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--latent-dim", "4", "--filters", "4,8",
             "--image-size", "32", "--vector-images", "16", "--precision", "float32",
             "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    assert export.read_metadata(result["export"])["image_shape"] == [32, 32, 3]
