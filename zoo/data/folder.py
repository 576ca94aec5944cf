"""Images from a folder on disk, optionally one subfolder per class."""

import concurrent.futures
import io
import os
import re
import struct
import warnings
from pathlib import Path
from typing import NamedTuple

import tensorflow as tf
from PIL import Image

from zoo.data import pipeline

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
ON_ERROR = ("skip", "raise")
# Images with more pixels are skipped before decoding: PIL's default MAX_IMAGE_PIXELS, a
# quarter GiB as 8-bit RGB. A header can claim far more than its file holds (60000x60000
# in a few hundred bytes), and decoders allocate what the header claims.
MAX_PIXELS = 89_478_485
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

    Every file is checked once up front, so an unreadable file cannot stop training
    halfway through an epoch: the size its PNG, JPEG, BMP or GIF header states (images
    over ``MAX_PIXELS``, 89,478,485 pixels, are skipped without decoding), then a full
    decode with the TensorFlow decoder the pipeline uses. Unusual but readable files are
    converted: 16-bit PNGs to 8 bits (``value >> 8``, TensorFlow's conversion), CMYK JPEGs
    and palette PNGs to RGB, grey + alpha to grey (alpha always dropped). Files TensorFlow
    cannot read, or reads wrongly (BMPs of 8 or fewer bits per pixel, whose palette it
    ignores), are decoded by PIL instead and kept in memory as PNG bytes. Truncated, empty,
    non-image, oversized and unreachable files (a symlink loop, say) are skipped with one
    warning that gives their count, names and reasons.

    With ``cache`` (the default) the cache is also filled before the dataset is
    returned, so training never reads the folder again: a file deleted or changed after
    this call returns cannot alter the data set or stop an epoch. This costs a second
    decoding pass up front, which the first epoch saves. With ``cache=False`` the files
    are read every epoch, and one removed meanwhile stops the epoch with TensorFlow's
    ``NotFoundError`` naming it.

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
        cache: bool or cache file path, filled before this returns. Default ``True``
            (in memory).
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

    keep, shapes, converted = _readable(paths, directory, on_error)
    paths, labels = [paths[i] for i in keep], [labels[i] for i in keep]

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
    size, cache = options["image_size"], options.pop("cache")

    def decode(source, label):
        image = _decode(source, channels, native_shape)
        return (image if size is None else pipeline.resize(image, size)), label

    ds = tf.data.Dataset.from_tensor_slices((_sources(paths, converted), labels))
    ds = ds.map(decode, num_parallel_calls=pipeline.AUTOTUNE)
    if cache is not False:
        ds = ds.cache() if cache is True else ds.cache(cache)
    # The cache sits before the shuffle, as in finalize; finalize checks batch_size first.
    batches = pipeline.finalize(ds, cache=False, **{**options, "image_size": None})  # resized above
    if cache is not False:
        ds.reduce(0, lambda count, _: count)  # fills the cache: no epoch reads the folder again
    batches.class_names = class_names
    return batches


def _list_images(directory):
    """Sorted image paths, their labels and the class names (empty for a flat folder)."""
    top = [entry for entry in directory.iterdir() if not entry.name.startswith(".")]
    if any(entry.is_file() and _is_image(entry) for entry in top):
        paths = _walk(directory)
        return paths, [0] * len(paths), []
    paths, labels, class_names = [], [], []
    subfolders = (entry for entry in top if entry.is_dir() and not _leads_back(entry, directory))
    for sub in sorted(subfolders, key=lambda e: e.name):
        found = _walk(sub)
        if found:
            labels += [len(class_names)] * len(found)
            class_names.append(sub.name)
            paths += found
    return paths, labels, class_names


def _leads_back(folder, top):
    """Whether ``folder`` (a symlink) resolves to ``top`` or above it: a loop, not a class."""
    target, top = folder.resolve(), top.resolve()
    return target == top or target in top.parents


def _walk(directory):
    """Image files under ``directory``, sorted; symlinked subfolders are not followed."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if not f.startswith(".") and _is_image(Path(f))]
    return sorted(found)


def _is_image(path):
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _readable(paths, directory, on_error):
    """Probe every file; warn about the unreadable ones or, with ``on_error="raise"``, raise.

    Returns:
        ``(keep, shapes, converted)`` for the readable files: their indices in ``paths``,
        their decoded ``(H, W, C)`` shapes, and the PNG bytes PIL converted them to (empty
        where TensorFlow reads the file itself).

    Raises:
        ValueError: on unreadable files with ``on_error="raise"``, or if none is readable.
    """
    probed = _probe(paths)
    bad = [f"{path} ({result.reason})" for path, result in zip(paths, probed) if result.reason]
    if bad:
        listing = _listing(bad)
        if on_error == "raise":
            raise ValueError(f"{len(bad)} unreadable image file(s) in {directory}: {listing}")
        warnings.warn(f"skipping {len(bad)} unreadable image file(s) in {directory}: {listing}", stacklevel=3)
    keep = [i for i, result in enumerate(probed) if not result.reason]
    if not keep:
        raise ValueError(f"none of the {len(paths)} image files in {directory} is readable")
    return keep, [probed[i].shape for i in keep], [probed[i].converted for i in keep]


def _listing(items):
    """The first ``_SHOW`` items, comma-separated, and how many more there are."""
    more = f" and {len(items) - _SHOW} more" if len(items) > _SHOW else ""
    return ", ".join(str(item) for item in items[:_SHOW]) + more


class _Probed(NamedTuple):
    """What checking one file found."""

    shape: tuple | None = None  # (H, W, C) as decoded; None if unreadable
    converted: bytes = b""  # PNG bytes from PIL, for files TensorFlow can't read right
    reason: str = ""  # why the file is unreadable


def _probe(paths):
    """Check every file (in threads); a ``_Probed`` for each."""
    workers = min(8, (os.cpu_count() or 1) + 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(_probe_file, paths))


def _probe_file(path):
    """Read one file, check its header's size, then decode it: TensorFlow first, else PIL."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:  # gone, a symlink loop, no permission, ...
        return _Probed(reason=error.strerror or type(error).__name__)
    size = _header_size(data)
    if size and size[0] * size[1] > MAX_PIXELS:
        return _Probed(reason=f"{size[0]}x{size[1]} pixels in its header, over MAX_PIXELS={MAX_PIXELS:,}")
    reason = ""
    if not _misread_by_tensorflow(data):
        try:
            return _Probed(shape=tuple(tf.io.decode_image(data, expand_animations=False).shape))
        except tf.errors.OpError as error:
            reason = _reason(error)
    try:
        return _converted(data)
    except Exception as error:  # PIL raises OSError, SyntaxError, ValueError, struct.error, ...
        return _Probed(reason=reason or _reason(error))


def _header_size(data):
    """``(height, width)`` from a PNG, BMP, GIF or JPEG header; ``None`` for others."""
    if len(data) < 26:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
    elif data.startswith(b"BM"):
        width, height = struct.unpack("<ii", data[18:26])  # height < 0: rows top down
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", data[6:10])
    elif data.startswith(b"\xff\xd8\xff"):
        try:
            height, width = (int(side) for side in tf.io.extract_jpeg_shape(data)[:2])
        except tf.errors.OpError:
            return None
    else:
        return None
    return abs(height), abs(width)


def _misread_by_tensorflow(data):
    """Whether TensorFlow would decode ``data`` wrongly without an error.

    Its BMP decoder takes the bytes of an 8-bit BMP as grey levels, ignoring the palette
    (a colour palette BMP comes out as grey noise), and rejects fewer bits per pixel.
    """
    return data.startswith(b"BM") and len(data) >= 30 and struct.unpack("<H", data[28:30])[0] <= 8


def _converted(data):
    """``data`` decoded by PIL to 8-bit grey or RGB (alpha dropped), as PNG bytes."""
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("L" if image.mode in ("1", "L", "LA") else "RGB")
    png = io.BytesIO()
    image.save(png, format="PNG")
    return _Probed(shape=(image.height, image.width, len(image.getbands())), converted=png.getvalue())


def _reason(error):
    """A short reason from an error, without TensorFlow's ``{{function_node ...}}`` and ``[Op:...]``."""
    message = re.sub(r"\{\{.*?\}\}| *\[Op:.*", "", getattr(error, "message", None) or str(error))
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[0][:120] if lines else type(error).__name__


def _sources(paths, converted):
    """Elements for :func:`_decode`: each file's path and its converted bytes."""
    return {"path": [str(path) for path in paths], "converted": list(converted)}


def _decode(source, channels, shape=None):
    """Decode one file (its ``converted`` bytes if any) to uint8 with ``channels``; in a graph."""
    data = tf.cond(
        tf.strings.length(source["converted"]) > 0,
        lambda: source["converted"],
        lambda: tf.io.read_file(source["path"]),
    )
    image = _to_channels(tf.io.decode_image(data, expand_animations=False), channels)
    return image if shape is None else tf.ensure_shape(image, shape)


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
