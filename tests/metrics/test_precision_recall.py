import importlib

import numpy as np
import pytest

from zoo.metrics.precision_recall import density_coverage, precision_recall

# The module: `zoo.metrics.precision_recall` is also the function's name in the package.
module = importlib.import_module("zoo.metrics.precision_recall")

SHAPES = [(200, 150, 16), (60, 90, 5), (40, 40, 2)]


def _two_sets(num_real, num_fake, dim, seed=0):
    """Real normal features, fake ones narrower, shifted and skewed: a partial overlap."""
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(num_real, dim))
    fake = 0.6 * (rng.standard_gamma(2.0, size=(num_fake, dim)) - 2.0) + 0.5
    return real, fake


def _by_the_definition(real, fake, k):
    """The four metrics from the papers' sums, with explicit loops over samples."""

    def radii(x):
        others = [[np.linalg.norm(a - b) for j, b in enumerate(x) if j != i] for i, a in enumerate(x)]
        return np.array([np.sort(distances)[k - 1] for distances in others])

    real_radii, fake_radii = radii(real), radii(fake)
    inside_real = np.array([[np.linalg.norm(f - r) < rr for r, rr in zip(real, real_radii)] for f in fake])
    inside_fake = np.array([[np.linalg.norm(r - f) < fr for f, fr in zip(fake, fake_radii)] for r in real])
    return {
        "precision": inside_real.any(axis=1).mean(),
        "recall": inside_fake.any(axis=1).mean(),
        "density": inside_real.sum() / (k * len(fake)),
        "coverage": inside_real.any(axis=0).mean(),
    }


@pytest.mark.parametrize("k", [1, 3, 5, 10])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_the_prdc_package(shape, k):
    prdc = pytest.importorskip("prdc")
    real, fake = _two_sets(*shape, seed=k)
    expected = prdc.compute_prdc(real, fake, nearest_k=k)
    precision, recall = precision_recall(real, fake, nearest_k=k)
    density, coverage = density_coverage(real, fake, nearest_k=k)
    assert precision == pytest.approx(expected["precision"], abs=1e-12)
    assert recall == pytest.approx(expected["recall"], abs=1e-12)
    assert density == pytest.approx(expected["density"], abs=1e-12)
    assert coverage == pytest.approx(expected["coverage"], abs=1e-12)
    # Partial overlap, so the comparison is not between trivial 0s and 1s.
    assert 0 < precision and 0 < recall < 1 and 0 < coverage < 1


@pytest.mark.parametrize("k", [1, 4])
def test_matches_the_definition(k):
    real, fake = _two_sets(30, 25, 3, seed=k)
    expected = _by_the_definition(real, fake, k)
    assert precision_recall(real, fake, nearest_k=k) == pytest.approx(
        (expected["precision"], expected["recall"]), abs=1e-12
    )
    assert density_coverage(real, fake, nearest_k=k) == pytest.approx(
        (expected["density"], expected["coverage"]), abs=1e-12
    )


@pytest.mark.parametrize("batch_size", [1, 7, 64, 10**9])
def test_independent_of_batch_size(batch_size):
    real, fake = _two_sets(100, 70, 6, seed=3)
    assert precision_recall(real, fake, batch_size=batch_size) == precision_recall(real, fake)
    assert density_coverage(real, fake, batch_size=batch_size) == density_coverage(real, fake)


def test_distances_are_computed_in_row_batches(monkeypatch):
    real, fake = _two_sets(50, 40, 3)
    shapes = []

    def spy(x, x_sq, y, y_sq):
        shapes.append((len(x), len(y)))
        return distances(x, x_sq, y, y_sq)

    distances = module._distances
    monkeypatch.setattr(module, "_distances", spy)
    precision_recall(real, fake, batch_size=8)
    density_coverage(real, fake, batch_size=8)
    assert shapes and max(rows for rows, _ in shapes) == 8
    # Each row once per pass: precision/recall takes real radii, fake radii and one cross
    # pass; density/coverage real radii and one cross pass.
    assert sum(rows for rows, _ in shapes) == (50 + 40 + 50) + (50 + 50)


def test_identical_sets_are_fully_precise_and_covered():
    real, _ = _two_sets(80, 1, 4)
    assert precision_recall(real, real) == (1.0, 1.0)
    density, coverage = density_coverage(real, real)
    assert coverage == 1.0
    # Every sample lies in its own ball, and in its k nearest neighbours' balls only when
    # it is among their k nearest too: on average about 1 when the sets coincide.
    assert 0.5 < density < 1.5


def test_far_away_fakes_score_zero():
    real, fake = _two_sets(40, 30, 3)
    assert precision_recall(real, fake + 100.0) == (0.0, 0.0)
    assert density_coverage(real, fake + 100.0) == (0.0, 0.0)


