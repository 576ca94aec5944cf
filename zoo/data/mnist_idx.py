"""MNIST from the original IDX files, with the project's 8,000 / 2,000 benchmark split.

IDX (LeCun et al.) is a big-endian header ``0x00 0x00 <type code> <ndim>`` followed by
``ndim`` uint32 sizes and the raw data. Images are magic 2051 (uint8, 3 dims), labels
2049 (uint8, 1 dim).
"""

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from zoo.data import options as loader_options

# The data-source prefix that names a folder of IDX files: `mnist_idx:DIR`.
PREFIX = "mnist_idx:"
IMAGES_FILE = "t10k-images-idx3-ubyte"
LABELS_FILE = "t10k-labels-idx1-ubyte"
# Benchmark protocol on the 10,000-image MNIST test set: the first 8,000 images train,
# the last 2,000 are held out for evaluation.
NUM_EXAMPLES = 10_000
NUM_TRAIN = 8_000
SPLITS = ("train", "test", "all")

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file, gzip-compressed or plain, into a numpy array.

    Compression is detected from the content, not the file name.

    Args:
        path: str or ``Path`` of the file.

    Returns:
        ``np.ndarray`` with the shape stored in the header, e.g. ``(10000, 28, 28)``
        uint8 for magic 2051 (images) or ``(10000,)`` uint8 for magic 2049 (labels).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: on a bad magic number, a truncated file or trailing bytes.

    Example:
        >>> images = read_idx("t10k-images-idx3-ubyte.gz")
        >>> images.shape, images.dtype
        ((10000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file, {len(raw)} bytes is shorter than the header")
    magic = struct.unpack(">I", raw[:4])[0]
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path}: bad magic number {magic} (0x{magic:08x}); expected an IDX file such "
            "as 2051 (images) or 2049 (labels)"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"{path}: truncated IDX header, expected {header_size} bytes, found {len(raw)}"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: IDX file {problem}: header {shape} needs {expected} data bytes, "
            f"found {found}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def mnist_idx(
    directory,
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
    """MNIST test set from IDX files, split 8,000 train / 2,000 held-out test.

    Reads ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (or their
    uncompressed versions) from ``directory``. Following the project's benchmark protocol,
    ``"train"`` is the first 8,000 images and ``"test"`` the last 2,000.

    Args:
        directory: str or ``Path`` holding the two IDX files.
        split: ``"train"`` (first 8,000), ``"test"`` (last 2,000) or ``"all"`` (every
            image in the files). Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (native 28x28), int or ``(height, width)``. Default ``None``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 digit labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples of the split.
            Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 28, 28, 1)`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Raises:
        FileNotFoundError: if the directory or one of the files is missing.
        ValueError: on a bad split or argument, on corrupt files, or if the files do not
            hold the 10,000 images the train/test protocol expects.

    Example:
        >>> ds = mnist_idx("../shared/data/mnist", "test", shuffle=False, with_labels=True)
        >>> images, labels = next(iter(ds))  # (64, 28, 28, 1), (64,)
    """
    options = loader_options.common_options(locals())
    images, labels = mnist_idx_arrays(directory, split)
    import tensorflow as tf

    from zoo.data import pipeline

    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    return pipeline.finalize(ds, **options)


def mnist_idx_arrays(directory, split="train"):
    """The images and labels of an MNIST IDX folder as numpy arrays, no TensorFlow needed.

    Args:
        directory: str or ``Path`` holding the two IDX files.
        split: ``"train"`` (first 8,000), ``"test"`` (last 2,000) or ``"all"``.

    Returns:
        ``(images, labels)``: uint8 ``(N, 28, 28, 1)`` and uint8 ``(N,)``.

    Raises:
        FileNotFoundError: if the directory or one of the files is missing.
        ValueError: on a bad split, corrupt files, or a count the split cannot use.
    """
    return _read(directory, split, with_labels=True)


def mnist_idx_images(directory, split="train"):
    """The images of an MNIST IDX folder, uint8 ``(N, 28, 28, 1)``; the labels file may be absent.

    The same splits and checks as :func:`mnist_idx_arrays`.
    """
    return _read(directory, split, with_labels=False)[0]


def _read(directory, split, with_labels):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST IDX directory not found: {directory}")
    images = read_idx(_find(directory, IMAGES_FILE))
    labels = read_idx(_find(directory, LABELS_FILE)) if with_labels else np.zeros(len(images), np.uint8)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{directory}: expected images (N, H, W) and labels (N,); got {images.shape} "
            f"and {labels.shape}"
        )
    if split != "all":
        if len(images) != NUM_EXAMPLES:
            raise ValueError(
                f"split={split!r} follows the {NUM_TRAIN:,}/{NUM_EXAMPLES - NUM_TRAIN:,} "
                f"protocol on the {NUM_EXAMPLES:,}-image MNIST test set, but {directory} "
                f"holds {len(images):,} images; use split='all'"
            )
        part = slice(None, NUM_TRAIN) if split == "train" else slice(NUM_TRAIN, None)
        images, labels = images[part], labels[part]
    return images[..., np.newaxis], (labels if with_labels else None)


def is_idx_folder(path):
    """True if ``path`` is a folder holding the MNIST test-set IDX images file."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in (f"{IMAGES_FILE}.gz", IMAGES_FILE))


def idx_folder(source):
    """The folder of MNIST IDX files that a data-source name means, or None.

    ``mnist_idx:DIR`` means DIR. A bare path means itself when it holds the IDX images
    file and is not a registered dataset's name: a registered name always means its
    dataset, so ``mnist`` run beside a ``./mnist/`` folder of IDX files still means MNIST
    from tfds (write ``mnist_idx:mnist`` or ``./mnist`` for the folder).
    """
    from zoo.data import DATASETS

    if not isinstance(source, (str, os.PathLike)):
        return None
    source = os.fspath(source)
    if source.startswith(PREFIX):
        return source[len(PREFIX) :]
    return None if source in DATASETS or not is_idx_folder(source) else source


def _find(directory, name):
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{directory / name}.gz (or uncompressed {name}) not found")
