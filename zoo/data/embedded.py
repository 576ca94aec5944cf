"""Small image sets that ship inside installed packages: usable offline, in tests and CI."""

import numpy as np

from zoo.data import options as loader_options

# skimage.data.lfw_subset(): the first 100 of its 200 images are faces, the rest are
# background patches cut from the same photos.
LFW_NUM_FACES = 100


def digits(
    *,
    batch_size=64,
    image_size=32,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
):
    """scikit-learn digits: 1,797 greyscale 8x8 images, 10 classes, upsampled to 32x32.

    The raw pixels are integers 0..16 (stored as float64), so they are scaled with 16
    mapping to 1. The default 32x32 lets DCGAN-32 style nets train on it offline.

    Args:
        batch_size: positive int. Default 64.
        image_size: int or ``(height, width)``; ``None`` keeps the native 8x8.
            Default 32.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 digit labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 32, 32, 1)`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Example:
        >>> ds = digits(batch_size=16, with_labels=True, seed=0)
        >>> images, labels = next(iter(ds))  # (16, 32, 32, 1), (16,)
    """
    options = loader_options.common_options(locals())
    images, labels, max_value = digits_arrays()
    return _finalize((images, labels), max_value, options)


def lfw_faces(
    *,
    batch_size=64,
    image_size=32,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
):
    """scikit-image LFW subset: 100 greyscale 25x25 face crops, upsampled to 32x32.

    ``skimage.data.lfw_subset()`` returns 200 images whose first 100 are faces and last
    100 non-face background patches; only the faces are used. Despite its docstring,
    the array is float64 in ``[0, 1]``, not uint8. There are no labels.

    Args:
        batch_size: positive int. Default 64.
        image_size: int or ``(height, width)``; ``None`` keeps the native 25x25.
            Default 32.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: must be ``False``. Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N faces. Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 32, 32, 1)`` images in ``[-1, 1]``.

    Raises:
        ValueError: if ``with_labels`` is True, or on any bad common argument.

    Example:
        >>> ds = lfw_faces(batch_size=20)
        >>> images = next(iter(ds))  # (20, 32, 32, 1)
    """
    options = loader_options.common_options(locals())
    if options["with_labels"]:
        raise ValueError("with_labels must be False for lfw_faces: the faces have no labels")
    faces, _, max_value = lfw_faces_arrays()
    return _finalize(faces, max_value, options)


def digits_arrays():
    """The scikit-learn digits as numpy arrays, no TensorFlow needed.

    Returns:
        ``(images, labels, max_value)``: float32 ``(1797, 8, 8, 1)`` images in
        ``[0, 16]``, int32 ``(1797,)`` labels, and 16.0, the value that maps to 1.
    """
    from sklearn.datasets import load_digits  # imported on use: sklearn is slow to import

    bunch = load_digits()
    return bunch.images.astype(np.float32)[..., np.newaxis], bunch.target.astype(np.int32), 16.0


def lfw_faces_arrays():
    """The scikit-image LFW faces as numpy arrays, no TensorFlow needed.

    Returns:
        ``(images, None, max_value)``: float32 ``(100, 25, 25, 1)`` faces, no labels,
        and the value that maps to 1 (1.0 for the float64 images scikit-image 0.26
        returns, 255.0 for uint8).
    """
    from skimage.data import lfw_subset  # imported on use: skimage is slow to import

    faces = lfw_subset()[:LFW_NUM_FACES]
    # scikit-image 0.26 returns float64 in [0, 1] although its docstring promises uint8.
    max_value = 255.0 if faces.dtype == np.uint8 else 1.0
    return faces.astype(np.float32)[..., np.newaxis], None, max_value


def _finalize(tensors, max_value, options):
    import tensorflow as tf

    from zoo.data import pipeline

    return pipeline.finalize(tf.data.Dataset.from_tensor_slices(tensors), max_value=max_value, **options)
