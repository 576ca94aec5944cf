"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel (KID)."""

import numpy as np

from zoo.metrics.frechet import _features, _same_dim


def polynomial_kernel(x, y):
    """The KID kernel `k(x, y) = (x . y / d + 1)^3` between all rows of two sets.

    Args:
        x: float64 array `(N, D)`.
        y: float64 array `(M, D)`.

    Returns:
        float64 array `(N, M)`.
    """
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def kernel_inception_distance(features_a, features_b, num_subsets=100, subset_size=1000, seed=0):
    """KID: the unbiased squared MMD between two sets of activations, over random subsets.

    For each of `num_subsets` subsets, `m` rows are drawn without replacement from
    each set and the unbiased estimator

        MMD^2 = 1/(m(m-1)) sum_{i!=j} k(a_i, a_j) + 1/(m(m-1)) sum_{i!=j} k(b_i, b_j)
                - 2/m^2 sum_{i,j} k(a_i, b_j)

    is evaluated with `k(x, y) = (x . y / d + 1)^3`. Unlike FID it is unbiased, so
    small sample sizes compare fairly, and it can be slightly negative when the two
    distributions are close.

    Args:
        features_a: array-like `(N, D)`, e.g. features of real images.
        features_b: array-like `(M, D)`, e.g. features of generated images.
        num_subsets: int >= 1, number of random subsets. Default 100.
        subset_size: int >= 2, rows per subset `m`, clipped to `min(N, M)`.
            Default 1000.
        seed: int, seed of the subset sampling. Default 0.

    Returns:
        `(mean, std)`: floats, the mean and the standard deviation of the subset
        estimates.

    Raises:
        ValueError: on feature sets that are not 2-D with at least 2 rows and one
            common D, or on bad `num_subsets` / `subset_size`.

    Example:
    ```python
    kid, kid_std = zoo.metrics.kernel_inception_distance(real_features, fake_features)
    ```

    Reference: Binkowski, Sutherland, Arbel & Gretton, "Demystifying MMD GANs",
    ICLR 2018.
    """
    features_a = _features(features_a, "features_a")
    features_b = _features(features_b, "features_b")
    _same_dim(features_a, features_b)
    if isinstance(num_subsets, bool) or not isinstance(num_subsets, (int, np.integer)) or num_subsets < 1:
        raise ValueError(f"num_subsets must be a positive int; got {num_subsets!r}")
    if isinstance(subset_size, bool) or not isinstance(subset_size, (int, np.integer)) or subset_size < 2:
        raise ValueError(f"subset_size must be an int >= 2; got {subset_size!r}")
    m = int(min(subset_size, len(features_a), len(features_b)))
    rng = np.random.default_rng(seed)
    estimates = np.empty(num_subsets)
    for s in range(num_subsets):
        a = features_a[rng.choice(len(features_a), m, replace=False)]
        b = features_b[rng.choice(len(features_b), m, replace=False)]
        k_aa, k_bb, k_ab = polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)
        within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
        estimates[s] = within - 2.0 * k_ab.sum() / (m * m)
    return float(estimates.mean()), float(estimates.std())
