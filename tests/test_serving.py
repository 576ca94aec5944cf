"""zoo.serving: models.config, warm-up requests, and the REST/gRPC clients against fake servers.

The fake servers run real exports with `tf.saved_model.load`, so JSON encoding,
batching and signature handling are checked end to end; their URL layout, JSON
shapes and error bodies follow TF Serving's REST API guide.
"""

import http.server
import json
import os
import re
import socket
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

from zoo import cli, export, nets, serving
from zoo.models import GAN, ConditionalGAN, Pix2Pix

SHAPE = (16, 16, 1)
LATENT = 8


def _serving_protos():
    try:
        from tensorflow_serving.apis import prediction_log_pb2  # noqa: F401
        from tensorflow_serving.config import model_server_config_pb2  # noqa: F401
    except ImportError:
        return False
    return True


HAS_SERVING_API = _serving_protos()


# -- a tiny text-protobuf parser (enough for models.config) ---------------------------

_TOKEN = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|"((?:[^"\\]|\\.)*)"|([{}:]))')


def parse_text_proto(text):
    """`{field: [values]}` with nested messages as dicts; raises on anything unexpected."""
    tokens, pos = [], 0
    while text[pos:].strip():
        match = _TOKEN.match(text, pos)
        assert match, f"cannot parse at {text[pos:pos + 20]!r}"
        ident, number, string, punct = match.groups()
        tokens.append(
            ("id", ident) if ident else ("int", int(number)) if number else
            ("str", re.sub(r"\\(.)", r"\1", string)) if string is not None else ("p", punct)
        )  # fmt: skip
        pos = match.end()

    def message(i, closing):
        fields = {}
        while i < len(tokens) and tokens[i] != ("p", "}"):
            kind, name = tokens[i]
            assert kind == "id", tokens[i]
            if tokens[i + 1] == ("p", ":"):
                value, i = tokens[i + 2][1], i + 3
            else:
                assert tokens[i + 1] == ("p", "{"), tokens[i + 1]
                value, i = message(i + 2, True)
            fields.setdefault(name, []).append(value)
        if closing:
            assert tokens[i] == ("p", "}")
            i += 1
        return fields, i

    fields, end = message(0, False)
    assert end == len(tokens)
    return fields


def fake_export(base, name, version):
    folder = base / name / str(version)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")


def test_model_config_lists_every_model_and_version(tmp_path):
    base = tmp_path / "saved_models"
    fake_export(base, "digits_dcgan", 1)
    fake_export(base, "digits_dcgan", 3)
    fake_export(base, "facades", 2)
    (base / "digits_dcgan" / ".tmp-4-abc").mkdir()  # an export in progress
    (base / ".tmp-x").mkdir()
    fake_export(base, ".hidden", 1)
    (base / "empty" / "1").mkdir(parents=True)  # no saved_model.pb
    (base / "digits_dcgan" / "notes").mkdir()
    (base / "README.md").write_text("exports")
    assert serving.find_models(str(base)) == {"digits_dcgan": [1, 3], "facades": [2]}

    path = serving.write_model_config(str(base), labels={"digits_dcgan": {"stable": 1, "canary": 3}})
    assert path == str(base / "models.config")
    assert sorted(p.name for p in base.iterdir() if p.is_file()) == ["README.md", "models.config"]
    parsed = parse_text_proto(open(path).read())
    (config_list,) = parsed["model_config_list"]
    configs = {c["name"][0]: c for c in config_list["config"]}
    assert sorted(configs) == ["digits_dcgan", "facades"]
    for name, config in configs.items():
        assert config["base_path"] == [str(base.resolve() / name)]
        assert os.path.isabs(config["base_path"][0])
        assert config["model_platform"] == ["tensorflow"]
        assert config["model_version_policy"] == [{"all": [{}]}]
    labels = {e["key"][0]: e["value"][0] for e in configs["digits_dcgan"]["version_labels"]}
    assert labels == {"stable": 1, "canary": 3}
    assert "version_labels" not in configs["facades"]


