"""The CoGAN digit domains: digits (A) and their edges or negatives (B), never paired.

Liu & Tuzel 2016 (section 5) train a CoGAN on two domains made from MNIST:
domain A holds digits, domain B the edge images or the negatives of digits,
and the two are drawn from disjoint parts of the training set, so the model
is never shown a digit together with its own transformed version. Here the
first half of the split's images is domain A and the second half, transformed,
is domain B; :func:`unpaired_digits` zips them into unpaired ``(a, b)`` batches.

(A module of its own: ``zoo.data.unpaired`` already names the zipping function.)
"""

import numpy as np
import tensorflow as tf

from zoo.data import pipeline
from zoo.data.mnist_idx import mnist_idx_images
from zoo.data.paired import unpaired

DIGIT_TRANSFORMS = ("negative", "edges")
DIGIT_SOURCES = ("mnist", "idx", "digits")
# Pixels of the square dilation that grows a stroke by one pixel on each side.
EDGE_KERNEL = 3


def transform_digits(images, transform):
    """Domain B of the CoGAN digit experiments, made from digits in [-1, 1].

    ``"negative"`` is ``-x``: white ink on black becomes black ink on white.
    ``"edges"`` is the outer contour of the strokes: with ink ``u = (x + 1) / 2``
    in [0, 1], a 3x3 grey dilation (max filter) minus the digit,
    ``dilate(u) - u``, mapped back to [-1, 1]: 1 on the one-pixel ring around
    each stroke, -1 inside the strokes and on the background.

    Args:
        images: float array or tensor ``(batch, height, width, channels)`` or one
            image ``(height, width, channels)``, values in [-1, 1].
        transform: str, ``"negative"`` or ``"edges"``.

    Returns:
        float32 tensor of the input's shape, values in [-1, 1].

    Raises:
        ValueError: on an unknown ``transform`` or images that are not 3-D or 4-D.

    Example:
        >>> x = -np.ones((1, 5, 5, 1), "float32"); x[0, 2, 2] = 1.0  # one ink pixel
        >>> edges = transform_digits(x, "edges").numpy()[0, ..., 0]
        >>> int((edges == 1).sum()), float(edges[2, 2])  # its 8 neighbours light up
        (8, -1.0)

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks", NeurIPS
    2016, section 5 (digits and edges, digits and negative images).
    """
    if transform not in DIGIT_TRANSFORMS:
        raise ValueError(f"transform must be one of {DIGIT_TRANSFORMS}; got {transform!r}")
    x = tf.convert_to_tensor(images, tf.float32)
    if x.shape.rank not in (3, 4):
        raise ValueError(
            f"images must be (batch, height, width, channels) or one (height, width, channels); "
            f"got shape {tuple(x.shape)}"
        )
    if transform == "negative":
        return -x
    single = x.shape.rank == 3
    ink = (x[tf.newaxis] if single else x) + 1.0
    ink = ink / 2.0
    dilated = tf.nn.max_pool2d(ink, EDGE_KERNEL, 1, "SAME")
    edges = 2.0 * (dilated - ink) - 1.0
    return edges[0] if single else edges


def _source_images(source, data_dir, split):
    """`(dataset of single images in storage dtype, count, max_value)` of a source's split."""
    if source == "digits":
        if split not in ("train", "all"):
            raise ValueError(f"the digits source has one split, 'train' (or 'all'); got {split!r}")
        from sklearn.datasets import load_digits  # imported on use: sklearn is slow to import

        images = load_digits().images.astype(np.float32)[..., np.newaxis]
        return tf.data.Dataset.from_tensor_slices(images), len(images), 16.0
    if source == "idx":
        if data_dir is None:
            raise ValueError("source='idx' needs data_dir, the folder of the MNIST IDX files")
        images = mnist_idx_images(data_dir, split)  # the images alone: no labels file needed
        return tf.data.Dataset.from_tensor_slices(images), len(images), 255.0
    from zoo.data.tfds_loaders import _load

    ds = _load("mnist", split, data_dir, as_supervised=True).map(lambda image, label: image)
    count = int(ds.cardinality())
    if count < 0:
        raise ValueError(f"the size of tfds MNIST split {split!r} is unknown; pass a plain split")
    return ds, count, 255.0


