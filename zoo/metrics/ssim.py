"""SSIM and MS-SSIM between pairs of zoo images (float32 in [-1, 1]), in NumPy.

Useful for reconstructions and image-to-image translation (the output against its
target) and, between pairs of samples, as a diversity measure. The computation is
`tf.image.ssim` / `tf.image.ssim_multiscale`'s (the same Gaussian window, constants,
padding and pooling), done in float64 with NumPy so that it gives the same numbers on
every Keras backend and needs no TensorFlow.
"""

import numbers

import numpy as np

from zoo import checks

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
        batch_size: int, pairs computed at once (bounds the memory). Default 256.

    Returns:
        float64 array `(N,)`: 1 for identical images, lower for less similar ones
        (channels averaged); the same values as `tf.image.ssim` on the images stored as
        uint8 with `max_val=255` (the images are shifted to [0, 2], `max_val=2`), up
        to float32 rounding.

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
    window = _gaussian_window(filter_size, filter_sigma)
    return _batched(lambda x, y: _ssim_and_cs(x, y, window)[0].mean(axis=-1), a, b, batch_size)


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
        batch_size: int, pairs computed at once (bounds the memory). Default 256.

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
    window = _gaussian_window(filter_size, filter_sigma)
    return _batched(lambda x, y: _ms_ssim(x, y, window, weights), a, b, batch_size)


def _gaussian_window(filter_size, filter_sigma):
    """The 1-D factor of tf.image's normalised 2-D Gaussian window (it is separable)."""
    if isinstance(filter_sigma, bool) or not isinstance(filter_sigma, numbers.Real) or not filter_sigma > 0:
        raise ValueError(f"filter_sigma must be a positive number; got {filter_sigma!r}")
    coords = np.arange(filter_size, dtype=np.float64) - (filter_size - 1) / 2.0
    window = np.exp(-0.5 * coords**2 / float(filter_sigma) ** 2)
    return window / window.sum()


def _blur(x, window):
    """`x` `(N, H, W, C)` filtered by the window along H then W, 'valid' borders only."""
    size = len(window)
    height, width = x.shape[1] - size + 1, x.shape[2] - size + 1
    rows = sum(w * x[:, i : i + height] for i, w in enumerate(window))
    return sum(w * rows[:, :, j : j + width] for j, w in enumerate(window))


def _ssim_and_cs(x, y, window, k1=0.01, k2=0.03):
    """Per-channel SSIM and contrast-structure term, each `(N, C)`.

    As tf.image (and the MATLAB MS-SSIM code it follows), the contrast term's
    constant is not compensated for the window's weights.
    """
    c1, c2 = (k1 * MAX_VAL) ** 2, (k2 * MAX_VAL) ** 2
    mean_x, mean_y = _blur(x, window), _blur(y, window)
    means = 2.0 * mean_x * mean_y
    squares = mean_x**2 + mean_y**2
    luminance = (means + c1) / (squares + c1)
    cs = (2.0 * _blur(x * y, window) - means + c2) / (_blur(x * x + y * y, window) - squares + c2)
    return (luminance * cs).mean(axis=(1, 2)), cs.mean(axis=(1, 2))


def _downscale(x):
    """2x2 average pooling, odd sides first padded at the end by repeating the edge."""
    x = np.pad(x, [(0, 0), (0, x.shape[1] % 2), (0, x.shape[2] % 2), (0, 0)], mode="symmetric")
    n, height, width, channels = x.shape
    return x.reshape(n, height // 2, 2, width // 2, 2, channels).mean(axis=(2, 4))


def _ms_ssim(x, y, window, weights):
    terms = []
    for scale in range(len(weights)):
        if scale:
            x, y = _downscale(x), _downscale(y)
        ssim_value, cs = _ssim_and_cs(x, y, window)
        terms.append(np.maximum(cs, 0.0))
    # The finer scales give their contrast-structure term, the coarsest its full SSIM.
    terms[-1] = np.maximum(ssim_value, 0.0)
    scales = np.stack(terms, axis=-1)  # (N, C, scales)
    return np.prod(scales ** np.asarray(weights), axis=-1).mean(axis=-1)


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
    checks.positive_int(filter_size, "filter_size")
    return filter_size


def _pair(a, b):
    # float32 first: the images as a model gives them, then exact float64 arithmetic.
    a = np.asarray(a, dtype=np.float32).astype(np.float64)
    b = np.asarray(b, dtype=np.float32).astype(np.float64)
    if a.ndim != 4:
        raise ValueError(f"a must be images (N, H, W, C); got shape {a.shape}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    return a, b


def _batched(fn, a, b, batch_size):
    checks.positive_int(batch_size, "batch_size")
    parts = [fn(a[i : i + batch_size] + 1.0, b[i : i + batch_size] + 1.0) for i in range(0, len(a), batch_size)]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0,))


def translation_scores(outputs, targets):
    """Mean L1, PSNR and SSIM of translated images against their targets, all in [-1, 1].

    The held-out scores of the image-to-image recipes (pix2pix's Table 1 reports
    per-pixel errors; PSNR and SSIM are the usual companions).

    Returns:
        dict `{"l1", "psnr", "ssim", "num_images"}` of floats (and an int).
    """
    from zoo.metrics.colour import psnr

    outputs, targets = np.asarray(outputs, "float32"), np.asarray(targets, "float32")
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs {outputs.shape} and targets {targets.shape} must have the same shape")
    return {"l1": float(np.mean(np.abs(outputs - targets))), "psnr": float(np.mean(psnr(outputs, targets))),
            "ssim": float(np.mean(ssim(outputs, targets))), "num_images": int(len(outputs))}


def cycle_scores(model, images_a, images_b):
    """Cycle consistency of a CycleGAN on held-out images of both domains (Zhu et al. 2017, sec. 5.1.4).

    Translates A -> B -> A and B -> A -> B and scores each reconstruction against its input.

    Returns:
        `(scores, (fake_b, fake_a), (cycled_a, cycled_b))`: scores is
        `{"num_a", "num_b", "cycle_l1_a", "cycle_psnr_a", "cycle_l1_b", "cycle_psnr_b"}`; the
        translations and reconstructions are numpy arrays in [-1, 1].
    """
    fake_b, fake_a = model.translate_ab(images_a), model.translate_ba(images_b)
    cycled_a, cycled_b = model.translate_ba(fake_b), model.translate_ab(fake_a)
    scores = {"num_a": len(images_a), "num_b": len(images_b)}
    for domain, images, cycled in (("a", images_a, cycled_a), ("b", images_b, cycled_b)):
        cycle = translation_scores(cycled, images)
        scores.update({f"cycle_l1_{domain}": cycle["l1"], f"cycle_psnr_{domain}": cycle["psnr"]})
    return scores, (fake_b, fake_a), (cycled_a, cycled_b)