def test_model_config_parses_with_tf_serving_protos(tmp_path):
    if not HAS_SERVING_API:
        pytest.skip("tensorflow-serving-api is not installed")
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    fake_export(tmp_path, "m", 1)
    fake_export(tmp_path, "m", 2)
    path = serving.write_model_config(str(tmp_path), path=str(tmp_path / "out" / "serving.config"),
                                      root="/models", labels={"m": {"stable": 2}})  # fmt: skip
    config = text_format.Parse(open(path).read(), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("m", "/models/m", "tensorflow")
    assert model.model_version_policy.WhichOneof("policy_choice") == "all"
    assert dict(model.version_labels) == {"stable": 2}


def test_model_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="base_path"):
        serving.write_model_config(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="no exported model"):
        serving.write_model_config(str(tmp_path))
    fake_export(tmp_path, "m", 1)
    with pytest.raises(ValueError, match="root must be an absolute path"):
        serving.write_model_config(str(tmp_path), root="models")
    with pytest.raises(ValueError, match="version 2 is not exported"):
        serving.write_model_config(str(tmp_path), labels={"m": {"stable": 2}})
    with pytest.raises(ValueError, match="no exported model 'x'"):
        serving.write_model_config(str(tmp_path), labels={"x": {"stable": 1}})
    with pytest.raises(ValueError, match="a label is a name"):
        serving.write_model_config(str(tmp_path), labels={"m": {"1": 1}})
    assert not (tmp_path / "models.config").exists()