def test_hand_computed_points_on_a_line():
    # Real balls (k=1) have radius 1 around 0, 1, 2, 3. The fakes 0.5 and 10 are 9.5
    # apart, so both fake balls have radius 9.5.
    real, fake = [[0.0], [1.0], [2.0], [3.0]], [[0.5], [10.0]]
    # 0.5 lies in the balls of 0 and 1, 10 in none; all reals are within 9.5 of 0.5.
    assert precision_recall(real, fake, nearest_k=1) == (0.5, 1.0)
    # density = (2 + 0) / (1 * 2); only 0 and 1 have a fake closer than their radius.
    assert density_coverage(real, fake, nearest_k=1) == (1.0, 0.5)
    # k=2: radii 2, 1, 1, 2; 0.5 lies in the balls of 0 and 1 only (1.5 from 2, 2.5 from 3).
    assert density_coverage(real, fake, nearest_k=2) == (2 / 4, 2 / 4)


def test_a_fake_on_the_sphere_is_outside():
    # 4 and -1 are exactly at radius 1 from 3 and 0: strict `<` leaves them out.
    real, fake = [[0.0], [1.0], [2.0], [3.0]], [[4.0], [-1.0]]
    assert precision_recall(real, fake, nearest_k=1)[0] == 0.0
    assert density_coverage(real, fake, nearest_k=1) == (0.0, 0.0)


def test_duplicates_are_neighbours_at_distance_zero():
    # With k=1 each doubled real point has radius 0: an empty ball, as in prdc.
    real = [[0.0], [0.0], [5.0], [5.0]]
    assert density_coverage(real, [[0.0], [5.0]], nearest_k=1) == (0.0, 0.0)
    assert density_coverage(real, [[0.0], [5.0]], nearest_k=2) == (1.0, 1.0)


def test_density_counts_overlapping_balls():
    # k=3 among 4 collinear points: every ball reaches the farthest point, radius 3, 2, 2, 3,
    # so a fake at 1.5 is in all four balls: density = 4 / (3 * 1).
    real = [[0.0], [1.0], [2.0], [3.0]]
    assert density_coverage(real, [[1.5]], nearest_k=3) == (pytest.approx(4 / 3, abs=1e-15), 1.0)


def test_accepts_float32_and_lists():
    real, fake = _two_sets(30, 20, 4)
    expected = precision_recall(real, fake)
    assert precision_recall(real.tolist(), fake.tolist()) == expected
    low = real.astype(np.float32)
    assert precision_recall(low, fake) == precision_recall(low.astype(np.float64), fake)
    assert all(type(value) is float for value in precision_recall(low, fake) + density_coverage(low, fake))


@pytest.mark.parametrize(
    "function,kwargs,match",
    [
        (precision_recall, {"nearest_k": 0}, "nearest_k must be a positive int"),
        (precision_recall, {"nearest_k": 2.0}, "nearest_k must be a positive int"),
        (precision_recall, {"nearest_k": True}, "nearest_k must be a positive int"),
        (precision_recall, {"nearest_k": 5}, r"nearest_k must be below the number of real_features rows \(5\)"),
        (precision_recall, {"nearest_k": 3}, r"nearest_k must be below the number of fake_features rows \(3\)"),
        (density_coverage, {"nearest_k": 5}, r"real_features rows \(5\)"),
        (precision_recall, {"batch_size": 0}, "batch_size must be a positive int"),
        (density_coverage, {"batch_size": 1.5}, "batch_size must be a positive int"),
        (density_coverage, {"batch_size": None}, "batch_size must be a positive int"),
    ],
)
def test_bad_arguments(function, kwargs, match):
    with pytest.raises(ValueError, match=match):
        function(np.zeros((5, 2)), np.ones((3, 2)), **kwargs)


def test_density_coverage_needs_no_fake_radii():
    # One fake sample is enough when only the real balls are used.
    # Radii 1, 1, 2: 0.5 lies in the balls of 0 and 1, and 3 is 2.5 from it.
    assert density_coverage([[0.0], [1.0], [3.0]], [[0.5]], nearest_k=1) == (2.0, 2 / 3)
    with pytest.raises(ValueError, match="fake_features needs at least 2 samples"):
        precision_recall([[0.0], [1.0], [3.0]], [[0.5]], nearest_k=1)


@pytest.mark.parametrize("function", [precision_recall, density_coverage])
def test_bad_features(function):
    good = np.zeros((5, 2))
    with pytest.raises(ValueError, match="real_features must be a 2-D array"):
        function(np.zeros(5), good, nearest_k=1)
    with pytest.raises(ValueError, match="fake_features must be a 2-D array"):
        function(good, np.zeros((5, 2, 1)), nearest_k=1)
    with pytest.raises(ValueError, match="fake_features has NaN"):
        function(good, np.full((5, 2), np.nan), nearest_k=1)
    with pytest.raises(ValueError, match="same feature dimension"):
        function(good, np.zeros((5, 3)), nearest_k=1)
