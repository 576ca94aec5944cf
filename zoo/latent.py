"""Latent-space tools shared by every generator and decoder.

Interpolation (linear and spherical) between codes, interpolation strips and
grids as PNG; latent arithmetic (the mean code of images with an attribute
minus the mean code of images without it, added to other codes); the manifold
grid and the labelled scatter of a 2-D latent space. Projecting images into a
generator's latent space (Z, or StyleGAN's W and W+) is `zoo.projection.project`.

Codes are numpy arrays. One code has shape `(d,)` (or any `code_shape`, e.g.
`(num_layers, w_dim)` for StyleGAN's W+); a batch has shape `(n, *code_shape)`.
Where a function decodes, `decode` is any callable mapping a float32 batch of
codes to images `(n, height, width, channels)` in [-1, 1], e.g.
`gan.generate` or `vae.decoder.predict`.

Keras is not imported here, so the numpy tools load fast.
"""

import math
import os

import numpy as np

from zoo import plotting

# Below this sine of the angle between two codes they count as (anti)parallel
# and `slerp` falls back to `lerp`: the great circle is then undefined or the
# division by sin(omega) amplifies rounding errors.
_PARALLEL_TOLERANCE = 1e-6


# -- interpolation -------------------------------------------------------------


def _endpoints(z0, z1):
    z0 = np.asarray(z0)
    z1 = np.asarray(z1)
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, got {z0.shape} and {z1.shape}")
    if z0.ndim == 0:
        raise ValueError("z0 and z1 must be codes of shape (d,) or batches (n, ..., d), got scalars")
    dtype = np.result_type(z0.dtype, z1.dtype, np.float32)
    return z0.astype("float64"), z1.astype("float64"), dtype


def _fractions(t):
    """`t` as a float64 array, 0-D or 1-D."""
    t = np.asarray(t, dtype="float64")
    if t.ndim > 1:
        raise ValueError(f"t must be a number or a 1-D array, got shape {t.shape}")
    return t


def _broadcast_t(t, code_ndim):
    # Scalar t keeps the code shape; 1-D t prepends an axis of length len(t).
    return t if t.ndim == 0 else t.reshape((-1,) + (1,) * code_ndim)


def lerp(z0, z1, t):
    """Linear interpolation `(1 - t) * z0 + t * z1`.

    Args:
        z0: array-like, a code `(d,)` or a batch of codes `(n, ..., d)`.
        z1: array-like of the same shape as `z0`.
        t: number or 1-D array-like of fractions; 0 gives `z0`, 1 gives `z1`
            exactly (values outside [0, 1] extrapolate).

    Returns:
        numpy array of the shape of `z0` for a scalar `t`, else
        `(len(t), *z0.shape)`; float32 unless an input is float64.

    Raises:
        ValueError: if `z0` and `z1` differ in shape or `t` is not 0-D or 1-D.

    Example:
    ```python
    codes = zoo.latent.lerp(z0, z1, np.linspace(0, 1, 8))  # (8, latent_dim)
    ```
    """
    z0, z1, dtype = _endpoints(z0, z1)
    t = _broadcast_t(_fractions(t), z0.ndim)
    return ((1.0 - t) * z0 + t * z1).astype(dtype)


