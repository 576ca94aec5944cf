"""tf.data builders for zoo: every loader yields float32 ``(batch, H, W, C)`` images in [-1, 1].

Named datasets live in :data:`DATASETS` and are built with :func:`load`; folders and IDX
files on disk use :func:`image_folder` and :func:`mnist_idx`. Image-to-image data yields
``(source, target)`` pairs (:func:`paired_folder`, :func:`paired_arrays`) or unpaired
``(image_a, image_b)`` domains (:func:`cycle_gan`, :func:`unpaired`); colourisation takes
``(L, ab)`` pairs in model ranges from :func:`lab_pairs` (Lab maths in :mod:`zoo.data.colour`).
The 2-D Gaussian mixtures of the mode-collapse experiments (:func:`toy_dataset`,
:data:`TOY_DISTRIBUTIONS`) yield points, not images, and are not registered in :data:`DATASETS`.
"""

import importlib
import os
import sys
import types

from zoo.data.arrays import IN_MEMORY_SOURCES, InMemoryDataset, in_memory
from zoo.data.embedded import digits, lfw_faces
from zoo.data.mnist_idx import mnist_idx, read_idx
from zoo.data.pix2pix_sets import PIX2PIX_DATASETS, pix2pix_dataset
from zoo.data.toy import (
    TOY_DISTRIBUTIONS,
    grid_modes,
    ring_modes,
    sample_mixture,
    toy_dataset,
    toy_distribution,
)

