"""Image grids as arrays and PNG files."""

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


def save_grid(images, path, num_rows=None, title=None):
    """Writes a grid of images in [-1, 1] to a PNG with matplotlib; returns `path`."""
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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
