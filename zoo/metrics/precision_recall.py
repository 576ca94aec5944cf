"""Precision, recall, density and coverage from k-nearest-neighbour manifolds of features.

Each set of features is turned into a manifold estimate: the union of the balls around
its samples whose radius is the distance to the sample's k-th nearest other sample of
the same set. Fidelity asks how many fake samples fall inside the real manifold,
diversity how much of the real manifold the fake samples reach. Like FID, the numbers
depend on the extractor (StyleGAN2-ADA's `pr50k3` uses VGG16 features of 50k images);
report it with them.

Distances are Euclidean in float64, computed `batch_size` rows at a time, so neither
the `(N, N)` nor the `(N, M)` distance matrix is ever held whole. "Inside" is the strict
`distance < radius` of the `prdc` package; StyleGAN2-ADA compares with `<=` against
float16 radii, which differs only on (near) ties.
"""

import numpy as np

from zoo import checks
from zoo.metrics.frechet import _features, _same_dim


def precision_recall(real_features, fake_features, nearest_k=3, batch_size=1024):
    """Improved precision and recall of a set of generated samples.

    precision = fraction of fake samples inside at least one real ball,
    recall = fraction of real samples inside at least one fake ball,

    where each ball is centred on a sample and reaches its `nearest_k`-th nearest
    other sample of the same set. Precision measures fidelity, recall diversity; both
    are in [0, 1], higher is better.

    Args:
        real_features: array-like `(N, D)`, features of real images.
        fake_features: array-like `(M, D)`, features of generated images.
        nearest_k: int >= 1 and below both N and M, the neighbour that sets each
            radius. Default 3, as in StyleGAN2-ADA's `pr50k3`.
        batch_size: positive int, rows of the distance matrices computed at once
            (memory is about `batch_size * max(N, M)` float64). Default 1024.

    Returns:
        `(precision, recall)`: floats in [0, 1].

    Raises:
        ValueError: on feature sets that are not 2-D and finite with one common D, or
            on a bad `nearest_k` / `batch_size`.

    Example:
    ```python
    precision, recall = zoo.metrics.precision_recall(real_features, fake_features)
    ```

    Reference: Kynkaanniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
    Recall Metric for Assessing Generative Models", NeurIPS 2019.
    """
    real, fake, nearest_k, batch_size = _arguments(
        real_features, fake_features, nearest_k, batch_size, fake_needs_radii=True
    )
    real_radii = _nearest_neighbour_radii(real, nearest_k, batch_size)
    fake_radii = _nearest_neighbour_radii(fake, nearest_k, batch_size)
    fake_sq, real_sq = _squared_norms(fake), _squared_norms(real)
    fake_inside = np.zeros(len(fake), dtype=bool)
    num_real_inside = 0
    for start in range(0, len(real), batch_size):
        stop = start + batch_size
        distances = _distances(real[start:stop], real_sq[start:stop], fake, fake_sq)
        fake_inside |= (distances < real_radii[start:stop, None]).any(axis=0)
        num_real_inside += int((distances < fake_radii).any(axis=1).sum())
    return float(fake_inside.mean()), num_real_inside / len(real)


def density_coverage(real_features, fake_features, nearest_k=5, batch_size=1024):
    """Density and coverage of a set of generated samples.

    With a ball around each real sample reaching its `nearest_k`-th nearest other
    real sample,

    density = 1 / (k M) * sum over the M fake samples of the number of real balls
    that contain it,
    coverage = fraction of real samples whose ball contains at least one fake sample.

    Unlike precision and recall they use only the real manifold, so a few fake
    outliers do not inflate it: density is about 1 when fake and real samples come
    from one distribution (it can exceed 1), coverage is in [0, 1]; higher is better.

    Args:
        real_features: array-like `(N, D)`, features of real images.
        fake_features: array-like `(M, D)` with M >= 1, features of generated images.
        nearest_k: int >= 1 and below N, the neighbour that sets each real radius.
            Default 5, as in the paper.
        batch_size: positive int, rows of the distance matrices computed at once
            (memory is about `batch_size * max(N, M)` float64). Default 1024.

    Returns:
        `(density, coverage)`: floats, density >= 0 and coverage in [0, 1].

    Raises:
        ValueError: on feature sets that are not 2-D and finite with one common D, or
            on a bad `nearest_k` / `batch_size`.

    Example:
    ```python
    density, coverage = zoo.metrics.density_coverage(real_features, fake_features)
    ```

    Reference: Naeem, Oh, Uh, Choi & Yoo, "Reliable Fidelity and Diversity Metrics for
    Generative Models", ICML 2020.
    """
    real, fake, nearest_k, batch_size = _arguments(
        real_features, fake_features, nearest_k, batch_size, fake_needs_radii=False
    )
    real_radii = _nearest_neighbour_radii(real, nearest_k, batch_size)
    fake_sq, real_sq = _squared_norms(fake), _squared_norms(real)
    num_inside = 0
    num_covered = 0
    for start in range(0, len(real), batch_size):
        stop = start + batch_size
        distances = _distances(real[start:stop], real_sq[start:stop], fake, fake_sq)
        radii = real_radii[start:stop]
        num_inside += int((distances < radii[:, None]).sum())
        num_covered += int((distances.min(axis=1) < radii).sum())
    return num_inside / (nearest_k * len(fake)), num_covered / len(real)


def _arguments(real_features, fake_features, nearest_k, batch_size, fake_needs_radii):
    """The checked arguments shared by both metrics, features as float64 arrays."""
    real = _features(real_features, "real_features")
    fake = _features(fake_features, "fake_features", min_rows=2 if fake_needs_radii else 1)
    _same_dim(real, fake)
    nearest_k = checks.positive_int(nearest_k, "nearest_k")
    batch_size = checks.positive_int(batch_size, "batch_size")
    with_radii = [("real_features", real)] + ([("fake_features", fake)] if fake_needs_radii else [])
    for name, features in with_radii:
        if nearest_k >= len(features):
            raise ValueError(
                f"nearest_k must be below the number of {name} rows ({len(features)}), got {nearest_k}"
            )
    return real, fake, nearest_k, batch_size


def _nearest_neighbour_radii(features, nearest_k, batch_size):
    """Distance from each row of `features` to its `nearest_k`-th nearest other row.

    Duplicates count as neighbours at distance 0, as in `prdc`.
    """
    squared = _squared_norms(features)
    radii = np.empty(len(features))
    for start in range(0, len(features), batch_size):
        stop = min(start + batch_size, len(features))
        distances = _distances(features[start:stop], squared[start:stop], features, squared)
        # A row is not its own neighbour; inf also hides the round-off of its self-distance.
        distances[np.arange(stop - start), np.arange(start, stop)] = np.inf
        distances.partition(nearest_k - 1, axis=1)
        radii[start:stop] = distances[:, nearest_k - 1]
    return radii


def _squared_norms(features):
    return np.einsum("ij,ij->i", features, features)


def _distances(x, x_sq, y, y_sq):
    """Euclidean distances `(len(x), len(y))` between rows, from `|x|^2 + |y|^2 - 2 x.y`.

    The expansion needs one matrix product instead of an `(n, m, D)` difference array;
    it is done in place so that one `(n, m)` float64 array is the peak memory.
    """
    distances = x @ y.T
    distances *= -2.0
    distances += x_sq[:, None]
    distances += y_sq
    # Cancellation can leave tiny negatives for (nearly) equal rows.
    np.maximum(distances, 0.0, out=distances)
    return np.sqrt(distances, out=distances)
