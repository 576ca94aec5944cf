"""Two-dimensional Gaussian mixtures for mode-collapse experiments (PacGAN, VEEGAN).

The ring (8 modes on the unit circle, sigma 0.01) and the grid (5 x 5 modes at
{-4, -2, 0, 2, 4}^2, sigma 0.05) are the synthetic benchmarks of PacGAN's Table 1;
:func:`zoo.metrics.mode_coverage` scores samples against the same modes. Unlike the
image loaders, these yield float32 ``(batch, 2)`` points, not images in [-1, 1].

Reference: Lin et al., "PacGAN: The power of two samples in generative adversarial
networks", NeurIPS 2018; Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs
using Implicit Variational Learning", NeurIPS 2017.
"""

import itertools
import numbers

import numpy as np

from zoo import checks


def _modes(modes):
    """`modes` as a finite float64 `(num_modes, dim)` array with at least one row."""
    try:
        array = np.asarray(modes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"modes must be a numeric array (num_modes, dim); got {modes!r}") from None
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            f"modes must be a 2-D array (num_modes, dim) with num_modes >= 1; got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("modes has NaN or infinite values")
    return array


def ring_modes(num_modes=8, radius=1.0):
    """Centres of a ring mixture: `num_modes` points evenly spaced on a circle.

    Mode k sits at angle `2 pi k / num_modes`, k = 0 .. num_modes - 1, so mode 0 is
    `(radius, 0)` and no two modes coincide.

    Args:
        num_modes: positive int. Default 8.
        radius: positive float, the circle's radius. Default 1.0.

    Returns:
        float32 array `(num_modes, 2)`.

    Raises:
        ValueError: if `num_modes` is not a positive int or `radius` not a positive
            finite number.

    Example:
        >>> ring_modes(4).round(6).tolist()
        [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    checks.positive_int(num_modes, "num_modes")
    radius = checks.number(radius, "radius", above=0)
    # arange, not linspace: linspace(0, 2 pi, n) includes 2 pi and repeats mode 0.
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_modes(values=(-4, -2, 0, 2, 4)):
    """Centres of a grid mixture: the Cartesian product `values x values`.

    Args:
        values: sequence of distinct finite numbers, the coordinates along each axis.
            Default `(-4, -2, 0, 2, 4)`, PacGAN's 25-mode grid.

    Returns:
        float32 array `(len(values) ** 2, 2)`, row-major (the second coordinate
        varies fastest).

    Raises:
        ValueError: if `values` is empty, not 1-D, not finite or has repeats.

    Example:
        >>> grid_modes((0, 1)).tolist()
        [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    try:
        axis = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        axis = np.empty((0, 0))
    if axis.ndim != 1 or axis.size == 0 or not np.all(np.isfinite(axis)):
        raise ValueError(f"values must be a non-empty sequence of finite numbers; got {values!r}")
    if np.unique(axis).size != axis.size:
        raise ValueError(f"values must be distinct; got {values!r}")
    return np.array(list(itertools.product(axis, axis)), dtype=np.float32)


def _read_only(array):
    array.flags.writeable = False
    return array


# PacGAN Table 1: a ring of 8 modes at radius 1 with sigma 0.01, a grid of 25 with
# sigma 0.05. The arrays are read-only so that no caller can move the benchmark.
TOY_DISTRIBUTIONS = {
    "ring": dict(modes=_read_only(ring_modes()), sigma=0.01),
    "grid": dict(modes=_read_only(grid_modes()), sigma=0.05),
}


def toy_distribution(name):
    """Modes and noise scale of a named toy mixture.

    Args:
        name: str, a key of :data:`TOY_DISTRIBUTIONS` (`"ring"` or `"grid"`).

    Returns:
        `(modes, sigma)`: a read-only float32 array `(num_modes, 2)` and a float.

    Raises:
        ValueError: for an unknown name (listing the known ones).

    Example:
        >>> modes, sigma = toy_distribution("grid")
        >>> modes.shape, sigma
        ((25, 2), 0.05)
    """
    if not isinstance(name, str) or name not in TOY_DISTRIBUTIONS:
        raise ValueError(
            f"unknown toy distribution {name!r}; known: {', '.join(sorted(TOY_DISTRIBUTIONS))}"
        )
    entry = TOY_DISTRIBUTIONS[name]
    return entry["modes"], entry["sigma"]


def sample_mixture(modes, sigma, num_samples, seed=None):
    """Draws from an equal-weight mixture of isotropic Gaussians.

    Each sample picks a mode uniformly at random and adds `N(0, sigma^2 I)` noise.

    Args:
        modes: array-like `(num_modes, dim)` of finite mode centres.
        sigma: positive float, the standard deviation of every component.
        num_samples: positive int.
        seed: `None`, an int or a `numpy.random.Generator`. Default `None`.

    Returns:
        float32 array `(num_samples, dim)`.

    Raises:
        ValueError: on modes that are not a finite 2-D array with at least one row, a
            non-positive `sigma` or a bad `num_samples`.

    Example:
        >>> points = sample_mixture(ring_modes(), 0.01, 1000, seed=0)
        >>> points.shape, points.dtype
        ((1000, 2), dtype('float32'))
    """
    modes = _modes(modes)
    sigma = checks.number(sigma, "sigma", above=0)
    checks.positive_int(num_samples, "num_samples")
    rng = np.random.default_rng(seed)
    choice = rng.integers(len(modes), size=num_samples)
    noise = rng.normal(scale=sigma, size=(num_samples, modes.shape[1]))
    return (modes[choice] + noise).astype(np.float32)


def toy_dataset(name_or_modes, num_samples=100_000, batch_size=100, seed=None, sigma=None):
    """A finite, shuffled `tf.data.Dataset` of points from a toy Gaussian mixture.

    `num_samples` points are drawn once (as in PacGAN, which trains on a fixed set of
    100,000 points in batches of 100); one pass over the dataset is one epoch, so call
    `.repeat()` for more. The order is reshuffled on every pass and the last partial
    batch is dropped, so every batch has the static shape `(batch_size, dim)`.

    Args:
        name_or_modes: `"ring"` or `"grid"` (see :data:`TOY_DISTRIBUTIONS`), or an
            array-like `(num_modes, dim)` of mode centres.
        num_samples: positive int, points drawn. Default 100,000.
        batch_size: positive int, at most `num_samples`. Default 100.
        seed: `None` or int, seeds both the draw and the shuffle. Default `None`.
        sigma: `None` or positive float, the components' standard deviation; required
            with an array of modes, optional with a name (`None` keeps the named
            mixture's sigma). Default `None`.

    Returns:
        `tf.data.Dataset` of float32 `(batch_size, dim)` batches.

    Raises:
        ValueError: for an unknown name, an array of modes without `sigma`, or a bad
            `num_samples`, `batch_size`, `seed` or `sigma`.

    Example:
        >>> ds = toy_dataset("ring", num_samples=1000, batch_size=100, seed=0)
        >>> ds.element_spec
        TensorSpec(shape=(100, 2), dtype=tf.float32, name=None)
        >>> batches = ds.repeat().take(50)  # five epochs

    Reference: Lin et al., "PacGAN: The power of two samples in generative
    adversarial networks", NeurIPS 2018.
    """
    if isinstance(name_or_modes, str):
        modes, default_sigma = toy_distribution(name_or_modes)
        sigma = default_sigma if sigma is None else sigma
    else:
        modes = name_or_modes
        if sigma is None:
            raise ValueError("sigma is required when name_or_modes is an array of modes")
    checks.positive_int(num_samples, "num_samples")
    checks.positive_int(batch_size, "batch_size")
    if batch_size > num_samples:
        raise ValueError(
            f"batch_size must be at most num_samples ({num_samples}) since the last partial "
            f"batch is dropped; got {batch_size}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"seed must be None or an int; got {seed!r}")
    points = sample_mixture(modes, sigma, num_samples, seed=seed)
    import tensorflow as tf  # imported on use: the mixtures themselves are numpy

    ds = tf.data.Dataset.from_tensor_slices(points)
    ds = ds.shuffle(num_samples, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
