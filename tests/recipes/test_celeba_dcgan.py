import importlib.util
import os

import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "celeba_dcgan.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("celeba_dcgan", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_writes_samples_and_exports(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")
    assert result["export"] == str(tmp_path / "models" / "celeba_dcgan" / "1")
    assert export.read_metadata(result["export"])["image_shape"] == [16, 16, 1]
    assert all(len(v) == 1 for v in result["history"].values())


@pytest.mark.slow  # 64 px tracing; celeb_a through mock tfds is covered by tests/data and test_celeba_vae.py
def test_full_scale_path_reads_celeba_at_64px_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--precision", "float32",
             "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [64, 64, 3] and meta["latent_dim"] == 128
