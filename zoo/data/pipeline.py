"""Shared tf.data pieces used by every zoo loader.

Every loader builds a source dataset of examples in their storage dtype (``image`` or
``(image, label)``) and hands it to :func:`finalize`, which applies the common contract:

    take(limit) -> per-example preprocess + resize -> cache -> shuffle -> batch
    -> scale to [-1, 1] (+ int32 labels) -> prefetch(AUTOTUNE)

Images stay in their compact source dtype (usually uint8) up to the batch, so the cache
holds a quarter of what float32 would; scaling happens once per batch, vectorised.
"""

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.data.options import (  # noqa: F401 (re-exported)
    COMMON_OPTIONS,
    _is_int,
    _is_positive_int,
    check_options,
    common_options,
    image_size_pair,
)

AUTOTUNE = tf.data.AUTOTUNE

# A buffer this large shuffles MNIST/CIFAR completely; bigger sets (CelebA) shuffle
# within a 60k window, which at 64x64x3 uint8 is about 0.7 GB.
MAX_SHUFFLE_BUFFER = 60_000


def to_signed_unit(images, max_value=255.0):
    """Scale images from ``[0, max_value]`` to float32 in ``[-1, 1]``.

    For uint8 data (``max_value=255``) this is ``x / 127.5 - 1``, which maps 0 to -1 and
    255 to 1 exactly.

    Args:
        images: uint8 or float tensor (any shape) with values in ``[0, max_value]``.
        max_value: float, the value that maps to 1. Default 255.0; use 16.0 for the
            scikit-learn digits and 1.0 for data already in ``[0, 1]``.

    Returns:
        float32 tensor of the same shape with values in ``[-1, 1]``.

    Example:
        >>> to_signed_unit(tf.constant([0, 255], tf.uint8)).numpy()
        array([-1.,  1.], dtype=float32)
    """
    half = float(max_value) / 2.0
    images = tf.cast(images, tf.float32) / half - 1.0
    # Resampled float inputs can land a rounding error outside the range.
    return tf.clip_by_value(images, -1.0, 1.0)


def resize(images, image_size):
    """Resize images with antialiased bilinear filtering, keeping their dtype.

    Integer images are rounded and saturated back to their dtype, so a uint8 dataset
    stays uint8 (and cheap to cache) after resizing. Images already at the requested
    static size are returned unchanged.

    Args:
        images: tensor ``(H, W, C)`` or ``(N, H, W, C)``, integer or float.
        image_size: int or ``(height, width)``.

    Returns:
        tensor ``(..., height, width, C)`` with the dtype of ``images``.

    Example:
        >>> resize(tf.zeros((28, 28, 1), tf.uint8), 32).shape
        TensorShape([32, 32, 1])
    """
    size = image_size_pair(image_size)
    if size is None:
        raise ValueError("image_size must be given to resize; got None")
    images = tf.convert_to_tensor(images)
    if tuple(images.shape[-3:-1]) == size:
        return images
    out = tf.image.resize(images, size, method="bilinear", antialias=True)
    if images.dtype.is_integer:
        return tf.saturate_cast(tf.round(out), images.dtype)
    return tf.cast(out, images.dtype)


def center_crop_square(image):
    """Crop the central square of side ``min(height, width)`` from an image.

    Args:
        image: tensor ``(H, W, C)``.

    Returns:
        tensor ``(S, S, C)`` with ``S = min(H, W)``; static when ``H`` and ``W`` are.

    Example:
        >>> center_crop_square(tf.zeros((218, 178, 3), tf.uint8)).shape
        TensorShape([178, 178, 3])
    """
    height, width = image.shape[0], image.shape[1]
    if height is None or width is None:
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        side = tf.minimum(height, width)
    else:
        side = min(height, width)
    top = (height - side) // 2
    left = (width - side) // 2
    return image[top : top + side, left : left + side, :]


