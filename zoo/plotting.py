"""Image grids and 2-D scatter plots as arrays and PNG files."""

import math
import os

import numpy as np


def to_uint8(images):
    """Maps images in [-1, 1] to uint8 in [0, 255] (values outside are clipped)."""
    images = np.asarray(images, dtype="float32")
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype("uint8")


def make_grid(images, num_rows=None, padding=2):
    """Tiles a batch `(n, h, w, c)` of images in [-1, 1] into one uint8 image.

    Args:
        images: array `(n, h, w, c)` with values in [-1, 1].
        num_rows: int or None, rows of the grid. Default: a square-ish grid.
        padding: int, pixels between images. Default 2.

    Returns:
        uint8 array `(rows * (h + p) + p, cols * (w + p) + p, c)`.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, height, width, channels), got {images.shape}")
    n, h, w, c = images.shape
    if num_rows is None:
        num_rows = max(1, int(math.floor(math.sqrt(n))))
    num_cols = int(math.ceil(n / num_rows))
    grid = np.full(
        (num_rows * (h + padding) + padding, num_cols * (w + padding) + padding, c), 255, "uint8"
    )
    tiles = to_uint8(images)
    for i in range(n):
        r, k = divmod(i, num_cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[top : top + h, left : left + w] = tiles[i]
    return grid


def side_by_side(*batches):
    """Joins image batches along the width: output image i is image i of every batch, left to right.

    For corresponding images, e.g. a CoGAN's `(images_a, images_b)` pairs. A
    one-channel batch is repeated to three channels when another batch has three.

    Args:
        *batches: arrays `(n, h, w, c)` with the same `n` and `h`.

    Returns:
        float32 array `(n, h, sum of widths, c)`.
    """
    batches = [np.asarray(b, dtype="float32") for b in batches]
    if not batches or any(b.ndim != 4 for b in batches):
        raise ValueError("side_by_side takes batches of shape (n, height, width, channels)")
    channels = max(b.shape[-1] for b in batches)
    batches = [np.repeat(b, channels, axis=-1) if b.shape[-1] == 1 else b for b in batches]
    shapes = {(b.shape[0], b.shape[1], b.shape[3]) for b in batches}
    if len(shapes) > 1:
        raise ValueError(f"batches must agree on count, height and channels, got {[b.shape for b in batches]}")
    return np.concatenate(batches, axis=2)


def lab_columns(lightness, ab, targets=None):
    """The columns of a colouriser's grid in RGB: the grey input, the colourised output, the truth.

    `lightness` and `ab` (and `targets`, true ab, or None) are in the model ranges of
    `zoo.data.rgb_to_model_lab`. A `render` for `zoo.callbacks.TranslationGrid`.
    """
    from zoo.data.colour import model_lab_to_rgb

    grey = np.repeat(np.asarray(lightness), 3, axis=-1)
    columns = [grey, np.asarray(model_lab_to_rgb(lightness, ab))]
    return columns + ([np.asarray(model_lab_to_rgb(lightness, targets))] if targets is not None else [])


def save_rows(path, *columns, title=None):
    """Writes a grid whose row i holds image i of each of `columns` (batches in [-1, 1]), left to right:
    e.g. sources | outputs | targets of a translator. Returns `path`."""
    rows = np.stack([np.asarray(c) for c in columns], axis=1)
    return save_grid(rows.reshape((-1, *rows.shape[2:])), path, num_rows=len(rows), title=title)


def save_grid(images, path, num_rows=None, title=None):
    """Writes a grid of images in [-1, 1] to a PNG with matplotlib, atomically; returns `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = make_grid(images, num_rows=num_rows)
    height, width = grid.shape[:2]
    scale = max(1.0, 512 / max(height, width))
    figure = plt.figure(figsize=(width * scale / 100, height * scale / 100 + (0.3 if title else 0)), dpi=100)
    axes = figure.add_axes([0, 0, 1, 1 if not title else 1 - 0.3 / figure.get_figheight()])
    axes.axis("off")
    if grid.shape[-1] == 1:
        axes.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        axes.imshow(grid, interpolation="nearest")
    if title:
        figure.suptitle(title, fontsize=10, y=1.0, va="top")
    from zoo import files

    # Atomic like every file zoo writes: a kill mid-write (found by benchmarks/faults.py)
    # left a truncated latest.png.
    try:
        with files.atomic_path(path, suffix=os.path.splitext(os.fspath(path))[1] or ".png") as tmp:
            figure.savefig(tmp)
    finally:
        plt.close(figure)
    return path


def save_scatter(samples, path, modes=None, title=None, limits=None):
    """Writes a scatter plot of 2-D points to a PNG, with the true modes as red crosses.

    The file is written atomically (a temporary file in the same folder, then renamed),
    so a reader never sees a half-written image. Non-finite points are not drawn.

    Args:
        samples: array-like `(n, 2)`, e.g. generated points.
        path: str or `Path` of the PNG; parent folders are created.
        modes: `None` or array-like `(num_modes, 2)`, drawn as red crosses. Default
            `None`.
        title: `None` or str. Default `None`.
        limits: `None` (fit the data) or `(low, high)`, the range of both axes.
            Default `None`.

    Returns:
        str, `path`.

    Raises:
        ValueError: if `samples` or `modes` is not `(n, 2)`, or `limits` is not a pair
            of finite numbers with low < high.

    Example:
    ```python
    modes, sigma = zoo.data.toy_distribution("grid")
    points = keras.ops.convert_to_numpy(generator(keras.random.normal((2500, 2))))
    zoo.plotting.save_scatter(points, "grid.png", modes=modes, limits=(-6, 6))
    ```
    """

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = _xy(samples, "samples")
    modes = None if modes is None else _xy(modes, "modes")
    if limits is not None:
        try:
            low, high = (float(v) for v in limits)
        except (TypeError, ValueError):
            low = high = float("nan")
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"limits must be None or a pair (low, high) of finite numbers with low < high; got {limits!r}"
            )
    figure = plt.figure(figsize=(5, 5), dpi=100)
    try:
        axes = figure.add_subplot(1, 1, 1)
        axes.scatter(samples[:, 0], samples[:, 1], s=2, c="black", alpha=0.3, linewidths=0)
        if modes is not None:
            axes.scatter(modes[:, 0], modes[:, 1], s=40, c="red", marker="x", linewidths=1.5)
        if limits is not None:
            axes.set_xlim(low, high)
            axes.set_ylim(low, high)
        axes.set_aspect("equal")
        if title:
            axes.set_title(title, fontsize=10)
        figure.tight_layout()
        path = save_figure(figure, path)
    finally:
        plt.close(figure)
    return path


def save_figure(figure, path):
    """Writes a matplotlib figure as PNG atomically (temporary file, then rename).

    Readers never see half a PNG, and an existing file survives a failed write.

    Returns:
        str, the path written.
    """
    from zoo import files

    path = os.fspath(path)
    with files.atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    return path


def _xy(points, name):
    points = np.asarray(points, dtype="float64")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {points.shape}")
    return points


STYLE_FIGURES = ("samples", "style_mix", "truncation")


def save_style_figures(model, directory, num_images, seed, truncation_psi=1.0, truncation_cutoff=None):
    """Writes a StyleGAN's samples, style-mixing and truncation-sweep figures as PNGs.

    From `3 * num_images` standard normal latents (numpy seed `seed`), with
    the EMA nets and constant noise:

    - `samples.png`: all `3 * num_images` latents' images in 3 rows, truncated by `truncation_psi` on the first
      `truncation_cutoff` styles;
    - `style_mix.png`: the coarse styles of latents `n:2n` (rows) copied into
      latents `0:n` (columns), truncated as the samples (the paper's figure 3);
    - `truncation.png`: latents `2n:3n` at psi 1, 0.7, 0.5, 0, -0.5, -1 (figure 8).

    Args:
        model: `zoo.models.StyleGAN` (anything with `generate`, `style_mix`,
            `truncation_sweep`, `latent_dim`, `num_ws`).
        directory: str, folder of the PNGs (created if missing).
        num_images: int >= 1, images per side of the style-mixing figure.
        seed: int, seed of the latents.
        truncation_psi: float, psi of the samples and style mixing. Default 1.0 (none).
        truncation_cutoff: int or None, truncate only the first this many
            styles (capped at `model.num_ws`, so the paper's 8 works on small
            nets); None truncates all. Default None.

    Returns:
        dict `{"samples", "style_mix", "truncation"}` -> path of the PNG.

    Example:
    ```python
    paths = zoo.plotting.save_style_figures(model, "runs/ffhq", 6, seed=0, truncation_psi=0.7, truncation_cutoff=8)
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019 (figures 3 and 8).
    """
    import keras

    if isinstance(num_images, bool) or not isinstance(num_images, (int, np.integer)) or num_images < 1:
        raise ValueError(f"num_images must be an int >= 1, got {num_images!r}")
    integer = isinstance(truncation_cutoff, (int, np.integer)) and not isinstance(truncation_cutoff, bool)
    if truncation_cutoff is not None and (not integer or truncation_cutoff < 1):
        raise ValueError(f"truncation_cutoff must be None or an int >= 1, got {truncation_cutoff!r}")
    n = int(num_images)
    z = np.random.default_rng(seed).standard_normal((3 * n, model.latent_dim)).astype("float32")
    cutoff = None if truncation_cutoff is None else min(int(truncation_cutoff), model.num_ws)
    truncation = {"truncation_psi": float(truncation_psi), "truncation_cutoff": cutoff}
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, f"{name}.png") for name in STYLE_FIGURES}
    samples = make_grid(model.generate(z, noise_mode="const", **truncation), num_rows=3)
    keras.utils.save_img(paths["samples"], samples, scale=False)
    mix = model.style_mix(z[:n], z[n : 2 * n], styles="coarse", **truncation)
    keras.utils.save_img(paths["style_mix"], mix, scale=False)
    keras.utils.save_img(paths["truncation"], model.truncation_sweep(z[2 * n :]), scale=False)
    return paths
