"""zoo's LPIPS (VGG16, v0.1) against the `lpips` package, and PPL's feature function on it.

Random trunk (no download): the reference builds `lpips.LPIPS(net="vgg")` with the package's
published linear weights and a random VGG16 (`pnet_rand=True`), writes that trunk as a
torchvision state dict, and zoo reads it and the package's linear weights without PyTorch.
The `lpips` package is located, never imported here: it imports torchvision, which must not
share a process with TensorFlow (see torch_references.py).
"""

import importlib.util
import os

import keras
import numpy as np
import pytest

from zoo import files, metrics, nets
from zoo.metrics import lpips as zoo_lpips
from zoo.metrics import ppl

needs_lpips = pytest.mark.skipif(importlib.util.find_spec("lpips") is None, reason="the lpips package is not installed")


def _pairs():
    rng = np.random.default_rng(0)
    uniform = lambda *shape: rng.uniform(-1, 1, shape).astype("float32")  # noqa: E731
    small = uniform(3, 64, 48, 3)  # not square: rows and columns must not swap
    near = np.clip(small[:2] + 0.05 * rng.standard_normal(small[:2].shape), -1, 1).astype("float32")
    return {
        "small": (small, uniform(3, 64, 48, 3)),
        "near": (small[:2], near),  # a small distance, where rounding weighs most
        "large": (uniform(1, 256, 256, 3), uniform(1, 256, 256, 3)),
    }


@pytest.fixture(scope="module")
def references(tmp_path_factory, run_torch_references):
    folder = str(tmp_path_factory.mktemp("lpips"))
    pairs = _pairs()
    arrays = {f"{side}_{name}": pair[i] for name, pair in pairs.items() for i, side in enumerate(("x", "y"))}
    out = run_torch_references("lpips", folder, **arrays)
    return pairs, out, os.path.join(folder, "vgg16_random.pth")


@pytest.fixture(scope="module")
def lpips(references):
    return metrics.LPIPS(trunk_weights=references[2])


def _relative_error(actual, expected):
    return float(np.max(np.abs(np.asarray(actual, "float64") - expected) / np.abs(expected)))


def test_distances_equal_the_lpips_package(references, lpips):
    pairs, out, _ = references
    assert lpips.name == "lpips_vgg16"
    errors = {}
    for name, (x, y) in pairs.items():
        expected = out[f"lpips_{name}"].astype("float64")
        assert expected.shape == (len(x),) and np.all(expected > 1e-4)
        errors[name] = _relative_error(lpips(x, y), expected)
    print(f"max relative difference from lpips: {errors}")
    assert max(errors.values()) < 1e-5, errors


def test_linear_weights_are_the_published_ones(references):
    _, out, _ = references
    weights = zoo_lpips.read_linear_weights(zoo_lpips.lpips_linear_weights())
    assert [w.shape for w in weights] == [(64,), (128,), (256,), (512,), (512,)]
    for index, weight in enumerate(weights):
        assert weight.dtype == np.float32 and np.all(weight >= 0) and weight.max() > 0
        np.testing.assert_array_equal(weight, out[f"lin{index}"])  # the file lpips.LPIPS loaded


def test_feature_vectors_give_the_lpips_distance(references, lpips):
    pairs, _, _ = references
    for x, y in (pairs["small"], pairs["near"]):
        fx, fy = np.asarray(lpips.features(x), "float64"), np.asarray(lpips.features(y), "float64")
        # 64x48: 64*48*64 + 32*24*128 + 16*12*256 + 8*6*512 + 4*3*512 values.
        assert fx.shape == (len(x), 196608 + 98304 + 49152 + 24576 + 6144)
        np.testing.assert_allclose(np.sum((fx - fy) ** 2, axis=1), np.asarray(lpips(x, y)), rtol=1e-5)
    grey = pairs["near"][0][..., :1]
    np.testing.assert_allclose(np.asarray(lpips.features(grey)), np.asarray(lpips.features(np.repeat(grey, 3, -1))))
    with pytest.raises(ValueError, match=r"\(batch, H, W, 1 or 3\)"):
        lpips.features(np.zeros((1, 16, 16, 2), "float32"))
    with pytest.raises(ValueError, match="at least 16x16 .*got 16x8"):
        lpips(np.zeros((1, 16, 8, 3), "float32"), np.zeros((1, 16, 8, 3), "float32"))


def test_trunk_layout_float32_and_state_dict_checks():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        net = nets.lpips_vgg16()
    finally:
        keras.config.set_dtype_policy("float32")
    out = net(np.zeros((1, 36, 20, 3), "float32"))
    # Max pools drop the odd row: 36x20 -> 18x10 -> 9x5 -> 4x2 -> 2x1.
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "relu1_2": (1, 36, 20, 64), "relu2_2": (1, 18, 10, 128), "relu3_3": (1, 9, 5, 256),
        "relu4_3": (1, 4, 2, 512), "relu5_3": (1, 2, 1, 512)}
    assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in out.values())
    assert net.count_params() == 14_714_688  # torchvision's vgg16().features

    torch_indices = {f"conv{b}_{i}": x for (b, i), x in zip(
        [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)],
        [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28])}  # torchvision's vgg16().features
    state = {}
    for layer in net.layers:
        if isinstance(layer, keras.layers.Conv2D):
            index = torch_indices[layer.name]
            kernel = np.asarray(layer.kernel)
            state[f"features.{index}.weight"] = np.random.default_rng(index).standard_normal(
                (kernel.shape[3], kernel.shape[2], 3, 3)).astype("float32")
            state[f"features.{index}.bias"] = np.full(kernel.shape[3], index, "float32")
    state["classifier.6.bias"] = np.zeros(1000, "float32")  # torchvision's file holds the classifier too
    nets.load_lpips_vgg16_state_dict(net, state)
    np.testing.assert_array_equal(np.asarray(net.get_layer("conv1_2").kernel)[:, :, 5, 7],
                                  state["features.2.weight"][7, 5])
    np.testing.assert_array_equal(np.asarray(net.get_layer("conv5_3").bias), 28.0)
    with pytest.raises(ValueError, match="no 'features.28.bias': it is not torchvision's VGG16"):
        nets.load_lpips_vgg16_state_dict(net, {k: v for k, v in state.items() if k != "features.28.bias"})
    with pytest.raises(ValueError, match="'features.30.weight': it is another network's"):
        nets.load_lpips_vgg16_state_dict(net, {**state, "features.30.weight": np.zeros(1, "float32")})
    with pytest.raises(ValueError, match=r"'features.0.weight' has shape \(64, 1, 3, 3\)"):
        nets.load_lpips_vgg16_state_dict(net, {**state, "features.0.weight": np.zeros((64, 1, 3, 3), "float32")})


