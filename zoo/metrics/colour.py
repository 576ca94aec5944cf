"""Colour metrics for colourisation: PSNR against the ground truth and colourfulness.

PSNR rewards the average colour: a colouriser that paints everything a safe brown
scores well. Colourfulness (Hasler & Suesstrunk 2003) measures how saturated and
varied the colours are whatever the ground truth, so reporting both shows the
lecture's point: regression gives desaturated images, an adversarial loss gives
more saturated ones.
"""

import numpy as np


def _images(x, name):
    x = np.asarray(x, dtype="float64")
    if x.ndim != 4:
        raise ValueError(f"{name} must be images (n, height, width, channels) in [-1, 1], got shape {x.shape}")
    return x


def psnr(a, b):
    """Peak signal-to-noise ratio (dB) of each pair `a[i]`, `b[i]` of images in [-1, 1].

    `10 * log10(peak**2 / mse)`, the mean squared error taken over pixels and channels.
    The images are compared as they would be stored in 8 bits: the peak is the
    full range (2 in [-1, 1], i.e. 255 for uint8), so the values equal
    `tf.image.psnr` on the uint8 images with `max_val=255` up to rounding.

    Returns:
        float64 array `(n,)`, +inf for identical pairs.

    Raises:
        ValueError: the inputs are not image batches of one shape.
    """
    a, b = _images(a, "a"), _images(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(2.0) - 10.0 * np.log10(mse)


def colourfulness(images):
    """Colourfulness of each RGB image (Hasler & Suesstrunk 2003), on the 0-255 scale.

    With `rg = R - G` and `yb = (R + G) / 2 - B` over the pixels,
    `M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)`:
    0 for a grey image; the paper's scale calls about 15 "slightly", 33
    "moderately", 45 "averagely", 59 "quite", 82 "highly" and 109 "extremely
    colourful".

    Args:
        images: array `(n, h, w, 3)` of RGB in [-1, 1].

    Returns:
        float64 array `(n,)`.

    Reference: Hasler & Suesstrunk, "Measuring colourfulness in natural images",
    SPIE Human Vision and Electronic Imaging 2003.
    """
    images = _images(images, "images")
    if images.shape[-1] != 3:
        raise ValueError(f"colourfulness needs RGB images (3 channels), got shape {images.shape}")
    pixels = (np.clip(images, -1.0, 1.0) + 1.0) * 127.5
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    rg = (r - g).reshape(len(pixels), -1)
    yb = (0.5 * (r + g) - b).reshape(len(pixels), -1)
    spread = np.sqrt(rg.std(axis=1) ** 2 + yb.std(axis=1) ** 2)
    offset = np.sqrt(rg.mean(axis=1) ** 2 + yb.mean(axis=1) ** 2)
    return spread + 0.3 * offset


def colourisation_scores(colouriser, rgb, batch_size=32):
    """Colourises the lightness of held-out photos and scores the result against them.

    Args:
        colouriser: a net from L `(n, h, w, 1)` to ab `(n, h, w, 2)`, both in zoo's
            model range (`zoo.data.rgb_to_model_lab`).
        rgb: array `(n, h, w, 3)` of RGB photos in [-1, 1].
        batch_size: int, images per call. Default 32.

    Returns:
        `(scores, lightness, predicted, truth)`: the dict of mean "psnr", "ssim",
        "colourfulness", "truth_colourfulness" and "num_test", the L channel, the
        colourised RGB and the photos after the Lab round trip (what the
        colouriser could reproduce at best), as numpy arrays.
    """
    from zoo.data import model_lab_to_rgb, rgb_to_model_lab
    from zoo.metrics.ssim import ssim

    lightness, ab = rgb_to_model_lab(_images(rgb, "rgb").astype("float32"))
    predicted = model_lab_to_rgb(lightness, colouriser.predict(lightness.numpy(), batch_size=batch_size, verbose=0))
    predicted, truth = predicted.numpy(), model_lab_to_rgb(lightness, ab).numpy()
    scores = {
        "psnr": float(np.mean(psnr(predicted, truth))),
        "ssim": float(np.mean(ssim(predicted, truth))),
        "colourfulness": float(np.mean(colourfulness(predicted))),
        "truth_colourfulness": float(np.mean(colourfulness(truth))),
        "num_test": int(len(truth)),
    }
    return scores, lightness.numpy(), predicted, truth