# Names from the modules that import TensorFlow at import time: they are
# imported when first used, so `import zoo.data` (and the in-memory loaders)
# work on a JAX or PyTorch machine without TensorFlow.
_LAZY = {
    "zoo.data.colour": (
        "AB_SCALE", "L_SCALE", "lab_to_rgb", "model_lab_to_rgb", "rgb_to_lab", "rgb_to_model_lab", "rotate_hue",
    ),
    "zoo.data.colourisation": ("PHOTO_SPLITS", "colour_photos", "embedded_photos", "hue_rotated_folders",
                               "hue_rotated_photos", "lab_pairs"),
    "zoo.data.folder": ("image_folder",),
    "zoo.data.paired": ("collect", "edge_photo_pairs", "edge_photos", "jitter_size", "jittered_folder",
                        "paired_arrays", "paired_folder", "random_jitter", "unpaired"),
    "zoo.data.pipeline": ("binarize", "finalize", "random_shift", "resize", "to_signed_unit"),
    "zoo.data.semi_supervised": ("dataset_arrays", "labelled_subset", "semi_supervised_dataset"),
    "zoo.data.tfds_loaders": ("CYCLE_GAN_NAMES", "celeb_a", "cifar10", "cycle_gan", "fashion_mnist", "mnist"),
    "zoo.data.unpaired_digits": ("DIGIT_TRANSFORMS", "transform_digits", "unpaired_digits"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}
# The submodules themselves (zoo.data.paired.DIRECTIONS), where no loader has their name.
_LAZY_MODULES = {module.rsplit(".", 1)[1]: module for module in _LAZY if module.rsplit(".", 1)[1] not in _LAZY_NAMES}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return _import_tf_module(_LAZY_MODULES[name])
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.data' has no attribute {name!r}")
    value = getattr(_import_tf_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """`zoo.data` itself: a lazy name stays the loader when its submodule is imported.

    Importing `zoo.data.unpaired_digits` binds the submodule to the package
    attribute of the same name; the package keeps the function instead, as
    an eager `from zoo.data.unpaired_digits import unpaired_digits` would.
    """

    def __setattr__(self, name, value):
        if name in _LAZY_NAMES and isinstance(value, types.ModuleType) and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _import_tf_module(module):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if "tensorflow" not in str(error):
            raise
        raise ImportError(
            f"{module} builds tf.data pipelines and needs TensorFlow (pip install tensorflow); "
            f"without it, load in-memory data with zoo.data.in_memory ({', '.join(IN_MEMORY_SOURCES)} "
            "or an MNIST IDX folder)"
        ) from error


class _Registered:
    """A registered dataset: its loader, imported (with TensorFlow) when first called.

    The one-line description is kept here, so `zoo list` works without
    TensorFlow; a test checks it against the loader's docstring.
    """

    def __init__(self, module, name, description, has_splits=False):
        self.module, self.__name__, self.__doc__ = module, name, description
        self.has_splits = has_splits  # the loader takes `split`

    @property
    def loader(self):
        return getattr(_import_tf_module(self.module), self.__name__)

    def __call__(self, **kwargs):
        return self.loader(**kwargs)


DATASETS = {
    "mnist": _Registered(
        "zoo.data.tfds_loaders", "mnist",
        "MNIST handwritten digits (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.",
        has_splits=True,
    ),
    "fashion_mnist": _Registered(
        "zoo.data.tfds_loaders", "fashion_mnist",
        "Fashion-MNIST clothing images (tfds): 60,000 train / 10,000 test, 28x28x1, 10 classes.",
        has_splits=True,
    ),
    "cifar10": _Registered(
        "zoo.data.tfds_loaders", "cifar10",
        "CIFAR-10 colour images (tfds): 50,000 train / 10,000 test, 32x32x3, 10 classes.",
        has_splits=True,
    ),
    "celeb_a": _Registered(
        "zoo.data.tfds_loaders", "celeb_a",
        "CelebA aligned faces (tfds): 162,770 train images, centre-cropped square, 64x64x3.",
        has_splits=True,
    ),
    "digits": _Registered(
        "zoo.data.embedded", "digits",
        "scikit-learn digits: 1,797 greyscale 8x8 images, 10 classes, upsampled to 32x32.",
    ),
    "lfw_faces": _Registered(
        "zoo.data.embedded", "lfw_faces",
        "scikit-image LFW subset: 100 greyscale 25x25 face crops, upsampled to 32x32.",
    ),
    "photos": _Registered(
        "zoo.data.colourisation", "embedded_photos",
        "scikit-image colour photos: random RGB crops (64x64), 4 train / 1 held-out test photo.",
        has_splits=True,
    ),
}


def list_datasets():
    """Names of the registered datasets, sorted.

    Returns:
        list of str, the keys of :data:`DATASETS` in alphabetical order.

    Example:
        >>> list_datasets()
        ['celeb_a', 'cifar10', 'digits', 'fashion_mnist', 'lfw_faces', 'mnist', 'photos']
    """
    return sorted(DATASETS)


def load(name, **kwargs):
    """Build a registered dataset by name.

    Args:
        name: str, one of :func:`list_datasets`.
        **kwargs: forwarded to the loader (``batch_size=64``, ``image_size``,
            ``shuffle=True``, ``seed=None``, ``with_labels=False``,
            ``drop_remainder=True``, ``cache=True``, ``limit=None``, and for tfds
            datasets ``split="train"`` and ``data_dir=None``).

    Returns:
        ``tf.data.Dataset`` of float32 ``(batch, H, W, C)`` images in ``[-1, 1]`` (or
        ``(images, labels)`` with ``with_labels=True``).

    Raises:
        ValueError: for an unknown name (listing the known ones) or a bad argument.

    Example:
        >>> ds = load("digits", batch_size=32, seed=0)
        >>> next(iter(ds)).shape
        TensorShape([32, 32, 32, 1])
    """
    return _loader(name)(**kwargs)


def face_images(source, image_size, batch_size=32, seed=None, data_dir=None):
    """Endless batches of face images in [-1, 1] for the face recipes (ProGAN, StyleGAN).

    Args:
        source: "celeb_a" (tfds; cached in memory up to 64 px, since larger
            images do not fit: about 2 GB at 64 px), "lfw_faces" (embedded,
            offline) or the path of a folder of images (e.g. FFHQ; not cached).
        image_size: int, square side the images are resized to.
        batch_size: int. Default 32.
        seed: int or None, shuffling seed.
        data_dir: tfds data directory for "celeb_a". Default None.

    Returns:
        A repeated `tf.data.Dataset` of float32 `(batch, image_size, image_size, C)`.

    Example:
        >>> faces = face_images("lfw_faces", image_size=16, batch_size=4, seed=0)
    """
    options = {"batch_size": batch_size, "image_size": image_size, "seed": seed}
    if os.path.isdir(str(source)):
        dataset = __getattr__("image_folder")(source, **options, cache=False)
    elif source == "lfw_faces":
        dataset = load("lfw_faces", **options)
    elif source == "celeb_a":
        dataset = load("celeb_a", **options, data_dir=data_dir, cache=image_size <= 64)
    else:
        raise ValueError(f"source must be 'celeb_a', 'lfw_faces' or a folder of images; got {source!r}")
    return dataset.repeat()


def train_and_test(source, batch_size, seed=None, with_labels=False, image_size=None, limit=None, data_dir=None):
    """A training dataset and the held-out images and labels, for the recipes that score on held-out data.

    Args:
        source: a registered dataset (its "test" split is held out; without splits,
            such as the embedded digits, every image is) or a folder of MNIST IDX
            files (the first 8,000 train, the last 2,000 are held out).
        batch_size, seed, with_labels, image_size, limit: of the training dataset
            (`limit`: its first images only); the held-out set takes `image_size`.
        data_dir: tfds data directory. Default None.

    Returns:
        `(train, test_images, test_labels)`: a `tf.data.Dataset` and numpy arrays.
    """
    train_options = {"batch_size": batch_size, "seed": seed, "with_labels": with_labels, "image_size": image_size,
                     "limit": limit}
    test_options = {"batch_size": 100_000, "shuffle": False, "with_labels": True, "drop_remainder": False,
                    "image_size": image_size}
    if os.path.isdir(str(source)):
        train, test = mnist_idx(source, "train", **train_options), mnist_idx(source, "test", **test_options)
    else:
        tfds = {"data_dir": data_dir} if data_dir else {}
        train = load(source, **train_options, **tfds)
        split = {"split": "test"} if _loader(source).has_splits else {}
        test = load(source, **test_options, **split, **tfds)
    test_images, test_labels = __getattr__("dataset_arrays")(test)
    return train, test_images, test_labels


def describe(name):
    """One-line description of a registered dataset, for ``zoo list``.

    Args:
        name: str, one of :func:`list_datasets`.

    Returns:
        str, the first line of the loader's docstring.

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> describe("digits")
        'scikit-learn digits: 1,797 greyscale 8x8 images, 10 classes, upsampled to 32x32.'
    """
    return _loader(name).__doc__.strip().splitlines()[0]


def _loader(name):
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(list_datasets())}")
    return DATASETS[name]


__all__ = [
    "AB_SCALE",
    "IN_MEMORY_SOURCES",
    "InMemoryDataset",
    "CYCLE_GAN_NAMES",
    "DATASETS",
    "DIGIT_TRANSFORMS",
    "L_SCALE",
    "PHOTO_SPLITS",
    "TOY_DISTRIBUTIONS",
    "binarize",
    "celeb_a",
    "cifar10",
    "collect",
    "colour_photos",
    "cycle_gan",
    "dataset_arrays",
    "describe",
    "digits",
    "edge_photo_pairs",
    "edge_photos",
    "embedded_photos",
    "face_images",
    "fashion_mnist",
    "finalize",
    "grid_modes",
    "hue_rotated_folders",
    "hue_rotated_photos",
    "image_folder",
    "image_shape",
    "in_memory",
    "jitter_size",
    "lab_pairs",
    "lab_to_rgb",
    "labelled_subset",
    "lfw_faces",
    "list_datasets",
    "load",
    "mnist",
    "mnist_idx",
    "model_lab_to_rgb",
    "paired_arrays",
    "paired_folder",
    "random_jitter",
    "random_shift",
    "read_idx",
    "resize",
    "rotate_hue",
    "rgb_to_lab",
    "rgb_to_model_lab",
    "ring_modes",
    "sample_mixture",
    "semi_supervised_dataset",
    "to_signed_unit",
    "toy_dataset",
    "toy_distribution",
    "train_and_test",
    "transform_digits",
    "unpaired",
    "unpaired_digits",
]


def image_shape(dataset):
    """`(height, width, channels)` of the images a zoo dataset yields.

    Works for image batches and for `(images, labels)` batches, so models can
    take their shapes from the data.
    """
    if isinstance(dataset, InMemoryDataset):
        return dataset.image_shape
    spec = dataset.element_spec
    if isinstance(spec, tuple):
        spec = spec[0]
    return tuple(int(s) for s in spec.shape[1:])


# Classes of the labelled registered datasets (None: no class labels used by zoo).
NUM_CLASSES = {
    "mnist": 10,
    "fashion_mnist": 10,
    "cifar10": 10,
    "digits": 10,
    "celeb_a": None,
    "lfw_faces": None,
    "photos": None,
}


def num_classes(name_or_dataset):
    """Number of classes of a registered dataset (by name) or of an `image_folder` dataset.

    Returns None when the data have no class labels (e.g. ``celeb_a``, a folder
    without class subfolders).
    """
    if isinstance(name_or_dataset, str):
        _loader(name_or_dataset)  # a clear error for an unknown name
        return NUM_CLASSES.get(name_or_dataset)
    names = getattr(name_or_dataset, "class_names", None)
    return len(names) if names else None