def test_weight_files_missing_or_offline(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="no VGG16 weights file at .*download https://download.pytorch.org/"
                                                "models/vgg16-397923af.pth"):
        zoo_lpips.lpips_trunk_weights(tmp_path / "missing.pth")

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://download.pytorch.org/...: None -- no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(files.DownloadError, match=r"torchvision's VGG16 weights for LPIPS .* could not be loaded "
                       r"\(URL fetch failure.*Offline, download https://download.pytorch.org/models/vgg16-397923af.pth "
                       r"on a machine with internet and put it in ~/.keras/models/, or pass its path \(zoo.metrics.LPIPS\(trunk_weights=PATH\)"):
        zoo_lpips.lpips_trunk_weights()
    (tmp_path / "vgg16-397923af.pth").write_bytes(b"not the weights")
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(tmp_path / "vgg16-397923af.pth"))
    with pytest.raises(ValueError, match="is not torchvision's VGG16 weights .*delete it and download again"):
        zoo_lpips.lpips_trunk_weights()
    with pytest.raises(ValueError, match="'imagenet' .* is not the network LPIPS' linear weights were fitted to"):
        metrics.LPIPS(trunk_weights="imagenet")

    with pytest.raises(FileNotFoundError, match="no LPIPS linear weights file at .*pip install --no-deps lpips"):
        zoo_lpips.lpips_linear_weights(tmp_path / "vgg.pth")
    monkeypatch.setattr(zoo_lpips.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"`lpips` package, which is not installed .*pip install --no-deps "
                       r"lpips.*PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth"):
        metrics.LPIPS(trunk_weights=None)


def test_stylegan_downsample_is_a_box_filter_by_an_integer_factor():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (2, 512, 768, 3)).astype("float32")
    expected = images.reshape(2, 256, 2, 384, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(np.asarray(ppl.stylegan_downsample(images)), expected, rtol=1e-6, atol=1e-6)
    assert ppl.stylegan_downsample(np.zeros((1, 520, 520, 1), "float32")).shape == (1, 260, 260, 1)  # not 256
    for side in (300, 256, 128):  # factor 1, and never upsampled
        np.testing.assert_array_equal(np.asarray(ppl.stylegan_downsample(images[:, :side, :side])),
                                      images[:, :side, :side])
    assert ppl.stylegan_downsample(images[:, :64, :64], size=16).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="513x513 do not split into 2x2 blocks"):
        ppl.stylegan_downsample(np.zeros((1, 513, 513, 1), "float32"))


@needs_lpips
def test_ppl_with_lpips_features_on_stylegan2_nets():
    keras.utils.set_random_seed(0)
    features = metrics.ppl_features_lpips(trunk_weights=None, downsample_to=16)
    assert features.name == "lpips_vgg16_random" and isinstance(features.lpips, metrics.LPIPS)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    # 32 px with downsample_to=16: the 2x2 block means, grey repeated to RGB.
    halved = images.reshape(2, 16, 2, 16, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(np.asarray(features(images)), np.asarray(features.lpips.features(halved)),
                               rtol=1e-5, atol=1e-7)
    mapping = nets.style_mapping(16, 16, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=16, channels=1, fmap_base=64, fmap_max=16)
    result = metrics.perceptual_path_length(mapping, synthesis, features, num_samples=8, batch_size=4)
    assert set(result) == {"ppl_w_end"} and np.isfinite(result["ppl_w_end"]) and result["ppl_w_end"] > 0
    # The path distances are LPIPS between the pair's images over epsilon^2 (noise off: the
    # images are the synthesis net's own).
    for layer in nets.noise_layers(synthesis):
        layer.strength.assign(0.0)
    z0, z1 = np.random.default_rng(2).standard_normal((2, 3, 16)).astype("float32")
    epsilon = 0.1
    distances = ppl.path_distances(mapping, synthesis, features, z0, z1, np.zeros(3), epsilon=epsilon)
    w0, w1 = np.asarray(mapping(z0)), np.asarray(mapping(z1))
    num_ws = synthesis.input_shape[1]
    image_a, image_b = (np.asarray(synthesis(np.repeat(w[:, None], num_ws, axis=1)))
                        for w in (w0, w0 + epsilon * (w1 - w0)))
    assert np.all(distances > 1e-3)
    np.testing.assert_allclose(distances, np.asarray(features.lpips(image_a, image_b)) / epsilon**2, rtol=1e-4)
