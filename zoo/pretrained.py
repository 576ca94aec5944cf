"""Pretrained presets: trained, trainable zoo models from a `.keras` file and its metadata.

    model = zoo.from_preset("digits_cgan")            # a compiled ConditionalGAN, ready for fit
    model = zoo.models.GAN.from_preset("digits_dcgan")  # the same, checked to be a GAN
    images = model.generate(noise, labels=labels)

A pretrained preset is a folder holding `model.keras` (the whole model: nets, EMA
generator, compile config; the optimizers' state is fresh, so a fine-tune starts
its own Adam moments, as keras-hub's presets do) and `metadata.json` (the preset
and options it was trained with, its data, the command that made it, its scores,
and the SHA-256 of `model.keras`). `zoo export --pretrained` and `zoo train
--export NAME --pretrained` write one beside the TF Serving export, at
`BASE_PATH/NAME/` (TF Serving only loads the all-digit version folders there).

`load(handle)` takes:
- the name of a preset registered below (`zoo list` shows them): the copy in this
  checkout's `saved_models/NAME/`, else the cache, else a download from
  `$ZOO_PRETRAINED_URL/NAME/` when that mirror is set;
- a local folder holding `model.keras`, or a `.keras` file;
- an `http(s)://` or `file://` URL of such a folder (or of a `.keras` file), or
  `hf://OWNER/REPO[/FOLDER]` (a Hugging Face model repository), downloaded once into
  the cache (`$ZOO_HOME/pretrained`, default `~/.cache/zoo/pretrained`) and checked
  against the metadata's SHA-256.

`zoo train NAME --init-from HANDLE_OR_CHECKPOINT` starts from such a model's weights
(`initialize`).
"""

import dataclasses
import datetime
import hashlib
import importlib
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
FORMAT = "zoo.pretrained/1"
DOWNLOAD_TIMEOUT = 30  # seconds without an answer before a download fails


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """A pretrained preset zoo ships.

    Args:
        name: the handle (`zoo.from_preset(name)`), also its export's name in saved_models/.
        preset: the registered preset it was trained from (`zoo.presets.get`).
        description: one line: what it is and the paper.
        command: the exact command that trains it and writes `saved_models/NAME/`, run
            from the repository root (`python3 dev.py shipped` runs them all).
    """

    name: str
    preset: str
    description: str
    command: tuple


PRETRAINED = {}


def register(entry):
    if entry.name in PRETRAINED:
        raise ValueError(f"a pretrained preset called {entry.name!r} is already registered")
    PRETRAINED[entry.name] = entry
    return entry


def _train(preset, name, epochs, *options, dataset="digits", batch_size=64):
    """`zoo train` on embedded data (the digits by default), one seed, float32, exported with its .keras model."""
    return (
        "zoo", "train", preset, "--dataset", dataset, "--epochs", str(epochs), "--batch-size", str(batch_size),
        *options,
        "--seed", "0", "--precision", "float32", "--run-dir", f"runs/shipped/{name}", "--no-resume", "--quiet",
        "--export", name, "--base-path", "saved_models", "--pretrained",
    )


register(Pretrained(
    "digits_dcgan", "dcgan",
    "DCGAN (Radford et al. 2016), 32x32x1 digits, noise 100, EMA generator",
    _train("dcgan", "digits_dcgan", 150, "--base-filters", "32", "--ema-momentum", "0.995"),
))
register(Pretrained(
    "digits_cgan", "cgan",
    "class-conditional DCGAN, projection D (Mirza & Osindero 2014; Miyato & Koyama 2018), labels 0-9, "
    "32x32x1, noise 64, EMA generator",
    _train("cgan", "digits_cgan", 60, "--base-filters", "32", "--ema-momentum", "0.995"),
))
register(Pretrained(
    "digits_vae", "vae",
    "VAE (Kingma & Welling 2014), code 16 <-> 32x32x1 digits (Bernoulli means)",
    _train("vae", "digits_vae", 60),
))
register(Pretrained(
    "colourisation_gan", "colourisation",
    "pix2pix colouriser (Isola et al. 2017) in Lab: U-Net (16 filters, 4 downsamplings) after L1 "
    "pre-training; RGB or grey images, any size divisible by 16 -> colour RGB",
    (
        "python", "recipes/colourisation.py", "--variant", "gan", "--base-filters", "16", "--num-downsamples", "4",
        "--num-crops", "4096", "--num-test", "512", "--pretrain-epochs", "3", "--epochs", "6", "--seed", "0",
        "--precision", "float32", "--run-dir", "runs/shipped/colourisation_gan", "--base-path", "saved_models",
        "--pretrained",
    ),
))
register(Pretrained(
    "edges2photos_pix2pix", "pix2pix",
    "pix2pix (Isola et al. 2017): edge maps -> photos, 64x64, U-Net (16 filters, 4 downsamplings), trained on "
    "2,048 crops of scikit-image's photos; any size divisible by 16",
    _train("pix2pix", "edges2photos_pix2pix", 20, "--direction", "BtoA", "--image-size", "64", "--base-filters", "16",
           "--num-downsamples", "4", "--limit", "2048", dataset="edges2photos", batch_size=16),
))

