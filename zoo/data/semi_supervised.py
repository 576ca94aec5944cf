"""Data for semi-supervised learning: a few labelled examples beside many unlabelled images.

:func:`labelled_subset` picks the labelled examples (``per_class`` of each class, chosen by
a seed); :func:`semi_supervised_dataset` zips a stream of unlabelled images, which carries
no labels at all, with a repeated, reshuffled stream of the labelled examples. The model
trained on it can therefore read no label outside the chosen subset.
"""

import numbers

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.data import pipeline


def labelled_subset(labels, per_class, seed=0, num_classes=None):
    """Indices of ``per_class`` examples of each class, drawn at random with ``seed``.

    The examples are taken in the order of one seeded permutation, as in Salimans et
    al.'s code, so another seed gives another subset.

    Args:
        labels: 1-D array of int class labels ``0 .. num_classes - 1``.
        per_class: positive int, labelled examples per class.
        seed: int, seed of the permutation. Default 0.
        num_classes: ``None`` (``max(labels) + 1``) or int.

    Returns:
        int64 numpy array of ``per_class * num_classes`` indices into ``labels``, grouped
        by class (class 0 first).

    Raises:
        ValueError: on a bad argument, or if a class has fewer than ``per_class`` examples.

    Example:
        >>> keep = labelled_subset(labels, per_class=10, seed=0)   # 100 indices for MNIST
        >>> np.bincount(labels[keep])
        array([10, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D int array, got shape {labels.shape} {labels.dtype}")
    if not _is_positive_int(per_class):
        raise ValueError(f"per_class must be a positive int, got {per_class!r}")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if len(labels) else 0
    if not _is_positive_int(num_classes):
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    order = np.random.default_rng(seed).permutation(len(labels))
    chosen = []
    for k in range(num_classes):
        of_class = order[labels[order] == k]
        if len(of_class) < per_class:
            raise ValueError(
                f"class {k} has {len(of_class)} examples, fewer than per_class={per_class}"
            )
        chosen.append(of_class[:per_class])
    return np.concatenate(chosen).astype(np.int64)


def semi_supervised_dataset(
    unlabelled_images,
    labelled_images,
    labelled_labels,
    *,
    batch_size=100,
    labelled_batch_size=None,
    seed=None,
    shuffle=True,
):
    """Batches ``(unlabelled_images, labelled_images, labels)`` for semi-supervised ``fit``.

    One epoch is one pass over the unlabelled images (reshuffled every epoch, the last
    partial batch dropped). The labelled examples are repeated and reshuffled for as long
    as it lasts, so with 100 labels and batch 100 every batch holds each label once, as
    in Salimans et al.'s code. The unlabelled stream is built from images alone: no label
    but ``labelled_labels`` ever enters the pipeline.

    Args:
        unlabelled_images: array ``(N, H, W, C)``, float32 in ``[-1, 1]`` (zoo's range).
            They may include the labelled images, as in the paper.
        labelled_images: array ``(M, H, W, C)`` of the same image shape.
        labelled_labels: int array ``(M,)``.
        batch_size: positive int, unlabelled images per batch. Default 100.
        labelled_batch_size: ``None`` (same as ``batch_size``) or positive int.
        seed: ``None`` or int, seed of both shuffles. Default ``None``.
        shuffle: bool, shuffle the unlabelled images every epoch. Default ``True``.

    Returns:
        ``tf.data.Dataset`` of ``(float32 (batch, H, W, C), float32 (labelled_batch, H, W,
        C), int32 (labelled_batch,))``.

    Raises:
        ValueError: on mismatched shapes, empty inputs or bad sizes.

    Example:
        >>> keep = labelled_subset(labels, per_class=10, seed=0)
        >>> ds = semi_supervised_dataset(images, images[keep], labels[keep], batch_size=100)
    """
    unlabelled_images = np.asarray(unlabelled_images, dtype=np.float32)
    labelled_images = np.asarray(labelled_images, dtype=np.float32)
    labelled_labels = np.asarray(labelled_labels)
    if unlabelled_images.ndim != 4 or labelled_images.ndim != 4:
        raise ValueError(
            "unlabelled_images and labelled_images must be (N, H, W, C) arrays; got "
            f"{unlabelled_images.shape} and {labelled_images.shape}"
        )
    if unlabelled_images.shape[1:] != labelled_images.shape[1:]:
        raise ValueError(
            f"labelled_images {labelled_images.shape[1:]} and unlabelled_images "
            f"{unlabelled_images.shape[1:]} must have the same image shape"
        )
    if labelled_labels.shape != (len(labelled_images),) or not np.issubdtype(
        labelled_labels.dtype, np.integer
    ):
        raise ValueError(
            f"labelled_labels must be {len(labelled_images)} int labels, one per labelled "
            f"image; got shape {labelled_labels.shape} {labelled_labels.dtype}"
        )
    if len(labelled_images) == 0:
        raise ValueError("labelled_images is empty; pick some with labelled_subset")
    if not _is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(unlabelled_images) < batch_size:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {len(unlabelled_images)} "
            "unlabelled images; no batch would be made"
        )
    if labelled_batch_size is None:
        labelled_batch_size = batch_size
    if not _is_positive_int(labelled_batch_size):
        raise ValueError(
            f"labelled_batch_size must be None or a positive int, got {labelled_batch_size!r}"
        )
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
        raise ValueError(f"seed must be None or an int, got {seed!r}")
    checks.boolean(shuffle, "shuffle")

    unlabelled = tf.data.Dataset.from_tensor_slices(unlabelled_images)
    if shuffle:
        unlabelled = unlabelled.shuffle(
            min(len(unlabelled_images), pipeline.MAX_SHUFFLE_BUFFER),
            seed=seed,
            reshuffle_each_iteration=True,
        )
    unlabelled = unlabelled.batch(batch_size, drop_remainder=True)

    labelled = tf.data.Dataset.from_tensor_slices(
        (labelled_images, labelled_labels.astype(np.int32))
    )
    # A different stream from the unlabelled shuffle's when a seed is given.
    labelled_seed = None if seed is None else int(seed) + 1
    labelled = (
        labelled.shuffle(len(labelled_images), seed=labelled_seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(labelled_batch_size, drop_remainder=True)
    )
    ds = tf.data.Dataset.zip(unlabelled, labelled).map(
        lambda u, lab: (u, lab[0], lab[1]), num_parallel_calls=pipeline.AUTOTUNE
    )
    return ds.prefetch(pipeline.AUTOTUNE)


def dataset_arrays(dataset):
    """Collects a finite zoo dataset of ``(images, labels)`` batches into numpy arrays.

    Args:
        dataset: ``tf.data.Dataset`` of ``(images, labels)`` batches (e.g.
            ``zoo.data.mnist_idx(dir, with_labels=True, shuffle=False,
            drop_remainder=False)``).

    Returns:
        ``(images, labels)``: float32 ``(N, H, W, C)`` and int64 ``(N,)`` numpy arrays.

    Example:
        >>> images, labels = dataset_arrays(zoo.data.digits(with_labels=True, shuffle=False,
        ...                                                 drop_remainder=False))
    """
    if not isinstance(dataset.element_spec, tuple) or len(dataset.element_spec) != 2:
        raise ValueError(f"dataset must yield (images, labels) batches, got {dataset.element_spec}")
    images, labels = [], []
    for x, y in dataset.as_numpy_iterator():
        images.append(x)
        labels.append(y)
    return np.concatenate(images).astype(np.float32), np.concatenate(labels).astype(np.int64)


def _is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0
