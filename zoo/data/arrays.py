"""In-memory loaders: numpy batches for any Keras backend, no TensorFlow needed.

The tf.data loaders of :mod:`zoo.data` need TensorFlow. On JAX (or PyTorch) a
machine often has none, so the data sets that fit in memory also come as a
`keras.utils.PyDataset` of numpy batches, with the same contract as the
tf.data loaders: float32 ``(batch, H, W, C)`` images in ``[-1, 1]`` (or
``(images, labels)`` with int32 labels), the same options (``batch_size``,
``image_size``, ``shuffle``, ``seed``, ``with_labels``, ``drop_remainder``,
``limit``) and the same order of operations: take ``limit``, resize
(antialiased bilinear, integer images rounded back), shuffle, batch, scale.

Sources: the embedded sets (``digits``, ``lfw_faces``), an MNIST IDX folder,
and ``mnist``, ``fashion_mnist`` and ``cifar10`` through `keras.datasets`
(downloaded once by Keras; tfds is not needed).
"""

import keras
import numpy as np

from zoo.data import options as loader_options

# keras.datasets modules for the registered sets that also ship there.
_KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10"}
_EMBEDDED = ("digits", "lfw_faces")
IN_MEMORY_SOURCES = tuple(sorted((*_EMBEDDED, *_KERAS_DATASETS)))


class InMemoryDataset(keras.utils.PyDataset):
    """Numpy batches of images in ``[-1, 1]`` (and labels) held in memory.

    Each epoch visits the examples in a fresh order drawn from ``seed`` and the
    epoch number, so a run resumed at epoch k sees the batches an uninterrupted
    run would have seen.

    Args:
        images: float32 ``(N, H, W, C)`` in ``[-1, 1]``.
        labels: None or int ``(N,)``.
        batch_size: positive int.
        shuffle: bool, a new order every epoch.
        seed: None or int; None draws one at construction.
        drop_remainder: bool, leave out the last partial batch.
        class_names: None or list of str, the label names.

    Example:
        >>> data = InMemoryDataset(np.zeros((10, 4, 4, 1), "float32"), batch_size=4)
        >>> len(data), data[0].shape
        (2, (4, 4, 4, 1))
    """

    def __init__(self, images, labels=None, *, batch_size=64, shuffle=True, seed=None, drop_remainder=True,
                 class_names=None):
        super().__init__()
        images = np.asarray(images, np.float32)
        if images.ndim != 4:
            raise ValueError(f"images must be (N, height, width, channels); got shape {images.shape}")
        if labels is not None:
            labels = np.asarray(labels).astype(np.int32)
            if labels.shape != (len(images),):
                raise ValueError(f"labels must be ({len(images)},) for {len(images)} images; got {labels.shape}")
        batch_size = loader_options.check_options(batch_size=batch_size)["batch_size"]
        count = len(images) // batch_size if drop_remainder else -(-len(images) // batch_size)
        if count == 0:
            raise ValueError(
                f"{len(images)} examples make no full batch of {batch_size}; lower batch_size "
                "or pass drop_remainder=False"
            )
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.drop_remainder = batch_size, bool(shuffle), bool(drop_remainder)
        self.seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else int(seed)
        self.class_names = class_names
        self.epoch = 0
        self._count = count
        self._order = self._permutation()

    @property
    def image_shape(self):
        """``(height, width, channels)`` of the images."""
        return tuple(int(s) for s in self.images.shape[1:])

    @property
    def num_batches(self):
        return self._count

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if not 0 <= index < self._count:
            raise IndexError(f"batch {index} out of range for {self._count} batches")
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        if self.labels is None:
            return self.images[rows]
        return self.images[rows], self.labels[rows]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._permutation()

    def _permutation(self):
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __iter__(self):
        """One pass over the batches, as `iter(tf.data.Dataset)` gives."""
        return (self[i] for i in range(self._count))


