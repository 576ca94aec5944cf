"""Serving zoo exports with TF Serving: model config, warm-up requests and clients.

- `write_model_config` scans an export root (`saved_models/<name>/<version>/`)
  and writes the text protobuf that `tensorflow_model_server
  --model_config_file` reads: every model, all its versions, optional
  `stable`/`canary` version labels.
- `write_warmup_requests` writes `assets.extra/tf_serving_warmup_requests`, the
  TFRecord file of `PredictionLog` protos that TF Serving replays when it loads
  a version, so the first real request does not pay for graph set-up.
  `zoo.export` calls it for every export. The records are encoded here from
  TensorFlow's own `TensorProto`, so `tensorflow-serving-api` is not needed.
- `ServingClient` speaks TF Serving's REST API (port 8501) with the standard
  library alone; `GrpcServingClient` its gRPC API (port 8500) and needs the
  optional extra `pip install zoo[serving]` (`tensorflow-serving-api`, `grpcio`).

Reference: TensorFlow Serving, "RESTful API", "SavedModel Warmup" and "TensorFlow
Serving Configuration" guides (tensorflow.org/tfx/serving).
"""

import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from zoo import files

MODEL_CONFIG = "models.config"
WARMUP_FILE = "tf_serving_warmup_requests"


def docker_command(base_path="saved_models"):
    """The `docker run` line serving `base_path` (mounted at /models) with its models.config."""
    mount = base_path if os.path.isabs(base_path) else "$PWD/" + os.path.normpath(base_path)
    return (
        f'docker run -p 8501:8501 -p 8500:8500 -v "{mount}:/models" tensorflow/serving '
        "--model_config_file=/models/models.config"
    )


DOCKER_COMMAND = docker_command()
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


# -- models.config ----------------------------------------------------------------


def find_models(base_path="saved_models"):
    """Exported models under `base_path`: `{name: [versions]}`, both sorted.

    A model is a folder `base_path/<name>` holding at least one all-digit version
    folder with a `saved_model.pb`. Hidden folders (the `.tmp-*` folders an
    export in progress writes) and folders without a SavedModel are left out.

    Args:
        base_path: str, the export root. Default "saved_models".

    Returns:
        dict mapping model name to its sorted int versions.

    Raises:
        FileNotFoundError: if `base_path` is not a folder.
    """
    if not os.path.isdir(base_path):
        raise FileNotFoundError(f"base_path {base_path!r} is not a folder")
    models = {}
    for name in sorted(os.listdir(base_path)):
        folder = os.path.join(base_path, name)
        if name.startswith(".") or not _NAME.fullmatch(name) or not os.path.isdir(folder):
            continue
        found = sorted(
            int(v)
            for v in os.listdir(folder)
            if re.fullmatch(r"\d+", v) and os.path.isfile(os.path.join(folder, v, "saved_model.pb"))
        )
        if found:
            models[name] = found
    return models


