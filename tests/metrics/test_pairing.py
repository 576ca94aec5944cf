import numpy as np
import pytest

from zoo.metrics import pairing_error


def negative(x):
    return -x


def test_perfect_pairs_score_zero_against_a_positive_chance_level():
    a = np.random.default_rng(0).uniform(-1, 1, (6, 4, 4, 1)).astype("float32")
    scores = pairing_error(a, -a, negative)
    assert scores["pair_error"] == 0.0
    assert scores["shuffled_error"] > 0.5  # uniform pixels differ by 2/3 on average
    assert scores["ratio"] == 0.0 and scores["pairs_closer"] == 1.0


def test_hand_computed_values():
    a = np.zeros((2, 1, 1, 1), "float32")
    a[1] = 1.0
    b = np.array([0.5, -0.5], "float32").reshape(2, 1, 1, 1)
    # expected B = -a = [0, -1]; true pairs: |0.5 - 0| = 0.5, |-0.5 + 1| = 0.5;
    # shuffled (the only shift for 2 pairs swaps them): |-0.5 - 0| = 0.5, |0.5 + 1| = 1.5
    scores = pairing_error(a, b, negative)
    assert scores["pair_error"] == pytest.approx(0.5)
    assert scores["shuffled_error"] == pytest.approx(1.0)
    assert scores["ratio"] == pytest.approx(0.5)
    assert scores["pairs_closer"] == pytest.approx(0.5)


def test_unrelated_pairs_are_at_chance():
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (500, 4, 4, 1))
    b = rng.uniform(-1, 1, (500, 4, 4, 1))
    assert pairing_error(a, b, negative, seed=3)["ratio"] == pytest.approx(1.0, abs=0.03)


def test_bad_inputs_are_refused():
    a = np.zeros((3, 4, 4, 1))
    with pytest.raises(ValueError, match="same n"):
        pairing_error(a, a[:2], negative)
    with pytest.raises(ValueError, match="at least 2"):
        pairing_error(a[:1], a[:1], negative)
    with pytest.raises(ValueError, match="transform"):
        pairing_error(a, a, lambda x: x[..., :2, :])
