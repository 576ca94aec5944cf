import itertools

import numpy as np
import pytest

from zoo import metrics


def _kid_by_the_formula(x, y):
    """Binkowski et al. eq. for the unbiased MMD^2, as explicit double sums."""
    m, n, d = len(x), len(y), x.shape[1]

    def k(u, v):
        return (sum(ui * vi for ui, vi in zip(u, v)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


def test_matches_the_formula_when_the_subset_is_the_whole_set():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(25, 4)), rng.normal(loc=0.3, size=(25, 4))
    # subset_size >= 25 is clipped to 25: every subset is a permutation of the whole set.
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=3, subset_size=1000)
    assert mean == pytest.approx(_kid_by_the_formula(x, y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_subsets_average_formula_values_of_random_subsets():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 1.0
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=4, subset_size=10, seed=7)
    draws = np.random.default_rng(7)
    values = []
    for _ in range(4):
        a = x[draws.choice(40, 10, replace=False)]
        b = y[draws.choice(30, 10, replace=False)]
        values.append(_kid_by_the_formula(a, b))
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-8)


def test_unbiased_near_zero_for_one_distribution_and_growing_with_shift():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 8))
    same, same_std = metrics.kernel_inception_distance(x, rng.normal(size=(600, 8)), num_subsets=20, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3
    shifted = [
        metrics.kernel_inception_distance(x, x[::-1] + s, num_subsets=5, subset_size=200)[0] for s in (0.2, 0.5, 1.0)
    ]
    assert 0 < shifted[0] < shifted[1] < shifted[2]


def test_seed_makes_it_reproducible():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(100, 5)), rng.normal(size=(100, 5))
    first = metrics.kernel_inception_distance(x, y, num_subsets=5, subset_size=20, seed=1)
    assert metrics.kernel_inception_distance(x, y, num_subsets=5, subset_size=20, seed=1) == first
    assert metrics.kernel_inception_distance(x, y, num_subsets=5, subset_size=20, seed=2) != first


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_subsets": 0}, "num_subsets"),
        ({"subset_size": 1}, "subset_size"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.kernel_inception_distance(np.zeros((5, 2)), np.zeros((5, 2)), **kwargs)
    with pytest.raises(ValueError, match="same feature dimension"):
        metrics.kernel_inception_distance(np.zeros((5, 2)), np.zeros((5, 3)))


def test_equals_torch_fidelity_on_the_same_features(torch_references):
    """One subset of all rows: the subset draw cannot differ, only the estimator could."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(120, 32)), rng.normal(loc=0.3, scale=1.2, size=(120, 32))
    reference = float(torch_references("kid", features1=a, features2=b)["kid"])
    ours, std = metrics.kernel_inception_distance(a, b, num_subsets=3, subset_size=120)
    assert ours > 0.01 and std == pytest.approx(0.0, abs=1e-12)
    assert ours == pytest.approx(reference, rel=1e-6)