def test_serve_config_command(tmp_path, capsys):
    fake_export(tmp_path, "digits_dcgan", 1)
    fake_export(tmp_path, "digits_dcgan", 2)
    code = cli.main(["serve-config", "--base-path", str(tmp_path), "--root", "/models",
                     "--label", "digits_dcgan:stable=1", "--label", "digits_dcgan:canary=2"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "digits_dcgan: versions 1, 2" in out and "docker run -p 8501:8501" in out
    config = parse_text_proto((tmp_path / "models.config").read_text())["model_config_list"][0]["config"][0]
    assert config["base_path"] == ["/models/digits_dcgan"]
    assert {e["key"][0]: e["value"][0] for e in config["version_labels"]} == {"stable": 1, "canary": 2}
    assert cli.main(["serve-config", "--base-path", str(tmp_path), "--label", "digits_dcgan:stable=9"]) == 2
    assert "version 9 is not exported" in capsys.readouterr().err


# -- real exports --------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Real exports: digits v1 and v2 (different weights), a conditional GAN, a translator."""
    import keras

    base = tmp_path_factory.mktemp("saved_models")
    models = {}
    for version, seed in ((1, 1), (2, 2)):
        keras.utils.set_random_seed(seed)
        gan = GAN(nets.dcgan_generator(LATENT, SHAPE, base_filters=4), nets.dcgan_discriminator(SHAPE, base_filters=4))
        export.export_generator(gan, "digits", base_path=str(base), version=version)
        models[("digits", version)] = gan
    cgan = ConditionalGAN(
        nets.dcgan_generator(LATENT, SHAPE, 4, num_classes=3), nets.dcgan_discriminator(SHAPE, 4, num_classes=3),
        num_classes=3,
    )  # fmt: skip
    export.export_generator(cgan, "cgan", base_path=str(base))
    models[("cgan", 1)] = cgan
    # Deterministic by default, so the REST client's answers can be compared with the model's.
    pix2pix = Pix2Pix(nets.unet_generator(num_downsamples=3, base_filters=4),
                      nets.patch_discriminator(source_channels=3, base_filters=4, num_layers=1),
                      inference="deterministic")  # fmt: skip
    export.export_translator(pix2pix, "facades", base_path=str(base))
    models[("facades", 1)] = pix2pix
    serving.write_model_config(str(base), labels={"digits": {"stable": 1, "canary": 2}})
    return base, models


EXPECTED_WARMUP = {
    "digits": {"serving_default": {"noise": (np.float32, (1, LATENT))}, "sample": {"batch_size": (np.int32, ())}},
    "cgan": {
        "serving_default": {"noise": (np.float32, (1, LATENT)), "labels": (np.int32, (1,))},
        "sample": {"labels": (np.int32, (1,))},
    },
    "facades": {
        signature: {"images": (np.uint8 if signature.endswith("uint8") else np.float32, (1, 8, 8, 3))}
        for signature in ("serving_default", "uint8", "deterministic", "deterministic_uint8", "paper", "paper_uint8")
    },
}


def test_every_export_has_warmup_requests_that_run(exports):
    base, _ = exports
    for name, expected in EXPECTED_WARMUP.items():
        path = export.resolve_export(str(base / name))
        requests = serving.read_warmup_requests(path)
        # serving_default first, then one request per other signature
        assert [r[1] for r in requests] == ["serving_default", *sorted(set(expected) - {"serving_default"})]
        loaded = tf.saved_model.load(path)
        for model_name, signature, inputs in requests:
            assert model_name == name
            assert {k: (v.dtype.type, v.shape) for k, v in inputs.items()} == expected[signature]
            out = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
            image_shape = (1, 8, 8, 3) if name == "facades" else (1, *SHAPE)
            assert out["images"].shape == image_shape and out["images_uint8"].dtype == tf.uint8
            assert np.all(np.isfinite(out["images"].numpy()))


def test_warmup_records_parse_as_prediction_logs(exports):
    if not HAS_SERVING_API:
        pytest.skip("tensorflow-serving-api is not installed")
    from tensorflow_serving.apis import prediction_log_pb2

    base, _ = exports
    path = os.path.join(export.resolve_export(str(base / "cgan")), "assets.extra", serving.WARMUP_FILE)
    logs = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]
    assert [log.WhichOneof("log_type") for log in logs] == ["predict_log", "predict_log"]
    first = logs[0].predict_log.request
    assert (first.model_spec.name, first.model_spec.signature_name) == ("cgan", "serving_default")
    assert sorted(first.inputs) == ["labels", "noise"]
    assert tf.make_ndarray(first.inputs["noise"]).shape == (1, LATENT)
    assert tf.make_ndarray(first.inputs["labels"]).dtype == np.int32
    # The hand encoding round-trips through the official messages byte for byte.
    assert logs[1].SerializeToString(deterministic=True) == serving.prediction_log_bytes(
        "cgan", "sample", {"labels": np.zeros(1, np.int32)}
    )


REPLAY = r"""
import json
import numpy as np, tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
path = sys.argv[1]
loaded = tf.saved_model.load(path)
shapes = []
for record in tf.data.TFRecordDataset(path + "/assets.extra/tf_serving_warmup_requests"):
    request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
    fn = loaded.signatures[request.model_spec.signature_name]
    out = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
    shapes.append([request.model_spec.signature_name, out["images"].shape.as_list()])
print(json.dumps(shapes))
"""


@pytest.mark.slow  # a fresh interpreter importing TensorFlow: 5-17 s
def test_warmup_replays_in_a_process_without_zoo(exports, run_without_zoo):
    if not HAS_SERVING_API:
        pytest.skip("tensorflow-serving-api is not installed")
    base, _ = exports
    shapes = run_without_zoo(REPLAY, export.resolve_export(str(base / "facades")))
    assert shapes == [[signature, [1, 8, 8, 3]] for signature in
                      ("serving_default", "deterministic", "deterministic_uint8", "paper", "paper_uint8", "uint8")]


# -- a fake TF Serving -----------------------------------------------------------------


class Backend:
    """The models under an export root, loaded with tf.saved_model.load, served like TF Serving."""

    def __init__(self, base, labels):
        self.base, self.labels = base, labels
        self.models = serving.find_models(str(base))
        self._loaded = {}

    def resolve(self, name, version=None, label=None):
        """`(version, loaded SavedModel)`; raises LookupError with TF Serving's message."""
        if name not in self.models:
            raise LookupError(f"Servable not found for request: Latest({name})")
        if label is not None:
            if label not in self.labels.get(name, {}):
                raise LookupError(f"Unrecognized servable version label: {label}")
            version = self.labels[name][label]
        if version is None:
            version = self.models[name][-1]
        if version not in self.models[name]:
            raise LookupError(f"Servable not found for request: Specific({name}, {version})")
        key = (name, version)
        if key not in self._loaded:
            self._loaded[key] = tf.saved_model.load(str(self.base / name / str(version)))
        return version, self._loaded[key]

    def signature_defs(self, name, version):
        from tensorflow.core.protobuf import saved_model_pb2

        saved = saved_model_pb2.SavedModel()
        saved.ParseFromString((self.base / name / str(version) / "saved_model.pb").read_bytes())
        return saved.meta_graphs[0].signature_def

    @staticmethod
    def run(loaded, signature_name, inputs):
        """Outputs (numpy) of one signature; ValueError with the reason for bad requests."""
        if signature_name not in loaded.signatures:
            raise ValueError(f'Serving signature name: "{signature_name}" not found in signature def')
        fn = loaded.signatures[signature_name]
        specs = fn.structured_input_signature[1]
        if sorted(inputs) != sorted(specs):
            raise ValueError(f"input names {sorted(inputs)} do not match the signature's {sorted(specs)}")
        try:
            tensors = {k: tf.constant(np.asarray(v), dtype=specs[k].dtype) for k, v in inputs.items()}
            return {k: v.numpy() for k, v in fn(**tensors).items()}
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            raise ValueError(str(getattr(error, "message", error))) from None


ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?(?P<rest>/metadata|:predict)?$"
)