def slerp(z0, z1, t):
    """Spherical linear interpolation along the great circle from `z0` to `z1`.

    `sin((1 - t) omega) / sin(omega) * z0 + sin(t omega) / sin(omega) * z1`,
    with omega the angle between the codes, taken over the last axis. Between
    samples of a high-dimensional Gaussian, whose mass lies on a thin shell,
    it keeps the norm where linear interpolation passes through the unlikely
    region near the origin. Codes that are (anti)parallel or nearly so, or
    zero, fall back to `lerp`, so the result is never NaN.

    Args:
        z0: array-like, a code `(d,)` or a batch of codes `(n, ..., d)`; the
            angle is computed per vector along the last axis.
        z1: array-like of the same shape as `z0`.
        t: number or 1-D array-like of fractions; 0 gives `z0`, 1 gives `z1`
            exactly.

    Returns:
        numpy array of the shape of `z0` for a scalar `t`, else
        `(len(t), *z0.shape)`; float32 unless an input is float64.

    Raises:
        ValueError: if `z0` and `z1` differ in shape or `t` is not 0-D or 1-D.

    Example:
    ```python
    z = np.random.default_rng(0).standard_normal((2, 100))
    codes = zoo.latent.slerp(z[0], z[1], np.linspace(0, 1, 8))  # (8, 100)
    ```

    Reference: White, "Sampling Generative Networks", arXiv:1609.04468, 2016.
    """
    z0, z1, dtype = _endpoints(z0, z1)
    t = _broadcast_t(_fractions(t), z0.ndim)
    n0 = np.linalg.norm(z0, axis=-1, keepdims=True)
    n1 = np.linalg.norm(z1, axis=-1, keepdims=True)
    u0 = z0 / np.where(n0 > 0, n0, 1.0)
    u1 = z1 / np.where(n1 > 0, n1, 1.0)
    # 2 atan2(|u0 - u1|, |u0 + u1|) is accurate near 0 and pi, where arccos of
    # the dot product loses half the digits.
    omega = 2.0 * np.arctan2(
        np.linalg.norm(u0 - u1, axis=-1, keepdims=True), np.linalg.norm(u0 + u1, axis=-1, keepdims=True)
    )
    sin_omega = np.sin(omega)
    linear = (sin_omega < _PARALLEL_TOLERANCE) | (n0 == 0) | (n1 == 0)
    safe_sin = np.where(linear, 1.0, sin_omega)
    c0 = np.where(linear, 1.0 - t, np.sin((1.0 - t) * omega) / safe_sin)
    c1 = np.where(linear, t, np.sin(t * omega) / safe_sin)
    return (c0 * z0 + c1 * z1).astype(dtype)


def _interpolator(method):
    if method == "slerp":
        return slerp
    if method == "lerp":
        return lerp
    raise ValueError(f'method must be "slerp" or "lerp", got {method!r}')


def _count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def interpolate(z0, z1, steps=10, method="slerp"):
    """`steps` codes evenly spaced in `t` from `z0` to `z1` (both included).

    Args:
        z0: array-like, a code `(d,)` or a batch of codes `(n, ..., d)`.
        z1: array-like of the same shape as `z0`.
        steps: int >= 2, number of codes. Default 10.
        method: "slerp" (default, `slerp`) or "lerp" (`lerp`).

    Returns:
        numpy array `(steps, *z0.shape)`.

    Raises:
        ValueError: for a bad `steps` or `method`, or codes of different shapes.

    Example:
    ```python
    images = gan.generate(zoo.latent.interpolate(z0, z1, steps=8))
    ```
    """
    steps = _count(steps, "steps", 2)
    return _interpolator(method)(z0, z1, np.linspace(0.0, 1.0, steps))


def interpolation_grid(corners, rows=8, cols=8, method="slerp"):
    """A `rows x cols` grid of codes spanned by four corner codes.

    Each row interpolates between its left and right ends, which themselves
    interpolate down the left (`corners[0]` to `corners[2]`) and right
    (`corners[1]` to `corners[3]`) edges: bilinear for "lerp", slerp of slerps
    for "slerp".

    Args:
        corners: array-like `(4, *code_shape)`, the top-left, top-right,
            bottom-left and bottom-right codes.
        rows: int >= 2. Default 8.
        cols: int >= 2. Default 8.
        method: "slerp" (default) or "lerp".

    Returns:
        numpy array `(rows * cols, *code_shape)` in row-major order, so
        `grid[0]`, `grid[cols - 1]`, `grid[-cols]` and `grid[-1]` are the corners.

    Raises:
        ValueError: if `corners` does not hold four codes, or for a bad
            `rows`, `cols` or `method`.

    Example:
    ```python
    corners = np.random.default_rng(0).standard_normal((4, 100))
    codes = zoo.latent.interpolation_grid(corners, rows=6, cols=6)  # (36, 100)
    ```

    Reference: White, "Sampling Generative Networks", arXiv:1609.04468, 2016.
    """
    corners = np.asarray(corners)
    if corners.ndim < 2 or corners.shape[0] != 4:
        raise ValueError(f"corners must have shape (4, *code_shape), got {corners.shape}")
    rows = _count(rows, "rows", 2)
    cols = _count(cols, "cols", 2)
    between = _interpolator(method)
    left = between(corners[0], corners[2], np.linspace(0.0, 1.0, rows))
    right = between(corners[1], corners[3], np.linspace(0.0, 1.0, rows))
    grid = between(left, right, np.linspace(0.0, 1.0, cols))  # (cols, rows, *code_shape)
    return np.swapaxes(grid, 0, 1).reshape((rows * cols,) + corners.shape[1:])


