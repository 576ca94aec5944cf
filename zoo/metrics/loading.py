"""What `zoo evaluate` scores and against what: generators from disk, reference images.

`load_generator` opens a zoo checkpoint or a TF Serving export and returns an object
with `generate(z, labels=None)`, `latent_dim`, `num_classes` and `image_shape`, which
`evaluate_generator` draws seeded noise for. `load_reference` reads a dataset into
memory as numpy arrays.

Checkpoints load on every Keras backend. Exports (SavedModels) and `load_reference`
(zoo.data's tf.data loaders) need TensorFlow and say so when it is missing; without
it, evaluate a checkpoint against reference images passed as a numpy array.
"""

import os

import numpy as np

from zoo.data.mnist_idx import PREFIX as MNIST_IDX_PREFIX


class ExportedGenerator:
    """A SavedModel written by `zoo.export.export_generator`, as a generator object.

    Calls the `serving_default` signature: `noise` float32 `(batch, latent_dim)` and,
    for conditional exports (their `zoo.json` metadata holds an int `num_classes`),
    `labels` int32 `(batch,)`; it returns `images` in [-1, 1].

    Args:
        path: a SavedModel folder, or a model base path (its newest version is used).

    Raises:
        FileNotFoundError: if there is no SavedModel at `path`.
        ValueError: if the export takes no noise (an image-to-image export), or takes
            labels but its metadata has no `num_classes`.
    """

    def __init__(self, path):
        tf = _tensorflow(
            f"loading the TF Serving export {os.fspath(path)!r}", "or evaluate the training checkpoint instead"
        )
        from zoo import export

        self.path = export.resolve_export(path)
        self.metadata = export.read_metadata(self.path)
        self._loaded = tf.saved_model.load(self.path)
        self._serve = self._loaded.signatures["serving_default"]
        inputs = self._serve.structured_input_signature[1]
        if "noise" not in inputs:  # e.g. an image-to-image export (`images` in)
            raise ValueError(
                f"{self.path} is not a generator export: its serving_default takes {sorted(inputs)}, not noise "
                "(call an image-to-image export with images, e.g. zoo.serving.ServingClient.translate)"
            )
        self.latent_dim = int(inputs["noise"].shape[-1])
        num_classes = self.metadata.get("num_classes")
        if "labels" in inputs and not isinstance(num_classes, int):
            raise ValueError(f"{self.path}: the export takes labels but its zoo.json has no int num_classes")
        self.num_classes = num_classes if "labels" in inputs else None
        self.conditional = self.num_classes is not None
        shape = self.metadata.get("image_shape")
        if not shape:
            labels = None if self.num_classes is None else np.zeros(1, np.int32)
            shape = self.generate(np.zeros((1, self.latent_dim)), labels).shape[1:]
        self.image_shape = tuple(int(s) for s in shape)

    def generate(self, z, labels=None, batch_size=256):
        """Images `(n, H, W, C)` in [-1, 1] for noise `z` `(n, latent_dim)` (and labels)."""
        import tensorflow as tf

        z = np.asarray(z, dtype=np.float32)
        if (labels is None) != (self.num_classes is None):
            raise ValueError("pass labels exactly when the export is conditional (has num_classes)")
        parts = []
        for start in range(0, len(z), batch_size):
            inputs = {"noise": tf.constant(z[start : start + batch_size])}
            if labels is not None:
                inputs["labels"] = tf.constant(np.asarray(labels[start : start + batch_size], np.int32))
            parts.append(self._serve(**inputs)["images"].numpy())
        return np.concatenate(parts)


def load_generator(path):
    """A zoo checkpoint directory or a SavedModel export, ready for `evaluate_generator`.

    Args:
        path: str, a checkpoint directory (`RUN_DIR/checkpoint`), a SavedModel folder,
            or a model base path (`saved_models/NAME`, newest version).

    Returns:
        An object with `generate`, `latent_dim`, `num_classes` (None when
        unconditional) and `image_shape` `(H, W, C)`: the restored zoo model, or an
        `ExportedGenerator`.

    Raises:
        FileNotFoundError: if `path` holds neither.
        ImportError: for an export when TensorFlow is not installed.
    """
    from zoo import checkpoint, files

    if not files.exists(path):
        raise FileNotFoundError(f"no checkpoint or export at {path!r}")
    if checkpoint.exists(path):
        model = checkpoint.load_model(path, compile=False)
        if not hasattr(model, "generate"):
            raise ValueError(f"the model in {path!r} ({type(model).__name__}) has no generate method")
        return model
    return ExportedGenerator(path)


def image_shape_of(generator):
    """`(H, W, C)` of a generator's images: attribute, generator net, or one sample."""
    shape = getattr(generator, "image_shape", None)
    if shape is None and hasattr(getattr(generator, "generator", None), "output_shape"):
        shape = generator.generator.output_shape[1:]
    if shape is None:
        shape = generator.generate(1).shape[1:]
    return tuple(int(s) for s in shape)


