"""Clients for TF Serving: REST (`ServingClient`, standard library only) and gRPC.

`GrpcServingClient` needs the optional extra `pip install zoo[serving]`
(`tensorflow-serving-api`, `grpcio`).

Reference: TensorFlow Serving, "RESTful API" guide.
"""

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from zoo import checks
from zoo.serving.config import _LABEL, _NAME, DOCKER_COMMAND

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
    checks.number(timeout, "timeout", above=0)


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