def make_handler(backend):
    from google.protobuf import json_format
    from tensorflow.core.protobuf import meta_graph_pb2

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self, method):
            match = ROUTE.match(self.path)
            if not match or (method == "POST") != (match["rest"] == ":predict"):
                return self.reply(404, {"error": f"Malformed request: {method} {self.path}"})
            name, rest = match["name"], match["rest"]
            try:
                version, loaded = backend.resolve(
                    name, int(match["version"]) if match["version"] else None, match["label"]
                )
            except LookupError as error:
                return self.reply(404, {"error": str(error)})
            if rest is None:
                versions = [version] if (match["version"] or match["label"]) else backend.models[name]
                status = [{"version": str(v), "state": "AVAILABLE",
                           "status": {"error_code": "OK", "error_message": ""}} for v in versions]  # fmt: skip
                return self.reply(200, {"model_version_status": status})
            if rest == "/metadata":
                signature_map = meta_graph_pb2.MetaGraphDef().signature_def
                signature_map.MergeFrom(backend.signature_defs(name, version))
                defs = {k: json_format.MessageToDict(v, preserving_proto_field_name=True) for k, v in signature_map.items()}
                return self.reply(200, {
                    "model_spec": {"name": name, "signature_name": "", "version": str(version)},
                    "metadata": {"signature_def": {"signature_def": defs}},
                })  # fmt: skip
            try:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if ("instances" in body) == ("inputs" in body):
                    raise ValueError("Missing 'inputs' or 'instances' key")
                signature = body.get("signature_name", "serving_default")
                specs = loaded.signatures[signature].structured_input_signature[1] if signature in loaded.signatures else {}
                row = "instances" in body
                data = body["instances"] if row else body["inputs"]
                if row and data and isinstance(data[0], dict):
                    inputs = {k: [r[k] for r in data] for k in data[0]}
                elif isinstance(data, dict):
                    inputs = data
                else:
                    inputs = {next(iter(specs), "input"): data}
                outputs = backend.run(loaded, signature, inputs)
            except ValueError as error:
                return self.reply(400, {"error": str(error)})
            if row:
                names = sorted(outputs)
                count = len(outputs[names[0]])
                return self.reply(200, {"predictions": [{k: outputs[k][i].tolist() for k in names} for i in range(count)]})
            return self.reply(200, {"outputs": {k: v.tolist() for k, v in outputs.items()}})

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

    return Handler


@pytest.fixture(scope="module")
def backend(exports):
    base, _ = exports
    return Backend(base, {"digits": {"stable": 1, "canary": 2}})


@pytest.fixture(scope="module")
def rest_url(backend):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(backend))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_rest_status_metadata_and_both_predict_forms(exports, rest_url):
    _, models = exports
    client = serving.ServingClient(rest_url, model="digits")
    assert [s["version"] for s in client.status()] == ["1", "2"]
    assert all(s["state"] == "AVAILABLE" for s in client.status())
    assert client.latent_dim() == LATENT
    assert client.signatures()["sample"] == {"batch_size": ("DT_INT32", [])}

    noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype(np.float32)
    columnar = client.predict({"noise": noise})
    row = client.predict({"noise": noise}, form="row")
    expected = models[("digits", 2)].generate(noise)  # the newest version answers
    for out in (columnar, row):
        np.testing.assert_allclose(out["images"], expected, atol=1e-5)
        np.testing.assert_array_equal(out["images_uint8"], np.round((np.clip(expected, -1, 1) + 1) * 127.5))
    assert not np.allclose(expected, models[("digits", 1)].generate(noise), atol=1e-3)


