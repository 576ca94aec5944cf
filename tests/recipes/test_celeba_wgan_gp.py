import importlib.util
import os

import numpy as np
import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "celeba_wgan_gp.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("celeba_wgan_gp", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_with_diagnostics_writes_samples_and_exports(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--d-steps", "1", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")
    assert result["export"] == str(tmp_path / "models" / "celeba_wgan_gp" / "1")
    assert export.read_metadata(result["export"])["image_shape"] == [32, 32, 1]
    history = result["history"]
    assert all(len(v) == 1 for v in history.values())
    for key in ("d_loss", "gradient_penalty", "diag_diversity", "diag_d_gap"):
        assert np.isfinite(history[key][0]), key


@pytest.mark.slow  # the same tfds path as test_celeba_dcgan.py (also slow); 64 px WGAN-GP traces slowly
def test_full_scale_path_reads_celeba_at_64px_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--base-filters", "8", "--d-steps", "1",
             "--precision", "float32", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [64, 64, 3] and meta["latent_dim"] == 128
