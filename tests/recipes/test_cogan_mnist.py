import importlib.util
import os

import numpy as np
import pytest
import tensorflow as tf

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "cogan_mnist.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("cogan_mnist", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_trains_draws_pairs_and_exports_both_generators(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert os.path.isfile(result["grid"])
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")
    assert os.path.isdir(tmp_path / "run" / "checkpoint")
    assert all(np.isfinite(v[-1]) for v in result["history"].values())
    pairing = result["pairing"]
    assert 0.0 <= pairing["pair_error"] <= 2.0 and pairing["shuffled_error"] > 0.0
    paths = result["export"]
    assert paths["a"] == str(tmp_path / "models" / "cogan_mnist_a" / "1")
    meta_a, meta_b = export.read_metadata(paths["a"]), export.read_metadata(paths["b"])
    assert meta_a["image_shape"] == meta_b["image_shape"] == [28, 28, 1]
    assert meta_a["pair_with"] == "cogan_mnist_b" and meta_b["transform"] == "edges" and meta_b["domain"] == "b"
    # Served apart, the same noise gives the pair the model gives.
    served_a = tf.saved_model.load(paths["a"]).signatures["serving_default"]
    served_b = tf.saved_model.load(paths["b"]).signatures["serving_default"]
    noise = tf.constant(np.random.default_rng(0).normal(size=(2, 100)), tf.float32)
    a, b = served_a(noise=noise)["images"].numpy(), served_b(noise=noise)["images"].numpy()
    assert a.shape == b.shape == (2, 28, 28, 1)
    assert not np.allclose(a, b)


def test_bad_discriminator_filters_are_refused():
    with pytest.raises(SystemExit):
        load_recipe().parse_args(["--d-filters", "20,x"])


@pytest.mark.slow  # a second full trace of the nets at MNIST size
def test_full_scale_path_reads_mnist_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=16):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--base-filters", "4",
             "--d-filters", "4,4", "--d-hidden", "8", "--transform", "negative", "--num-pairs", "8",
             "--precision", "float32", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    assert export.read_metadata(result["export"]["b"])["transform"] == "negative"
