"""Warm-up requests: the `PredictionLog` records TF Serving replays when it loads a version.

`write_warmup_requests` writes `assets.extra/tf_serving_warmup_requests`, so the
first real request does not pay for graph set-up; `zoo.export` calls it for every
export. The records are encoded here from TensorFlow's own `TensorProto`, so
`tensorflow-serving-api` is not needed.

Reference: TensorFlow Serving, "SavedModel Warmup" guide.
"""

import os

import numpy as np

WARMUP_FILE = "tf_serving_warmup_requests"

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

    from zoo import files

    path = os.path.join(export_dir, "assets.extra", WARMUP_FILE)
    if not files.isfile(path):
        raise FileNotFoundError(f"no warm-up requests at {path}")
    return [parse_prediction_log(record.numpy()) for record in tf.data.TFRecordDataset(path)]
