"""Image-to-image data: aligned pairs for pix2pix, unpaired domains for CycleGAN.

Paired loaders yield ``(source, target)`` batches, both float32 ``(batch, H, W, C)`` in
``[-1, 1]``; :func:`unpaired` zips two image datasets into ``(image_a, image_b)`` batches.
Training augmentation is the random jitter and mirroring of Isola et al. 2017
(:func:`random_jitter`), drawn afresh every epoch and reproducible given ``seed``.
The tfds CycleGAN sets are loaded by :func:`zoo.data.tfds_loaders.cycle_gan`.
"""

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.data import folder, pipeline

# Isola et al. 2017 resize 256x256 images to 286x286 and crop a random 256x256 back;
# other sizes keep the ratio.
JITTER_RATIO = 286 / 256
DIRECTIONS = ("AtoB", "BtoA")


def jitter_size(image_size):
    """The size images are resized to before the random crop of :func:`random_jitter`.

    Args:
        image_size: int or ``(height, width)``, the output size.

    Returns:
        tuple ``(height, width)``, each ``round(side * 286 / 256)``.

    Raises:
        ValueError: if ``image_size`` is not a positive int or a pair of them.

    Example:
        >>> jitter_size(256), jitter_size(64)
        ((286, 286), (72, 72))
    """
    size = pipeline.image_size_pair(image_size)
    if size is None:
        raise ValueError("image_size must be a positive int or a pair of them; got None")
    return tuple(int(round(side * JITTER_RATIO)) for side in size)


def random_jitter(source, target, image_size, seed=None):
    """Random jitter and mirroring of one image pair, identical for both images.

    Both images are resized to :func:`jitter_size` (286x286 for 256x256), cropped at
    the same random position back to ``image_size`` and mirrored left-right together
    with probability 1/2, as in Isola et al. 2017 (pix2pix) and Zhu et al. 2017
    (CycleGAN, per image). The dtype is kept (integer images are rounded after the
    resize), so this can run on compact uint8 data before scaling to ``[-1, 1]``.

    Args:
        source: tensor ``(H, W, C_source)``, one image (map this over a dataset before
            batching).
        target: tensor ``(H', W', C_target)`` of the same dtype; its size may differ
            from the source's, as both are resized.
        image_size: int or ``(height, width)``, the output size.
        seed: ``None`` for TensorFlow's global random stream, or an int or a shape
            ``(2,)`` integer tensor: a stateless seed, so the same seed gives the same
            crop and flip. Default ``None``.

    Returns:
        tuple ``(source, target)`` of ``(height, width, C)`` tensors of the input dtype.

    Raises:
        ValueError: on a bad ``image_size``, images that are not ``(H, W, C)``, or
            differing dtypes.

    Example:
        >>> source, target = random_jitter(tf.zeros((256, 256, 3)), tf.ones((256, 256, 3)), 256)
        >>> source.shape
        TensorShape([256, 256, 3])

    Reference: Isola et al., "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017, section 6.2 and appendix 6.2.
    """
    jitter_size(image_size)  # validates image_size
    source, target = tf.convert_to_tensor(source), tf.convert_to_tensor(target)
    for name, image in (("source", source), ("target", target)):
        if image.shape.rank != 3:
            raise ValueError(f"{name} must be one image (height, width, channels); got shape {tuple(image.shape)}")
    if source.dtype != target.dtype:
        raise ValueError(f"source and target must have the same dtype; got {source.dtype.name} and {target.dtype.name}")
    return tuple(_jitter([source, target], pipeline.image_size_pair(image_size), seed))