def load_reference(name, split="test", image_size=None, limit=None, with_labels=False, batch_size=1000):
    """Reference images (and labels) in memory, in dataset order.

    Args:
        name: a name from `zoo.data.DATASETS` (tfds ones take `split`; the embedded
            ones have no splits and give every image), `mnist_idx:DIR` or a folder
            holding the IDX files of the MNIST test split (`split` is "train",
            "test" or "all", see `zoo.data.mnist_idx`), or a folder of images
            (labels from class subfolders).
        split: str, the split to read where the dataset has splits. Default "test".
        image_size: None (the dataset's size) or int / (height, width).
        limit: None or int, keep only the first N images.
        with_labels: bool, also return labels; datasets without labels give None.
        batch_size: int, images per batch while reading. Default 1000.

    Returns:
        `(images, labels)`: float32 `(N, H, W, C)` in [-1, 1] and int32 `(N,)` or None.

    Raises:
        ValueError: for an unknown name (listing the known ones).
        FileNotFoundError: for a missing folder or IDX file.
        ImportError: when TensorFlow is not installed (the loaders are tf.data).
    """
    from zoo import data

    name = _idx_name(name)
    options = {"batch_size": batch_size, "shuffle": False, "drop_remainder": False, "cache": False, "limit": limit}
    if image_size is not None:
        options["image_size"] = image_size
    source = name[len(MNIST_IDX_PREFIX) :] if name.startswith(MNIST_IDX_PREFIX) else name
    if not _has_tensorflow() and data.arrays.supports(source):
        # Without TensorFlow, the sets that fit in memory load through numpy.
        labelled = with_labels and (source not in data.NUM_CLASSES or data.NUM_CLASSES[source] is not None)
        in_memory = data.in_memory(source, split if has_splits(name) else "train", with_labels=labelled, **options)
        batches = list(in_memory)
        images = np.concatenate([b[0] if labelled else b for b in batches])
        return images, (np.concatenate([b[1] for b in batches]).astype(np.int32) if labelled else None)
    _tensorflow(
        f"load_reference({name!r}) (zoo.data's tf.data loaders)",
        "or pass the reference images as a numpy array to zoo.metrics.evaluate_generator "
        f"(without TensorFlow, references load from memory: {', '.join(data.IN_MEMORY_SOURCES)} or mnist_idx:DIR)",
    )
    if name.startswith(MNIST_IDX_PREFIX):
        loader = lambda **kw: data.mnist_idx(name[len(MNIST_IDX_PREFIX) :], split, **kw)  # noqa: E731
        labelled = True
    elif name in data.DATASETS:
        loader = data.DATASETS[name]
        if loader.has_splits:
            loader = _with_split(loader, split)
        labelled = data.NUM_CLASSES.get(name) is not None
    elif os.path.isdir(name):
        labelled = _has_class_folders(name)
        loader = lambda **kw: data.image_folder(name, **kw)  # noqa: E731
    else:
        raise ValueError(
            f"unknown reference {name!r}; known: {', '.join(data.list_datasets())}, "
            f"{MNIST_IDX_PREFIX}DIR, or a folder of images"
        )
    labelled = labelled and with_labels
    ds = loader(with_labels=labelled, **options)
    images, labels = [], []
    for batch in ds:
        if labelled:
            images.append(batch[0].numpy())
            labels.append(batch[1].numpy())
        else:
            images.append(batch.numpy())
    images = np.concatenate(images)
    return images, (np.concatenate(labels).astype(np.int32) if labelled else None)


def has_splits(name):
    """Whether `load_reference(name, split)` reads `split` (IDX files and tfds datasets)."""
    from zoo import data

    if _idx_name(name).startswith(MNIST_IDX_PREFIX):
        return True
    return name in data.DATASETS and data.DATASETS[name].has_splits


def _idx_name(name):
    """A folder of MNIST IDX files (`zoo.data.mnist_idx.idx_folder`) as `mnist_idx:DIR`; any other name as it is."""
    from zoo.data.mnist_idx import idx_folder

    folder = idx_folder(name)
    return name if folder is None else MNIST_IDX_PREFIX + folder


def _with_split(loader, split):
    return lambda **kw: loader(split=split, **kw)


def _has_tensorflow():
    import importlib.util

    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):  # a blocked or half-removed module
        return False


def _tensorflow(what, otherwise):
    """The `tensorflow` module, or an ImportError saying that `what` needs it and what to do."""
    try:
        import tensorflow as tf
    except ImportError as error:
        raise ImportError(
            f"{what} needs TensorFlow, which is not installed: pip install tensorflow, {otherwise}"
        ) from error
    return tf


def _has_class_folders(folder):
    from zoo.data.folder import IMAGE_EXTENSIONS

    entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    has_images = any(e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS) for e in entries)
    return not has_images and any(e.is_dir() for e in entries)
