"""Classifier export for TF Serving, checked from processes with no zoo code."""

import os
import subprocess
import sys

import numpy as np
import pytest

from zoo import export, nets
from zoo.models import SemiSupervisedGAN

SHAPE = (8, 8, 1)

# Runs in a fresh interpreter in which importing zoo is impossible.
LOADER = r"""
import json
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = loaded.signatures["serving_default"](images=tf.constant(np.load(sys.argv[2])))
np.save(sys.argv[3], out["probabilities"].numpy())
print(json.dumps({
    "signatures": sorted(loaded.signatures.keys()),
    "labels": out["labels"].numpy().tolist(),
    "labels_dtype": out["labels"].dtype.name,
}))
"""


def make_sgan():
    return SemiSupervisedGAN(
        nets.sgan_generator(4, SHAPE, hidden_units=(8,)),
        nets.sgan_discriminator(SHAPE, num_classes=3, hidden_units=(16, 8)),
        num_classes=3,
    )


@pytest.mark.slow
def test_export_loads_in_a_process_without_zoo(tmp_path, run_without_zoo):
    sgan = make_sgan()
    path = export.export_classifier(sgan, "digits_sgan", base_path=str(tmp_path), metadata={"error": 0.5})
    assert path == str(tmp_path / "digits_sgan" / "1")
    meta = export.read_metadata(path)
    assert meta["num_classes"] == 3 and meta["image_shape"] == [8, 8, 1]
    assert meta["model"] == "SemiSupervisedGAN" and meta["error"] == 0.5
    images = np.random.default_rng(0).uniform(-1, 1, (5, *SHAPE)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    report = run_without_zoo(LOADER, path, tmp_path / "images.npy", tmp_path / "out.npy")
    assert report["signatures"] == ["serving_default"]
    assert report["labels_dtype"] == "int64"
    assert report["labels"] == sgan.predict_labels(images).tolist()
    probabilities = np.load(tmp_path / "out.npy")
    assert probabilities.shape == (5, 3) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_shows_the_signature(tmp_path):
    path = export.export_classifier(make_sgan(), "c", base_path=str(tmp_path))
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip("saved_model_cli is not installed next to this Python")
    result = subprocess.run(
        [cli, "show", "--dir", path, "--tag_set", "serve", "--signature_def", "serving_default"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "inputs['images']" in result.stdout and "(-1, 8, 8, 1)" in result.stdout
    assert "outputs['probabilities']" in result.stdout and "outputs['labels']" in result.stdout
    assert "DT_INT64" in result.stdout


def test_a_plain_classifier_exports_and_versions_count_up(tmp_path):
    classifier = make_sgan().classifier
    first = export.export_classifier(classifier, "m", base_path=str(tmp_path))
    second = export.export_classifier(classifier, "m", base_path=str(tmp_path))
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    assert sorted(os.listdir(tmp_path / "m")) == ["1", "2"]  # no temporary folders left
    with pytest.raises(ValueError, match="already exists"):
        export.export_classifier(classifier, "m", base_path=str(tmp_path), version=2)
    with pytest.raises(ValueError, match="name"):
        export.export_classifier(classifier, "a b", base_path=str(tmp_path))
    with pytest.raises(ValueError, match="classifier"):
        export.export_classifier(object(), "x", base_path=str(tmp_path))