def _decode(decode, codes):
    """Images `(n, h, w, c)` from `decode(codes)`, checked."""
    if not callable(decode):
        raise ValueError(f"decode must be a callable mapping codes to images, got {type(decode).__name__}")
    codes = np.asarray(codes, dtype="float32")
    images = np.asarray(decode(codes))
    if images.ndim != 4 or images.shape[0] != codes.shape[0]:
        raise ValueError(
            f"decode must return images (n, height, width, channels) for n codes; "
            f"got shape {images.shape} for {codes.shape[0]} codes"
        )
    return images


def _batch(codes, name):
    """A code `(d,)` becomes a batch of one; anything else is already a batch."""
    codes = np.asarray(codes)
    if codes.ndim == 0:
        raise ValueError(f"{name} must be a code (d,) or a batch (n, *code_shape), got a scalar")
    return codes[None] if codes.ndim == 1 else codes


def save_interpolation(decode, z0, z1, path, steps=10, method="slerp", title=None):
    """Decodes interpolations between codes and writes them as PNG strips.

    Args:
        decode: callable, float32 codes `(n, *code_shape)` -> images
            `(n, h, w, c)` in [-1, 1], e.g. `gan.generate`.
        z0: array-like, one code `(d,)` (one strip) or a batch
            `(n, *code_shape)` (one strip per row); pass `z[None]` for a single
            code of another shape, e.g. W+.
        z1: array-like of the same shape as `z0`.
        path: str or `Path` of the PNG; parent folders are created.
        steps: int >= 2, images per strip. Default 10.
        method: "slerp" (default) or "lerp".
        title: `None` or str. Default `None`.

    Returns:
        numpy array `(n * steps, h, w, c)`, the decoded images row by row.

    Raises:
        ValueError: for bad codes, `steps` or `method`, or if `decode` does not
            return one image per code.

    Example:
    ```python
    z = np.random.default_rng(0).standard_normal((2, 4, gan.latent_dim))
    zoo.latent.save_interpolation(gan.generate, z[0], z[1], "interpolation.png")
    ```

    Reference: White, "Sampling Generative Networks", arXiv:1609.04468, 2016.
    """
    z0 = _batch(z0, "z0")
    z1 = _batch(z1, "z1")
    codes = interpolate(z0, z1, steps=steps, method=method)  # (steps, n, *code_shape)
    codes = np.swapaxes(codes, 0, 1).reshape((-1,) + z0.shape[1:])
    images = _decode(decode, codes)
    plotting.save_grid(images, path, num_rows=z0.shape[0], title=title)
    return images


def save_interpolation_grid(decode, corners, path, rows=8, cols=8, method="slerp", title=None):
    """Decodes `interpolation_grid(corners, rows, cols, method)` and writes it as PNG.

    Args:
        decode: callable, float32 codes `(n, *code_shape)` -> images
            `(n, h, w, c)` in [-1, 1].
        corners: array-like `(4, *code_shape)`: top-left, top-right,
            bottom-left, bottom-right.
        path: str or `Path` of the PNG; parent folders are created.
        rows: int >= 2. Default 8.
        cols: int >= 2. Default 8.
        method: "slerp" (default) or "lerp".
        title: `None` or str. Default `None`.

    Returns:
        numpy array `(rows * cols, h, w, c)`, the decoded images row by row.

    Raises:
        ValueError: as `interpolation_grid`, or if `decode` does not return
            one image per code.

    Example:
    ```python
    corners = np.random.default_rng(0).standard_normal((4, gan.latent_dim))
    zoo.latent.save_interpolation_grid(gan.generate, corners, "grid.png")
    ```
    """
    images = _decode(decode, interpolation_grid(corners, rows=rows, cols=cols, method=method))
    plotting.save_grid(images, path, num_rows=rows, title=title)
    return images


# -- latent arithmetic -----------------------------------------------------------


def _difference_of_means(codes, positive, negative, what):
    if not positive.any():
        raise ValueError(f"no codes {what[0]}: the positive side is empty")
    if not negative.any():
        raise ValueError(f"no codes {what[1]}: the negative side is empty")
    return codes[positive].mean(axis=0) - codes[negative].mean(axis=0)


