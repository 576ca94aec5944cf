import math

import numpy as np
import pytest

from zoo import data, metrics


def test_samples_on_three_of_eight_modes():
    modes = data.ring_modes()
    samples = np.repeat(modes[[0, 3, 5]], [10, 10, 10], axis=0)
    result = metrics.mode_coverage(samples, modes, 0.01)
    assert result["modes_covered"] == 3
    assert result["num_modes"] == 8
    assert result["high_quality"] == 1.0
    assert result["counts"] == [10, 0, 0, 10, 0, 10, 0, 0]
    # Uniform over 3 of 8 modes: sum 1/3 log(8/3) = log(8/3).
    assert result["reverse_kl"] == pytest.approx(math.log(8 / 3), rel=1e-12)


def test_unbalanced_histogram_has_the_hand_computed_kl():
    modes = data.ring_modes()
    samples = np.repeat(modes[[0, 1]], [30, 10], axis=0)
    result = metrics.mode_coverage(samples, modes, 0.01)
    expected = 0.75 * math.log(0.75 * 8) + 0.25 * math.log(0.25 * 8)
    assert result["reverse_kl"] == pytest.approx(expected, rel=1e-12)
    assert result["modes_covered"] == 2


def test_samples_far_from_every_mode():
    modes = data.ring_modes()
    result = metrics.mode_coverage(np.zeros((50, 2)), modes, 0.01)
    assert result["modes_covered"] == 0
    assert result["high_quality"] == 0.0
    assert result["reverse_kl"] == float("inf")
    assert result["counts"] == [0] * 8


def test_half_on_mode_half_off():
    modes = data.grid_modes()
    on = modes[np.arange(20) % 25]
    off = modes[:20] + 1.0  # the middle of a grid cell: 1.41 from every corner
    result = metrics.mode_coverage(np.concatenate([on, off]), modes, 0.05)
    assert result["high_quality"] == 0.5
    assert result["modes_covered"] == 20
    assert sum(result["counts"]) == 20


def test_threshold_is_a_radius_in_sigmas():
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.0, 0.29], [0.0, 0.31], [10.0, 0.0]])
    assert metrics.mode_coverage(samples, modes, 0.1)["counts"] == [1, 1]
    assert metrics.mode_coverage(samples, modes, 0.1, threshold=4.0)["counts"] == [2, 1]
    assert metrics.mode_coverage(samples, modes, 0.1, threshold=2.0)["counts"] == [0, 1]


def test_true_samples_cover_every_mode_evenly():
    result = metrics.mode_coverage_for(data.sample_mixture(data.ring_modes(), 0.01, 2500, seed=0), "ring")
    assert result["modes_covered"] == 8
    # |noise| / sigma is chi with 2 degrees of freedom: P(|noise| < 3 sigma) = 1 - exp(-9/2)
    # = 0.98889; 2,500 draws put the fraction within 0.97-1.0 with overwhelming odds.
    assert 0.97 < result["high_quality"] < 1.0
    assert result["reverse_kl"] < 0.01
    assert sum(result["counts"]) == round(result["high_quality"] * 2500)


def test_named_grid_matches_the_explicit_call():
    samples = data.sample_mixture(data.grid_modes(), 0.05, 2500, seed=1)
    named = metrics.mode_coverage_for(samples, "grid")
    explicit = metrics.mode_coverage(samples, data.grid_modes(), 0.05)
    assert named == explicit
    assert named["num_modes"] == 25 and named["modes_covered"] == 25


def test_chunked_distances_match_a_direct_computation():
    rng = np.random.default_rng(2)
    modes = rng.normal(size=(7, 3))
    samples = rng.normal(size=(10_000, 3))  # more rows than one chunk
    result = metrics.mode_coverage(samples, modes, 0.2, threshold=2.0)
    distances = np.linalg.norm(samples[:, None] - modes[None], axis=-1)
    good = distances.min(axis=1) < 0.4
    expected = np.bincount(distances.argmin(axis=1)[good], minlength=7)
    assert result["counts"] == expected.tolist()
    assert result["high_quality"] == good.mean()


def test_result_types_are_plain_python():
    result = metrics.mode_coverage_for(np.array(data.ring_modes()), "ring")
    assert type(result["modes_covered"]) is int and type(result["num_modes"]) is int
    assert type(result["high_quality"]) is float and type(result["reverse_kl"]) is float
    assert all(type(c) is int for c in result["counts"])
    assert result["reverse_kl"] == 0.0


@pytest.mark.parametrize(
    "samples,modes,sigma,threshold,match",
    [
        (np.zeros(2), np.zeros((3, 2)), 0.1, 3.0, "samples must be a 2-D"),
        (np.zeros((0, 2)), np.zeros((3, 2)), 0.1, 3.0, "samples must be a 2-D"),
        (np.zeros((4, 2)), np.zeros((3, 3)), 0.1, 3.0, "same dimension"),
        (np.full((4, 2), np.inf), np.zeros((3, 2)), 0.1, 3.0, "samples has NaN"),
        (np.zeros((4, 2)), [[np.nan, 0.0]], 0.1, 3.0, "modes has NaN"),
        (np.zeros((4, 2)), np.zeros((3, 2)), 0.0, 3.0, "sigma must be a float > 0"),
        (np.zeros((4, 2)), np.zeros((3, 2)), 0.1, -1.0, "threshold must be a float > 0"),
    ],
)
def test_bad_inputs_are_rejected(samples, modes, sigma, threshold, match):
    with pytest.raises(ValueError, match=match):
        metrics.mode_coverage(samples, modes, sigma, threshold=threshold)


def test_unknown_name_is_rejected():
    with pytest.raises(ValueError, match="unknown toy distribution 'spiral'"):
        metrics.mode_coverage_for(np.zeros((4, 2)), "spiral")