def test_rest_generate_sample_and_versions(exports, rest_url):
    _, models = exports
    stable = serving.ServingClient(rest_url, model="digits", label="stable")
    assert stable.model_url.endswith("/v1/models/digits/labels/stable")
    images = stable.generate(5, seed=3, batch_size=2)
    z = np.random.default_rng(3).standard_normal((5, LATENT)).astype(np.float32)
    np.testing.assert_allclose(images, models[("digits", 1)].generate(z), atol=1e-5)
    assert images.dtype == np.float32
    pixels = serving.ServingClient(rest_url, model="digits", version=1).generate(z, uint8=True)
    assert pixels.dtype == np.uint8 and pixels.shape == (5, *SHAPE)
    np.testing.assert_array_equal(pixels, np.round((images + 1) * 127.5).astype(np.uint8))

    sampled = stable.sample(4)
    assert sampled.shape == (4, *SHAPE) and np.all(np.abs(sampled) <= 1)
    assert sampled.std() > 0  # noise drawn server-side, not zeros

    cgan = serving.ServingClient(rest_url, model="cgan")
    labels = np.array([0, 2, 1])
    np.testing.assert_allclose(cgan.generate(z[:3], labels=labels), models[("cgan", 1)].generate(z[:3], labels=labels), atol=1e-5)
    assert cgan.sample(labels=labels).shape == (3, *SHAPE)


def test_rest_translate_float_and_uint8(exports, rest_url):
    _, models = exports
    client = serving.ServingClient(rest_url, model="facades")
    pixels = np.random.default_rng(0).integers(0, 256, (3, 16, 24, 3)).astype(np.uint8)
    images = pixels.astype(np.float32) / 127.5 - 1
    expected = models[("facades", 1)].translate(images)
    np.testing.assert_allclose(client.translate(images, batch_size=2), expected, atol=1e-5)
    out = client.translate(pixels)
    assert out.dtype == np.uint8 and out.shape == (3, 16, 24, 3)
    np.testing.assert_array_equal(out, np.round((np.clip(expected, -1, 1) + 1) * 127.5).astype(np.uint8))


def test_rest_errors_show_the_server_message(rest_url):
    with pytest.raises(serving.ServingError, match="Servable not found") as info:
        serving.ServingClient(rest_url, model="nope").status()
    assert info.value.status == 404 and "/v1/models/nope" in info.value.url
    with pytest.raises(serving.ServingError, match=r"Specific\(digits, 7\)"):
        serving.ServingClient(rest_url, model="digits", version=7).predict({"noise": np.zeros((1, LATENT))})
    client = serving.ServingClient(rest_url, model="digits")
    with pytest.raises(serving.ServingError) as info:
        client.predict({"noise": np.zeros((2, LATENT + 1))})
    assert info.value.status == 400 and str(LATENT + 1) in info.value.message
    with pytest.raises(serving.ServingError, match="batch_size must be positive"):
        client.predict({"batch_size": 0}, signature_name="sample")
    with pytest.raises(serving.ServingError, match='"nope" not found'):
        client.predict({"noise": np.zeros((1, LATENT))}, signature_name="nope")
    with pytest.raises(serving.ServingError, match=r"labels must be class indices in \[0, 3\)"):
        serving.ServingClient(rest_url, model="cgan").generate(2, labels=[0, 5])


def test_rest_client_argument_checks():
    with pytest.raises(ValueError, match="url"):
        serving.ServingClient("localhost:8501")
    with pytest.raises(ValueError, match="version or label"):
        serving.ServingClient(version=1, label="stable")
    with pytest.raises(ValueError, match="version"):
        serving.ServingClient(version=0)
    with pytest.raises(ValueError, match="form"):
        serving.ServingClient().predict({"noise": [[0.0]]}, form="rows")
    with pytest.raises(ValueError, match="row form"):
        serving.ServingClient().predict({"batch_size": 3}, form="row")