def _codes_and_selector(codes, selector, name):
    codes = np.asarray(codes)
    if codes.ndim < 2:
        raise ValueError(f"codes must be a batch (n, *code_shape), got shape {codes.shape}")
    selector = np.asarray(selector)
    if selector.shape != codes.shape[:1]:
        raise ValueError(f"{name} must have shape ({codes.shape[0]},), one entry per code, got {selector.shape}")
    return codes.astype(np.result_type(codes.dtype, np.float32)), selector


def attribute_vector(codes, mask):
    """The mean code of examples with an attribute minus the mean of those without.

    Added to other codes it adds the attribute (the "smile vector"); works for
    any code space (z, an encoder's mean, W).

    Args:
        codes: array-like `(n, *code_shape)`.
        mask: boolean array-like `(n,)`, True where the example has the
            attribute.

    Returns:
        numpy array `code_shape`: `mean(codes[mask]) - mean(codes[~mask])`.

    Raises:
        ValueError: if `mask` is not boolean or not `(n,)`, or either side is empty.

    Example:
    ```python
    mean, _ = vae.encoder.predict(images)
    smile = zoo.latent.attribute_vector(mean, attributes[:, SMILING] == 1)
    zoo.latent.save_arithmetic(vae.decoder.predict, mean[:8], smile, "smile.png")
    ```

    Reference: Larsen et al., "Autoencoding beyond pixels using a learned
    similarity metric", ICML 2016, sec. 5.1; Radford et al., "Unsupervised
    Representation Learning with Deep Convolutional Generative Adversarial
    Networks", ICLR 2016, sec. 6.3; White, "Sampling Generative Networks", 2016.
    """
    codes, mask = _codes_and_selector(codes, mask, "mask")
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (e.g. labels == k), got dtype {mask.dtype}")
    return _difference_of_means(codes, mask, ~mask, ("with the attribute", "without the attribute"))


def class_vector(codes, labels, positive, negative=None):
    """The mean code of one set of labels minus the mean code of another.

    Args:
        codes: array-like `(n, *code_shape)`.
        labels: array-like `(n,)` of class labels (ints or strings).
        positive: a label or a list of labels whose mean is added.
        negative: `None` (every other label, default), a label or a list of
            labels whose mean is subtracted; must not share labels with
            `positive`.

    Returns:
        numpy array `code_shape`.

    Raises:
        ValueError: if `labels` is not `(n,)`, the label sets overlap, or no
            code carries a positive (or negative) label.

    Example:
    ```python
    seven_minus_one = zoo.latent.class_vector(mean, labels, positive=7, negative=1)
    ```

    Reference: Radford et al., "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", ICLR 2016, sec. 6.3.
    """
    codes, labels = _codes_and_selector(codes, labels, "labels")
    positive_set = np.atleast_1d(np.asarray(positive))
    is_positive = np.isin(labels, positive_set)
    if negative is None:
        is_negative = ~is_positive
        negative_text = f"with a label other than {positive!r}"
    else:
        negative_set = np.atleast_1d(np.asarray(negative))
        shared = np.intersect1d(positive_set, negative_set)
        if shared.size:
            raise ValueError(f"positive and negative share the labels {shared.tolist()}")
        is_negative = np.isin(labels, negative_set)
        negative_text = f"with label {negative!r}"
    return _difference_of_means(codes, is_positive, is_negative, (f"with label {positive!r}", negative_text))


def apply_vector(codes, vector, scales):
    """`codes + s * vector` for every scale `s`.

    Args:
        codes: array-like, one code `code_shape` or a batch `(n, *code_shape)`.
        vector: array-like `code_shape`, e.g. from `attribute_vector`.
        scales: number or 1-D array-like of multipliers.

    Returns:
        numpy array of the shape of `codes` for a scalar `scales`, else
        `(len(scales), *codes.shape)`.

    Raises:
        ValueError: if `vector` matches neither `codes.shape` nor
            `codes.shape[1:]`, or `scales` is not 0-D or 1-D.

    Example:
    ```python
    shifted = zoo.latent.apply_vector(z, smile, [0.0, 1.0, 2.0])  # (3, n, d)
    ```
    """
    codes = np.asarray(codes)
    vector = np.asarray(vector)
    if vector.shape != codes.shape and vector.shape != codes.shape[1:]:
        raise ValueError(
            f"vector must have the shape of one code; got vector {vector.shape} for codes {codes.shape}"
        )
    scales = np.asarray(scales, dtype="float64")
    if scales.ndim > 1:
        raise ValueError(f"scales must be a number or a 1-D array, got shape {scales.shape}")
    dtype = np.result_type(codes.dtype, vector.dtype, np.float32)
    scales = scales if scales.ndim == 0 else scales.reshape((-1,) + (1,) * codes.ndim)
    return (codes.astype("float64") + scales * vector.astype("float64")).astype(dtype)


