"""zoo's FID Inception and its protocols against pytorch-fid, torch-fidelity and clean-fid.

Random weights (no download): the references write a random FID Inception state dict in
torch.save's legacy format, as pytorch-fid's published file is, and zoo reads it
without PyTorch.
"""

import io
import os
import pickle
import zipfile

import keras
import numpy as np
import pytest

from zoo import files, metrics, nets
from zoo.metrics import extractors, fid_protocol


def _images():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)  # CIFAR-sized: upsampled
    ramp = np.linspace(0, 255, 400 * 300 * 3).reshape(1, 300, 400, 3)
    large = np.concatenate([rng.integers(0, 256, (1, 300, 400, 3)), ramp]).astype(np.uint8)  # downsampled
    return {"small": small, "large": large}


@pytest.fixture(scope="module")
def references(tmp_path_factory, run_torch_references):
    folder = str(tmp_path_factory.mktemp("fid_inception"))
    images = _images()
    out = run_torch_references("inception", folder, **{f"images_{k}": v for k, v in images.items()})
    return images, out, os.path.join(folder, "fid_inception.pth")


def _relative_error(actual, expected):
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize("protocol, key", [("pytorch_fid", "pytorch_fid"), ("tf1", "tf1")])
def test_features_equal_the_references_under_their_protocol(references, protocol, key):
    """pytorch-fid (bilinear, 2x - 1) and torch-fidelity (TF1 bilinear, (x - 128) / 128)."""
    images, out, weights = references
    extractor = metrics.InceptionExtractor(weights=weights, protocol=protocol)
    assert extractor.name == f"fid_inception:{protocol}" and extractor.num_classes == 1008
    for name, batch in images.items():
        features, probabilities = extractor.features_and_probabilities(batch, batch_size=1)
        expected = out[f"{key}_{name}"]
        assert np.abs(expected).max() > 1e-2  # activations survived the 94 layers
        assert _relative_error(features, expected) < 1e-4, (name, _relative_error(features, expected))
        # ... and not the other protocol's: the protocol is part of the number.
        other = out[f"{'tf1' if key == 'pytorch_fid' else 'pytorch_fid'}_{name}"]
        assert _relative_error(features, other) > 1e-3
        if protocol == "tf1":  # torch-fidelity's Inception Score input: the unbiased logits
            logits = out[f"tf1_logits_{name}"].astype(np.float64)
            softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
            np.testing.assert_allclose(probabilities, softmax / softmax.sum(axis=1, keepdims=True), atol=1e-5)


def test_network_is_float32_under_a_mixed_policy(references):
    """`zoo train --precision auto` sets mixed_bfloat16 on these CPUs: the FID network stays float32."""
    import keras

    images, out, weights = references
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    extractor = metrics.InceptionExtractor(weights=weights, protocol="pytorch_fid")
    assert {layer.compute_dtype for layer in extractor.net.layers[1:]} == {"float32"}  # all but the input
    assert _relative_error(extractor.features(images["small"]), out["pytorch_fid_small"]) < 1e-4


def test_clean_resize_equals_clean_fid(references):
    images, out, _ = references
    for name, batch in images.items():
        ours = fid_protocol.inception_input(batch, "clean").astype(np.float64) * 128.0 + 128.0
        np.testing.assert_allclose(ours, out[f"clean_resized_{name}"], atol=2e-3)


