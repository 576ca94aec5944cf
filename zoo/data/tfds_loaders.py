"""Loaders for TensorFlow Datasets catalogue entries (downloaded and prepared by tfds)."""

import os
from pathlib import Path

import tensorflow as tf

from zoo import checks, files
from zoo.data import paired, pipeline


def _classification_loader(name, summary, native, example):
    """A loader of the tfds image-classification set `name`: the same options, its own docstring."""

    def load(
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
        return _tfds_supervised(name, split, data_dir, **pipeline.common_options(locals()))

    load.__name__ = load.__qualname__ = name
    load.__doc__ = f"""{summary}

    Args:
        split: str, a tfds split such as ``"train"``, ``"test"`` or ``"train[:10%]"``.
            Default ``"train"``.
        batch_size: positive int. Default 64.
        image_size: ``None`` (native {native[0]}x{native[1]}), int or ``(height, width)``. Default ``None``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible shuffle. Default ``None``.
        with_labels: bool, yield ``(images, labels)`` with int32 class labels.
            Default ``False``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path. Default ``True`` (in memory).
        limit: ``None`` or int, keep only the first N examples. Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None`` (tfds default,
            ``~/tensorflow_datasets``).

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, {", ".join(map(str, native))})`` images in ``[-1, 1]``
        (or ``(images, labels)``).

    Example:
        {example}
    """
    return load


mnist = _classification_loader(
    "mnist", "MNIST handwritten digits (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.", (28, 28, 1),
    ">>> images = next(iter(mnist(batch_size=32, image_size=32, seed=0)))  # (32, 32, 32, 1)",
)
fashion_mnist = _classification_loader(
    "fashion_mnist", "Fashion-MNIST clothing images (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.",
    (28, 28, 1), '>>> images, labels = next(iter(fashion_mnist(split="test", with_labels=True, shuffle=False)))',
)
cifar10 = _classification_loader(
    "cifar10", "CIFAR-10 colour images (tfds): 50,000 train / 10,000 test, 32x32x3, 10 classes.", (32, 32, 3),
    ">>> images, labels = next(iter(cifar10(batch_size=128, with_labels=True)))  # (128, 32, 32, 3), (128,)",
)


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


# The image-to-image sets of tfds's cycle_gan builder (Zhu et al. 2017's downloads).
CYCLE_GAN_NAMES = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
    "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower",
)
CYCLE_GAN_DOMAINS = ("A", "B", "both")


def cycle_gan(
    name,
    split="train",
    domain="both",
    *,
    batch_size=1,
    image_size=256,
    jitter=True,
    shuffle=True,
    seed=None,
    drop_remainder=True,
    cache=True,
    limit=None,
    data_dir=None,
):
    """CycleGAN unpaired image sets (tfds ``cycle_gan/<name>``, or such a set in a folder), e.g. horse2zebra.

    tfds stores each set as four splits, ``trainA``, ``trainB``, ``testA`` and
    ``testB`` (horse2zebra: 1,067 horses and 1,334 zebras to train on). ``domain="both"``
    loads the two domains of ``split`` separately, each with its own shuffle and jitter,
    and zips them with :func:`zoo.data.paired.unpaired` (the smaller domain repeats, so an
    epoch sees every image of the larger one once). Training augmentation is Zhu et al.'s:
    resize to 286x286, random 256x256 crop, random mirroring (:func:`zoo.data.paired.random_jitter`
    per image); pass ``jitter=False`` to evaluate.

    Args:
        name: str, one of :data:`CYCLE_GAN_NAMES` (``"horse2zebra"``, ``"facades"``,
            ``"maps"``, ...), or a folder in the authors' layout: ``trainA``, ``trainB``,
            ``testA`` and ``testB`` subfolders of images (what their download script
            unpacks, and what :func:`zoo.data.hue_rotated_folders` writes).
        split: ``"train"`` or ``"test"``, optionally with a tfds slice such as
            ``"train[:10%]"``. Default ``"train"``.
        domain: ``"A"``, ``"B"`` or ``"both"``. Default ``"both"``.
        batch_size: positive int. Default 1, as in Zhu et al. 2017.
        image_size: int or ``(height, width)``. Default 256.
        jitter: bool, random jitter and mirroring for training. Default ``True``.
        shuffle: bool, shuffle every epoch. Default ``True``.
        seed: ``None`` or int for a reproducible order and jitter; domain B uses
            ``seed + 1`` so that the two domains are not augmented alike. Default ``None``.
        drop_remainder: bool, drop the last partial batch. Default ``True``.
        cache: bool or cache file path (domain B appends ``"_B"``). Default ``True``.
        limit: ``None`` or int, keep only the first N images of each domain.
            Default ``None``.
        data_dir: ``None`` or str, the tfds data directory. Default ``None``.

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, height, width, 3)`` images in ``[-1, 1]``
        for one domain, or of ``(images_a, images_b)`` for ``domain="both"``.

    Raises:
        ValueError: for an unknown name, split or domain, or on a bad common argument.

    Example:
        >>> ds = cycle_gan("horse2zebra", seed=0)
        >>> horses, zebras = next(iter(ds))  # (1, 256, 256, 3) each

    Reference: Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017.
    """
    options = pipeline.common_options(dict(locals(), with_labels=False))
    del options["with_labels"]
    folder = isinstance(name, (str, os.PathLike)) and os.path.isdir(name)
    if not folder and name not in CYCLE_GAN_NAMES:
        raise ValueError(f"name must be one of the cycle_gan sets {CYCLE_GAN_NAMES} or a folder holding trainA, "
                         f"trainB, testA and testB; got {name!r}")
    if domain not in CYCLE_GAN_DOMAINS:
        raise ValueError(f"domain must be one of {CYCLE_GAN_DOMAINS}; got {domain!r}")
    if not isinstance(split, str) or split.split("[", 1)[0] not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' (optionally sliced, 'train[:10%]'); got {split!r}")
    if options["image_size"] is None:
        raise ValueError("image_size must be an int or (height, width): the images differ in size; got None")
    checks.boolean(jitter, "jitter")

    if folder and "[" in split:
        raise ValueError(f"split must be 'train' or 'test' for a folder (slices are tfds's); got {split!r}")

    def one(letter, seed_offset):
        base, _, rest = split.partition("[")
        if folder:
            ds = _folder_domain(os.path.join(name, base + letter), options["image_size"], jitter, limit)
        else:
            ds = _load(f"cycle_gan/{name}", f"{base}{letter}" + (f"[{rest}" if rest else ""), data_dir,
                       as_supervised=True)
            ds = ds.map(lambda image, label: image)
        domain_options = dict(options)
        if options["seed"] is not None:
            domain_options["seed"] = options["seed"] + seed_offset
        if isinstance(options["cache"], str) and seed_offset:
            domain_options["cache"] = options["cache"] + "_B"
        return paired.finalize_jittered(ds, jitter=jitter, **domain_options)

    if domain == "A":
        return one("A", 0)
    if domain == "B":
        return one("B", 1)
    return paired.unpaired(one("A", 0), one("B", 1))


