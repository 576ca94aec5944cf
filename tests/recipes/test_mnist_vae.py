import importlib.util
import os

import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "mnist_vae.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("mnist_vae", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_draws_the_latent_figures_and_exports(tmp_path):
    result = load_recipe().main(["--smoke", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")])
    assert set(result["figures"]) == {"manifold", "scatter", "interpolation", "arithmetic", "samples"}
    for path in result["figures"].values():
        assert os.path.isfile(path) and os.path.getsize(path) > 0
    assert result["evaluation"]["elbo"] < 0
    meta = export.read_metadata(result["export"])
    assert meta["latent_dim"] == 2 and meta["image_shape"] == [28, 28, 1]


def test_full_scale_path_reads_mnist_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=8):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--latent-dim", "3", "--binarize",
             "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    assert "manifold" not in result["figures"] and os.path.isfile(result["figures"]["interpolation"])
    assert export.read_metadata(result["export"])["latent_dim"] == 3