register(Pretrained(
    "digits_stylegan2", "stylegan2",
    "StyleGAN2 (Karras et al. 2020), 32x32x1 digits, z and w 64, 2-layer mapping, at most 32 feature maps, "
    "R1 gamma 1, EMA half-life 2,000 images",
    _train("stylegan2", "digits_stylegan2", 80, "--latent-dim", "64", "--mapping-layers", "2", "--fmap-base", "256",
           "--fmap-max", "32", "--r1-gamma", "1", "--ema-half-life-images", "2000", batch_size=32),
))


# -- writing ---------------------------------------------------------------------------


def file_sha256(path):
    """The SHA-256 hex digest of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fresh_copy(model):
    """`model` rebuilt from its config and compiled alike, with its weights and fresh optimizers."""
    import keras

    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    if len(copy.variables) != len(model.variables):
        raise ValueError(f"{type(model).__name__} does not rebuild from its config with the same variables "
                         f"({len(model.variables)} -> {len(copy.variables)}); it cannot be saved as a preset")
    for target, source in zip(copy.variables, model.variables):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(f"{type(model).__name__} rebuilds {source.path} as {tuple(target.shape)}, "
                             f"not {tuple(source.shape)}; it cannot be saved as a preset")
        target.assign(source.value)
    return copy


def save(model, folder, metadata=None):
    """Writes `folder/model.keras` and `folder/metadata.json`; returns `folder`.

    `model.keras` is `model` as Keras saves it, with its optimizers reset (their
    moments are not part of a preset; compressed, it is about the size of the
    weights), so `keras.saving.load_model` reads it too. Both files are written
    atomically, the model first: a reader never pairs new metadata with an old model.

    Args:
        model: a compiled zoo model.
        folder: str, where to write; created if missing.
        metadata: dict, JSON-serialisable facts to keep beside it (preset, hparams,
            dataset, scores); zoo adds the class, versions, date, size and SHA-256.
    """
    import keras

    from zoo import __version__, files

    os.makedirs(folder, exist_ok=True)
    copy = _fresh_copy(model)
    path = os.path.join(folder, MODEL_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        stored = os.path.join(tmp, MODEL_FILE)
        copy.save(stored)
        # Keras stores the archive's members uncompressed; the zeroed optimizer slots deflate to nothing.
        with files.atomic_path(path, suffix=".keras") as target:
            with zipfile.ZipFile(stored) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
                for member in src.infolist():
                    dst.writestr(member.filename, src.read(member.filename))
    info = {
        **(metadata or {}),
        "format": FORMAT,
        "class": type(model).__name__,
        "keras_version": keras.__version__,
        "zoo_version": __version__,
        "backend": keras.backend.backend(),
        "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "bytes": os.path.getsize(path),
        "sha256": file_sha256(path),
    }
    files.write_bytes(os.path.join(folder, METADATA_FILE), (json.dumps(info, indent=1) + "\n").encode())
    return folder


# -- finding and loading -----------------------------------------------------------------


def cache_dir():
    """Where downloaded presets are kept: `$ZOO_HOME/pretrained`, default `~/.cache/zoo/pretrained`."""
    home = os.environ.get("ZOO_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "zoo")
    return os.path.join(home, "pretrained")


def _checkout_copy(name):
    """`saved_models/NAME` of the zoo checkout this package runs from (an editable install), if any."""
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "saved_models", name)
    return folder if os.path.isfile(os.path.join(folder, MODEL_FILE)) else None


def _url_of(handle):
    """The folder URL of a remote handle (hf:// mapped to Hugging Face's file URLs), or None."""
    scheme = urllib.parse.urlparse(handle).scheme
    if scheme in ("http", "https", "file"):
        return handle
    if scheme == "hf":
        parts = handle[len("hf://"):].strip("/").split("/")
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"a Hugging Face handle is hf://OWNER/REPO[/FOLDER], got {handle!r}")
        return "/".join(["https://huggingface.co", parts[0], parts[1], "resolve", "main", *parts[2:]])
    return None


def _download(url, path):
    """`url` into `path`, atomically; a clear ConnectionError when it cannot be fetched."""
    from zoo import files

    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ConnectionError(
            f"could not download {url}: {reason}. A pretrained preset that is not on this machine needs "
            "internet; pass a local folder or .keras file instead"
        ) from None
    files.write_bytes(path, data)