def finalize(
    ds,
    batch_size=64,
    *,
    image_size=None,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
    preprocess=None,
    max_value=255.0,
    shuffle_buffer=None,
):
    """Turn a dataset of single examples into the batched zoo contract.

    Order: ``take(limit)`` -> parallel map(``preprocess``, resize) -> cache -> shuffle ->
    batch -> parallel map(scale to ``[-1, 1]``, labels to int32) -> prefetch(AUTOTUNE).

    Args:
        ds: ``tf.data.Dataset`` of ``image`` or ``(image, label)``; images ``(H, W, C)``
            with values in ``[0, max_value]``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (keep the size coming out of ``preprocess``), int or
            ``(height, width)``. Default ``None``.
        shuffle: bool; shuffle after the cache, reshuffling every iteration. Default True.
        seed: ``None`` or int; with an int the sequence of epoch orders is reproducible.
            Default ``None``.
        with_labels: bool; yield ``(images, labels)`` with int32 labels instead of
            images. Requires ``(image, label)`` elements. Default ``False``.
        drop_remainder: bool; drop the last partial batch. Default ``True``.
        cache: bool or str; ``True`` caches preprocessed examples in memory, a str caches
            to that file prefix, ``False`` disables caching. Default ``True``.
        limit: ``None`` or positive int; keep only the first ``limit`` examples (before
            shuffling). Default ``None``.
        preprocess: ``None`` or a function ``image -> image`` run per example before the
            resize (decode, crop, ...). Default ``None``.
        max_value: float, the source value that maps to 1. Default 255.0.
        shuffle_buffer: ``None`` or positive int. Default ``None``: the dataset size when
            known, capped at ``MAX_SHUFFLE_BUFFER`` (60,000).

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, H, W, C)`` images in ``[-1, 1]``, or of
        ``(images, labels)`` when ``with_labels``.

    Raises:
        ValueError: on bad arguments, when ``with_labels`` is set but the elements carry
            no label, or when ``drop_remainder`` would leave no batch at all.

    Example:
        >>> images = tf.zeros((10, 8, 8, 1), tf.uint8)
        >>> ds = finalize(tf.data.Dataset.from_tensor_slices(images), batch_size=4)
        >>> ds.element_spec.shape
        TensorShape([4, 8, 8, 1])
    """
    options = common_options(locals())
    if shuffle_buffer is not None and not _is_positive_int(shuffle_buffer):
        raise ValueError(f"shuffle_buffer must be None or a positive int; got {shuffle_buffer!r}")
    labelled = isinstance(ds.element_spec, tuple)
    if labelled and len(ds.element_spec) != 2:
        raise ValueError(
            f"ds elements must be image or (image, label); got {ds.element_spec}"
        )
    if options["with_labels"] and not labelled:
        raise ValueError("with_labels=True needs (image, label) elements; this data has no labels")

    if options["limit"] is not None:
        ds = ds.take(options["limit"])
    size = int(ds.cardinality())
    if options["drop_remainder"] and 0 <= size < options["batch_size"]:
        raise ValueError(
            f"batch_size={options['batch_size']} is larger than the {size} examples "
            "available and drop_remainder=True would yield no batch; lower batch_size "
            "or pass drop_remainder=False"
        )

    keep_labels = options["with_labels"]
    out_size = options["image_size"]

    def prepare(image, label=None):
        if preprocess is not None:
            image = preprocess(image)
        if out_size is not None:
            image = resize(image, out_size)
        return image if not keep_labels else (image, label)

    ds = ds.map(prepare, num_parallel_calls=AUTOTUNE)

    if options["cache"] is True:
        ds = ds.cache()
    elif isinstance(options["cache"], str):
        ds = ds.cache(options["cache"])

    if options["shuffle"]:
        if shuffle_buffer is None:
            shuffle_buffer = size if 0 < size <= MAX_SHUFFLE_BUFFER else MAX_SHUFFLE_BUFFER
        ds = ds.shuffle(shuffle_buffer, seed=options["seed"], reshuffle_each_iteration=True)

    ds = ds.batch(options["batch_size"], drop_remainder=options["drop_remainder"])

    def scale(images, labels=None):
        images = to_signed_unit(images, max_value)
        return images if not keep_labels else (images, tf.cast(labels, tf.int32))

    ds = ds.map(scale, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def binarize(images, stochastic=True, seed=None):
    """Binarises images in ``[-1, 1]`` to ``{-1, 1}``, for Bernoulli likelihoods.

    Stochastic binarisation (the default, as in the VAE/IWAE literature's MNIST)
    turns each pixel on with probability ``(x + 1) / 2``; ``stochastic=False``
    thresholds at 0. NumPy input gives a NumPy float32 array (drawn with
    ``numpy.random.default_rng(seed)``); a tensor gives a tensor, drawn afresh on
    every call, so ``dataset.map(binarize)`` resamples every epoch ("dynamic"
    binarisation).

    Args:
        images: float array or tensor in ``[-1, 1]``.
        stochastic: bool. Default ``True``.
        seed: ``None`` or int.

    Returns:
        float32 images with values -1 and 1, of the input's kind.

    Raises:
        ValueError: if ``stochastic`` is not a bool.

    Reference: Salakhutdinov & Murray, "On the Quantitative Analysis of Deep
    Belief Networks", ICML 2008 (stochastically binarised MNIST).
    """
    checks.boolean(stochastic, "stochastic")
    if isinstance(images, np.ndarray):
        probability = (images.astype(np.float32) + 1.0) / 2.0
        on = (np.random.default_rng(seed).random(probability.shape) < probability) if stochastic else probability > 0.5
        return np.where(on, 1.0, -1.0).astype(np.float32)
    probability = (tf.cast(images, tf.float32) + 1.0) / 2.0
    on = tf.random.uniform(tf.shape(probability), seed=seed) < probability if stochastic else probability > 0.5
    return tf.where(on, 1.0, -1.0)


def random_shift(images, max_shift, fill_value=-1.0, seed=None):
    """Translates each image of a batch by its own random whole-pixel offset.

    Each image moves by `(dy, dx)`, both drawn uniformly from
    ``[-max_shift, max_shift]``; pixels moved in from outside take `fill_value`
    (the background, -1 for images in ``[-1, 1]``). A cheap augmentation against
    overfitting small image sets; ``dataset.map(lambda x: random_shift(x, 1))``
    draws new offsets every epoch. NumPy input gives a NumPy float32 array
    (offsets from ``numpy.random.default_rng(seed)``); a tensor gives a tensor.

    Args:
        images: batch of shape ``(n, height, width, channels)``.
        max_shift: int >= 0, largest offset in pixels (0 returns the images).
        fill_value: float. Default -1.
        seed: ``None`` or int.

    Returns:
        float32 images of the input's shape and kind.

    Raises:
        ValueError: if `max_shift` is not an int >= 0, or the images are not a
            4-D batch.
    """
    if not _is_int(max_shift) or max_shift < 0:
        raise ValueError(f"max_shift must be an int >= 0 (pixels), got {max_shift!r}")
    if len(images.shape) != 4:
        raise ValueError(f"random_shift takes a batch (n, height, width, channels), got shape {tuple(images.shape)}")
    numpy_input = isinstance(images, np.ndarray)
    x = tf.cast(images, tf.float32)
    if max_shift == 0:
        return x.numpy() if numpy_input else x
    n, height, width = tf.shape(x)[0], x.shape[1], x.shape[2]
    if numpy_input:
        offsets = tf.constant(np.random.default_rng(seed).integers(0, 2 * max_shift + 1, (len(images), 2)), tf.int32)
    else:
        offsets = tf.random.uniform((n, 2), 0, 2 * max_shift + 1, dtype=tf.int32, seed=seed)
    m = max_shift
    padded = tf.pad(x, [[0, 0], [m, m], [m, m], [0, 0]], constant_values=fill_value)
    rows = offsets[:, :1] + tf.range(height)[None, :]
    cols = offsets[:, 1:] + tf.range(width)[None, :]
    shifted = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    return shifted.numpy() if numpy_input else shifted