def save_arithmetic(decode, codes, vector, path, scales=(-1.0, -0.5, 0.0, 0.5, 1.0), title=None):
    """Decodes `codes + s * vector` and writes a grid: one row per code, one column per scale.

    Args:
        decode: callable, float32 codes `(n, *code_shape)` -> images
            `(n, h, w, c)` in [-1, 1].
        codes: array-like, one code `(d,)` or a batch `(n, *code_shape)`.
        vector: array-like `code_shape`, e.g. from `attribute_vector`.
        path: str or `Path` of the PNG; parent folders are created.
        scales: 1-D sequence of multipliers, the columns. Default
            `(-1, -0.5, 0, 0.5, 1)`: the middle column is the unchanged code.
        title: `None` or str. Default `None`.

    Returns:
        numpy array `(n * len(scales), h, w, c)`, the decoded images row by row.

    Raises:
        ValueError: as `apply_vector`, if `scales` is empty, or if `decode`
            does not return one image per code.

    Example:
    ```python
    smile = zoo.latent.class_vector(z, smiling, positive=1)
    zoo.latent.save_arithmetic(gan.generate, z[:6], smile, "smile.png", scales=(0, 1, 2))
    ```

    Reference: Radford et al., ICLR 2016, fig. 7; Larsen et al., ICML 2016, fig. 6.
    """
    codes = _batch(codes, "codes")
    scales = np.atleast_1d(np.asarray(scales, dtype="float64"))
    if scales.ndim != 1 or scales.size == 0:
        raise ValueError(f"scales must be a non-empty 1-D sequence, got shape {scales.shape}")
    shifted = apply_vector(codes, vector, scales)  # (scales, n, *code_shape)
    shifted = np.swapaxes(shifted, 0, 1).reshape((-1,) + codes.shape[1:])
    images = _decode(decode, shifted)
    plotting.save_grid(images, path, num_rows=codes.shape[0], title=title)
    return images


# -- 2-D latent spaces -------------------------------------------------------------


def _limits(limits, name, low_bound=-math.inf, high_bound=math.inf):
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        low = high = float("nan")
    if not (low_bound < low < high < high_bound) or not (math.isfinite(low) and math.isfinite(high)):
        where = "" if math.isinf(low_bound) else f" inside ({low_bound:g}, {high_bound:g})"
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers with low < high{where}; got {limits!r}")
    return low, high


def manifold_codes(n=20, limits=None, method="gaussian"):
    """The codes of an `n x n` manifold image of a 2-D latent space.

    With "gaussian", a regular grid on the unit square is mapped through the
    inverse CDF of the standard normal, so equal areas of the prior get equal
    numbers of images, as in Kingma & Welling's figure 4; with "linear", the
    grid is regular in the latent space itself.

    Args:
        n: int >= 2, images per side. Default 20.
        limits: `None` or `(low, high)`, the range of the regular grid on both
            axes: probabilities inside (0, 1) for "gaussian" (default: the
            cell centres `(0.5 / n, 1 - 0.5 / n)`, about +-1.96 for n = 20),
            latent values for "linear" (default `(-2, 2)`).
        method: "gaussian" (default) or "linear".

    Returns:
        float32 array `(n * n, 2)` in row-major image order: `z1` grows along
        each row (left to right), `z2` shrinks down the rows (top to bottom),
        so the image reads like a plot with `z2` up.

    Raises:
        ValueError: for a bad `n`, `limits` or `method`.

    Example:
    ```python
    codes = zoo.latent.manifold_codes(20)  # (400, 2)
    ```

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, fig. 4.
    """
    n = _count(n, "n", 2)
    if method == "gaussian":
        from scipy.stats import norm

        low, high = (0.5 / n, 1.0 - 0.5 / n) if limits is None else _limits(limits, "limits", 0.0, 1.0)
        values = norm.ppf(np.linspace(low, high, n))
    elif method == "linear":
        low, high = (-2.0, 2.0) if limits is None else _limits(limits, "limits")
        values = np.linspace(low, high, n)
    else:
        raise ValueError(f'method must be "gaussian" or "linear", got {method!r}')
    z1, z2 = np.meshgrid(values, values[::-1])
    return np.stack([z1, z2], axis=-1).reshape(n * n, 2).astype("float32")


