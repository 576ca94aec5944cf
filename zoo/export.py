"""Export generators as TF Serving SavedModels under `saved_models/<name>/<version>/`.

The export holds the generator alone (or the EMA generator where a model has
one), never the training wrapper. Signatures:

- `serving_default`: `noise` float32 `(batch, latent_dim)` -> `images` float32
  `(batch, h, w, c)` in [-1, 1] and `images_uint8` uint8 in [0, 255];
- `sample`: `batch_size` int32 scalar -> the same outputs, the noise drawn
  inside the model (standard normal).

Each version is written to a hidden temporary folder beside the final one and
renamed into place, so a model server polling the base path never sees a
half-written version (TF Serving only loads all-digit folder names).
"""

import json
import os
import re
import shutil
import tempfile

import keras
import tensorflow as tf

ZOO_METADATA = "zoo.json"


def _generator_of(model):
    """The net to serve: an EMA generator if present, else the generator."""
    for attribute in ("ema_generator", "generator"):
        net = getattr(model, attribute, None)
        if isinstance(net, keras.Model):
            return net
    if isinstance(model, keras.Model) and len(model.inputs or []) == 1:
        return model
    raise ValueError(
        f"cannot find a generator to export in {type(model).__name__}: expected a "
        "model with a `generator` attribute or a single-input keras.Model"
    )


def versions(base_path, name):
    """Sorted integer versions already exported under `base_path/name`."""
    folder = os.path.join(base_path, name)
    if not os.path.isdir(folder):
        return []
    return sorted(int(d) for d in os.listdir(folder) if re.fullmatch(r"\d+", d))


def export_generator(model, name, base_path="saved_models", version=None, metadata=None):
    """Writes `model`'s generator as a SavedModel for TF Serving.

    Args:
        model: a zoo model with a `generator` (or `ema_generator`), or a
            generator `keras.Model` itself (one input: the noise).
        name: str, the served model's name (folder under `base_path`).
        base_path: str, TF Serving's model base path root. Default "saved_models".
        version: int or None, version number; None takes the next free one.
        metadata: optional JSON-serialisable dict stored in `assets.extra/zoo.json`.

    Returns:
        The path of the written version folder.

    Raises:
        ValueError: bad name or version, or the version already exists.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '_', '-', '.'; got {name!r}")
    existing = versions(base_path, name)
    if version is None:
        version = (existing[-1] + 1) if existing else 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int or None, got {version!r}")
    final = os.path.join(base_path, name, str(version))
    if os.path.exists(final):
        raise ValueError(f"{final} already exists; pass another version or remove it")

    generator = _generator_of(model)
    latent_dim = int(generator.input_shape[-1])
    image_shape = [int(s) for s in generator.output_shape[1:]]

    def outputs(noise):
        images = tf.cast(generator(noise, training=False), tf.float32)
        images_uint8 = tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)
        return {"images": images, "images_uint8": images_uint8}

    def sample(batch_size):
        tf.debugging.assert_positive(batch_size, message="batch_size must be positive")
        noise = tf.random.normal(tf.stack([batch_size, latent_dim]))
        return outputs(noise)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint(
        "serving_default",
        outputs,
        input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name="noise")],
    )
    archive.add_endpoint(
        "sample",
        sample,
        input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")],
    )

    info = {
        "latent_dim": latent_dim,
        "image_shape": image_shape,
        "generator": generator.name,
        "model": type(model).__name__,
        "signatures": ["serving_default", "sample"],
        **(metadata or {}),
    }
    os.makedirs(os.path.join(base_path, name), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=os.path.join(base_path, name))
    try:
        target = os.path.join(tmp, "model")
        archive.write_out(target, verbose=False)
        os.makedirs(os.path.join(target, "assets.extra"), exist_ok=True)
        with open(os.path.join(target, "assets.extra", ZOO_METADATA), "w") as f:
            json.dump(info, f, indent=1)
        os.rename(target, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_metadata(export_path):
    """The `zoo.json` dict written beside an export (empty if absent)."""
    path = os.path.join(export_path, "assets.extra", ZOO_METADATA)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def resolve_export(path):
    """`path` itself if it is a SavedModel, else its highest numbered version."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    numbered = [d for d in (os.listdir(path) if os.path.isdir(path) else []) if re.fullmatch(r"\d+", d)]
    if numbered:
        return os.path.join(path, max(numbered, key=int))
    raise FileNotFoundError(
        f"no SavedModel at {path!r}: expected saved_model.pb there or in a numbered version folder"
    )