def test_connection_failure_names_the_url_and_the_server_command():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = serving.ServingClient(f"http://127.0.0.1:{port}", model="digits", timeout=5)
    with pytest.raises(serving.ServingConnectionError) as info:
        client.status()
    assert f"http://127.0.0.1:{port}" in str(info.value)
    assert "docker run" in str(info.value) and "tensorflow/serving" in str(info.value)


# -- gRPC ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grpc_target(backend):
    grpc = pytest.importorskip("grpc")
    if not HAS_SERVING_API:
        pytest.skip("tensorflow-serving-api is not installed")
    from concurrent import futures

    from google.protobuf import any_pb2
    from tensorflow_serving.apis import (
        get_model_metadata_pb2,
        get_model_status_pb2,
        model_service_pb2_grpc,
        predict_pb2,
        prediction_service_pb2_grpc,
    )

    def resolve(spec, context):
        version = spec.version.value if spec.HasField("version") else None
        try:
            return backend.resolve(spec.name, version, spec.version_label or None)
        except LookupError as error:
            context.abort(grpc.StatusCode.NOT_FOUND, str(error))

    class Prediction(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            version, loaded = resolve(request.model_spec, context)
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            try:
                outputs = backend.run(loaded, request.model_spec.signature_name or "serving_default", inputs)
            except ValueError as error:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            answer = predict_pb2.PredictResponse()
            answer.model_spec.name, answer.model_spec.version.value = request.model_spec.name, version
            for key, value in outputs.items():
                answer.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return answer

        def GetModelMetadata(self, request, context):
            version, _ = resolve(request.model_spec, context)
            signature_map = get_model_metadata_pb2.SignatureDefMap()
            for key, value in backend.signature_defs(request.model_spec.name, version).items():
                signature_map.signature_def[key].CopyFrom(value)
            packed = any_pb2.Any()
            packed.Pack(signature_map)
            answer = get_model_metadata_pb2.GetModelMetadataResponse()
            answer.model_spec.name, answer.model_spec.version.value = request.model_spec.name, version
            answer.metadata["signature_def"].CopyFrom(packed)
            return answer

    class Models(model_service_pb2_grpc.ModelServiceServicer):
        def GetModelStatus(self, request, context):
            version, _ = resolve(request.model_spec, context)
            answer = get_model_status_pb2.GetModelStatusResponse()
            status = answer.model_version_status.add()
            status.version, status.state = version, get_model_status_pb2.ModelVersionStatus.AVAILABLE
            return answer

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Prediction(), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(Models(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


def test_grpc_client_matches_the_model(exports, grpc_target):
    _, models = exports
    with serving.GrpcServingClient(grpc_target, model="digits", label="stable", timeout=20) as client:
        assert client.status() == [{"version": "1", "state": "AVAILABLE"}]
        assert client.latent_dim() == LATENT
        z = np.random.default_rng(4).standard_normal((3, LATENT)).astype(np.float32)
        out = client.predict({"noise": z})
        assert out["images_uint8"].dtype == np.uint8  # exact dtypes over gRPC
        np.testing.assert_allclose(out["images"], models[("digits", 1)].generate(z), atol=1e-5)
        np.testing.assert_allclose(client.generate(3, seed=4), out["images"], atol=1e-6)
        assert client.sample(2, uint8=True).shape == (2, *SHAPE)
        with pytest.raises(serving.ServingError, match="INVALID_ARGUMENT"):
            client.predict({"noise": np.zeros((1, LATENT + 1), np.float32)})
    with serving.GrpcServingClient(grpc_target, model="nope", timeout=20) as client:
        with pytest.raises(serving.ServingError, match="NOT_FOUND.*Servable not found"):
            client.predict({"noise": z})


def test_grpc_connection_failure():
    pytest.importorskip("grpc")
    if not HAS_SERVING_API:
        pytest.skip("tensorflow-serving-api is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with serving.GrpcServingClient(f"127.0.0.1:{port}", model="digits", timeout=3) as client:
        with pytest.raises(serving.ServingConnectionError, match=f"(?s)127.0.0.1:{port}.*docker run"):
            client.predict({"noise": np.zeros((1, LATENT), np.float32)})


def test_grpc_client_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_serving", None)
    monkeypatch.setitem(sys.modules, "tensorflow_serving.apis", None)
    with pytest.raises(ImportError, match=r"pip install 'zoo\[serving\]'"):
        serving.GrpcServingClient()