def save_manifold(decode, path, n=20, limits=None, method="gaussian", title=None):
    """Decodes `manifold_codes(n, limits, method)` and writes the `n x n` image as PNG.

    Args:
        decode: callable, float32 codes `(n * n, 2)` -> images `(n * n, h, w, c)`
            in [-1, 1], e.g. `vae.decoder.predict` of a 2-D VAE.
        path: str or `Path` of the PNG; parent folders are created.
        n: int >= 2, images per side. Default 20.
        limits: as `manifold_codes`. Default `None`.
        method: "gaussian" (default) or "linear".
        title: `None` or str. Default `None`.

    Returns:
        numpy array `(n * n, h, w, c)`, the decoded images row by row.

    Raises:
        ValueError: as `manifold_codes`, or if `decode` does not return one
            image per code (e.g. a decoder whose latent space is not 2-D).

    Example:
    ```python
    zoo.latent.save_manifold(vae.decoder.predict, "manifold.png", n=20)
    ```

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, fig. 4.
    """
    images = _decode(decode, manifold_codes(n, limits=limits, method=method))
    plotting.save_grid(images, path, num_rows=n, title=title)
    return images


def save_latent_scatter(codes, labels, path, title=None, class_names=None, limits=None):
    """Writes a scatter plot of 2-D codes coloured by label, with a legend, to PNG.

    The file is written atomically, like `zoo.plotting.save_scatter`.
    Non-finite codes are not drawn. Up to 20 classes get a legend (tab10 or
    tab20 colours); more get a colour bar over the sorted labels.

    Args:
        codes: array-like `(n, 2)`, e.g. an encoder's means of the test set.
        labels: `None` (one colour) or array-like `(n,)` of labels.
        path: str or `Path` of the PNG; parent folders are created.
        title: `None` or str. Default `None`.
        class_names: `None`, a sequence indexed by int labels, or a dict
            label -> name, used in the legend. Default `None` (the labels).
        limits: `None` (fit the data) or `(low, high)` for both axes.

    Returns:
        str, `path`.

    Raises:
        ValueError: if `codes` is not `(n, 2)` (a 2-D latent space), `labels`
            is not `(n,)`, or `limits` is bad.

    Example:
    ```python
    mean, _ = vae.encoder.predict(x_test)
    zoo.latent.save_latent_scatter(mean, y_test, "latent.png")
    ```

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codes = np.asarray(codes, dtype="float64")
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(
            f"codes must have shape (n, 2), a 2-D latent space, got {codes.shape}; "
            "reduce higher-dimensional codes first (e.g. PCA or t-SNE)"
        )
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (codes.shape[0],):
            raise ValueError(f"labels must have shape ({codes.shape[0]},), one per code, got {labels.shape}")
    if limits is not None:
        limits = _limits(limits, "limits")
    figure = plt.figure(figsize=(6, 5), dpi=100)
    try:
        axes = figure.add_subplot(1, 1, 1)
        if labels is None:
            axes.scatter(codes[:, 0], codes[:, 1], s=3, c="black", alpha=0.5, linewidths=0)
        else:
            classes = np.unique(labels)
            if len(classes) <= 20:
                colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
                for i, label in enumerate(classes):
                    chosen = labels == label
                    axes.scatter(
                        codes[chosen, 0], codes[chosen, 1], s=3, color=colours(i), alpha=0.6,
                        linewidths=0, label=_class_name(label, class_names),
                    )
                axes.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
            else:
                rank = np.searchsorted(classes, labels)
                points = axes.scatter(codes[:, 0], codes[:, 1], s=3, c=rank, cmap="viridis", alpha=0.6, linewidths=0)
                figure.colorbar(points, ax=axes, label="label rank")
        if limits is not None:
            axes.set_xlim(*limits)
            axes.set_ylim(*limits)
        axes.set_aspect("equal", adjustable="datalim" if limits is None else "box")
        axes.set_xlabel("$z_1$")
        axes.set_ylabel("$z_2$")
        if title:
            axes.set_title(title, fontsize=10)
        figure.tight_layout()
        plotting.save_figure(figure, path)
    finally:
        plt.close(figure)
    return os.fspath(path)


def _class_name(label, class_names):
    if class_names is None:
        return str(label)
    try:
        return str(class_names[label.item() if hasattr(label, "item") else label])
    except (KeyError, IndexError, TypeError):
        return str(label)
