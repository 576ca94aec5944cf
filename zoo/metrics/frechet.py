"""Frechet distance between Gaussians fitted to two sets of activations (FID).

With the activations of an Inception pool layer this is the Frechet Inception
Distance; with a domain classifier's `features` layer it is the same distance in that
classifier's embedding (report the extractor with the number, they do not compare).
"""

import numpy as np


def gaussian_statistics(features):
    """Mean and covariance of a set of activations, in float64.

    Args:
        features: array-like `(N, D)` with N >= 2.

    Returns:
        `(mu, sigma)`: float64 arrays `(D,)` and `(D, D)`; `sigma` is the unbiased
        sample covariance (divides by N - 1), as in Heusel et al.'s code.

    Raises:
        ValueError: if `features` is not 2-D, has fewer than 2 rows, or is not finite.

    Example:
        >>> mu, sigma = gaussian_statistics(np.random.normal(size=(1000, 4)))
        >>> mu.shape, sigma.shape
        ((4,), (4, 4))
    """
    features = _features(features, "features")
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2):
    """Squared Frechet (2-Wasserstein) distance between two Gaussians.

    `d^2 = |mu1 - mu2|^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^(1/2))`.

    The trace of the matrix square root is computed from symmetric eigenvalue
    problems, not from `scipy.linalg.sqrtm` of the non-symmetric `sigma1 @ sigma2`:
    `(sigma1 sigma2)^(1/2)` has the same eigenvalues as the symmetric PSD matrix
    `sigma1^(1/2) sigma2 sigma1^(1/2)`, so its trace is the sum of the square roots of
    that matrix's eigenvalues (`numpy.linalg.eigvalsh`), with round-off negatives
    clipped to 0. This stays real and stable for singular covariances (fewer samples
    than dimensions), where `sqrtm` returns complex parts and needs an epsilon.

    Args:
        mu1: array-like `(D,)`, mean of the first Gaussian.
        sigma1: array-like `(D, D)`, its covariance (symmetric PSD).
        mu2: array-like `(D,)`, mean of the second Gaussian.
        sigma2: array-like `(D, D)`, its covariance.

    Returns:
        float >= 0, the squared distance (FID is this value, not its square root).

    Raises:
        ValueError: on shapes that are not `(D,)` / `(D, D)` with one common D, or
            non-finite values.

    Example:
        >>> frechet_distance_from_statistics(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
        2.0

    Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
    to a Local Nash Equilibrium", NeurIPS 2017; Dowson & Landau, "The Frechet distance
    between multivariate normal distributions", J. Multivariate Analysis 1982.
    """
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma1, sigma2))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"mu1 and mu2 must be vectors of one length; got {mu1.shape} and {mu2.shape}")
    dim = mu1.shape[0]
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (dim, dim):
            raise ValueError(f"{name} must be ({dim}, {dim}) to match the means; got {sigma.shape}")
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} has NaN or infinite values")
    root1 = _psd_sqrt(sigma1)
    product = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2.0)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    # Round-off can leave a tiny negative for (nearly) identical statistics.
    return float(max(distance, 0.0))


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two sets of activations (FID).

    Args:
        features_a: array-like `(N, D)`, e.g. the extractor's features of real images.
        features_b: array-like `(M, D)`, e.g. of generated images. N and M >= 2 (use
            thousands: the estimate is biased upwards for few samples).

    Returns:
        float >= 0, the squared Frechet distance (lower is better).

    Raises:
        ValueError: if either set is not 2-D with at least 2 rows, or their D differ.

    Example:
    ```python
    extractor = zoo.metrics.ClassifierExtractor.from_path("mnist_classifier.keras")
    fid = zoo.metrics.frechet_distance(
        extractor.features(real_images), extractor.features(gan.generate(2000))
    )
    ```

    Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
    to a Local Nash Equilibrium", NeurIPS 2017.
    """
    features_a = _features(features_a, "features_a")
    features_b = _features(features_b, "features_b")
    _same_dim(features_a, features_b)
    return frechet_distance_from_statistics(
        *gaussian_statistics(features_a), *gaussian_statistics(features_b)
    )


def _psd_sqrt(matrix):
    """Symmetric square root of a symmetric PSD matrix by eigendecomposition."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def _features(features, name, min_rows=2):
    """`features` as a finite float64 `(N, D)` array with N >= `min_rows`."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, dims); got shape {features.shape}")
    if features.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples; got {features.shape[0]}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} has NaN or infinite values")
    return features


def _same_dim(features_a, features_b):
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "features_a and features_b must have the same feature dimension; got "
            f"{features_a.shape[1]} and {features_b.shape[1]}"
        )
