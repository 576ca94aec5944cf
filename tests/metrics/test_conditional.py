import keras
import numpy as np
import pytest

from zoo import metrics


class FakeClassifier:
    """Predicts the class written in each image's first pixel."""

    name = "fake"
    num_classes = 3

    def probabilities(self, images, batch_size=256):
        return np.eye(3)[np.asarray(images)[:, 0, 0, 0].astype(int)]


def test_exact_accuracies_per_label():
    requested = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 0, 0, 1, 1, 1, 2, 0, 0, 1])
    images = np.zeros((10, 2, 2, 1))
    images[:, 0, 0, 0] = predicted
    result = metrics.conditional_accuracy(FakeClassifier(), images, requested)
    assert result["accuracy"] == pytest.approx(6 / 10)
    assert result["per_label"] == {0: 0.75, 1: 1.0, 2: 0.25}
    assert result["worst_label"] == 2 and result["worst_label_accuracy"] == 0.25


def test_a_keras_classifier_is_used_by_argmax():
    inputs = keras.Input((2, 2, 1))
    logits = keras.layers.Flatten()(inputs)  # 4 "logits": the pixels
    model = keras.Model(inputs, logits)
    images = np.eye(4)[[0, 1, 2, 3, 3]].reshape(5, 2, 2, 1)
    result = metrics.conditional_accuracy(model, images, np.array([0, 1, 2, 3, 0]))
    assert result["accuracy"] == pytest.approx(0.8)
    assert result["worst_label"] == 0 and result["worst_label_accuracy"] == 0.5


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        metrics.conditional_accuracy(FakeClassifier(), np.zeros((3, 2, 2, 1)), np.array([0, 1]))
    with pytest.raises(ValueError, match="1-D int"):
        metrics.conditional_accuracy(FakeClassifier(), np.zeros((2, 2, 2, 1)), np.array([0.5, 1.0]))