def _quoted(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_labels(labels, models):
    """`labels` as `{name: {label: version}}` after checking names, labels and versions."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise ValueError(f"labels must be a dict {{model: {{label: version}}}}, got {type(labels).__name__}")
    for name, mapping in labels.items():
        if name not in models:
            raise ValueError(f"labels: no exported model {name!r}; found {sorted(models) or 'none'}")
        if not isinstance(mapping, dict):
            raise ValueError(f"labels[{name!r}] must be a dict {{label: version}}, got {mapping!r}")
        for label, version in mapping.items():
            if not isinstance(label, str) or not _LABEL.fullmatch(label):
                raise ValueError(f"labels[{name!r}]: a label is a name such as 'stable' or 'canary', got {label!r}")
            if version not in models[name]:
                raise ValueError(
                    f"labels[{name!r}][{label!r}]: version {version!r} is not exported; "
                    f"versions: {models[name]}"
                )
    return labels


def model_config_text(base_path="saved_models", root=None, labels=None):
    """The `--model_config_file` text protobuf for the models under `base_path`.

    Args:
        base_path: str, the export root to scan. Default "saved_models".
        root: str or None, the absolute path at which the *server* sees
            `base_path`: "/models" when the folder is mounted into the
            tensorflow/serving Docker image with `-v "$PWD/saved_models:/models"`.
            None (default) uses the absolute path of `base_path` on this machine.
        labels: None or dict `{model: {label: version}}`, e.g.
            `{"digits_dcgan": {"stable": 1, "canary": 2}}`, written as
            `version_labels` so clients can ask for `/labels/stable`.

    Returns:
        str, the config text.

    Raises:
        ValueError: no model found, a relative `root`, or a bad label.
    """
    models = find_models(base_path)
    if not models:
        raise ValueError(
            f"base_path {base_path!r} holds no exported model (expected NAME/<version>/saved_model.pb)"
        )
    if root is None:
        root = os.path.abspath(base_path)
    elif not isinstance(root, str) or not root.startswith("/"):
        raise ValueError(f"root must be an absolute path such as '/models', got {root!r}")
    labels = _check_labels(labels, models)
    lines = ["model_config_list {"]
    for name in models:
        lines += [
            "  config {",
            f"    name: {_quoted(name)}",
            f"    base_path: {_quoted(root.rstrip('/') + '/' + name)}",
            '    model_platform: "tensorflow"',
            "    model_version_policy {",
            "      all {",
            "      }",
            "    }",
        ]
        for label, version in sorted(labels.get(name, {}).items()):
            lines += ["    version_labels {", f"      key: {_quoted(label)}", f"      value: {version}", "    }"]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_model_config(base_path="saved_models", path=None, root=None, labels=None):
    """Writes TF Serving's `--model_config_file` for every model under `base_path`.

    Each model is served from `ROOT/<name>` with all its versions loaded
    (`model_version_policy { all {} }`). The file is written to a temporary file
    and renamed into place, so a server polling it (`--model_config_file_poll_wait_seconds`)
    never reads half a file.

    Args:
        base_path: str, the export root to scan. Default "saved_models".
        path: str or None, the file to write; None writes `base_path/models.config`.
        root: str or None, where the server sees `base_path` (see
            `model_config_text`); "/models" for the Docker command below. None:
            the absolute path of `base_path`.
        labels: None or dict `{model: {label: version}}` of version labels.

    Returns:
        The path written.

    Raises:
        ValueError: no model found, a relative `root`, or a bad label.

    Example:
        >>> write_model_config("saved_models", root="/models")  # doctest: +SKIP
        # docker run -p 8501:8501 -p 8500:8500 -v "$PWD/saved_models:/models" \\
        #     tensorflow/serving --model_config_file=/models/models.config
    """
    text = model_config_text(base_path, root=root, labels=labels)
    return files.write_bytes(path or os.path.join(base_path, MODEL_CONFIG), text.encode())


# -- warm-up requests ---------------------------------------------------------------


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, payload):
    """One length-delimited protobuf field (wire type 2)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def prediction_log_bytes(model_name, signature_name, inputs):
    """A serialised `tensorflow.serving.PredictionLog` holding one predict request.

    Encoded by hand around TensorFlow's `TensorProto`, with the field numbers of
    tensorflow_serving/apis: PredictionLog.predict_log = 6, PredictLog.request = 1,
    PredictRequest.model_spec = 1 and inputs = 2 (map entries key = 1, value = 2),
    ModelSpec.name = 1 and signature_name = 3.

    Args:
        model_name: str, the served model's name.
        signature_name: str, the signature the request calls.
        inputs: dict of input name -> numpy array (its dtype is kept).

    Returns:
        bytes.
    """
    import tensorflow as tf

    spec = _field(1, model_name) + _field(3, signature_name)
    request = _field(1, spec)
    for key in sorted(inputs):
        tensor = tf.make_tensor_proto(np.asarray(inputs[key])).SerializeToString()
        request += _field(2, _field(1, key) + _field(2, tensor))
    return _field(6, _field(1, request))


_DTYPES = {
    "DT_FLOAT": np.float32, "DT_DOUBLE": np.float64, "DT_HALF": np.float16,
    "DT_INT32": np.int32, "DT_INT64": np.int64, "DT_INT16": np.int16, "DT_INT8": np.int8,
    "DT_UINT8": np.uint8, "DT_UINT16": np.uint16, "DT_BOOL": np.bool_,
}  # fmt: skip


def default_warmup_inputs(export_dir):
    """Batch-1 inputs for each signature of a SavedModel, where they can be guessed.

    Read from `saved_model.pb` without loading the model: a batch dimension of
    unknown size becomes 1, float and integer tensors are zeros, and an integer
    scalar (a count such as `batch_size`) is 1. A signature with other unknown
    dimensions (image sizes) or non-numeric inputs is left out: its caller
    knows better (`zoo.export.export_translator` passes its own).

    Args:
        export_dir: str, a SavedModel folder.

    Returns:
        dict of signature name -> {input name: numpy array}, `serving_default` first.
    """
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.core.framework import types_pb2

    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        saved.ParseFromString(f.read())
    signatures = saved.meta_graphs[0].signature_def
    requests = {}
    for name in sorted(signatures, key=lambda s: (s != "serving_default", s)):
        if name.startswith("__"):  # __saved_model_init_op
            continue
        inputs = {}
        for key, info in signatures[name].inputs.items():
            dtype = _DTYPES.get(types_pb2.DataType.Name(info.dtype))
            shape = [d.size for d in info.tensor_shape.dim]
            if dtype is None or info.tensor_shape.unknown_rank or any(s < 0 for s in shape[1:]):
                inputs = None
                break
            if not shape:
                inputs[key] = np.asarray(1 if np.issubdtype(dtype, np.integer) else 0, dtype)
            else:
                inputs[key] = np.zeros([1 if shape[0] < 0 else shape[0], *shape[1:]], dtype)
        if inputs is not None:
            requests[name] = inputs
    return requests


def write_warmup_requests(export_dir, model_name, requests=None):
    """Writes `export_dir/assets.extra/tf_serving_warmup_requests` for TF Serving.

    One `PredictionLog` record per signature; TF Serving runs them when it loads
    the version, before it marks it AVAILABLE, so the first client does not wait
    for graph set-up. A request that fails makes TF Serving refuse the version:
    only inputs the signature accepts belong here.

    Args:
        export_dir: str, a SavedModel folder.
        model_name: str, the served model's name (written in each request's
            `model_spec`; TF Serving runs warm-up against the version it loads).
        requests: None or dict of signature name -> {input name: numpy array};
            None guesses them with `default_warmup_inputs`. Signatures missing
            from a given dict are guessed too.

    Returns:
        The path of the written file, or None when no signature could be filled.

    Example:
        >>> write_warmup_requests("saved_models/digits_dcgan/1", "digits_dcgan")  # doctest: +SKIP
    """
    import tensorflow as tf

    chosen = default_warmup_inputs(export_dir)
    chosen.update(requests or {})
    if not chosen:
        return None
    folder = os.path.join(export_dir, "assets.extra")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, WARMUP_FILE)
    with tf.io.TFRecordWriter(path) as writer:
        for signature in sorted(chosen, key=lambda s: (s != "serving_default", s)):
            writer.write(prediction_log_bytes(model_name, signature, chosen[signature]))
    return path


