import json
import os

import numpy as np
import pytest
import tensorflow as tf

from zoo import metrics
from zoo.metrics import loading


class _ConditionalExport(tf.Module):
    """The serving signature of a conditional zoo export: label / 10 in the top-left pixel."""

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 4], tf.float32, name="noise"),
            tf.TensorSpec([None], tf.int32, name="labels"),
        ]
    )
    def serve(self, noise, labels):
        batch = tf.shape(noise)[0]
        corner = tf.reshape(tf.cast(labels, tf.float32) / 10.0, [batch, 1, 1, 1])
        images = tf.pad(corner, [[0, 0], [0, 7], [0, 7], [0, 0]]) + 0.0 * noise[:, :1, None, None]
        return {"images": images}


def _write_conditional_export(folder, num_classes=3):
    module = _ConditionalExport()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    os.makedirs(folder / "assets.extra", exist_ok=True)
    metadata = {"num_classes": num_classes, "image_shape": [8, 8, 1]}
    (folder / "assets.extra" / "zoo.json").write_text(json.dumps(metadata))


class CornerClassifier:
    name = "corner"
    num_classes = 3

    def features(self, images, batch_size=256):
        return np.asarray(images, np.float64).reshape(len(images), -1)[:, :4]

    def probabilities(self, images, batch_size=256):
        return np.eye(3)[np.round(np.asarray(images)[:, 0, 0, 0] * 10).astype(int)]


def test_a_conditional_export_is_evaluated_per_label(tmp_path):
    _write_conditional_export(tmp_path / "cgan" / "1")
    generator = loading.load_generator(str(tmp_path / "cgan"))  # base path: newest version
    assert (generator.latent_dim, generator.num_classes, generator.image_shape) == (4, 3, (8, 8, 1))
    images = generator.generate(np.zeros((5, 4)), labels=np.array([0, 1, 2, 2, 1]), batch_size=2)
    np.testing.assert_allclose(images[:, 0, 0, 0], [0, 0.1, 0.2, 0.2, 0.1], atol=1e-7)
    reference = np.zeros((30, 8, 8, 1), np.float32)
    results = metrics.evaluate_generator(generator, reference, CornerClassifier(), ("accuracy",), num_samples=30)
    assert results == {"accuracy30": 1.0, "worst_label_accuracy30": 1.0}
    with pytest.raises(ValueError, match="exactly when the export is conditional"):
        generator.generate(np.zeros((2, 4)))


def test_an_export_taking_labels_needs_num_classes(tmp_path):
    _write_conditional_export(tmp_path / "1")
    (tmp_path / "1" / "assets.extra" / "zoo.json").write_text("{}")
    with pytest.raises(ValueError, match="no int num_classes"):
        loading.load_generator(str(tmp_path / "1"))


def test_missing_paths():
    with pytest.raises(FileNotFoundError, match="no checkpoint or export"):
        loading.load_generator("/nonexistent/model")


def test_load_reference_datasets_folders_and_errors(tmp_path):
    images, labels = loading.load_reference("digits", image_size=(16, 16), limit=50, with_labels=True)
    assert images.shape == (50, 16, 16, 1) and labels.shape == (50,) and labels.dtype == np.int32
    assert images.min() >= -1 and images.max() <= 1
    faces, none = loading.load_reference("lfw_faces", limit=10, with_labels=True)
    assert faces.shape == (10, 32, 32, 1) and none is None

    for name, value in (("a", 0), ("b", 255)):
        os.makedirs(tmp_path / name)
        for i in range(3):
            png = tf.io.encode_png(tf.fill([4, 4, 1], tf.constant(value, tf.uint8)))
            tf.io.write_file(str(tmp_path / name / f"{i}.png"), png)
    images, labels = loading.load_reference(str(tmp_path), with_labels=True)
    assert images.shape == (6, 4, 4, 1) and labels.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="unknown reference 'nope'"):
        loading.load_reference("nope")
