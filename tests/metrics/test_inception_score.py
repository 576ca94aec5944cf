import math

import numpy as np
import pytest

from zoo import metrics


def test_confident_predictions_spread_over_classes_score_the_class_count():
    probabilities = np.eye(7)[np.arange(70) % 7]
    mean, std = metrics.inception_score(probabilities, splits=10)
    assert mean == pytest.approx(7.0, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_identical_rows_score_one():
    probabilities = np.tile([0.1, 0.2, 0.7], (50, 1))
    assert metrics.inception_score(probabilities, splits=5) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_hand_computed_value():
    # p(y) = (0.75, 0.25); KL1 = log(1 / 0.75); KL2 = 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25).
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl1 = math.log(1 / 0.75)
    kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    mean, _ = metrics.inception_score(probabilities, splits=1)
    assert mean == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)


def test_mean_and_std_over_splits():
    # First split: 10 classes, each predicted with certainty (score 10); second: one row repeated (score 1).
    probabilities = np.concatenate([np.eye(10), np.tile(np.full(10, 0.1), (10, 1))])
    mean, std = metrics.inception_score(probabilities, splits=2)
    assert mean == pytest.approx(5.5, rel=1e-12)
    assert std == pytest.approx(4.5, rel=1e-12)


@pytest.mark.parametrize(
    "probabilities,splits,match",
    [
        (np.full((4, 3), 0.5), 1, "summing to 1"),
        (np.array([[1.5, -0.5]]), 1, "non-negative"),
        (np.eye(3), 4, "splits"),
        (np.ones(3) / 3, 1, "2-D"),
    ],
)
def test_bad_input(probabilities, splits, match):
    with pytest.raises(ValueError, match=match):
        metrics.inception_score(probabilities, splits=splits)