def paired_folder(
    directory,
    *,
    direction="AtoB",
    image_size=256,
    jitter=True,
    batch_size=1,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    cache=True,
    limit=None,
    channels=None,
    on_error="skip",
):
    """pix2pix image pairs from a folder: each file holds A (left half) and B (right half).

    This is the layout of the pix2pix datasets (``facades/train/1.jpg`` is 512x256: the
    photo on the left, the label map on the right). Files are found recursively under
    ``directory`` in sorted path order (pass ``facades/train`` for one split); every
    file is checked once up front, as in :func:`zoo.data.image_folder`: unreadable files
    are skipped with a warning, unusual ones (16-bit, CMYK, palette) converted. The halves
    are resized to ``image_size`` (to :func:`jitter_size` with ``jitter``) and cached as
    uint8 during the first epoch; the random crop and flip run after the cache, anew
    every epoch.

    Args:
        directory: str or ``Path`` of the folder.
        direction: ``"AtoB"`` (source = left half, target = right half) or ``"BtoA"``.
            Default ``"AtoB"``.
        image_size: ``None`` (native half size, which then must be the same for every
            file), int or ``(height, width)``. Default 256.
        jitter: bool, random jitter and mirroring (:func:`random_jitter`) for training;
            ``False`` for evaluation (resize only). Default ``True``.
        batch_size: positive int. Default 1, as in Isola et al. 2017.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int, for a reproducible order and jitter. Default ``None``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N files. Default ``None``.
        channels: ``None`` (from the first file: 1 for greyscale, 3 for colour), 1 or 3.
            Default ``None``.
        on_error: ``"skip"`` unreadable files with a warning, or ``"raise"``.
            Default ``"skip"``.

    Returns:
        ``tf.data.Dataset`` of ``(source, target)``: float32 ``(batch, height, width,
        channels)`` images in ``[-1, 1]``.

    Raises:
        FileNotFoundError: if ``directory`` does not exist.
        ValueError: on bad arguments, a folder without images, files of odd width,
            unreadable files with ``on_error="raise"``, or half sizes that differ
            without ``image_size``.

    Example:
        >>> ds = paired_folder("facades/train", direction="BtoA", batch_size=4)
        >>> labels, photos = next(iter(ds))  # (4, 256, 256, 3) each

    Reference: Isola et al., "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017.
    """
    options = _options(locals())
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}")
    checks.boolean(jitter, "jitter")
    if channels not in (None, 1, 3) or isinstance(channels, bool):
        raise ValueError(f"channels must be None, 1 or 3; got {channels!r}")
    if on_error not in folder.ON_ERROR:
        raise ValueError(f"on_error must be one of {folder.ON_ERROR}; got {on_error!r}")

    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"image folder not found: {directory}")
    if not directory.is_dir():
        raise NotADirectoryError(f"not a folder: {directory}")
    paths = folder._walk(directory)
    if not paths:
        raise ValueError(
            f"no images found in {directory}; accepted extensions: {', '.join(folder.IMAGE_EXTENSIONS)}"
        )
    if options["limit"] is not None:
        paths = paths[: options["limit"]]

    keep, shapes, converted = folder._readable(paths, directory, on_error)
    paths = [paths[i] for i in keep]
    odd = [f"{path} ({w}x{h})" for path, (h, w, _) in zip(paths, shapes) if w % 2]
    if odd:
        raise ValueError(
            f"paired images hold A and B side by side, so their width must be even; "
            f"{len(odd)} file(s) in {directory} have an odd width (width x height): {folder._listing(odd)}"
        )
    if channels is None:
        channels = 1 if shapes[0][2] <= 2 else 3
    halves = sorted({(h, w // 2) for h, w, _ in shapes})
    size = options.pop("image_size")
    if size is None:
        if len(halves) > 1:
            examples = ", ".join(f"{h}x{w}" for h, w in halves[: folder._SHOW])
            raise ValueError(
                f"the image halves in {directory} have {len(halves)} different sizes (height x "
                f"width: {examples}{', ...' if len(halves) > folder._SHOW else ''}); pass image_size"
            )
        size = halves[0]
    half_shape = (*halves[0], channels) if len(halves) == 1 else (None, None, channels)
    swap = direction == "BtoA"

    def decode(source):
        image = folder._decode(source, channels)
        half = tf.shape(image)[1] // 2
        left = tf.ensure_shape(image[:, :half], half_shape)
        right = tf.ensure_shape(image[:, half:], half_shape)
        return (right, left) if swap else (left, right)

    ds = tf.data.Dataset.from_tensor_slices(folder._sources(paths, converted))
    ds = ds.map(decode, num_parallel_calls=pipeline.AUTOTUNE)
    return finalize_jittered(ds, image_size=size, jitter=jitter, **options)


def paired_arrays(
    sources,
    targets,
    *,
    image_size=None,
    jitter=True,
    batch_size=1,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    cache=True,
    limit=None,
    max_value=255.0,
):
    """Aligned in-memory image pairs as a ``(source, target)`` dataset.

    Args:
        sources: array or tensor ``(N, H, W, C_source)`` with values in ``[0, max_value]``.
        targets: array or tensor ``(N, H', W', C_target)``, the same N, values in
            ``[0, max_value]``; the channel count may differ from the sources' (e.g. 1 -> 2
            for colourisation, a label map -> a photo).
        image_size: ``None`` (native size, which must then be the same for sources and
            targets), int or ``(height, width)``. Default ``None``.
        jitter: bool, random jitter and mirroring (:func:`random_jitter`) for training;
            ``False`` for evaluation. Default ``True``.
        batch_size: positive int. Default 1, as in Isola et al. 2017.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int, for a reproducible order and jitter. Default ``None``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N pairs. Default ``None``.
        max_value: float, the value that maps to 1: 255 for uint8, 1.0 for ``[0, 1]``.
            Default 255.0.

    Returns:
        ``tf.data.Dataset`` of ``(source, target)``: float32 ``(batch, height, width, C)``
        images in ``[-1, 1]``.

    Raises:
        ValueError: on bad arguments, arrays that are not ``(N, H, W, C)`` or differ in
            N, or sizes that differ without ``image_size``.

    Example:
        >>> photos = np.zeros((8, 32, 32, 3), np.uint8)
        >>> edges = np.zeros((8, 32, 32, 1), np.uint8)
        >>> ds = paired_arrays(edges, photos, batch_size=4, seed=0)
        >>> [x.shape for x in next(iter(ds))]
        [TensorShape([4, 32, 32, 1]), TensorShape([4, 32, 32, 3])]
    """
    options = _options(locals())
    checks.boolean(jitter, "jitter")
    sources, targets = tf.convert_to_tensor(sources), tf.convert_to_tensor(targets)
    for name, images in (("sources", sources), ("targets", targets)):
        if images.shape.rank != 4:
            raise ValueError(f"{name} must be images (N, height, width, channels); got shape {tuple(images.shape)}")
    if sources.shape[0] != targets.shape[0]:
        raise ValueError(
            f"sources and targets must hold the same number of images; got {sources.shape[0]} and {targets.shape[0]}"
        )
    if sources.dtype != targets.dtype:
        sources, targets = tf.cast(sources, tf.float32), tf.cast(targets, tf.float32)
    size = options.pop("image_size")
    if size is None:
        if sources.shape[1:3] != targets.shape[1:3]:
            raise ValueError(
                f"sources are {sources.shape[1]}x{sources.shape[2]} but targets "
                f"{targets.shape[1]}x{targets.shape[2]}; pass image_size to resize both"
            )
        size = tuple(sources.shape[1:3])
    ds = tf.data.Dataset.from_tensor_slices((sources, targets))
    return finalize_jittered(ds, image_size=size, jitter=jitter, max_value=max_value, **options)


def jittered_folder(directory, image_size=256, *, batch_size=1, seed=None, channels=3, limit=None):
    """A folder's images with the paper's per-epoch jitter, one CycleGAN domain.

    :func:`zoo.data.image_folder` has no jitter: the images are decoded once at
    :func:`jitter_size`, then cropped and mirrored anew every epoch, as
    :func:`zoo.data.cycle_gan` does for tfds.

    Args:
        directory: str or ``Path`` of a folder of images (found recursively).
        image_size: int or ``(height, width)`` of the crops. Default 256.
        batch_size, seed, limit: as :func:`paired_folder`.
        channels: 1 or 3. Default 3.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, height, width, channels)`` images in ``[-1, 1]``.
    """
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    pixels = folder_pixels(directory, jitter_size(size), channels=channels, limit=limit)
    return finalize_jittered(pixels, batch_size, image_size=size, seed=seed)


def folder_pixels(directory, size, *, channels=3, limit=None):
    """A folder's images one by one as uint8 `(height, width, channels)`, decoded at `size`:
    what `finalize_jittered` starts from (as tfds gives it)."""
    from zoo.data.folder import image_folder

    images = image_folder(directory, image_size=size, channels=channels, batch_size=1, shuffle=False,
                          drop_remainder=False, cache=False, limit=limit)
    return images.map(lambda batch: tf.cast(tf.round((batch[0] + 1.0) * 127.5), tf.uint8))


def unpaired(dataset_a, dataset_b):
    """Zip two image datasets into ``(image_a, image_b)`` elements, for CycleGAN.

    The two domains stay independent: each keeps its own shuffle, and when both sizes
    are known the shorter one is repeated (reshuffled on each pass) up to the length of
    the longer, so an epoch sees every image of the larger domain once, as
    pytorch-CycleGAN-and-pix2pix's ``UnalignedDataset`` does. With an infinite dataset
    the zip follows the finite one; with an unknown size it stops at the shorter.

    Args:
        dataset_a: ``tf.data.Dataset`` of images (e.g. batches from a zoo loader).
        dataset_b: ``tf.data.Dataset`` of images.

    Returns:
        ``tf.data.Dataset`` of ``(image_a, image_b)``.

    Raises:
        ValueError: if an argument is not a dataset of single tensors, or is empty.

    Example:
        >>> horses = zoo.data.cycle_gan("horse2zebra", domain="A")
        >>> zebras = zoo.data.cycle_gan("horse2zebra", domain="B")
        >>> ds = unpaired(horses, zebras)  # 1,334 steps: every zebra once
    """
    datasets = []
    for name, ds in (("dataset_a", dataset_a), ("dataset_b", dataset_b)):
        if not isinstance(ds, tf.data.Dataset) or not isinstance(ds.element_spec, tf.TensorSpec):
            spec = ds.element_spec if isinstance(ds, tf.data.Dataset) else type(ds).__name__
            raise ValueError(f"{name} must be a tf.data.Dataset of images (single tensors); got {spec}")
        if int(ds.cardinality()) == 0:
            raise ValueError(f"{name} is empty")
        datasets.append(ds)
    sizes = [int(ds.cardinality()) for ds in datasets]
    if all(size > 0 for size in sizes):
        longest = max(sizes)
        datasets = [ds if size == longest else ds.repeat().take(longest) for ds, size in zip(datasets, sizes)]
    return tf.data.Dataset.zip(tuple(datasets))


def finalize_jittered(
    ds,
    batch_size=1,
    *,
    image_size,
    jitter=True,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    cache=True,
    limit=None,
    max_value=255.0,
):
    """Batch a dataset of single images or image tuples, with per-epoch random jitter.

    Like :func:`zoo.data.pipeline.finalize`, but the random crop and flip happen after
    the cache, so they change every epoch:

        take(limit) -> resize (to :func:`jitter_size` with ``jitter``) -> cache -> shuffle
        -> :func:`random_jitter` (the same crop for every image of an element) -> batch
        -> scale to [-1, 1] -> prefetch

    The jitter uses stateless ops fed from ``tf.data.Dataset.random(seed)``, so a seed
    makes the whole sequence of epochs reproducible.

    Args:
        ds: ``tf.data.Dataset`` of images ``(H, W, C)`` or of tuples of them, with
            values in ``[0, max_value]``; images of one element share a dtype.
        batch_size: positive int. Default 1.
        image_size: int or ``(height, width)``, the output size.
        jitter: bool. Default ``True``.
        shuffle, seed, drop_remainder, cache, limit: as in ``pipeline.finalize``.
        max_value: float, the value that maps to 1. Default 255.0.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, height, width, C)`` images in
        ``[-1, 1]``, or tuples of them.

    Raises:
        ValueError: on bad arguments, or when ``drop_remainder`` would leave no batch.

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices(tf.zeros((4, 36, 36, 3), tf.uint8))
        >>> finalize_jittered(ds, 2, image_size=32).element_spec.shape
        TensorShape([2, 32, 32, 3])
    """
    options = _options(locals())
    size = options.pop("image_size")
    if size is None:
        raise ValueError("image_size must be a positive int or a pair of them; got None")
    checks.boolean(jitter, "jitter")
    if options["limit"] is not None:
        ds = ds.take(options["limit"])
    count = int(ds.cardinality())
    if options["drop_remainder"] and 0 <= count < options["batch_size"]:
        raise ValueError(
            f"batch_size={options['batch_size']} is larger than the {count} examples "
            "available and drop_remainder=True would yield no batch; lower batch_size "
            "or pass drop_remainder=False"
        )
    stored = jitter_size(size) if jitter else size
    ds = ds.map(
        lambda *images: _pack([pipeline.resize(image, stored) for image in images]),
        num_parallel_calls=pipeline.AUTOTUNE,
    )
    if options["cache"] is True:
        ds = ds.cache()
    elif isinstance(options["cache"], str):
        ds = ds.cache(options["cache"])
    if options["shuffle"]:
        buffer = count if 0 < count <= pipeline.MAX_SHUFFLE_BUFFER else pipeline.MAX_SHUFFLE_BUFFER
        ds = ds.shuffle(buffer, seed=options["seed"], reshuffle_each_iteration=True)
    if jitter:
        seeds = tf.data.Dataset.random(seed=options["seed"], rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda images, pair_seed: _pack(_jitter(_unpack(images), size, pair_seed)),
            num_parallel_calls=pipeline.AUTOTUNE,
        )
    ds = ds.batch(options["batch_size"], drop_remainder=options["drop_remainder"])
    ds = ds.map(
        lambda *images: _pack([pipeline.to_signed_unit(image, max_value) for image in images]),
        num_parallel_calls=pipeline.AUTOTUNE,
    )
    return ds.prefetch(pipeline.AUTOTUNE)


def _options(namespace):
    """The common loader options validated from a loader's ``locals()``; pairs carry no labels."""
    options = pipeline.common_options(dict(namespace, with_labels=False))
    del options["with_labels"]
    return options


def _pack(images):
    return images[0] if len(images) == 1 else tuple(images)


def _unpack(images):
    return list(images) if isinstance(images, tuple) else [images]


def _jitter(images, size, seed):
    """Resize, crop at one random position and maybe mirror a list of (H, W, C) images."""
    height, width = size
    loaded = [pipeline.resize(image, jitter_size(size)) for image in images]
    depths = [int(image.shape[-1]) for image in loaded]
    stacked = tf.concat(loaded, axis=-1)
    room = tf.shape(stacked)[:2] - tf.constant([height, width]) + 1
    if seed is None:
        top = tf.random.uniform((), 0, room[0], tf.int32)
        left = tf.random.uniform((), 0, room[1], tf.int32)
        mirror = tf.random.uniform(()) < 0.5
    else:
        seed = tf.convert_to_tensor(seed)
        if seed.shape.rank == 0:
            seed = tf.stack([seed, tf.zeros_like(seed)])
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
        top = tf.random.stateless_uniform((), seeds[0], 0, room[0], tf.int32)
        left = tf.random.stateless_uniform((), seeds[1], 0, room[1], tf.int32)
        mirror = tf.random.stateless_uniform((), seeds[2]) < 0.5
    crop = stacked[top : top + height, left : left + width]
    crop = tf.where(mirror, tf.reverse(crop, axis=[1]), crop)
    crop = tf.ensure_shape(crop, (height, width, sum(depths)))
    return tf.split(crop, depths, axis=-1)


def edge_photos(split="train", num_crops=16, *, image_size=64, seed=0):
    """Crops of the embedded photos and their edge maps: offline edges -> photo pairs (edges2*-style).

    Each crop of `zoo.data.embedded_photos` is paired with its Sobel edge map (dark
    edges on white, as in the edges2shoes/handbags datasets of Isola et al. 2017). The
    test split's crops come from a photo no training crop sees.

    Args:
        split: "train" or "test".
        num_crops: int, the number of pairs. Default 16.
        image_size: int, their side. Default 64.
        seed: int, seed of the crops. Default 0.

    Returns:
        `(photos, edges)`: uint8 numpy arrays `(num_crops, image_size, image_size, 3)`, for
        `paired_arrays` (edges -> photo: `paired_arrays(edges, photos)`).
    """
    from zoo.data.colourisation import embedded_photos
    from zoo.plotting import to_uint8

    photos = next(iter(embedded_photos(split, image_size=image_size, num_crops=num_crops, batch_size=num_crops,
                                       shuffle=False, seed=seed)))
    grey = tf.image.rgb_to_grayscale((photos + 1.0) / 2.0)
    magnitude = tf.norm(tf.image.sobel_edges(grey)[..., 0, :], axis=-1, keepdims=True)
    edges = tf.image.grayscale_to_rgb(1.0 - tf.clip_by_value(magnitude / 2.0, 0.0, 1.0)) * 2.0 - 1.0
    return to_uint8(photos), to_uint8(edges)


def edge_photo_pairs(directory, seed=0, image_size=64, counts=(("train", 16), ("test", 8))):
    """Writes :func:`edge_photos` as side-by-side photo | edge-map PNGs: offline pix2pix files.

    The pairs go to `directory/<split>/NNN.png`, the layout `paired_folder` reads
    (`direction="BtoA"` maps edges to photos).

    Args:
        directory: str, the folder to write.
        seed: int, seed of the crops. Default 0.
        image_size: int, side of each half. Default 64.
        counts: `(split, number of crops)` pairs. Default 16 train and 8 test.

    Returns:
        `directory`.
    """
    for split, count in counts:
        photos, edges = edge_photos(split, count, image_size=image_size, seed=seed)
        os.makedirs(os.path.join(directory, split), exist_ok=True)
        for i, pair in enumerate(np.concatenate([photos, edges], axis=2)):
            tf.io.write_file(os.path.join(directory, split, f"{i:03d}.png"), tf.io.encode_png(pair))
    return directory


def collect(dataset):
    """Every batch of a finite dataset, concatenated into numpy arrays (one per element part)."""
    parts = list(dataset.as_numpy_iterator())
    if not parts:
        raise ValueError("the dataset is empty")
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(part) for part in zip(*parts))
    return np.concatenate(parts)
