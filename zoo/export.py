"""Export generators as TF Serving SavedModels under `saved_models/<name>/<version>/`.

The export holds the generator alone (or the EMA generator where a model has
one), never the training wrapper. Signatures:

- `serving_default`: `noise` float32 `(batch, latent_dim)` -> `images` float32
  `(batch, h, w, c)` in [-1, 1] and `images_uint8` uint8 in [0, 255];
- `sample`: `batch_size` int32 scalar -> the same outputs, the noise drawn
  inside the model (standard normal).

A class-conditional generator (`zoo.models.ConditionalGAN`) adds int32
`labels` `(batch,)` to `serving_default` (`noise`, `labels`), and its `sample`
takes `labels` alone (one image per label); `num_classes` is in the metadata.

Image-to-image nets (pix2pix, CycleGAN, colourisers) go through
`export_translator`: `serving_default` takes float32 images in [-1, 1] and
`uint8` takes uint8 pixels, both of any size divisible by the net's stride;
a colouriser's Lab conversion is part of the graph. A pix2pix model serves in
its inference mode by default and adds `paper`, `deterministic` and their
`*_uint8` signatures.

Each version is written to a hidden temporary folder beside the final one and
renamed into place, so a model server polling the base path never sees a
half-written version (TF Serving only loads all-digit folder names); concurrent
exports of one name each claim their own version number at that rename. Every
version holds `assets.extra/tf_serving_warmup_requests`, batch-1 requests TF
Serving replays on load (`zoo.serving.write_warmup_requests`).
"""

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import uuid

import keras
import numpy as np
import tensorflow as tf

from zoo import checks, files

ZOO_METADATA = "zoo.json"


class _Archive:
    """A `keras.export.ExportArchive` whose endpoints are TensorFlow functions calling the nets.

    What an export does around its nets (input checks, uint8 conversion, noise
    drawn in the graph, Lab conversion) is TensorFlow code on every backend; a
    net is called through `net_fn`. On TensorFlow that is the Keras net itself.
    On JAX the net is a JAX function, converted by Keras' own jax2tf path (as
    its ExportArchive converts any endpoint; the weights become the archive's
    TF variables), and the TF code wraps the converted call. So a model
    trained on JAX exports the same signatures as one trained on TensorFlow.
    """

    def __init__(self, *nets):
        self.archive = keras.export.ExportArchive()
        self.jax = keras.backend.backend() == "jax"
        for net in nets:
            self.archive.track(net)

    def net_fn(self, net, input_signature, polymorphic_shapes=None):
        """`net(inputs, training=False)` as a function of TF tensors.

        `polymorphic_shapes` (JAX only): jax2tf shape strings for the inputs,
        e.g. "(batch, 8*h, 8*w, 3)" for a net that needs sizes divisible by 8.
        """

        def call(*inputs):
            return net(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

        if not self.jax:
            return call
        # The fixed-arity function jax2tf needs (it reads the parameters' count).
        fixed = (lambda x: call(x)) if len(input_signature) == 1 else (lambda x, y: call(x, y))
        options = {"jax2tf_kwargs": {"polymorphic_shapes": polymorphic_shapes}} if polymorphic_shapes else {}
        # ExportArchive's per-backend conversion, without registering a signature of its own.
        return self.archive._backend_add_endpoint(f"_{net.name}", fixed, input_signature, **options)

    def add_endpoint(self, name, fn, input_signature):
        if not self.jax:
            return self.archive.add_endpoint(name, fn, input_signature=input_signature)
        function = tf.function(fn, input_signature=input_signature, autograph=False)
        function.get_concrete_function()
        return self.archive.add_endpoint(name, function)

    def write_out(self, path, verbose=False):
        self.archive.write_out(path, verbose=verbose)


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
        "model with a `generator` attribute or a single-input keras.Model (export a "
        "conditional generator through its ConditionalGAN, which knows num_classes)"
    )


def versions(base_path, name):
    """Sorted integer versions already exported under `base_path/name`."""
    return sorted(int(d) for d in files.listdir(os.path.join(base_path, name)) if re.fullmatch(r"\d+", d))


