"""Colourisation data: colour photos as ``(L, ab)`` pairs in model ranges.

:func:`lab_pairs` turns any zoo RGB dataset into ``(L, ab)`` batches (see
:mod:`zoo.data.colour` for the scales); :func:`embedded_photos` is a small real colour
dataset that works offline: random crops of the photographs that ship with
scikit-image, with whole photos held out for testing.
"""

import os

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.data import colour, pipeline

# The colour photographs inside the scikit-image wheel (no pooch download), by the
# skimage.data function that loads them. Left out: cat (the same photo as chelsea),
# motorcycle_right (the other view of the stereo pair: a near-copy of motorcycle_left),
# hubble_deep_field, immunohistochemistry and retina (astronomy and microscopy, mostly
# black or stain colours), colorwheel and logo (synthetic), and kidney, lily and skin
# (they need the optional pooch download).
PHOTO_SPLITS = {
    "train": ("astronaut", "coffee", "rocket", "motorcycle_left"),
    "test": ("chelsea",),
}


def lab_pairs(dataset):
    """Map a dataset of RGB images to ``(L, ab)`` colourisation pairs.

    Each element goes through :func:`zoo.data.colour.rgb_to_model_lab`: ``L`` (the
    input of a colouriser) is ``L / 50 - 1`` and ``ab`` (its target) ``ab / 110``, both
    in ``[-1, 1]``. Works on batched and unbatched datasets alike.

    Args:
        dataset: ``tf.data.Dataset`` of float RGB images ``(..., H, W, 3)`` in
            ``[-1, 1]``, e.g. from :func:`zoo.data.load` with ``with_labels=False``.

    Returns:
        ``tf.data.Dataset`` of ``(L, ab)``: float32 ``(..., H, W, 1)`` and
        ``(..., H, W, 2)`` in ``[-1, 1]``.

    Raises:
        ValueError: if the elements are not single float tensors with 3 channels
            (greyscale data, ``(images, labels)`` tuples, uint8 images).

    Example:
        >>> ds = lab_pairs(embedded_photos(batch_size=16, seed=0))
        >>> L, ab = next(iter(ds))  # (16, 64, 64, 1), (16, 64, 64, 2)
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(f"dataset must be a tf.data.Dataset of RGB images; got {type(dataset).__name__}")
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(f"dataset must yield RGB images only (pass with_labels=False); got elements {spec}")
    if spec.shape.rank is None or spec.shape.rank < 3 or spec.shape[-1] != 3:
        channels = spec.shape[-1] if spec.shape.rank else None
        raise ValueError(
            f"dataset must yield RGB images (..., height, width, 3); got {channels} channel(s) in "
            f"{spec}{' (greyscale has no colour to learn)' if channels == 1 else ''}"
        )
    if not spec.dtype.is_floating:
        raise ValueError(f"dataset must yield float images in [-1, 1] (a zoo loader's); got dtype {spec.dtype.name}")
    return dataset.map(colour.rgb_to_model_lab, num_parallel_calls=pipeline.AUTOTUNE).prefetch(pipeline.AUTOTUNE)


def embedded_photos(
    split="train",
    *,
    batch_size=64,
    image_size=64,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
    num_crops=1024,
    flip=True,
):
    """scikit-image colour photos: random RGB crops (64x64), 4 train / 1 held-out test photo.

    Train crops come from ``astronaut``, ``coffee``, ``rocket`` and ``motorcycle_left``
    (the left view of ``stereo_motorcycle``); test crops from ``chelsea`` only, so the
    test split is held out by photo: no test pixel is ever in a train crop
    (:data:`PHOTO_SPLITS`). All ship inside the scikit-image package and load offline.

    The ``num_crops`` crops are drawn once, when the dataset is built, from
    ``numpy.random.default_rng(seed)``: each picks a photo uniformly, a position
    uniformly inside it, at native resolution, and with ``flip`` a left-right mirror
    with probability 1/2. So a seed fixes the crops (and the shuffle order); every epoch
    then sees the same ``num_crops`` crops. Pair with :func:`lab_pairs` for colourisation.

    Args:
        split: ``"train"`` or ``"test"``. Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: int or ``(height, width)``, the crop size; at most 400 (train) or
            300 (test), the shortest photo side. Default 64.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int; fixes the crops and the shuffle. Default ``None``.
        with_labels: must be ``False``. Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N crops. Default ``None``.
        num_crops: positive int, the number of crops, i.e. examples per epoch.
            Default 1024.
        flip: bool, mirror half of the crops left-right. Default ``True``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 64, 64, 3)`` RGB images in ``[-1, 1]``.

    Raises:
        ValueError: on a bad argument: an unknown split, ``with_labels=True``, a crop
            larger than a photo, ``image_size=None``, ``num_crops`` not a positive int.

    Example:
        >>> train = embedded_photos(seed=0)
        >>> test = embedded_photos("test", num_crops=256, shuffle=False, seed=0)
        >>> next(iter(test)).shape
        TensorShape([64, 64, 64, 3])
    """
    options = pipeline.common_options(locals())
    if split not in PHOTO_SPLITS:
        raise ValueError(f"split must be one of {tuple(PHOTO_SPLITS)}; got {split!r}")
    if options["with_labels"]:
        raise ValueError("with_labels must be False for photos: the crops have no labels")
    if options["image_size"] is None:
        raise ValueError("image_size must be an int or (height, width), the crop size; got None")
    if not pipeline._is_positive_int(num_crops):
        raise ValueError(f"num_crops must be a positive int; got {num_crops!r}")
    checks.boolean(flip, "flip")
    photos = [load_photo(name) for name in PHOTO_SPLITS[split]]
    height, width = options.pop("image_size")
    shortest = (min(p.shape[0] for p in photos), min(p.shape[1] for p in photos))
    if height > shortest[0] or width > shortest[1]:
        raise ValueError(
            f"image_size must fit in every {split} photo, at most {shortest[0]}x{shortest[1]} "
            f"(height x width); got {height}x{width}"
        )

    rng = np.random.default_rng(options["seed"])
    crops = np.empty((num_crops, height, width, 3), np.uint8)
    which = rng.integers(0, len(photos), num_crops)
    tops = rng.random(num_crops)
    lefts = rng.random(num_crops)
    mirror = rng.random(num_crops) < 0.5 if flip else np.zeros(num_crops, bool)
    for i, photo in enumerate(photos):
        for j in np.flatnonzero(which == i):
            top = int(tops[j] * (photo.shape[0] - height + 1))
            left = int(lefts[j] * (photo.shape[1] - width + 1))
            crop = photo[top : top + height, left : left + width]
            crops[j] = crop[:, ::-1] if mirror[j] else crop
    ds = tf.data.Dataset.from_tensor_slices(crops)
    return pipeline.finalize(ds, **options)


def load_photo(name):
    """One of the scikit-image colour photos of :data:`PHOTO_SPLITS`, as uint8 RGB.

    Args:
        name: str, a name in :data:`PHOTO_SPLITS` (a ``skimage.data`` function, or
            ``"motorcycle_left"`` for the left view of ``stereo_motorcycle``).

    Returns:
        numpy uint8 array ``(H, W, 3)``.

    Raises:
        ValueError: for a name not in :data:`PHOTO_SPLITS`.

    Example:
        >>> load_photo("chelsea").shape
        (300, 451, 3)
    """
    known = [n for names in PHOTO_SPLITS.values() for n in names]
    if name not in known:
        raise ValueError(f"name must be one of {known}; got {name!r}")
    import skimage.data  # imported on use: skimage is slow to import

    if name == "motorcycle_left":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def hue_rotated_photos(split="train", *, image_size=64, num_crops=16, seed=0, **options):
    """Two unpaired photo domains for offline CycleGAN runs: crops (A) and hue-rotated crops (B).

    Domain B's crops are drawn with seed `seed + 1`, so no B image is the
    rotated copy of an A image; the mapping between the domains (turn the hue
    half way round, keep the content) is one-to-one, so a CycleGAN can learn it.

    Args:
        split, image_size, num_crops, **options: as for `embedded_photos`.
        seed: int, seed of domain A's crops (B's is `seed + 1`). Default 0.

    Returns:
        `(domain_a, domain_b)`: two `tf.data.Dataset`s of images in [-1, 1].
    """
    domain_a, domain_b = (
        embedded_photos(split, image_size=image_size, num_crops=num_crops, seed=seed + offset, **options)
        for offset in (0, 1)
    )
    return domain_a, domain_b.map(half_turn_hue)


def hue_rotated_folders(directory, seed=0, image_size=64, counts=(("train", 16), ("test", 8))):
    """Writes :func:`hue_rotated_photos` as PNGs in CycleGAN's folder layout: offline CycleGAN data.

    Domain A's crops go to `directory/<split>A/NNN.png`, domain B's (other crops, their
    hue turned half way) to `directory/<split>B/`, the layout `zoo.data.cycle_gan` reads.

    Args:
        directory: str, the folder to write.
        seed: int, seed of domain A's crops (B's: `seed + 1`; the test splits' `seed + 2`
            and `seed + 3`). Default 0.
        image_size: int, side of the crops. Default 64.
        counts: `(split, crops per domain)` pairs. Default 16 train and 8 test.

    Returns:
        `directory`.
    """
    from zoo.plotting import to_uint8

    for index, (split, count) in enumerate(counts):
        domains = hue_rotated_photos(split, image_size=image_size, num_crops=count, seed=seed + 2 * index,
                                     batch_size=count, shuffle=False)
        for letter, domain in zip("AB", domains):
            os.makedirs(os.path.join(directory, split + letter), exist_ok=True)
            for i, image in enumerate(to_uint8(next(iter(domain)))):
                tf.io.write_file(os.path.join(directory, split + letter, f"{i:03d}.png"), tf.io.encode_png(image))
    return directory


def half_turn_hue(images):
    """RGB images in [-1, 1] with their HSV hue turned by 180 degrees (its own inverse)."""
    return tf.clip_by_value(tf.image.adjust_hue((images + 1.0) / 2.0, 0.5) * 2.0 - 1.0, -1.0, 1.0)


def colour_photos(source="photos", *, image_size=64, batch_size=16, seed=0, num_crops=2048, num_test=256,
                  test_source=None):
    """Colour photos to train a colouriser on, and held-out ones to score it on.

    Args:
        source: "photos" (crops of scikit-image's photos, :func:`embedded_photos`, held out
            by photo), a registered RGB dataset ("cifar10", "celeb_a": its test split is
            held out) or a folder of photos (then `test_source`, a folder, is held out).
        image_size: int, the square side. Default 64.
        batch_size: int, of the training dataset. Default 16.
        seed: int; fixes the crops and the shuffle. Default 0.
        num_crops: int, training crops of "photos". Default 2048.
        num_test: int, held-out images. Default 256.
        test_source: the held-out folder when `source` is a folder.

    Returns:
        `(train, test_rgb)`: a `tf.data.Dataset` of RGB images in [-1, 1] (pair it with
        :func:`lab_pairs`) and a numpy array of at most `num_test` held-out ones.
    """
    from zoo import data

    train_options = {"batch_size": batch_size, "seed": seed, "image_size": image_size}
    test_options = {"batch_size": num_test, "shuffle": False, "drop_remainder": False, "image_size": image_size,
                    "limit": num_test}
    if source == "photos":
        train = embedded_photos("train", num_crops=num_crops, **train_options)
        test = embedded_photos("test", num_crops=num_test, seed=seed + 1, **test_options)
    elif source in data.DATASETS:
        train = data.load(source, **train_options)
        test = data.load(source, split="test", **test_options)
    else:
        if not test_source:
            raise ValueError(f"the training photos are the folder {source!r}: pass a folder of held-out photos too "
                             "(--test-data)")
        train = data.image_folder(source, channels=3, **train_options)
        test = data.image_folder(test_source, channels=3, **test_options)
    return train, next(iter(test)).numpy()
