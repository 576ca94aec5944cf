import importlib.util
import os

import numpy as np
import pytest

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "mnist_sgan.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("mnist_sgan", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_reports_error_and_exports(tmp_path):
    result = load_recipe().main(["--smoke", "--export", "digits_sgan", "--base-path", str(tmp_path)])
    assert 0.0 <= result["test_error"] <= 1.0
    assert result["num_labels"] == 100 and result["num_unlabelled"] == 1500 and result["num_test"] == 297
    assert all(len(v) == 1 and np.isfinite(v[0]) for v in result["history"].values())
    meta = export.read_metadata(result["export"])
    assert meta["num_classes"] == 10 and meta["image_shape"] == [8, 8, 1]
    assert meta["test_error"] == pytest.approx(result["test_error"])


def test_full_scale_path_reads_mnist_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=60):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "10", "--labels-per-class", "1"]
        )
    assert result["num_labels"] == 10 and result["num_test"] == 60
    assert 0.0 <= result["test_error"] <= 1.0


def test_smoke_with_diffaugment_and_decay_options():
    recipe = load_recipe()
    seen = {}
    original = recipe.zoo.models.SemiSupervisedGAN

    class Recording(original):
        def fit(self, *args, **kwargs):
            seen["augment"] = self.augment
            seen["callbacks"] = kwargs.get("callbacks")
            history = super().fit(*args, **kwargs)
            seen["rate"] = float(self.d_optimizer.learning_rate)
            return history

    recipe.zoo.models.SemiSupervisedGAN = Recording
    try:
        result = recipe.main(["--smoke", "--shift", "1", "--decay-start", "0.0"])
    finally:
        recipe.zoo.models.SemiSupervisedGAN = original
    assert isinstance(seen["augment"], recipe.zoo.layers.RandomShift) and seen["augment"].max_shift == 1
    (decay,) = [c for c in seen["callbacks"] if isinstance(c, recipe.zoo.callbacks.LinearDecay)]
    assert decay.decay_start == 0.0
    assert seen["rate"] == pytest.approx(1e-3 * (1 - 1 / 2))  # one epoch of a 1-epoch schedule
    assert 0.0 <= result["test_error"] <= 1.0
