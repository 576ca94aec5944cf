"""Loaders for TensorFlow Datasets catalogue entries (downloaded and prepared by tfds)."""

import tensorflow as tf

from zoo.data import pipeline


def mnist(
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
    data_dir=None,
):
    """MNIST handwritten digits (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.

    Args:
        split: str, a tfds split such as ``"train"``, ``"test"`` or ``"train[:10%]"``.
            Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (native 28x28), int or ``(height, width)``. Default ``None``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 digit labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None`` (tfds default,
            ``~/tensorflow_datasets``).

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 28, 28, 1)`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Example:
        >>> ds = mnist(batch_size=32, image_size=32, seed=0)
        >>> images = next(iter(ds))  # (32, 32, 32, 1)
    """
    return _tfds_supervised("mnist", split, data_dir, **pipeline.common_options(locals()))


def fashion_mnist(
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
    data_dir=None,
):
    """Fashion-MNIST clothing images (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.

    Args:
        split: str, a tfds split such as ``"train"`` or ``"test"``. Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (native 28x28), int or ``(height, width)``. Default ``None``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 class labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 28, 28, 1)`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Example:
        >>> ds = fashion_mnist(split="test", with_labels=True, shuffle=False)
        >>> images, labels = next(iter(ds))
    """
    return _tfds_supervised("fashion_mnist", split, data_dir, **pipeline.common_options(locals()))


def cifar10(
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
    data_dir=None,
):
    """CIFAR-10 colour images (tfds): 50,000 train / 10,000 test, 32x32x3, 10 classes.

    Args:
        split: str, a tfds split such as ``"train"`` or ``"test"``. Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (native 32x32), int or ``(height, width)``. Default ``None``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 class labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 32, 32, 3)`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Example:
        >>> ds = cifar10(batch_size=128, with_labels=True)
        >>> images, labels = next(iter(ds))  # (128, 32, 32, 3), (128,)
    """
    return _tfds_supervised("cifar10", split, data_dir, **pipeline.common_options(locals()))


def celeb_a(
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
    data_dir=None,
    attribute=None,
):
    """CelebA aligned faces (tfds): 162,770 train images, centre-cropped square, 64x64x3.

    The aligned 178x218 (width x height) faces are cropped to their central 178x178
    square and resized, as in the classic DCGAN CelebA setup. CelebA has 40 binary
    attributes but no class ids, so ``with_labels=True`` is rejected.

    The in-memory cache at 64x64 holds about 2 GB of uint8 for the full train split;
    pass ``cache=False`` or a cache file path on small machines.

    Args:
        split: str, ``"train"``, ``"validation"`` or ``"test"`` (or a tfds slice).
            Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: int or ``(height, width)``; ``None`` keeps the 178x178 crop.
            Default 64.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: must be ``False``. Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None``.
        attribute: ``None`` or one of :data:`CELEB_A_ATTRIBUTES` (e.g. ``"Smiling"``):
            batches are then ``(images, labels)`` with int32 labels 1 where the face
            has the attribute, 0 where not (for attribute vectors, `zoo.latent`).

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, 64, 64, 3)`` images in ``[-1, 1]``.

    Raises:
        ValueError: if ``with_labels`` is True, or on any bad common argument.

    Example:
        >>> ds = celeb_a(batch_size=128, limit=10_000)
        >>> images = next(iter(ds))  # (128, 64, 64, 3)
    """
    options = pipeline.common_options(locals())
    if options["with_labels"]:
        raise ValueError(
            "with_labels must be False for celeb_a: it has attributes, not class labels "
            "(pass attribute='Smiling' for (images, 0/1 labels) batches)"
        )
    if attribute is not None and attribute not in CELEB_A_ATTRIBUTES:
        raise ValueError(f"attribute must be None or one of CelebA's 40 attributes {CELEB_A_ATTRIBUTES}; got {attribute!r}")
    ds = _load("celeb_a", split, data_dir, as_supervised=False)
    if attribute is None:
        ds = ds.map(lambda example: example["image"])
    else:
        ds = ds.map(lambda example: (example["image"], tf.cast(example["attributes"][attribute], tf.int32)))
        options["with_labels"] = True
    return pipeline.finalize(ds, preprocess=pipeline.center_crop_square, **options)


# The 40 binary attributes of CelebA (Liu et al. 2015), as tfds names them.
CELEB_A_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)


def _tfds_supervised(name, split, data_dir, **options):
    """A tfds ``(image, label)`` dataset through :func:`pipeline.finalize` with ``options``."""
    return pipeline.finalize(_load(name, split, data_dir, as_supervised=True), **options)


def _load(name, split, data_dir, as_supervised):
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty str such as 'train'; got {split!r}")
    # Imported here: tensorflow_datasets takes seconds to import and most zoo commands
    # (and every non-tfds loader) never need it.
    import tensorflow_datasets as tfds

    return tfds.load(
        name,
        split=split,
        data_dir=data_dir,
        as_supervised=as_supervised,
        # Fixed file order so that `limit` means "the first N examples".
        shuffle_files=False,
    )