def in_memory(
    source,
    split="train",
    *,
    batch_size=64,
    image_size=None,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
):
    """A registered data set or an MNIST IDX folder as an :class:`InMemoryDataset`.

    Args:
        source: ``"digits"`` or ``"lfw_faces"`` (embedded; ``image_size`` defaults to
            32 as in their tf.data loaders), ``"mnist"``, ``"fashion_mnist"`` or
            ``"cifar10"`` (through `keras.datasets`, which downloads once), or the path
            of a folder holding MNIST's IDX test-set files, bare or as ``"mnist_idx:DIR"``
            (the 8,000 / 2,000 split, as :func:`zoo.data.mnist_idx`; a registered name
            always means its data set, whatever folder of that name is beside it).
        split: ``"train"`` or ``"test"`` (``"all"`` for an IDX folder). The embedded
            sets have one split, ``"train"``. Default ``"train"``.
        batch_size, image_size, shuffle, seed, with_labels, drop_remainder, limit:
            as the tf.data loaders. ``cache`` is accepted for the same signature and
            ignored: everything is in memory.

    Returns:
        :class:`InMemoryDataset`.

    Raises:
        ValueError: for an unknown source or split, or a bad option.
        zoo.files.DownloadError: a `keras.datasets` set that is not cached and cannot be
            downloaded (no internet); the message names the sets that need no download.

    Example:
        >>> data = in_memory("digits", batch_size=32, with_labels=True, seed=0)
        >>> images, labels = data[0]  # (32, 32, 32, 1), (32,)
    """
    options = loader_options.common_options(locals())
    images, labels, max_value, class_names = _source(source, split)
    if options["with_labels"] and labels is None:
        raise ValueError(f"with_labels must be False for {source!r}: it has no labels")
    if options["image_size"] is None and source in _EMBEDDED:
        options["image_size"] = (32, 32)  # the tf.data loaders' default for the embedded sets
    if options["limit"] is not None:
        images = images[: options["limit"]]
        labels = None if labels is None else labels[: options["limit"]]
    images = _resize(images, options["image_size"])
    scaled = np.clip(images.astype(np.float32) / np.float32(max_value / 2.0) - 1.0, -1.0, 1.0)
    return InMemoryDataset(
        scaled,
        labels if options["with_labels"] else None,
        batch_size=options["batch_size"],
        shuffle=options["shuffle"],
        seed=options["seed"],
        drop_remainder=options["drop_remainder"],
        class_names=class_names if options["with_labels"] else None,
    )


def supports(source):
    """True if :func:`in_memory` can load ``source`` (a name or an IDX folder)."""
    from zoo.data.mnist_idx import idx_folder

    return source in IN_MEMORY_SOURCES or idx_folder(source) is not None


def _source(source, split):
    """``(images, labels or None, max_value, class_names)`` in storage dtype."""
    from zoo.data import embedded
    from zoo.data.mnist_idx import idx_folder, mnist_idx_arrays

    digit_names = [str(k) for k in range(10)]
    if source in _EMBEDDED:
        if split != "train":
            raise ValueError(f"{source} has one split, 'train'; got split={split!r}")
        images, labels, max_value = embedded.digits_arrays() if source == "digits" else embedded.lfw_faces_arrays()
        return images, labels, max_value, (digit_names if labels is not None else None)
    if source in _KERAS_DATASETS:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test' for {source}; got {split!r}")
        from zoo import files

        module = getattr(keras.datasets, _KERAS_DATASETS[source])
        (x_train, y_train), (x_test, y_test) = files.fetch(
            module.load_data, f"{source} (keras.datasets)",
            f"pass an MNIST IDX folder, or digits (scikit-learn's digits) or lfw_faces (scikit-image's faces), "
            "which need no download")
        images, labels = (x_train, y_train) if split == "train" else (x_test, y_test)
        images = images[..., np.newaxis] if images.ndim == 3 else images
        return images, np.asarray(labels).reshape(-1), 255.0, [str(k) for k in range(10)]
    folder = idx_folder(source)
    if folder is not None:
        images, labels = mnist_idx_arrays(folder, split)
        return images, labels, 255.0, digit_names
    raise ValueError(
        f"in_memory loads {', '.join(IN_MEMORY_SOURCES)} or an MNIST IDX folder; got {source!r} "
        "(other data sets and image folders need TensorFlow: zoo.data.load / zoo.data.image_folder)"
    )


def _resize(images, image_size):
    """Antialiased bilinear resizing as `zoo.data.resize`, integers rounded back."""
    if image_size is None or tuple(images.shape[1:3]) == tuple(image_size):
        return images
    out = np.concatenate([
        keras.ops.convert_to_numpy(
            keras.ops.image.resize(images[i : i + 4096].astype(np.float32), image_size, "bilinear", antialias=True)
        )
        for i in range(0, len(images), 4096)
    ])
    if np.issubdtype(images.dtype, np.integer):
        info = np.iinfo(images.dtype)
        return np.clip(np.round(out), info.min, info.max).astype(images.dtype)
    return out.astype(images.dtype)
