"""SSIM and MS-SSIM between pairs of zoo images (float32 in [-1, 1]), via `tf.image`.

Useful for reconstructions and image-to-image translation (the output against its
target) and, between pairs of samples, as a diversity measure.
"""

import numpy as np
import tensorflow as tf

# Wang, Simoncelli & Bovik 2003, the weights of scales 1 (finest) to 5.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
# Images are in [-1, 1]: the dynamic range is 2. They are shifted to [0, 2] first, as
# SSIM's luminance term assumes non-negative intensities: on [-1, 1] directly it would
# differ from SSIM of the same images stored as uint8, and go negative for a dark image
# against a bright one.
MAX_VAL = 2.0


def ssim(a, b, filter_size=11, filter_sigma=1.5, batch_size=256):
    """Structural similarity of each pair of images `a[i]`, `b[i]`.

    Args:
        a: array-like `(N, H, W, C)` in [-1, 1].
        b: array-like of the same shape.
        filter_size: int, side of the Gaussian window; H and W must be at least this.
            Default 11 (Wang et al.).
        filter_sigma: float, its standard deviation. Default 1.5.
        batch_size: int, pairs per `tf.image.ssim` call. Default 256.

    Returns:
        float64 array `(N,)`: 1 for identical images, lower for less similar ones
        (channels averaged); the same values as `tf.image.ssim` on the images stored as
        uint8 with `max_val=255` (the images are shifted to [0, 2], `max_val=2`).

    Raises:
        ValueError: if `a` and `b` are not image batches of one shape, or are smaller
            than `filter_size`.

    Example:
        >>> zoo.metrics.ssim(images, images)  # array([1., 1., ...])

    Reference: Wang, Bovik, Sheikh & Simoncelli, "Image Quality Assessment: From Error
    Visibility to Structural Similarity", IEEE Trans. Image Processing 2004.
    """
    a, b = _pair(a, b)
    filter_size = _filter_size(filter_size)
    if min(a.shape[1:3]) < filter_size:
        raise ValueError(
            f"images are {a.shape[1]}x{a.shape[2]} but ssim with filter_size={filter_size} "
            f"needs at least {filter_size}x{filter_size}; pass a smaller filter_size"
        )
    return _batched(
        lambda x, y: tf.image.ssim(
            x, y, max_val=MAX_VAL, filter_size=filter_size, filter_sigma=filter_sigma
        ),
        a,
        b,
        batch_size,
    )


def ms_ssim(a, b, filter_size=11, filter_sigma=1.5, num_scales=None, batch_size=256):
    """Multi-scale structural similarity of each pair of images `a[i]`, `b[i]`.

    Each scale halves the image (2x2 average pooling, odd sizes padded first); the
    contrast-structure terms of the finer scales and the full SSIM of the coarsest one
    are combined with Wang et al.'s weights. Their five scales need images of at least
    161 px for the 11 px window, so small images use fewer scales: by default as many
    as keep the coarsest scale at least `filter_size` wide (28 or 32 px with the
    11 px window: 2 scales; pass `filter_size=7` for 3), with the first weights
    renormalised to sum to 1.

    Args:
        a: array-like `(N, H, W, C)` in [-1, 1].
        b: array-like of the same shape.
        filter_size: int, side of the Gaussian window. Default 11.
        filter_sigma: float, its standard deviation. Default 1.5.
        num_scales: int in [1, 5] or None (the most that fit, at most 5). Default None.
        batch_size: int, pairs per `tf.image.ssim_multiscale` call. Default 256.

    Returns:
        float64 array `(N,)`: 1 for identical images, lower for less similar ones.

    Raises:
        ValueError: if `a` and `b` are not image batches of one shape, or are too small
            for two scales (or for `num_scales`); the message names the minimum size.

    Example:
        >>> zoo.metrics.ms_ssim(reconstructions, targets).mean()

    Reference: Wang, Simoncelli & Bovik, "Multiscale structural similarity for image
    quality assessment", Asilomar Conference on Signals, Systems and Computers 2003.
    """
    a, b = _pair(a, b)
    filter_size = _filter_size(filter_size)
    side = min(a.shape[1:3])
    fitting = len(_scale_sides(side, filter_size, len(MS_SSIM_WEIGHTS)))
    if num_scales is None:
        wanted = max(fitting, 2)
    elif isinstance(num_scales, bool) or not isinstance(num_scales, int) or not 1 <= num_scales <= 5:
        raise ValueError(f"num_scales must be None or an int in [1, 5]; got {num_scales!r}")
    else:
        wanted = num_scales
    if fitting < wanted:
        raise ValueError(
            f"images are {a.shape[1]}x{a.shape[2]} but ms_ssim with {wanted} scales and "
            f"filter_size={filter_size} needs at least {_min_side(filter_size, wanted)} px "
            "per side; pass a smaller filter_size or num_scales"
        )
    weights = np.asarray(MS_SSIM_WEIGHTS[:wanted], dtype=np.float32)
    weights = tuple(float(w) for w in weights / weights.sum())
    return _batched(
        lambda x, y: tf.image.ssim_multiscale(
            x,
            y,
            max_val=MAX_VAL,
            power_factors=weights,
            filter_size=filter_size,
            filter_sigma=filter_sigma,
        ),
        a,
        b,
        batch_size,
    )


def _scale_sides(side, filter_size, max_scales):
    """Image sides of the successive scales that are still >= `filter_size`."""
    sides = []
    while side >= filter_size and len(sides) < max_scales:
        sides.append(side)
        side = (side + 1) // 2  # odd sides are padded to even before pooling
    return sides


def _min_side(filter_size, num_scales):
    side = filter_size
    for _ in range(num_scales - 1):
        side = 2 * side - 1  # the smallest side whose half, rounded up, is `side`
    return side


def _filter_size(filter_size):
    if isinstance(filter_size, bool) or not isinstance(filter_size, int) or filter_size < 1:
        raise ValueError(f"filter_size must be a positive int; got {filter_size!r}")
    return filter_size


def _pair(a, b):
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if a.ndim != 4:
        raise ValueError(f"a must be images (N, H, W, C); got shape {a.shape}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    return a, b


def _batched(fn, a, b, batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    parts = [
        fn(tf.constant(a[i : i + batch_size] + 1.0), tf.constant(b[i : i + batch_size] + 1.0)).numpy()
        for i in range(0, len(a), batch_size)
    ]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0,))