def _read_varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def _fields(data):
    """`[(field number, bytes or int)]` of one serialised protobuf message."""
    out, i = [], 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            length, i = _read_varint(data, i)
            value, i = data[i : i + length], i + length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = data[i : i + size], i + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


def parse_prediction_log(data):
    """`(model_name, signature_name, {input: array})` of a serialised predict `PredictionLog`.

    The inverse of `prediction_log_bytes`, decoded without tensorflow-serving-api.

    Raises:
        ValueError: the record holds no predict request.
    """
    from tensorflow.core.framework import tensor_pb2
    import tensorflow as tf

    logs = [v for n, v in _fields(data) if n == 6]
    requests = [v for n, v in _fields(logs[0]) if n == 1] if logs else []
    if not requests:
        raise ValueError("not a PredictionLog with a predict_log request")
    name = signature = ""
    inputs = {}
    for number, value in _fields(requests[0]):
        if number == 1:
            spec = dict(_fields(value))
            name, signature = spec.get(1, b"").decode(), spec.get(3, b"").decode()
        elif number == 2:
            entry = dict(_fields(value))
            inputs[entry[1].decode()] = tf.make_ndarray(tensor_pb2.TensorProto.FromString(entry.get(2, b"")))
    return name, signature, inputs


def read_warmup_requests(export_dir):
    """The warm-up requests of an export as `[(model_name, signature_name, {input: array})]`."""
    import tensorflow as tf

    path = os.path.join(export_dir, "assets.extra", WARMUP_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no warm-up requests at {path}")
    return [parse_prediction_log(record.numpy()) for record in tf.data.TFRecordDataset(path)]


# -- clients ------------------------------------------------------------------------


class ServingError(RuntimeError):
    """TF Serving answered with an HTTP error (or a gRPC error status).

    Attributes:
        status: int HTTP status (or the gRPC status name); message: the server's
        own `error` text; url: the request's URL (or gRPC target).
    """

    def __init__(self, status, message, url):
        self.status, self.message, self.url = status, message, url
        super().__init__(f"TF Serving answered {status} for {url}: {message}")


class ServingConnectionError(ConnectionError):
    """No TF Serving answered at the client's address."""


def _check_model_args(model, version, label, timeout):
    if not isinstance(model, str) or not _NAME.fullmatch(model):
        raise ValueError(f"model must be a served model's name (letters, digits, '_', '-', '.'), got {model!r}")
    if version is not None and label is not None:
        raise ValueError("pass version or label, not both")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise ValueError(f"version must be a positive int or None, got {version!r}")
    if label is not None and (not isinstance(label, str) or not _LABEL.fullmatch(label)):
        raise ValueError(f"label must be a version label such as 'stable', got {label!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def _signature_inputs(metadata, signature_name):
    """`{input: (dtype name, [dims])}` of one signature in a model metadata dict."""
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    if signature_name not in signatures:
        raise ValueError(f"signature {signature_name!r} not served; the model has {sorted(signatures)}")
    found = {}
    for key, info in signatures[signature_name].get("inputs", {}).items():
        dims = [int(d.get("size", -1)) for d in info.get("tensor_shape", {}).get("dim", [])]
        found[key] = (info.get("dtype"), dims)
    return found


class _ImageHelpers:
    """`generate`, `sample` and `translate` on top of a client's `predict` and `metadata`."""

    def _images(self, outputs, uint8):
        if not isinstance(outputs, dict) or "images" not in outputs:
            raise ValueError("the served signature did not return `images`: is this a zoo export?")
        if uint8:
            return np.asarray(outputs["images_uint8"], np.uint8)
        return np.asarray(outputs["images"], np.float32)

    def latent_dim(self):
        """The noise size of the served generator, from its metadata (cached)."""
        if getattr(self, "_latent_dim", None) is None:
            dtype, dims = _signature_inputs(self.metadata(), "serving_default").get("noise", (None, []))
            if len(dims) != 2 or dims[-1] < 1:
                raise ValueError(f"model {self.model!r} has no `noise` input (batch, latent_dim): not a generator")
            self._latent_dim = dims[-1]
        return self._latent_dim

    def generate(self, num_or_z, *, labels=None, seed=None, uint8=False, batch_size=64):
        """Images from noise through `serving_default`.

        Args:
            num_or_z: int, number of images (standard normal noise drawn here
                with `seed`), or an array of noise `(n, latent_dim)`.
            labels: None, or int class indices `(n,)` for a conditional export.
            seed: None or int, seed of the drawn noise.
            uint8: bool, return `images_uint8` in [0, 255] instead of float32
                images in [-1, 1]. Default False.
            batch_size: int, images per request. Default 64.

        Returns:
            numpy array `(n, height, width, channels)`.
        """
        if isinstance(num_or_z, (int, np.integer)) and not isinstance(num_or_z, bool):
            if num_or_z < 1:
                raise ValueError(f"num_or_z: number of images must be positive, got {num_or_z}")
            z = np.random.default_rng(seed).standard_normal((int(num_or_z), self.latent_dim())).astype(np.float32)
        else:
            z = np.asarray(num_or_z, np.float32)
            if z.ndim != 2:
                raise ValueError(f"num_or_z: noise must be (n, latent_dim), got shape {z.shape}")
        if labels is not None:
            labels = np.asarray(labels, np.int32)
            if labels.shape != (len(z),):
                raise ValueError(f"labels must have shape ({len(z)},), got {labels.shape}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        parts = []
        for start in range(0, len(z), batch_size):
            inputs = {"noise": z[start : start + batch_size]}
            if labels is not None:
                inputs["labels"] = labels[start : start + batch_size]
            parts.append(self._images(self.predict(inputs), uint8))
        return np.concatenate(parts)

    def sample(self, batch_size=None, *, labels=None, uint8=False):
        """Images with noise drawn by the server, through the `sample` signature.

        Args:
            batch_size: int, number of images (unconditional exports).
            labels: int class indices `(n,)`, one image each (conditional exports).
            uint8: bool, return uint8 pixels instead of floats in [-1, 1].
        """
        if (batch_size is None) == (labels is None):
            raise ValueError("pass batch_size (unconditional export) or labels (conditional), not both")
        if labels is None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
                raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
            inputs = {"batch_size": np.asarray(batch_size, np.int32)}
        else:
            inputs = {"labels": np.asarray(labels, np.int32)}
        return self._images(self.predict(inputs, signature_name="sample"), uint8)

    def translate(self, images, *, uint8=None, batch_size=16):
        """Image-to-image translation through an `export_translator` export.

        uint8 images go to the `uint8` signature, float images (in [-1, 1]) to
        `serving_default`.

        Args:
            images: array `(n, height, width, channels)`.
            uint8: None (return the input's kind), or bool.
            batch_size: int, images per request. Default 16.
        """
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"images must be (n, height, width, channels), got shape {images.shape}")
        signature = "uint8" if images.dtype == np.uint8 else "serving_default"
        if signature == "serving_default":
            images = images.astype(np.float32)
        uint8 = images.dtype == np.uint8 if uint8 is None else uint8
        parts = [
            self._images(self.predict({"images": images[s : s + batch_size]}, signature_name=signature), uint8)
            for s in range(0, len(images), batch_size)
        ]
        return np.concatenate(parts)


def _jsonable(value):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"inputs must be numeric arrays, got dtype {array.dtype}")
    return array.tolist()


class ServingClient(_ImageHelpers):
    """A TF Serving REST client for zoo exports, on the standard library alone.

    Talks to `URL/v1/models/MODEL` (or `/versions/N`, `/labels/L`): `status`,
    `metadata`, `predict` (row `instances` or columnar `inputs` form), and the
    image helpers `generate`, `sample` and `translate`.

    Args:
        url: str, the server's REST address. Default "http://localhost:8501".
        model: str, the served model's name. Default "digits_dcgan".
        version: None or int, a specific version (default: the newest loaded).
        label: None or str, a version label such as "stable" (not with `version`).
        timeout: float, seconds per request. Default 30.

    Raises:
        ServingError: the server answered an HTTP error; its `error` text is kept.
        ServingConnectionError: nothing answered at `url`.

    Example:
        >>> client = ServingClient("http://localhost:8501", model="digits_dcgan")  # doctest: +SKIP
        >>> images = client.generate(16, seed=0)  # (16, 28, 28, 1) in [-1, 1]  # doctest: +SKIP

    Reference: TensorFlow Serving "RESTful API" guide.
    """

    def __init__(self, url="http://localhost:8501", model="digits_dcgan", version=None, label=None, timeout=30.0):
        if not isinstance(url, str) or not re.match(r"https?://[^/]+", url):
            raise ValueError(f"url must look like 'http://HOST:PORT', got {url!r}")
        _check_model_args(model, version, label, timeout)
        self.url, self.model, self.version, self.label, self.timeout = url.rstrip("/"), model, version, label, timeout
        self._metadata = None

    @property
    def model_url(self):
        """`URL/v1/models/MODEL[/versions/N|/labels/L]`."""
        path = f"{self.url}/v1/models/{urllib.parse.quote(self.model)}"
        if self.version is not None:
            path += f"/versions/{self.version}"
        elif self.label is not None:
            path += f"/labels/{urllib.parse.quote(self.label)}"
        return path

    def _request(self, url, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"} if body is not None else {},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                message = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                message = text or error.reason
            raise ServingError(error.code, message, url) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise ServingConnectionError(
                f"cannot reach TF Serving at {self.url} ({reason}). Start it on the exports with\n"
                f"  zoo serve-config --root /models && {DOCKER_COMMAND}"
            ) from None

    def status(self):
        """The `model_version_status` list: `[{"version", "state", "status"}]`."""
        return self._request(self.model_url)["model_version_status"]

    def metadata(self, refresh=False):
        """The model's metadata dict (`model_spec`, `metadata.signature_def`), cached."""
        if self._metadata is None or refresh:
            self._metadata = self._request(self.model_url + "/metadata")
        return self._metadata

    def signatures(self):
        """Served signature names mapped to their inputs `{input: (dtype, dims)}`."""
        defs = self.metadata()["metadata"]["signature_def"]["signature_def"]
        return {name: _signature_inputs(self.metadata(), name) for name in defs if not name.startswith("__")}

    def predict(self, inputs, signature_name="serving_default", form="columnar"):
        """One `:predict` call.

        Args:
            inputs: dict of input name -> array, or one array for a
                single-input signature.
            signature_name: str. Default "serving_default".
            form: "columnar" (`{"inputs": ...}`, any shapes, scalars too) or
                "row" (`{"instances": [...]}`, all inputs sharing the batch size).

        Returns:
            dict of output name -> numpy array, or one array when the signature
            has a single output (TF Serving leaves its name out).
        """
        if form not in ("columnar", "row"):
            raise ValueError(f"form must be 'columnar' or 'row', got {form!r}")
        if not isinstance(signature_name, str) or not signature_name:
            raise ValueError(f"signature_name must be a non-empty string, got {signature_name!r}")
        named = isinstance(inputs, dict)
        values = {k: np.asarray(v) for k, v in inputs.items()} if named else np.asarray(inputs)
        body = {"signature_name": signature_name}
        if form == "columnar":
            body["inputs"] = {k: _jsonable(v) for k, v in values.items()} if named else _jsonable(values)
        else:
            if named:
                sizes = {k: (v.shape[0] if v.ndim else None) for k, v in values.items()}
                if None in sizes.values() or len(set(sizes.values())) != 1:
                    raise ValueError(f"row form needs inputs with one common batch size, got {sizes}")
                rows = [{k: _jsonable(v[i]) for k, v in values.items()} for i in range(next(iter(sizes.values())))]
            else:
                rows = _jsonable(values)
            body["instances"] = rows
        answer = self._request(self.model_url + ":predict", body)
        if "outputs" in answer:
            outputs = answer["outputs"]
            return {k: np.asarray(v) for k, v in outputs.items()} if isinstance(outputs, dict) else np.asarray(outputs)
        predictions = answer["predictions"]
        if predictions and isinstance(predictions[0], dict):
            return {k: np.asarray([row[k] for row in predictions]) for k in predictions[0]}
        return np.asarray(predictions)


class GrpcServingClient(_ImageHelpers):
    """A TF Serving gRPC client (`PredictionService`, `ModelService`) for zoo exports.

    Same helpers as `ServingClient` (`generate`, `sample`, `translate`); tensors
    travel as `TensorProto`, so dtypes are exact and large batches cheaper than JSON.
    Needs `pip install 'zoo[serving]'` (tensorflow-serving-api, grpcio).

    Args:
        target: str, "HOST:PORT" of the gRPC API. Default "localhost:8500".
        model: str, the served model's name. Default "digits_dcgan".
        version: None or int; label: None or str (not both).
        timeout: float, seconds per call. Default 30.

    Example:
        >>> client = GrpcServingClient("localhost:8500", model="digits_dcgan")  # doctest: +SKIP
        >>> images = client.sample(8, uint8=True)  # doctest: +SKIP

    Reference: tensorflow_serving/apis/prediction_service.proto.
    """

    def __init__(self, target="localhost:8500", model="digits_dcgan", version=None, label=None, timeout=30.0):
        try:
            import grpc
            from tensorflow_serving.apis import prediction_service_pb2_grpc, model_service_pb2_grpc
        except ImportError as error:
            raise ImportError(
                f"GrpcServingClient needs grpcio and tensorflow-serving-api ({error}); install them with "
                "pip install 'zoo[serving]', or use the REST ServingClient"
            ) from None
        if not isinstance(target, str) or not re.fullmatch(r"[^:/\s]+:\d+", target):
            raise ValueError(f"target must be 'HOST:PORT', got {target!r}")
        _check_model_args(model, version, label, timeout)
        self.target, self.model, self.version, self.label, self.timeout = target, model, version, label, timeout
        self._grpc = grpc
        self._channel = grpc.insecure_channel(target)
        self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self._metadata = None

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _spec(self, spec, signature_name=None):
        spec.name = self.model
        if self.version is not None:
            spec.version.value = self.version
        elif self.label is not None:
            spec.version_label = self.label
        if signature_name is not None:
            spec.signature_name = signature_name

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except self._grpc.RpcError as error:
            code = error.code()
            if code in (self._grpc.StatusCode.UNAVAILABLE, self._grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ServingConnectionError(
                    f"cannot reach TF Serving's gRPC API at {self.target} ({code.name}: {error.details()}). "
                    f"Start it on the exports with\n  zoo serve-config --root /models && {DOCKER_COMMAND}"
                ) from None
            raise ServingError(code.name, error.details(), self.target) from None

    def status(self):
        """The `model_version_status` list as dicts, like `ServingClient.status`."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec)
        answer = self._call(self._models.GetModelStatus, request)
        return json_format.MessageToDict(answer, preserving_proto_field_name=True)["model_version_status"]

    def metadata(self, refresh=False):
        """The model's signature metadata, in the REST API's JSON layout."""
        if self._metadata is None or refresh:
            from google.protobuf import json_format
            from tensorflow_serving.apis import get_model_metadata_pb2

            request = get_model_metadata_pb2.GetModelMetadataRequest()
            self._spec(request.model_spec)
            request.metadata_field.append("signature_def")
            answer = self._call(self._predict.GetModelMetadata, request)
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            answer.metadata["signature_def"].Unpack(signature_map)
            self._metadata = {
                "model_spec": json_format.MessageToDict(answer.model_spec, preserving_proto_field_name=True),
                "metadata": {
                    "signature_def": json_format.MessageToDict(signature_map, preserving_proto_field_name=True)
                },
            }
        return self._metadata

    def predict(self, inputs, signature_name="serving_default"):
        """One `Predict` call: dict of input name -> array in, dict of output name -> array out."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        if not isinstance(inputs, dict):
            raise ValueError("inputs must be a dict of input name -> array for gRPC")
        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, signature_name)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
        answer = self._call(self._predict.Predict, request)
        return {key: tf.make_ndarray(value) for key, value in answer.outputs.items()}