def test_weight_conversion_from_the_state_dict(references):
    """Every layer takes its tensor by name; the fc kernel is the transposed torch weight."""
    _, out, weights = references
    net = nets.fid_inception_v3()
    assert net.count_params() == 23_885_392  # 21,820,000 in the convolutions and batch norms + the fc's 2,065,392
    state = nets.read_state_dict(weights)
    nets.load_fid_inception_state_dict(net, state)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(net.get_layer("fc").kernel), out["fc_weight"].T)
    conv = keras.ops.convert_to_numpy(net.get_layer("Mixed_6b_branch7x7_2_conv").kernel)
    np.testing.assert_array_equal(conv, state["Mixed_6b.branch7x7_2.conv.weight"].transpose(2, 3, 1, 0))
    assert conv.shape == (1, 7, 128, 128)
    moving_var = keras.ops.convert_to_numpy(net.get_layer("Mixed_7c_branch_pool_bn").moving_variance)
    np.testing.assert_array_equal(moving_var, state["Mixed_7c.branch_pool.bn.running_var"])

    missing = dict(state)
    missing.pop("Mixed_5b.branch1x1.conv.weight")
    with pytest.raises(ValueError, match="no 'Mixed_5b.branch1x1.conv.weight'"):
        nets.load_fid_inception_state_dict(net, missing)
    with pytest.raises(ValueError, match=r"'fc.bias' has shape \(1000,\); the FID Inception needs \(1008,\)"):
        nets.load_fid_inception_state_dict(net, {**state, "fc.bias": np.zeros(1000, np.float32)})
    with pytest.raises(ValueError, match="1 weights the FID Inception does not use, e.g. 'AuxLogits.fc.weight'"):
        nets.load_fid_inception_state_dict(net, {**state, "AuxLogits.fc.weight": np.zeros(3, np.float32)})


def test_reads_both_torch_save_formats_without_torch(torch_references, tmp_path):
    expected = torch_references("state_dicts")
    for name in ("zip.pth", "legacy.pth"):
        state = nets.read_state_dict(tmp_path / name)
        assert list(state) == list(expected), name
        for key, value in expected.items():
            assert state[key].shape == value.shape, (name, key)
            np.testing.assert_array_equal(state[key].astype(value.dtype), value, err_msg=f"{name} {key}")
    assert state["half"].dtype == np.float16 and state["bfloat16"].dtype == np.float32
    assert state["long"].dtype == np.int64 and state["flag"].dtype == np.bool_


