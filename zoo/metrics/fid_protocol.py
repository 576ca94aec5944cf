"""The input protocols of the FID Inception: quantisation, resize to 299, normalisation.

A published FID depends on how images reach the network, not only on its weights
(Parmar et al. 2022). Each protocol here reproduces one reference implementation, so a
zoo result names the protocol that made it and compares with numbers made the same way:

- `"clean"` (clean-fid's default mode): uint8 images, each channel resized as float
  with PIL's bicubic filter (antialiased when shrinking), clipped to [0, 255], then
  `(x - 128) / 128`;
- `"pytorch_fid"` (pytorch-fid, clean-fid's `legacy_pytorch`): uint8 / 255, bilinear
  resize as `torch.nn.functional.interpolate(align_corners=False)` (no antialiasing),
  then `2x - 1`;
- `"tf1"` (TTUR's original FID code, StyleGAN's `fid50k_full`, torch-fidelity, clean-fid's
  `legacy_tensorflow`): uint8 as float, TensorFlow 1's bilinear resize (source pixel
  `i * in / out`, no half-pixel offset), then `(x - 128) / 128`.

Every protocol starts from uint8: zoo's float images in [-1, 1] are quantised as image
files are written (`quantize`), so generated images are treated like the dataset's
files. All resizes are separable and linear, so each is a pair of matrices applied in
float64 (`resize_matrix`), on any backend.

Reference: Parmar, Zhang & Zhu, "On Aliased Resizing and Surprising Subtleties in GAN
Evaluation", CVPR 2022 (clean-fid); Heusel et al., NeurIPS 2017 (TTUR).
"""

import math

import numpy as np

from zoo.nets.fid_inception import FID_INCEPTION_SIZE

# protocol -> (resize method, normalisation (x - shift) / scale of the resized [0, 255] values)
PROTOCOLS = {
    "clean": ("pil_bicubic", 128.0, 128.0),
    "pytorch_fid": ("torch_bilinear", 127.5, 127.5),
    "tf1": ("tf1_bilinear", 128.0, 128.0),
}
RESIZE_METHODS = ("pil_bicubic", "torch_bilinear", "tf1_bilinear")


def check_protocol(protocol):
    """`protocol` if it is a name of `PROTOCOLS`, else a ValueError listing them."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}; got {protocol!r}")
    return protocol


def quantize(images):
    """zoo images in [-1, 1] as uint8 `[0, 255]`, rounded as image files are written.

    StyleGAN's metrics' conversion, `x * 127.5 + 128` clamped to [0, 255] and truncated:
    round to nearest, as torchvision's `save_image` also writes [0, 1] images.

    Args:
        images: float array-like in [-1, 1] (values up to 1.5 outside are clipped: a
            generator's overshoot), any shape; a uint8 array is returned unchanged.

    Returns:
        uint8 array of the same shape.

    Raises:
        ValueError: on other integer dtypes, NaN or infinite values, or floats far
            outside [-1, 1] (e.g. [0, 255] images as floats).
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 or floats in [-1, 1]; got {images.dtype}")
    images = images.astype(np.float64)
    if not np.all(np.isfinite(images)):
        raise ValueError("images have NaN or infinite values")
    if images.size and (images.min() < -1.5 or images.max() > 1.5):
        raise ValueError(f"float images must be in [-1, 1] (zoo's range); got values in [{images.min():.4g}, "
                         f"{images.max():.4g}] (pass [0, 255] images as uint8)")
    return np.floor(np.clip(images * 127.5 + 128.0, 0.0, 255.0)).astype(np.uint8)


def resize_matrix(in_size, out_size, method):
    """The `(out_size, in_size)` float64 matrix of a 1-D resize; a 2-D resize is `A X B^T`.

    Args:
        in_size: int >= 1, input length.
        out_size: int >= 1, output length.
        method: one of `RESIZE_METHODS`:
            "pil_bicubic": Pillow's `Image.resize(..., BICUBIC)` (a = -0.5; its support
                widens by the shrink factor, i.e. antialiased downsampling);
            "torch_bilinear": `torch.nn.functional.interpolate(mode="bilinear",
                align_corners=False)`;
            "tf1_bilinear": TensorFlow 1.x `tf.image.resize_bilinear(align_corners=False)`.

    Returns:
        float64 array `(out_size, in_size)` whose rows sum to 1.
    """
    if method not in RESIZE_METHODS:
        raise ValueError(f"method must be one of {', '.join(RESIZE_METHODS)}; got {method!r}")
    matrix = np.zeros((out_size, in_size))
    scale = in_size / out_size
    if method == "pil_bicubic":
        filter_scale = max(scale, 1.0)
        support = 2.0 * filter_scale
        for i in range(out_size):
            center = (i + 0.5) * scale
            # int() truncates towards zero like Pillow's C cast.
            lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), in_size)
            taps = np.arange(lo, hi)
            weights = _bicubic((taps - center + 0.5) / filter_scale)
            total = weights.sum()
            matrix[i, lo:hi] = weights / total if total != 0.0 else weights
        return matrix
    for i in range(out_size):
        if method == "torch_bilinear":
            source = max((i + 0.5) * scale - 0.5, 0.0)
        else:
            source = i * scale
        lo = min(int(math.floor(source)), in_size - 1)
        hi = min(lo + 1, in_size - 1)
        frac = source - lo
        matrix[i, lo] += 1.0 - frac
        matrix[i, hi] += frac
    return matrix


def _bicubic(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def inception_input(images, protocol):
    """Images as the FID Inception takes them under `protocol`: float32 `(N, 299, 299, 3)`.

    Args:
        images: uint8 array `(N, H, W, C)` with C 1 or 3 (greyscale is repeated to RGB, as
            image loaders convert it), or zoo float images in [-1, 1] (quantised first).
        protocol: a name of `PROTOCOLS`.

    Returns:
        float32 array `(N, 299, 299, 3)`.

    Raises:
        ValueError: on an unknown protocol or images that are not `(N, H, W, 1 or 3)`.
    """
    method, shift, scale = PROTOCOLS[check_protocol(protocol)]
    images = quantize(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, C) with 1 or 3 channels; got shape {images.shape}")
    x = images.astype(np.float64)
    rows = resize_matrix(x.shape[1], FID_INCEPTION_SIZE, method)
    cols = resize_matrix(x.shape[2], FID_INCEPTION_SIZE, method)
    x = np.einsum("oh,nhwc,pw->nopc", rows, x, cols, optimize=True)
    if method == "pil_bicubic":  # clean-fid clips the overshoot of the cubic filter
        x = np.clip(x, 0.0, 255.0)
    x = (x - shift) / scale
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x.astype(np.float32)