def _version_path(base_path, name, version):
    """What `_write_version` claims: `(base_path/name, version)` after checking both.

    An explicit version that exists fails now, before the slow part; None claims the
    next free version when the export is complete (`_write_version`).
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '_', '-', '.'; got {name!r}")
    checks.positive_int(version, "version", none=True)
    folder = os.path.join(base_path, name)
    if version is not None and files.exists(os.path.join(folder, str(version))):
        raise ValueError(f"{os.path.join(folder, str(version))} already exists; pass another version or remove it")
    return folder, version


# A writing export's temporary folder in base_path/name, and its owner.
_PARTIAL_PREFIX = ".export.tmp-"
_REMOVING_PREFIX = ".export.removing-"
_OWNER = "owner.json"
_CLAIM_TRIES = 1000


def _write_version(archive, info, claim, warmup=None):
    """Writes the archive, its zoo.json and TF Serving warm-up requests, then claims a version.

    Everything is written into a hidden folder in `base_path/name` (`.export.tmp-*`, which
    TF Serving and zoo's readers skip, since versions are all-digit names); the complete
    export is then renamed to its version. Renaming onto an existing version fails, so
    concurrent exports with no explicit version each take the next free number in turn:
    none fails and none overwrites another. A folder left by a killed export (its owner
    process no longer runs) is removed by the next export of the name, with a message.

    `warmup`: None or {signature: {input: array}} for signatures whose batch-1
    inputs `zoo.serving.default_warmup_inputs` cannot guess (unknown image sizes).
    """
    folder, version = claim
    with files.explained_write_failures("the export", folder, "no version was added and the others are intact"):
        return _write_and_claim(archive, info, folder, version, warmup)


def _write_and_claim(archive, info, folder, version, warmup):
    from zoo import serving

    files.makedirs(folder)
    _remove_abandoned(folder)
    owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    # A remote base path (gs://...): the export is written in a local folder, then uploaded
    # into the hidden folder beside the versions, and claimed there.
    remote = files.is_remote(folder)
    local = tempfile.mkdtemp(prefix="zoo-export-" if remote else _PARTIAL_PREFIX, dir=None if remote else folder)
    holder = f"{folder}/{_PARTIAL_PREFIX}{uuid.uuid4().hex[:12]}" if remote else local
    try:
        files.write_text(os.path.join(holder, _OWNER), owner)
        target = os.path.join(local, "export")
        archive.write_out(target, verbose=False)
        serving.write_warmup_requests(target, os.path.basename(folder), warmup)
        os.makedirs(os.path.join(target, "assets.extra"), exist_ok=True)
        with open(os.path.join(target, "assets.extra", ZOO_METADATA), "w") as f:
            json.dump(info, f, indent=1)
        if remote:
            files.upload(target, f"{holder}/export")
            target = f"{holder}/export"
        return _claim(target, folder, version)
    finally:
        shutil.rmtree(local, ignore_errors=True)
        if remote:
            files.rmtree(holder)


def _claim(target, folder, version):
    """Renames the finished export `target` to `folder/<version>`, the next free one when None."""
    for _ in range(_CLAIM_TRIES if version is None else 1):
        number = version if version is not None else max(versions(*os.path.split(folder)), default=0) + 1
        final = os.path.join(folder, str(number))
        if files.exists(final):  # rename would replace an empty folder: never take an existing name
            if version is not None:
                raise FileExistsError(f"{final} already exists; pass another version or remove it")
            continue
        try:
            files.rename(target, final)
            return final
        except OSError as error:
            if not files.exists(final):
                raise  # not a race for the name (a full disk, permissions)
            if version is not None:
                raise FileExistsError(f"{final} appeared while exporting; pass another version") from error
    raise RuntimeError(f"could not claim a version in {folder} after {_CLAIM_TRIES} tries")


def _remove_abandoned(folder):
    """Removes the temporary folders of exports whose process has ended (killed mid-export)."""
    from zoo.locks import _pid_alive

    for name in files.listdir(folder):
        path = os.path.join(folder, name)
        if name.startswith(_REMOVING_PREFIX):  # a removal cut short by a kill
            files.rmtree(path)
            continue
        if not name.startswith(_PARTIAL_PREFIX) or os.path.islink(path) or not files.isdir(path):
            continue
        try:
            with files.open_file(os.path.join(path, _OWNER)) as f:
                owner = json.loads(f.read())
        except Exception:  # being created this instant, or not zoo's
            continue
        if owner.get("host") == socket.gethostname() and not _pid_alive(owner.get("pid")):
            # Renamed first: of several exports that find it at once, one takes it and says so.
            trash = os.path.join(folder, f"{_REMOVING_PREFIX}{os.getpid()}-{name[len(_PARTIAL_PREFIX):]}")
            try:
                files.rename(path, trash)
            except OSError:
                continue
            files.rmtree(trash)
            print(f"zoo: removed {path}, left by an export (pid {owner.get('pid')}) that did not finish",
                  file=sys.stderr, flush=True)


def export_generator(model, name, base_path="saved_models", version=None, metadata=None):
    """Writes `model`'s generator as a SavedModel for TF Serving.

    Args:
        model: a zoo model with a `generator` (or `ema_generator`), or a
            generator `keras.Model` itself (one input: the noise). A
            `zoo.models.StyleGAN` goes to `export_style_generator` (same
            `serving_default` and `sample`, plus its own signatures).
        name: str, the served model's name (folder under `base_path`).
        base_path: str, TF Serving's model base path root. Default "saved_models".
        version: int or None, version number; None takes the next free one.
        metadata: optional JSON-serialisable dict stored in `assets.extra/zoo.json`.

    Returns:
        The path of the written version folder.

    Raises:
        ValueError: bad name or version, or the version already exists.
    """
    if hasattr(model, "ema_synthesis") and hasattr(model, "w_avg"):  # StyleGAN: mapping + synthesis
        return export_style_generator(model, name, base_path=base_path, version=version, metadata=metadata)
    claim = _version_path(base_path, name, version)

    generator = _generator_of(model)
    latent_dim = int(generator.inputs[0].shape[-1])
    image_shape = [int(s) for s in generator.outputs[0].shape[1:]]
    num_classes = getattr(model, "num_classes", None) if len(generator.inputs) == 2 else None
    if len(generator.inputs) == 2 and not num_classes:
        raise ValueError(
            "a conditional generator ([noise, labels]) needs its model (with num_classes) "
            "to be exported, not the bare net"
        )

    def to_outputs(images):
        images = tf.cast(images, tf.float32)
        images_uint8 = tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)
        return {"images": images, "images_uint8": images_uint8}

    archive = _Archive(generator)
    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    if num_classes is None:
        generate = archive.net_fn(generator, [noise_spec])

        def outputs(noise):
            return to_outputs(generate(noise))

        def sample(batch_size):
            tf.debugging.assert_positive(batch_size, message="batch_size must be positive")
            return outputs(tf.random.normal(tf.stack([batch_size, latent_dim])))

        archive.add_endpoint("serving_default", outputs, input_signature=[noise_spec])
        archive.add_endpoint(
            "sample", sample, input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")]
        )
    else:

        def checked(labels):
            message = f"labels must be class indices in [0, {num_classes})"
            tf.debugging.assert_non_negative(labels, message=message)
            tf.debugging.assert_less(labels, num_classes, message=message)
            return labels

        def outputs(noise, labels):
            tf.debugging.assert_equal(
                tf.shape(noise)[0], tf.shape(labels)[0], message="noise and labels need the same batch size"
            )
            return to_outputs(generate(noise, checked(labels)))

        def sample(labels):
            return outputs(tf.random.normal(tf.stack([tf.shape(labels)[0], latent_dim])), labels)

        labels_spec = tf.TensorSpec([None], tf.int32, name="labels")
        generate = archive.net_fn(generator, [noise_spec, labels_spec])
        archive.add_endpoint("serving_default", outputs, input_signature=[noise_spec, labels_spec])
        archive.add_endpoint("sample", sample, input_signature=[labels_spec])

    info = {
        "latent_dim": latent_dim,
        "image_shape": image_shape,
        "generator": generator.name,
        # True when the weights are the running average kept by `ema_momentum`.
        "ema": generator is getattr(model, "ema_generator", None),
        "model": type(model).__name__,
        "signatures": ["serving_default", "sample"],
        **({"num_classes": int(num_classes)} if num_classes else {}),
        **(metadata or {}),
    }
    return _write_version(archive, info, claim)


EXPORTS = ("generator", "classifier", "translator", "translator_pair", "generator_pair")


def export_model(model, name, base_path="saved_models", version=None, metadata=None, direction=None):
    """Exports what `model` serves, as its class declares in `EXPORT`; returns the version paths.

    - "generator" (GANs, autoencoders' decoders, StyleGAN): `export_generator` to NAME;
    - "classifier" (the semi-supervised GAN): `export_classifier` to NAME;
    - "translator" (pix2pix, colourisers): `export_translator` to NAME;
    - "translator_pair" (CycleGAN): both directions, NAME_ab and NAME_ba, or with
      `direction` ("ab" or "ba") that one to NAME;
    - "generator_pair" (CoGAN): each domain's generator, NAME_a and NAME_b; fed the same
      noise they serve a pair.

    Args:
        model: a zoo model (or any `keras.Model`: a "generator").
        name, base_path, version, metadata: as `export_generator`.
        direction: None, "ab" or "ba", for a "translator_pair".
    """
    kind = getattr(model, "EXPORT", "generator")
    if kind not in EXPORTS:
        raise ValueError(f"{type(model).__name__}.EXPORT must be one of {EXPORTS}, got {kind!r}")
    common = {"base_path": base_path, "version": version}
    if kind == "classifier":
        return [export_classifier(model, name, metadata=metadata, **common)]
    if kind == "translator":
        return [export_translator(model, name, metadata=metadata, **common)]
    if kind == "translator_pair":
        if direction is not None:
            return [export_translator(model, name, direction=direction, metadata=metadata, **common)]
        return [export_translator(model, f"{name}_{d}", direction=d, metadata=metadata, **common) for d in ("ab", "ba")]
    if kind == "generator_pair":
        return [
            export_generator(getattr(model, f"generator_{d}"), f"{name}_{d}",
                             metadata={**(metadata or {}), "model": type(model).__name__, "domain": d,
                                       "pair_with": f"{name}_{o}"}, **common)
            for d, o in (("a", "b"), ("b", "a"))
        ]
    return [export_generator(model, name, metadata=metadata, **common)]


def translate_with_export(export_path, images):
    """`images` (float32 in [-1, 1], any size the net's stride divides) through a translator export's
    `serving_default`, as TF Serving would run it, loaded afresh; returns numpy images."""
    served = tf.saved_model.load(export_path).signatures["serving_default"](images=tf.constant(images))
    return served["images"].numpy()


def read_metadata(export_path):
    """The `zoo.json` dict written beside an export (empty if absent)."""
    path = os.path.join(export_path, "assets.extra", ZOO_METADATA)
    if not files.isfile(path):
        return {}
    with files.open_file(path) as f:
        return json.loads(f.read())


def resolve_export(path):
    """`path` itself if it is a SavedModel, else its highest numbered version."""
    if files.isfile(os.path.join(path, "saved_model.pb")):
        return path
    numbered = [d for d in files.listdir(path) if re.fullmatch(r"\d+", d)]
    if numbered:
        return os.path.join(path, max(numbered, key=int))
    raise FileNotFoundError(
        f"no SavedModel at {path!r}: expected saved_model.pb there or in a numbered version folder"
    )


def export_classifier(model, name, base_path="saved_models", version=None, metadata=None):
    """Writes a classifier (e.g. a semi-supervised GAN's discriminator) for TF Serving.

    Signature `serving_default`: `images` float32 `(batch, h, w, c)` in [-1, 1]
    -> `probabilities` float32 `(batch, num_classes)` (softmax over the K real
    classes) and `labels` int64 `(batch,)`. Written like `export_generator`: a
    hidden temporary folder renamed into `base_path/name/<version>`, with
    `assets.extra/zoo.json` metadata (`num_classes`, `image_shape`, `model`).

    Args:
        model: a model with a `classifier` (e.g. `zoo.models.SemiSupervisedGAN`),
            or a `keras.Model` mapping images to class logits.
        name: str, the served model's name (folder under `base_path`).
        base_path: str, TF Serving's model base path root. Default "saved_models".
        version: int or None, version number; None takes the next free one.
        metadata: optional JSON-serialisable dict added to `zoo.json`.

    Returns:
        The path of the written version folder.

    Raises:
        ValueError: bad name or version, the version already exists, or no
            classifier in `model`.
    """
    claim = _version_path(base_path, name, version)

    classifier = getattr(model, "classifier", model)
    if not isinstance(classifier, keras.Model) or len(classifier.inputs or []) != 1:
        raise ValueError(
            f"cannot find a classifier to export in {type(model).__name__}: expected a "
            "model with a `classifier` attribute or a single-input keras.Model"
        )
    image_shape = [int(s) for s in classifier.input_shape[1:]]
    num_classes = int(classifier.output_shape[-1])

    images_spec = tf.TensorSpec([None, *image_shape], tf.float32, name="images")
    archive = _Archive(classifier)
    classify = archive.net_fn(classifier, [images_spec])

    def outputs(images):
        logits = tf.cast(classify(images), tf.float32)
        return {"probabilities": tf.nn.softmax(logits), "labels": tf.argmax(logits, axis=-1)}

    archive.add_endpoint("serving_default", outputs, input_signature=[images_spec])
    info = {
        "num_classes": num_classes,
        "image_shape": image_shape,
        "classifier": classifier.name,
        "model": type(model).__name__,
        "signatures": ["serving_default"],
        **(metadata or {}),
    }
    return _write_version(archive, info, claim)


def _translator_of(model, direction):
    """The image-to-image net to serve: a Pix2Pix generator, one CycleGAN direction, or a net."""
    if hasattr(model, "generator_ab"):  # CycleGAN
        if direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba' for a CycleGAN, got {direction!r}")
        return getattr(model, f"generator_{direction}")
    net = getattr(model, "generator", model)
    if not isinstance(net, keras.Model) or len(net.inputs or []) != 1 or len(net.input_shape) != 4:
        raise ValueError(
            f"cannot find an image-to-image net in {type(model).__name__}: expected a Pix2Pix, "
            "a CycleGAN or a keras.Model from images (batch, h, w, c) to images"
        )
    return net


def _inference_modes(model, net):
    """`(default mode or None, {mode: net})`: a Pix2Pix's nets for its inference modes, else just `net`.

    The paper twin holds the generator (`zoo.nets.paper_inference_net`), so tracking it alone
    tracks every variable either mode reads, each once.
    """
    if not callable(getattr(model, "inference_net", None)):
        return None, {None: net}
    return model.inference, {mode: model.inference_net(mode) for mode in ("paper", "deterministic")}


def export_translator(
    model, name, base_path="saved_models", version=None, metadata=None, direction="ab", colour_space=None
):
    """Writes an image-to-image net (pix2pix, CycleGAN, colouriser) for TF Serving.

    The net is fully convolutional, so the export takes images of any height
    and width divisible by the net's stride (`zoo.nets.net_stride`). Signatures:

    - `serving_default`: `images` float32 `(batch, h, w, c)` in [-1, 1];
    - `uint8`: `images` uint8 `(batch, h, w, c)` in [0, 255];

    both returning `images` float32 in [-1, 1] and `images_uint8`. Bad input
    (wrong channels, a size not divisible by the stride, floats outside
    [-1, 1]) fails with a message that names the problem.

    A `zoo.models.Pix2Pix` (colourisers included) serves in its `inference`
    mode by default and names both modes, so a server can choose:
    `paper` / `paper_uint8` (the paper's test mode: dropout on, so two calls
    differ, and each image normalised with its own statistics, so an image's
    output does not depend on the rest of its request) and `deterministic` /
    `deterministic_uint8` (`generator(x, training=False)`). The paper mode's
    dropout seeds are variables of the export, advanced by every call.

    A colouriser (`colour_space="lab"`, or None with a net mapping 1 channel to
    2) takes RGB or grey images, keeps their Lab lightness L, predicts ab from
    it and returns the colour RGB image (and `ab` in model range); the Lab
    conversion is part of the exported graph.

    Args:
        model: `zoo.models.Pix2Pix`, `zoo.models.CycleGAN` (see `direction`), or
            a `keras.Model` from images to images.
        name: str, the served model's name (folder under `base_path`).
        base_path: str. Default "saved_models".
        version: int or None (the next free version).
        metadata: optional dict added to `assets.extra/zoo.json`.
        direction: "ab" or "ba", the CycleGAN generator to export. Default "ab".
        colour_space: None (infer), "rgb" or "lab".

    Returns:
        The path of the written version folder.
    """
    from zoo.data import colour
    from zoo.nets import net_stride

    claim = _version_path(base_path, name, version)
    net = _translator_of(model, direction)
    in_channels, out_channels = int(net.input_shape[-1]), int(net.output_shape[-1])
    if colour_space is None:
        colour_space = "lab" if (in_channels, out_channels) == (1, 2) else "rgb"
    if colour_space not in ("rgb", "lab"):
        raise ValueError(f"colour_space must be None, 'rgb' or 'lab', got {colour_space!r}")
    if colour_space == "lab" and (in_channels, out_channels) != (1, 2):
        raise ValueError(f"a Lab colouriser maps L (1 channel) to ab (2), got {in_channels} -> {out_channels}")
    stride = net_stride(net)
    accepted = (1, 3) if colour_space == "lab" else (in_channels,)
    expected = " or ".join(str(c) for c in accepted)

    def checked(images):
        shape = tf.shape(images)
        channels_ok = tf.reduce_any(tf.equal(shape[3], tf.constant(accepted, tf.int32)))
        divisible = tf.logical_and(tf.equal(shape[1] % stride, 0), tf.equal(shape[2] % stride, 0))
        checks = [
            tf.debugging.Assert(channels_ok, [f"images must have {expected} channels, got", shape[3]]),
            tf.debugging.Assert(
                divisible, [f"image height and width must be divisible by {stride}, got", shape[1], shape[2]]
            ),
        ]
        with tf.control_dependencies(checks):
            return tf.identity(images)

    default_mode, mode_nets = _inference_modes(model, net)
    channels_spec = None if colour_space == "lab" else in_channels
    archive = _Archive(mode_nets.get("paper", net))

    def endpoints(mode_net):
        """The float and the uint8 endpoint around one net."""
        # On JAX the net is converted for any size divisible by its stride (jax2tf shape polymorphism).
        translate = archive.net_fn(
            mode_net,
            [tf.TensorSpec([None, None, None, in_channels], tf.float32)],
            polymorphic_shapes=[f"(batch, {stride}*h, {stride}*w, {in_channels})"],
        )

        def run(images):
            if colour_space == "rgb":
                out = tf.cast(translate(images), tf.float32)
                extra = {}
            else:
                rgb = tf.cond(
                    tf.equal(tf.shape(images)[3], 1),
                    lambda: tf.tile(images[..., :1], [1, 1, 1, 3]),
                    lambda: images,
                )
                rgb = tf.ensure_shape(rgb, [None, None, None, 3])
                lightness, _ = colour.rgb_to_model_lab(rgb)
                ab = tf.cast(translate(lightness), tf.float32)
                out = colour.model_lab_to_rgb(lightness, ab)
                extra = {"ab": ab}
            out_uint8 = tf.cast(tf.round(tf.clip_by_value((out + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)
            return {"images": out, "images_uint8": out_uint8, **extra}

        def from_float(images):
            images = checked(images)
            in_range = tf.reduce_all(tf.abs(images) <= 1.0 + 1e-3)
            check = tf.debugging.Assert(
                in_range, ["float images must be in [-1, 1]; send 0-255 pixels to the 'uint8' signature"]
            )
            with tf.control_dependencies([check]):
                return run(tf.identity(images))

        def from_uint8(images):
            return run(tf.cast(checked(images), tf.float32) / 127.5 - 1.0)

        return from_float, from_uint8

    specs = {
        dtype: [tf.TensorSpec([None, None, None, channels_spec], dtype, name="images")]
        for dtype in (tf.float32, tf.uint8)
    }
    signatures = {}  # name -> (function, input dtype)
    for mode, mode_net in mode_nets.items():
        from_float, from_uint8 = endpoints(mode_net)
        if mode == default_mode:
            signatures.update(serving_default=(from_float, tf.float32), uint8=(from_uint8, tf.uint8))
        if mode is not None:
            signatures.update({mode: (from_float, tf.float32), f"{mode}_uint8": (from_uint8, tf.uint8)})
    for signature, (function, dtype) in signatures.items():
        archive.add_endpoint(signature, function, input_signature=specs[dtype])
    info = {
        "model": type(model).__name__,
        "translator": net.name,
        "colour_space": colour_space,
        "input_channels": list(accepted),
        "output_channels": 3 if colour_space == "lab" else out_channels,
        "stride": stride,
        "signatures": ["serving_default", "uint8", *sorted(set(signatures) - {"serving_default", "uint8"})],
        **({"inference": default_mode} if default_mode else {}),
        **({"direction": direction} if hasattr(model, "generator_ab") else {}),
        **(metadata or {}),
    }
    # TF Serving warm-up: one image of the smallest size the net takes, for every signature.
    warm = np.zeros((1, stride, stride, accepted[-1]), np.float32)
    warmup = {
        signature: {"images": warm if signatures[signature][1] == tf.float32 else warm.astype(np.uint8)}
        for signature in sorted(signatures, key=lambda s: (s != "serving_default", s))
    }
    return _write_version(archive, info, claim, warmup=warmup)


def export_style_generator(model, name, base_path="saved_models", version=None, metadata=None, noise_mode="const"):
    """Writes a StyleGAN's EMA mapping and synthesis as one SavedModel for TF Serving.

    Signatures (images float32 `(batch, H, W, C)`, about [-1, 1] and not
    clipped, and `images_uint8` clipped to [0, 255]):

    - `serving_default`: `noise` float32 `(batch, latent_dim)` -> images
      (no truncation; the input is named as in `export_generator`, so zoo's
      export loaders and serving clients take it as is);
    - `truncated`: `noise` and `truncation_psi` float32 scalar -> images with
      `w = w_avg + psi * (w - w_avg)` on every layer (TF Serving requires
      every input of a signature, so the optional psi is a signature of its own);
    - `from_w`: `w` float32, one w `(batch, w_dim)` for every layer or
      styles `(batch, num_ws, w_dim)` -> images (projections, edits);
    - `mapping`: `noise` -> `w` float32 `(batch, w_dim)`, not truncated;
    - `sample`: `batch_size` int32 scalar -> images of standard normal noise.

    `w_avg` is frozen into the graph. With `noise_mode="const"` (default)
    every noise layer adds its fixed `noise_const`, so the same input always
    gives the same image (stylegan2-ada's generate.py default); "random" draws
    fresh noise per request.

    Args:
        model: `zoo.models.StyleGAN` (anything with `ema_mapping`,
            `ema_synthesis`, `w_avg`).
        name: str, the served model's name (folder under `base_path`).
        base_path: str, TF Serving's model base path root. Default "saved_models".
        version: int or None, version number; None takes the next free one.
        metadata: optional JSON-serialisable dict added to `assets.extra/zoo.json`.
        noise_mode: "const" (default) or "random".

    Returns:
        The path of the written version folder.

    Example:
    ```python
    path = zoo.export.export_style_generator(model, "faces_stylegan2")
    served = tf.saved_model.load(path)
    images = served.signatures["truncated"](noise=z, truncation_psi=tf.constant(0.7))["images"]
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020 (the EMA generator is the one evaluated and shipped).
    """
    from zoo.models.style_gan import NOISE_MODES, using_noise_mode

    missing = [a for a in ("ema_mapping", "ema_synthesis", "w_avg") if not hasattr(model, a)]
    if missing:
        raise ValueError(
            f"cannot export {type(model).__name__} as a style generator: it has no {', '.join(missing)} "
            "(expected a zoo.models.StyleGAN)"
        )
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be 'const' or 'random', got {noise_mode!r}")
    claim = _version_path(base_path, name, version)

    mapping, synthesis = model.ema_mapping, model.ema_synthesis
    latent_dim = int(mapping.inputs[0].shape[-1])
    num_ws, w_dim = (int(s) for s in synthesis.inputs[0].shape[1:])
    image_shape = [int(s) for s in synthesis.outputs[0].shape[1:]]
    w_avg = tf.constant(keras.ops.convert_to_numpy(model.w_avg), tf.float32)

    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")

    def images_from(ws):
        images = tf.cast(synthesize(ws), tf.float32)
        images_uint8 = tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)
        return {"images": images, "images_uint8": images_uint8}

    def mapped(noise):
        return tf.cast(map_noise(noise), tf.float32)

    def broadcast(w):
        return tf.tile(w[:, None, :], [1, num_ws, 1])

    def serve(noise):
        return images_from(broadcast(mapped(noise)))

    def truncated(noise, truncation_psi):
        ws = broadcast(mapped(noise))
        return images_from(w_avg + truncation_psi * (ws - w_avg))

    def from_w(w):
        rank = tf.rank(w)
        checks = [
            tf.debugging.Assert(
                tf.logical_or(tf.equal(rank, 2), tf.equal(rank, 3)),
                [f"w must have shape (batch, {w_dim}) or (batch, {num_ws}, {w_dim}); got rank", rank],
            ),
            tf.debugging.Assert(
                tf.equal(tf.shape(w)[-1], w_dim), [f"w's last dimension must be {w_dim}, got", tf.shape(w)[-1]]
            ),
        ]
        with tf.control_dependencies(checks):
            ws = tf.reshape(w, [tf.shape(w)[0], -1, w_dim])
        layers = tf.shape(ws)[1]
        check = tf.debugging.Assert(
            tf.logical_or(tf.equal(layers, 1), tf.equal(layers, num_ws)),
            [f"ws must have 1 or {num_ws} layers, got", layers],
        )
        with tf.control_dependencies([check]):
            ws = tf.broadcast_to(ws, [tf.shape(ws)[0], num_ws, w_dim])
        return images_from(ws)

    def mapping_endpoint(noise):
        return {"w": mapped(noise)}

    def sample(batch_size):
        tf.debugging.assert_positive(batch_size, message="batch_size must be positive")
        return serve(tf.random.normal(tf.stack([batch_size, latent_dim])))

    with using_noise_mode(synthesis, noise_mode):
        # Tracked in `noise_mode`: on JAX tracking copies the variables' values into the archive.
        archive = _Archive(mapping, synthesis)
        map_noise = archive.net_fn(mapping, [noise_spec])
        synthesize = archive.net_fn(synthesis, [tf.TensorSpec([None, num_ws, w_dim], tf.float32)])
        archive.add_endpoint("serving_default", serve, input_signature=[noise_spec])
        archive.add_endpoint(
            "truncated",
            truncated,
            input_signature=[noise_spec, tf.TensorSpec([], tf.float32, name="truncation_psi")],
        )
        archive.add_endpoint("from_w", from_w, input_signature=[tf.TensorSpec(None, tf.float32, name="w")])
        archive.add_endpoint("mapping", mapping_endpoint, input_signature=[noise_spec])
        archive.add_endpoint(
            "sample", sample, input_signature=[tf.TensorSpec([], tf.int32, name="batch_size")]
        )
        info = {
            "latent_dim": latent_dim,
            "w_dim": w_dim,
            "num_ws": num_ws,
            "image_shape": image_shape,
            "mapping": mapping.name,
            "synthesis": synthesis.name,
            "ema": True,
            "noise_mode": noise_mode,
            "model": type(model).__name__,
            "signatures": ["serving_default", "truncated", "from_w", "mapping", "sample"],
            **(metadata or {}),
        }
        # Written while the noise layers are in `noise_mode`: the saved noise_mode variables keep it.
        # TF Serving warm-up: from_w's input has an unknown rank, so its request is given here.
        warmup = {"from_w": {"w": np.zeros((1, w_dim), np.float32)}}
        return _write_version(archive, info, claim, warmup=warmup)


def check_style_export(model, export_path, truncation_psi=0.7, seed=0, num_images=4, atol=1e-4):
    """Checks that a style generator export, loaded afresh, serves the model's images.

    Loads `export_path` with `tf.saved_model.load` and compares its
    `serving_default` (no truncation) and `truncated` (psi `truncation_psi`)
    images of `num_images` standard normal latents (numpy seed `seed`) with
    `model.generate(..., noise_mode="const")`, as exported by
    `export_style_generator` (default const noise).

    Args:
        model: `zoo.models.StyleGAN` the export was written from.
        export_path: str, a version folder written by `export_style_generator`.
        truncation_psi: float, psi of the `truncated` check. Default 0.7.
        seed: int, seed of the latents. Default 0.
        num_images: int >= 1, latents compared. Default 4.
        atol: float, largest absolute pixel difference allowed. Default 1e-4.

    Returns:
        The served untruncated images, float32 `(num_images, H, W, C)`.

    Raises:
        RuntimeError: the served images differ from the model's by more than `atol`.

    Example:
    ```python
    path = zoo.export.export_style_generator(model, "faces")
    zoo.export.check_style_export(model, path, truncation_psi=0.7)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020 (truncation, section B of the appendix).
    """
    if isinstance(num_images, bool) or not isinstance(num_images, (int, np.integer)) or num_images < 1:
        raise ValueError(f"num_images must be an int >= 1, got {num_images!r}")
    z = np.random.default_rng(seed).standard_normal((num_images, model.latent_dim)).astype("float32")
    served = tf.saved_model.load(export_path)
    images = served.signatures["serving_default"](noise=tf.constant(z))["images"].numpy()
    truncated = served.signatures["truncated"](noise=tf.constant(z), truncation_psi=tf.constant(float(truncation_psi)))
    truncated = truncated["images"].numpy()
    pairs = {
        "serving_default": (images, model.generate(z, noise_mode="const")),
        f"truncated (psi {truncation_psi})": (
            truncated, model.generate(z, truncation_psi=truncation_psi, noise_mode="const")
        ),
    }
    for name, (got, expected) in pairs.items():
        error = float(np.max(np.abs(got - np.asarray(expected)))) if got.shape == np.shape(expected) else np.inf
        if not error <= atol:
            raise RuntimeError(
                f"the export at {export_path} does not serve the model's images: its {name} signature "
                f"differs by {error:.3g} (allowed {atol:g})"
            )
    return images