class _MakesAFolder:
    """Unpickling this calls os.makedirs: what a hostile weights file could do instead."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path,)


def test_read_state_dict_refuses_other_files(tmp_path, torch_references):
    (tmp_path / "noise.pth").write_bytes(bytes(range(64)))
    with pytest.raises(ValueError, match="not a torch.save file"):
        nets.read_state_dict(tmp_path / "noise.pth")
    # The legacy format starts with plain pickles: one that calls a function is not run.
    (tmp_path / "hostile.pth").write_bytes(pickle.dumps(_MakesAFolder(str(tmp_path / "made"))))
    with pytest.raises(ValueError, match="not a torch.save file"):
        nets.read_state_dict(tmp_path / "hostile.pth")
    assert not (tmp_path / "made").exists()
    # A cut-off file is refused by name, not read past its end.
    torch_references("state_dicts")
    data = (tmp_path / "legacy.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) - 40])
    # Where the cut lands (a storage's data or the header of the last) depends on the file: both are refused by name.
    with pytest.raises(ValueError, match="cut.pth is (not a plain, whole state_dict file: storage .* stops [0-9]+ bytes "
                                         r"short|a damaged or truncated torch.save file \(error: unpack requires)"):
        nets.read_state_dict(tmp_path / "cut.pth")
    # A pickle that would call a function when loaded is refused, not run.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(os.getcwd))
    (tmp_path / "code.pth").write_bytes(archive.getvalue())
    with pytest.raises(ValueError, match=r"not a plain, whole state_dict file: posix.getcwd is not part of a state_dict"):
        nets.read_state_dict(tmp_path / "code.pth")
    with zipfile.ZipFile(tmp_path / "list.pth", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="does not hold a state_dict"):
        nets.read_state_dict(tmp_path / "list.pth")


def test_quantize_writes_the_bytes_of_an_image_file():
    """StyleGAN's `x * 127.5 + 128`, clamped and truncated (rounding to nearest)."""
    x = np.concatenate([np.random.default_rng(0).uniform(-1.2, 1.2, 1000), [-1, 1, 0, -1 + 1 / 255]])
    stylegan = np.clip(x.astype(np.float64) * 127.5 + 128, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(fid_protocol.quantize(x), stylegan)
    np.testing.assert_array_equal(fid_protocol.quantize(np.array([-1.0, 0.0, 1.0])), [0, 128, 255])
    u8 = np.arange(256, dtype=np.uint8)
    assert fid_protocol.quantize(u8) is u8
    # zoo.data's uint8 -> [-1, 1] (x / 127.5 - 1 in float32) comes back to the same bytes.
    np.testing.assert_array_equal(fid_protocol.quantize(u8.astype(np.float32) / np.float32(127.5) - 1), u8)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fid_protocol.quantize(np.array([np.nan]))
    with pytest.raises(ValueError, match=r"float images must be in \[-1, 1\].*got values in \[0, 255\] \(pass \[0, 255\] "
                       "images as uint8"):
        fid_protocol.quantize(np.array([0.0, 255.0]))
    with pytest.raises(ValueError, match="images must be uint8 or floats in \\[-1, 1\\]; got int64"):
        fid_protocol.quantize(np.array([0, 255]))


def test_resize_matrices_are_identity_at_299_and_rows_sum_to_one():
    for method in fid_protocol.RESIZE_METHODS:
        np.testing.assert_allclose(fid_protocol.resize_matrix(299, 299, method), np.eye(299), atol=1e-12)
        for size in (28, 64, 1024):
            np.testing.assert_allclose(fid_protocol.resize_matrix(size, 299, method).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="method must be one of pil_bicubic"):
        fid_protocol.resize_matrix(2, 3, "lanczos")


def test_extractor_on_zoo_images_greyscale_and_errors():
    extractor = metrics.InceptionExtractor(weights=None, protocol="clean")
    assert extractor.name == "fid_inception_random:clean"
    grey = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    features, probabilities = extractor.features_and_probabilities(grey, batch_size=2)
    assert features.shape == (2, 2048) and features.dtype == np.float64 and probabilities.shape == (2, 1008)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    # Greyscale is repeated to RGB; floats are quantised, so they equal their uint8 bytes.
    np.testing.assert_allclose(extractor.features(np.repeat(grey, 3, axis=-1)), features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(extractor.features(fid_protocol.quantize(grey)), features, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        extractor.features(np.zeros((1, 16, 16, 2), "float32"))
    with pytest.raises(ValueError, match="protocol must be one of clean, pytorch_fid, tf1; got 'bicubic'"):
        metrics.InceptionExtractor(weights=None, protocol="bicubic")


def test_weight_files_missing_or_offline(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="no FID Inception weights file at .*pt_inception-2015-12-05"):
        extractors.fid_inception_weights(tmp_path / "missing.pth")

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://github.com/...: None -- no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(files.DownloadError, match=r"FID Inception weights .* could not be loaded \(URL fetch failure"
                       r".*Offline, download https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                       r"pt_inception-2015-12-05-6726825d.pth .*--inception-weights PATH"):
        metrics.InceptionExtractor()
    (tmp_path / "pt_inception-2015-12-05-6726825d.pth").write_bytes(b"not the weights")
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(tmp_path / "pt_inception-2015-12-05-6726825d.pth"))
    with pytest.raises(ValueError, match="is not the FID Inception weights .*delete it and download again"):
        extractors.fid_inception_weights()


JAX_SCRIPT = """
import sys

class _WithoutTensorFlow:  # as on the accelerator machines: JAX, no TensorFlow
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")

sys.meta_path.insert(0, _WithoutTensorFlow())
import keras, numpy as np
from zoo import metrics

images, weights, target = np.load(sys.argv[1]), sys.argv[2], sys.argv[3]
extractor = metrics.InceptionExtractor(weights=weights, protocol="pytorch_fid")
features = extractor.features(images, batch_size=2)
tf_loaded = sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")
np.savez(target, features=features, backend=keras.backend.backend(), tf_loaded=np.array(tf_loaded, dtype=str))
"""


def test_on_jax_without_tensorflow(references, tmp_path):
    """The accelerator machines run zoo on JAX without TensorFlow: same features as pytorch-fid there."""
    import subprocess
    import sys

    pytest.importorskip("jax")
    images, out, weights = references
    np.save(tmp_path / "images.npy", images["small"])
    (tmp_path / "script.py").write_text(JAX_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(tmp_path / "script.py"), str(tmp_path / "images.npy"), weights,
                           str(tmp_path / "out.npz")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = np.load(tmp_path / "out.npz")
    assert str(result["backend"]) == "jax" and result["tf_loaded"].size == 0
    assert _relative_error(result["features"], out["pytorch_fid_small"]) < 1e-4
