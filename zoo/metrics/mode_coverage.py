"""Mode coverage of samples from a Gaussian mixture with known modes (PacGAN Table 1).

PacGAN's synthetic protocol: draw 2,500 samples from the generator, assign each to its
nearest mode, call it high quality when it lies closer than three standard deviations
to that mode, and report how many modes receive a high-quality sample, the fraction of
high-quality samples and the reverse KL of the modes' histogram against the uniform
distribution of the true mixture.
"""


import numpy as np

from zoo import checks

# Rows of samples per distance block: (chunk, num_modes, dim) float64 stays a few MB.
_CHUNK = 4096


def mode_coverage(samples, modes, sigma, threshold=3.0):
    """Modes covered, high-quality fraction and reverse KL of samples from a mixture.

    A sample is *high quality* when its Euclidean distance to the nearest mode is below
    `threshold * sigma` (3 standard deviations by default; for an isotropic 2-D
    Gaussian this holds for `1 - exp(-threshold^2 / 2)` = 98.9 % of true samples). A
    mode is *covered* when at least one high-quality sample has it as nearest mode.
    Samples that are not high quality are left out of the histogram.

    Args:
        samples: array-like `(num_samples, dim)` of finite values, e.g. 2,500
            generated points; at least one row.
        modes: array-like `(num_modes, dim)` of finite mode centres.
        sigma: positive float, the true components' standard deviation.
        threshold: positive float, the high-quality radius in units of `sigma`.
            Default 3.0.

    Returns:
        dict with
        - `"modes_covered"`: int, modes with at least one high-quality sample;
        - `"num_modes"`: int;
        - `"high_quality"`: float in [0, 1], fraction of high-quality samples;
        - `"reverse_kl"`: float >= 0, `KL(p || uniform) = sum_i p_i log(p_i num_modes)`
          (with `0 log 0 = 0`) where `p` is the histogram of high-quality samples over
          the modes: the generated mode distribution against the true, uniform one. It
          is 0 for perfectly balanced modes, `log(num_modes / k)` when `k` modes share
          the samples equally, and `inf` when no sample is high quality;
        - `"counts"`: list of `num_modes` ints, high-quality samples per mode.

    Raises:
        ValueError: if `samples` or `modes` is not a finite 2-D array with at least one
            row, their second dimensions differ, or `sigma` or `threshold` is not a
            positive finite number.

    Example:
        >>> from zoo.data import ring_modes, sample_mixture
        >>> modes = ring_modes()
        >>> result = mode_coverage(sample_mixture(modes, 0.01, 2500, seed=0), modes, 0.01)
        >>> result["modes_covered"], result["num_modes"]
        (8, 8)

    Reference: Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018 (Table 1, following Srivastava et al., "VEEGAN", NeurIPS
    2017).
    """
    samples = _points(samples, "samples")
    modes = _points(modes, "modes")
    if samples.shape[1] != modes.shape[1]:
        raise ValueError(
            f"samples and modes must have the same dimension; got {samples.shape[1]} and {modes.shape[1]}"
        )
    sigma = checks.number(sigma, "sigma", above=0)
    threshold = checks.number(threshold, "threshold", above=0)
    nearest, distance = _nearest_modes(samples, modes)
    good = distance < threshold * sigma
    num_modes = modes.shape[0]
    counts = np.bincount(nearest[good], minlength=num_modes)
    total = int(counts.sum())
    if total == 0:
        reverse_kl = float("inf")
    else:
        p = counts[counts > 0] / total
        # Round-off can leave a tiny negative for a perfectly balanced histogram.
        reverse_kl = max(float(np.sum(p * np.log(p * num_modes))), 0.0)
    return {
        "modes_covered": int(np.count_nonzero(counts)),
        "num_modes": int(num_modes),
        "high_quality": total / samples.shape[0],
        "reverse_kl": reverse_kl,
        "counts": [int(c) for c in counts],
    }


def mode_coverage_for(samples, name, threshold=3.0):
    """:func:`mode_coverage` against a named toy mixture of `zoo.data.TOY_DISTRIBUTIONS`.

    Args:
        samples: array-like `(num_samples, 2)`, e.g. 2,500 generated points.
        name: str, `"ring"` (8 modes, sigma 0.01) or `"grid"` (25 modes, sigma 0.05).
        threshold: positive float, the high-quality radius in units of sigma.
            Default 3.0.

    Returns:
        dict, as returned by :func:`mode_coverage`.

    Raises:
        ValueError: for an unknown name, or as :func:`mode_coverage`.

    Example:
    ```python
    points = keras.ops.convert_to_numpy(generator(keras.random.normal((2500, 2))))
    zoo.metrics.mode_coverage_for(points, "grid")["modes_covered"]  # out of 25
    ```

    Reference: Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018.
    """
    # Imported here: zoo.metrics must import without zoo.data's loaders (TensorFlow).
    from zoo.data.toy import toy_distribution

    modes, sigma = toy_distribution(name)
    return mode_coverage(samples, modes, sigma, threshold=threshold)


def _nearest_modes(samples, modes):
    """Index of and Euclidean distance to the nearest mode of every sample."""
    nearest = np.empty(samples.shape[0], dtype=np.int64)
    distance = np.empty(samples.shape[0], dtype=np.float64)
    for start in range(0, samples.shape[0], _CHUNK):
        block = samples[start : start + _CHUNK]
        squared = np.sum((block[:, np.newaxis, :] - modes[np.newaxis, :, :]) ** 2, axis=-1)
        index = np.argmin(squared, axis=1)
        nearest[start : start + len(block)] = index
        distance[start : start + len(block)] = np.sqrt(squared[np.arange(len(block)), index])
    return nearest, distance


def _points(points, name):
    """`points` as a finite float64 `(N, D)` array with N >= 1."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric 2-D array (N, dim)") from None
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (N, dim) with N >= 1; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite values")
    return array