def _folder_domain(directory, image_size, jitter, limit):
    """One domain of a CycleGAN folder as uint8 images, decoded at the size `finalize_jittered` starts from."""
    if not os.path.isdir(directory):
        raise ValueError(f"{directory} is missing: a CycleGAN folder holds trainA, trainB, testA and testB")
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    return paired.folder_pixels(directory, paired.jitter_size(size) if jitter else size, limit=limit)


def _tfds_supervised(name, split, data_dir, **options):
    """A tfds ``(image, label)`` dataset through :func:`pipeline.finalize` with ``options``."""
    return pipeline.finalize(_load(name, split, data_dir, as_supervised=True), **options)


# What trains without a download, named when a tfds download cannot happen.
OFFLINE_STAND_INS = ("digits (scikit-learn's digits), lfw_faces (scikit-image's faces), photos (scikit-image's "
                     "colour photos), mnist_idx:DIR (MNIST IDX files) or a folder of images")


def _load(name, split, data_dir, as_supervised):
    """`tfds.load`, but a download that cannot happen fails in seconds with one message.

    Offline, tfds retries each file for minutes and then raises a `requests` error. A
    dataset already prepared in `data_dir` loads without touching the network; otherwise
    the hosts it downloads from are probed first (`zoo.files.unreachable`).
    """
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a non-empty str such as 'train'; got {split!r}")
    # Imported here: tensorflow_datasets takes seconds to import and most zoo commands
    # (and every non-tfds loader) never need it.
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    # Under tfds.testing.mock_data the download is a stub that fetches nothing (its module is
    # tensorflow_datasets.testing.mocking as of tfds 4.9; tests/data/test_offline_downloads.py
    # fails if that changes).
    stubbed = type(builder).download_and_prepare.__module__.startswith("tensorflow_datasets.testing")
    # What builder.is_prepared() checks, without its warning about a folder not there yet.
    prepared = (builder.data_path / "dataset_info.json").exists()
    urls = [] if prepared or stubbed else _urls_to_download(builder)
    reason = files.unreachable(urls) if urls else None
    if reason:
        raise files.DownloadError(_download_message(name, reason))
    try:
        builder.download_and_prepare()  # a no-op where prepared, the stub under mock_data
    except _download_failures() as error:
        raise files.DownloadError(_download_message(name, f"the download failed ({error})")) from error
    # Fixed file order so that `limit` means "the first N examples".
    return builder.as_dataset(split=split, as_supervised=as_supervised, shuffle_files=False)


def _urls_to_download(builder):
    """The URLs that preparing `builder` still downloads: those not in its downloads folder yet.

    An interrupted prepare leaves the finished downloads in `<data_dir>/downloads`, under
    the names tfds gives them; tfds prepares from those without the network. A builder
    whose URLs tfds does not list gives its usual host.
    """
    url_infos = builder.url_infos
    if not url_infos:
        return ["https://storage.googleapis.com"]
    root = getattr(builder, "_data_dir_root", None)  # where tfds puts downloads/ by default
    try:
        from tensorflow_datasets.core.download.resource import get_dl_fname
    except ImportError:  # another tfds layout: probe every URL
        root = None
    if root is None:
        return list(url_infos)
    downloads = Path(os.fspath(root)) / "downloads"
    return [url for url, info in url_infos.items() if not (downloads / get_dl_fname(url, info.checksum)).exists()]


def _download_message(name, reason):
    return (f"{name} needs a download from the internet (tfds), and {reason}. Pass data_dir (or set TFDS_DATA_DIR) "
            f"to a folder where tfds has prepared {name}, or use a data set that needs no download: "
            f"{OFFLINE_STAND_INS}")


def _download_failures():
    """The errors of a download that failed on the way (refused, cut, a server error), not of preparing it."""
    import urllib.error

    import requests
    import tensorflow_datasets as tfds

    return (requests.exceptions.RequestException, tfds.download.DownloadError, urllib.error.URLError,
            ConnectionError, TimeoutError)
