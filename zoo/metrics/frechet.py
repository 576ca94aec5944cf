"""Frechet distance between Gaussians fitted to two sets of activations (FID).

With the activations of an Inception pool layer this is the Frechet Inception
Distance; with a domain classifier's `features` layer it is the same distance in that
classifier's embedding (report the extractor with the number, they do not compare).
"""

import os

import numpy as np

from zoo import files


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


def save_statistics(path, mu, sigma, **metadata):
    """Writes FID reference statistics to a `.npz` file (atomically), with what made them.

    The arrays are `mu` and `sigma`, the names pytorch-fid's `--save-stats` writes and
    every FID tool reads (pytorch-fid, clean-fid, torch-fidelity's `fid_statistics_file`),
    so files go both ways. `metadata` is stored as strings beside them: zoo writes the
    extractor's name (with the protocol), the reference and its image count, so a
    comparison with other features can be refused (`load_statistics`).

    Args:
        path: str or `Path` ending in `.npz`.
        mu: array-like `(D,)`, the features' mean.
        sigma: array-like `(D, D)`, their covariance.
        **metadata: str-convertible values, e.g. `extractor="fid_inception:clean"`,
            `reference="cifar10:train"`, `num_images=50000`.

    Returns:
        str, the path written.

    Raises:
        ValueError: if `path` does not end in `.npz`, or the shapes do not match.

    Example:
    ```python
    mu, sigma = zoo.metrics.gaussian_statistics(extractor.features(real_images))
    zoo.metrics.save_statistics("cifar10_train.npz", mu, sigma, extractor=extractor.name)
    ```
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"statistics files end in .npz; got {path!r}")
    mu, sigma = _statistics(np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64), path)
    with files.atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, mu=mu, sigma=sigma, **{k: np.array(str(v)) for k, v in metadata.items()})
    return path


def load_statistics(path):
    """Reads FID reference statistics: zoo's `save_statistics` files, or pytorch-fid's / clean-fid's.

    Args:
        path: str or `Path` of a `.npz` with arrays `mu` `(D,)` and `sigma` `(D, D)`.

    Returns:
        `(mu, sigma, metadata)`: float64 arrays and a dict of the file's other entries
        as str (empty for files from other tools).

    Raises:
        FileNotFoundError: if there is no such file.
        ValueError: if it is not a `.npz` with `mu` and `sigma` of matching shapes.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no statistics file at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            entries = {k: f[k] for k in f.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a .npz statistics file ({error})") from None
    missing = [k for k in ("mu", "sigma") if k not in entries]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(missing)}: a statistics file holds arrays mu and sigma "
                         f"(it has {sorted(entries)})")
    mu, sigma = _statistics(entries.pop("mu").astype(np.float64), entries.pop("sigma").astype(np.float64), path)
    return mu, sigma, {k: str(v) for k, v in entries.items()}


def _statistics(mu, sigma, path):
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"{path}: mu must be (D,) and sigma (D, D); got {mu.shape} and {sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"{path}: mu and sigma must be finite")
    return mu, sigma


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
