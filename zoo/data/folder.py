"""Images from a folder on disk, optionally one subfolder per class."""

import concurrent.futures
import os
import re
import warnings
from pathlib import Path

import tensorflow as tf

from zoo.data import pipeline

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
ON_ERROR = ("skip", "raise")
# How many offending paths an error or warning message lists.
_SHOW = 5


def image_folder(
    directory,
    image_size=None,
    *,
    batch_size=64,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
    channels=None,
    on_error="skip",
):
    """Images (PNG, JPEG, BMP) found recursively under a folder.

    If the top folder holds no images itself but subfolders that do, each such subfolder
    is a class: labels are the indices of the sorted subfolder names, which are also set
    on the returned dataset as ``class_names`` (as ``keras.utils.image_dataset_from_directory``
    does). Hidden files and folders (names starting with ``.``) are ignored.

    Every file is decoded once up front, with the same TensorFlow decoder the pipeline
    uses, so an unreadable file cannot stop training halfway through an epoch. This costs
    one decoding pass over the folder before the dataset is returned.

    Args:
        directory: str or ``Path`` of the folder.
        image_size: ``None``, int or ``(height, width)``. Images are stretched to this
            size. ``None`` keeps the native size, which then must be the same for every
            image. Default ``None``.
        batch_size: positive int. Default 64.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 class indices; needs
            class subfolders. Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N images in sorted path order.
            Default ``None``.
        channels: ``None`` (take it from the first readable image: 1 for greyscale, 3 for
            colour; alpha is dropped), 1 or 3. Other images are converted. Default ``None``.
        on_error: ``"skip"`` unreadable files with a warning, or ``"raise"`` a
            ``ValueError`` listing them. Default ``"skip"``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, H, W, channels)`` images in ``[-1, 1]``
        (or ``(images, labels)``), with a ``class_names`` attribute (a list of str, empty
        for a flat folder).

    Raises:
        FileNotFoundError: if ``directory`` does not exist.
        ValueError: on bad arguments, a folder without images, unreadable files with
            ``on_error="raise"``, sizes that differ without ``image_size``, or
            ``with_labels=True`` on a folder without class subfolders.

    Example:
        >>> ds = image_folder("photos/", image_size=64, with_labels=True)
        >>> images, labels = next(iter(ds))
        >>> ds.class_names  # e.g. ['cats', 'dogs']
    """
    options = pipeline.common_options(locals())
    if channels not in (None, 1, 3) or isinstance(channels, bool):
        raise ValueError(f"channels must be None, 1 or 3; got {channels!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}")

    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"image folder not found: {directory}")
    if not directory.is_dir():
        raise NotADirectoryError(f"not a folder: {directory}")

    paths, labels, class_names = _list_images(directory)
    if not paths:
        raise ValueError(
            f"no images found in {directory}; accepted extensions: {', '.join(IMAGE_EXTENSIONS)}"
        )
    if options["with_labels"] and not class_names:
        raise ValueError(
            f"with_labels=True needs one subfolder per class in {directory}, but images "
            "sit directly in it"
        )
    if options["limit"] is not None:
        # Only the kept files need checking; finalize's take() is then a no-op.
        paths, labels = paths[: options["limit"]], labels[: options["limit"]]

    shapes, bad = _probe(paths)
    if bad:
        listing = ", ".join(f"{path} ({reason})" for path, reason in bad[:_SHOW])
        more = f" and {len(bad) - _SHOW} more" if len(bad) > _SHOW else ""
        if on_error == "raise":
            raise ValueError(f"{len(bad)} unreadable image file(s) in {directory}: {listing}{more}")
        warnings.warn(
            f"skipping {len(bad)} unreadable image file(s) in {directory}: {listing}{more}",
            stacklevel=2,
        )
        keep = [i for i, shape in enumerate(shapes) if shape is not None]
        if not keep:
            raise ValueError(f"none of the {len(paths)} image files in {directory} is readable")
        paths = [paths[i] for i in keep]
        labels = [labels[i] for i in keep]
        shapes = [shapes[i] for i in keep]

    if channels is None:
        channels = 1 if shapes[0][2] <= 2 else 3
    sizes = sorted({shape[:2] for shape in shapes})
    if options["image_size"] is None and len(sizes) > 1:
        examples = ", ".join(f"{h}x{w}" for h, w in sizes[:_SHOW])
        more = ", ..." if len(sizes) > _SHOW else ""
        raise ValueError(
            f"images in {directory} have {len(sizes)} different sizes (height x width: "
            f"{examples}{more}); pass image_size to resize them"
        )
    native_shape = (*sizes[0], channels) if len(sizes) == 1 else (None, None, channels)

    def decode(path):
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
        return tf.ensure_shape(_to_channels(image, channels), native_shape)

    ds = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], labels))
    ds = pipeline.finalize(ds, preprocess=decode, **options)
    ds.class_names = class_names
    return ds


def _list_images(directory):
    """Sorted image paths, their labels and the class names (empty for a flat folder)."""
    top = [entry for entry in directory.iterdir() if not entry.name.startswith(".")]
    if any(entry.is_file() and _is_image(entry) for entry in top):
        paths = _walk(directory)
        return paths, [0] * len(paths), []
    paths, labels, class_names = [], [], []
    for sub in sorted((entry for entry in top if entry.is_dir()), key=lambda e: e.name):
        found = _walk(sub)
        if found:
            labels += [len(class_names)] * len(found)
            class_names.append(sub.name)
            paths += found
    return paths, labels, class_names


def _walk(directory):
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if not f.startswith(".") and _is_image(Path(f))]
    return sorted(found)


def _is_image(path):
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _probe(paths):
    """Decode every file eagerly; return per-file (H, W, C) or None, and the failures."""

    def probe(path):
        try:
            image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False)
        except (tf.errors.OpError, OSError) as error:
            return None, _reason(error)
        return tuple(int(d) for d in image.shape), None

    workers = min(8, (os.cpu_count() or 1) + 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(probe, paths))
    shapes = [shape for shape, _ in results]
    bad = [(path, reason) for path, (shape, reason) in zip(paths, results) if shape is None]
    return shapes, bad


def _reason(error):
    """A short reason from an error, without TensorFlow's ``{{function_node ...}}`` prefix."""
    message = re.sub(r"\{\{.*?\}\}", "", getattr(error, "message", None) or str(error))
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0][:120] if lines else type(error).__name__


def _to_channels(image, channels):
    """Convert a decoded uint8 image with 1-4 channels to ``channels`` (1 or 3).

    Decoding always uses the native channel count because TensorFlow's BMP decoder
    rejects ``channels=1``; the conversion happens here instead.
    """
    native = tf.shape(image)[-1]
    if channels == 1:
        return tf.cond(
            native < 3,
            lambda: image[..., :1],
            lambda: tf.image.rgb_to_grayscale(image[..., :3]),
        )
    return tf.cond(
        native < 3,
        lambda: tf.repeat(image[..., :1], 3, axis=-1),
        lambda: image[..., :3],
    )