def unpaired_digits(
    source="mnist",
    transform="edges",
    *,
    data_dir=None,
    split="train",
    batch_size=64,
    image_size=28,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    cache=True,
    limit=None,
):
    """Unpaired digit domains for CoGAN: digits and the edges/negatives of OTHER digits.

    The split's images (the first ``limit``, if given) are cut in two in their
    stored order: the first half is domain A, as it is; the second half is
    domain B, passed through :func:`transform_digits`. No digit of A has its
    own transformed version in B, which is the paper's protocol: any
    correspondence the model learns between the domains it learns without
    ever seeing a pair. Each half is shuffled on its own (A with ``seed``, B
    with ``seed + 1``) and the smaller half is repeated to the length of the
    larger (:func:`zoo.data.unpaired`).

    Args:
        source: str, ``"mnist"`` (tfds, 60,000 training digits), ``"idx"`` (MNIST IDX
            files in ``data_dir`` with the project's 8,000 / 2,000 split of
            :func:`zoo.data.mnist_idx`) or ``"digits"`` (scikit-learn's 1,797
            embedded 8x8 digits, offline). Default ``"mnist"``.
        transform: str, domain B: ``"edges"`` (default) or ``"negative"``.
        data_dir: ``None`` or str: the IDX folder for ``"idx"``, the tfds data
            directory for ``"mnist"``. Default ``None``.
        split: str, the split to halve: a tfds split for ``"mnist"``; ``"train"``,
            ``"test"`` or ``"all"`` for ``"idx"``; ``"train"`` for ``"digits"``.
            Default ``"train"``.
        batch_size: positive int, images per domain and batch. Default 64.
        image_size: int or ``(height, width)``. Default 28 (MNIST's; the 8x8
            digits are upsampled). ``None`` keeps the native size.
        shuffle: bool, shuffle each domain every epoch. Default ``True``.
        seed: ``None`` or int, for reproducible orders. Default ``None``.
        drop_remainder: bool, drop each domain's last partial batch. Default ``True``.
        cache: bool, cache each domain in memory. Default ``True``.
        limit: ``None`` or positive int, use only the first N images of the split
            (before halving). Default ``None``.

    Returns:
        ``tf.data.Dataset`` of ``(images_a, images_b)``, float32 ``(batch, height,
        width, 1)`` each, in [-1, 1].

    Raises:
        ValueError: on a bad argument, or halves smaller than ``batch_size`` with
            ``drop_remainder``.
        FileNotFoundError: for ``"idx"`` without the files.

    Example:
        >>> ds = unpaired_digits("idx", "negative", data_dir="../shared/data/mnist", batch_size=128)
        >>> digits, negatives = next(iter(ds))  # (128, 28, 28, 1) each, 4,000 digits per domain

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks", NeurIPS
    2016, section 5.
    """
    options = pipeline.common_options({**locals(), "with_labels": False})
    if source not in DIGIT_SOURCES:
        raise ValueError(f"source must be one of {DIGIT_SOURCES}; got {source!r}")
    if transform not in DIGIT_TRANSFORMS:
        raise ValueError(f"transform must be one of {DIGIT_TRANSFORMS}; got {transform!r}")
    if isinstance(cache, str):
        raise ValueError("cache must be True or False here (two domains share one call); got a path")
    ds, count, max_value = _source_images(source, data_dir, split)
    limit = options.pop("limit")
    if limit is not None:
        ds, count = ds.take(limit), min(count, limit)
    if count < 2:
        raise ValueError(f"unpaired_digits needs at least 2 images to halve, got {count}")
    half = count // 2
    seed = options.pop("seed")
    options.pop("with_labels")
    domain_a = pipeline.finalize(ds.take(half), max_value=max_value, seed=seed, **options)
    domain_b = pipeline.finalize(
        ds.skip(half), max_value=max_value, seed=None if seed is None else seed + 1, **options
    ).map(lambda images: transform_digits(images, transform), num_parallel_calls=pipeline.AUTOTUNE)
    return unpaired(domain_a, domain_b.prefetch(pipeline.AUTOTUNE))