def _fetch(url, key=None):
    """A remote preset folder (or .keras file) in the cache, at `key` (default: from the URL); returns the folder."""
    folder = os.path.join(cache_dir(), key or hashlib.sha256(url.encode()).hexdigest()[:16])
    model_path = os.path.join(folder, MODEL_FILE)
    if os.path.isfile(model_path):
        return folder
    os.makedirs(folder, exist_ok=True)
    if url.endswith(".keras"):
        _download(url, model_path)
        return folder
    base = url.rstrip("/")
    # The metadata first: it names the SHA-256 the model file must have.
    _download(f"{base}/{METADATA_FILE}", os.path.join(folder, METADATA_FILE))
    partial = model_path + ".download"
    _download(f"{base}/{MODEL_FILE}", partial)
    expected = _read_metadata(folder).get("sha256")
    if expected and file_sha256(partial) != expected:
        os.remove(partial)
        raise ValueError(f"{base}/{MODEL_FILE} does not match the SHA-256 in its metadata.json; not kept")
    os.replace(partial, model_path)
    return folder


def _read_metadata(folder):
    path = os.path.join(folder, METADATA_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def resolve(handle):
    """The local folder (or `.keras` file) a handle names, downloading it if needed."""
    if not isinstance(handle, (str, os.PathLike)) or not os.fspath(handle):
        raise ValueError(f"a pretrained preset handle is a name, a path or a URL; got {handle!r}")
    handle = os.fspath(handle)
    if os.path.isfile(handle):
        if not handle.endswith(".keras"):
            raise ValueError(f"{handle} is not a .keras file")
        return handle
    if os.path.isdir(handle):
        if not os.path.isfile(os.path.join(handle, MODEL_FILE)):
            raise FileNotFoundError(f"{handle} holds no {MODEL_FILE}: not a pretrained preset folder")
        return handle
    url = _url_of(handle)
    if url is not None:
        return _fetch(url)
    if handle not in PRETRAINED:
        known = ", ".join(sorted(PRETRAINED))
        raise ValueError(f"unknown pretrained preset {handle!r}: not a registered name ({known}), "
                         "an existing folder or .keras file, or a URL")
    local = _checkout_copy(handle)
    if local:
        return local
    mirror = os.environ.get("ZOO_PRETRAINED_URL")
    cached = os.path.join(cache_dir(), handle)
    if os.path.isfile(os.path.join(cached, MODEL_FILE)):
        return cached
    if not mirror:
        raise FileNotFoundError(
            f"pretrained preset {handle!r} is not on this machine (not in a zoo checkout's saved_models/ "
            f"nor in {cached}); set ZOO_PRETRAINED_URL to a mirror holding {handle}/{MODEL_FILE} and "
            f"{handle}/{METADATA_FILE}, or make it with: {' '.join(PRETRAINED[handle].command)}"
        )
    return _fetch(f"{mirror.rstrip('/')}/{handle}", key=handle)


def load_with_metadata(handle, compile=True):
    """`(model, metadata)` for a handle (see the module docstring); metadata is {} for a bare .keras."""
    import keras

    for module in ("zoo.layers", "zoo.nets", "zoo.models"):  # registers zoo's classes for deserialisation
        importlib.import_module(module)

    path = resolve(handle)
    folder, model_path = (None, path) if path.endswith(".keras") else (path, os.path.join(path, MODEL_FILE))
    metadata = _read_metadata(folder) if folder else {}
    if metadata.get("sha256") and folder and file_sha256(model_path) != metadata["sha256"]:
        raise ValueError(f"{model_path} does not match the SHA-256 in {METADATA_FILE}: the file is damaged "
                         "or was replaced without its metadata")
    model = keras.saving.load_model(model_path, compile=compile)
    return model, metadata


def load(handle, compile=True):
    """The trained, compiled zoo model a handle names (see the module docstring)."""
    return load_with_metadata(handle, compile=compile)[0]


def initialize(model, source):
    """Copies every weight of `source` (a model of the same class and shapes) into `model`.

    Raises a ValueError naming the first variable whose shape differs, so that a
    fine-tune on data of another size or with other options fails before training.
    """
    if type(model) is not type(source):
        raise ValueError(f"cannot start a {type(model).__name__} from a {type(source).__name__}")
    targets, sources = model.weights, source.weights
    if len(targets) != len(sources):
        raise ValueError(f"the {type(model).__name__} being trained has {len(targets)} weights and the one to "
                         f"start from {len(sources)}: train on data of the same image size and channels, "
                         "with the same options")
    for target, value in zip(targets, sources):
        if tuple(target.shape) != tuple(value.shape):
            raise ValueError(
                f"{target.path} is {tuple(target.shape)} in the model being trained but {tuple(value.shape)} "
                "in the one to start from: use data of the same image size and channels, and the same options"
            )
    for target, value in zip(targets, sources):
        target.assign(value.value)
