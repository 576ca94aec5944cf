"""Exports of image-to-image nets: any size divisible by the stride, float or uint8, clear errors."""

import numpy as np
import pytest
import tensorflow as tf

from zoo import export, nets
from zoo.data import colour
from zoo.models import Pix2Pix

LOADER = """
import json, sys
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
images = np.load(sys.argv[2])
out = model.signatures["uint8"](images=tf.constant(images))
np.save(sys.argv[3], out["images"].numpy())
print(json.dumps({"signatures": sorted(model.signatures), "keys": sorted(out)}))
"""


def rgb_translator(**kwargs):
    generator = nets.unet_generator(num_downsamples=3, base_filters=4, **kwargs.pop("net", {}))
    return Pix2Pix(generator, nets.patch_discriminator(source_channels=3, base_filters=4, num_layers=1), **kwargs)


def colouriser():
    return nets.colourisation_net(base_filters=4)


def signatures(path):
    loaded = tf.saved_model.load(path)
    return loaded, loaded.signatures["serving_default"], loaded.signatures["uint8"]


def error_line(call):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        call()
    return next(line for line in str(info.value).splitlines() if "assertion failed" in line)


MODES = ["serving_default", "uint8", "deterministic", "deterministic_uint8", "paper", "paper_uint8"]


def test_rgb_translator_serves_any_multiple_of_its_stride(tmp_path):
    model = rgb_translator()
    path = export.export_translator(model, "facades", base_path=str(tmp_path))
    info = export.read_metadata(path)
    assert info["stride"] == 8 and info["inference"] == "paper" and info["signatures"] == MODES
    loaded, serve, serve_uint8 = signatures(path)
    assert sorted(loaded.signatures) == sorted(MODES)
    rng = np.random.default_rng(0)
    for height, width in ((16, 16), (24, 40)):
        pixels = rng.integers(0, 256, (2, height, width, 3)).astype("uint8")
        images = pixels.astype("float32") / 127.5 - 1.0
        expected = model.translate(images, inference="deterministic")
        np.testing.assert_allclose(expected, model.generator(images, training=False), atol=1e-6)
        fixed = loaded.signatures["deterministic"](images=tf.constant(images))
        np.testing.assert_allclose(fixed["images"].numpy(), expected, atol=1e-5)
        assert fixed["images_uint8"].dtype == tf.uint8
        fixed_uint8 = loaded.signatures["deterministic_uint8"](images=tf.constant(pixels))["images"].numpy()
        np.testing.assert_allclose(fixed_uint8, expected, atol=1e-5)
        # The default is the paper's test mode: dropout noise, so two calls (and the two kinds of input) differ.
        first, second = (serve(images=tf.constant(images))["images"].numpy() for _ in range(2))
        from_uint8 = serve_uint8(images=tf.constant(pixels))["images"].numpy()
        assert first.shape == from_uint8.shape == expected.shape and np.all(np.abs(first) <= 1)
        assert np.abs(first - second).mean() > 1e-3 and np.abs(first - from_uint8).mean() > 1e-3
        assert np.abs(first - expected).mean() > 1e-3


def test_paper_signature_normalises_each_image_alone_and_leaves_the_statistics(tmp_path):
    # No dropout: the paper mode is then noise-free, and what is left is batch norm on each image's statistics.
    model = rgb_translator(net={"dropout": 0.0})
    loaded = tf.saved_model.load(export.export_translator(model, "bn", base_path=str(tmp_path)))
    paper, fixed = loaded.signatures["paper"], loaded.signatures["deterministic"]
    images = np.random.default_rng(3).uniform(-1, 1, (3, 16, 16, 3)).astype("float32")
    served = paper(images=tf.constant(images))["images"].numpy()
    np.testing.assert_allclose(served, model.translate(images, inference="paper"), atol=1e-5)
    # An image's output does not depend on the rest of its request, and is not the moving averages' one.
    alone = np.concatenate([paper(images=tf.constant(images[i : i + 1]))["images"].numpy() for i in range(3)])
    np.testing.assert_allclose(served, alone, atol=1e-5)
    before = fixed(images=tf.constant(images))["images"].numpy()
    assert np.abs(served - before).mean() > 1e-3
    # Serving the paper mode never updates the moving averages the deterministic signature uses.
    for _ in range(3):
        paper(images=tf.constant(images))
    np.testing.assert_allclose(fixed(images=tf.constant(images))["images"].numpy(), before, atol=1e-6)


def test_a_deterministic_model_serves_deterministically_by_default_and_names_the_paper_mode(tmp_path):
    model = rgb_translator(inference="deterministic")
    path = export.export_translator(model, "fixed", base_path=str(tmp_path))
    assert export.read_metadata(path)["inference"] == "deterministic"
    loaded, serve, serve_uint8 = signatures(path)
    images = np.random.default_rng(4).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    expected = model.generator(images, training=False).numpy()
    np.testing.assert_allclose(serve(images=tf.constant(images))["images"].numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(serve(images=tf.constant(images))["images"].numpy(), expected, atol=1e-5)
    pixels = np.round((images + 1) * 127.5).astype("uint8")
    np.testing.assert_allclose(serve_uint8(images=tf.constant(pixels))["images"].numpy(),
                               loaded.signatures["deterministic_uint8"](images=tf.constant(pixels))["images"].numpy(),
                               atol=1e-6)
    paper = [loaded.signatures["paper"](images=tf.constant(images))["images"].numpy() for _ in range(2)]
    assert np.abs(paper[0] - paper[1]).mean() > 1e-3 and np.abs(paper[0] - expected).mean() > 1e-3


def test_every_signature_has_a_warmup_request_that_runs(tmp_path):
    from zoo import serving

    path = export.export_translator(rgb_translator(), "warm", base_path=str(tmp_path))
    requests = serving.read_warmup_requests(path)
    assert [r[1] for r in requests] == ["serving_default", *sorted(set(MODES) - {"serving_default"})]
    loaded = tf.saved_model.load(path)
    for _, signature, inputs in requests:
        assert inputs["images"].shape == (1, 8, 8, 3)
        assert inputs["images"].dtype == (np.uint8 if signature.endswith("uint8") else np.float32)
        out = loaded.signatures[signature](images=tf.constant(inputs["images"]))
        assert np.all(np.isfinite(out["images"].numpy()))


def test_a_net_without_modes_keeps_two_signatures(tmp_path):
    path = export.export_translator(rgb_translator().generator, "net", base_path=str(tmp_path))
    info = export.read_metadata(path)
    assert info["signatures"] == ["serving_default", "uint8"] and "inference" not in info
    assert sorted(tf.saved_model.load(path).signatures) == ["serving_default", "uint8"]


def test_rgb_translator_errors_name_the_problem(tmp_path):
    _, serve, serve_uint8 = signatures(export.export_translator(rgb_translator(), "t", base_path=str(tmp_path)))
    assert "divisible by 8" in error_line(lambda: serve(images=tf.zeros((1, 20, 16, 3))))
    assert "[-1, 1]" in error_line(lambda: serve(images=tf.fill((1, 16, 16, 3), 255.0)))
    assert "must have 3 channels, got] [1]" in error_line(lambda: serve(images=tf.zeros((1, 16, 16, 1))))
    with pytest.raises(tf.errors.InvalidArgumentError, match="float tensor but is a uint8"):
        serve(tf.zeros((1, 16, 16, 3), tf.uint8))
    assert serve_uint8(images=tf.zeros((1, 8, 8, 3), tf.uint8))["images"].shape == (1, 8, 8, 3)


def test_colouriser_export_keeps_lightness_and_adds_predicted_ab(tmp_path):
    net = colouriser()
    path = export.export_translator(net, "colour", base_path=str(tmp_path))
    info = export.read_metadata(path)
    assert info["colour_space"] == "lab" and info["input_channels"] == [1, 3] and info["stride"] == 8
    _, serve, _ = signatures(path)
    rgb = np.random.default_rng(1).uniform(-1, 1, (2, 16, 24, 3)).astype("float32")
    out = serve(images=tf.constant(rgb))
    lightness, _ = colour.rgb_to_model_lab(rgb)
    ab = net(lightness)
    np.testing.assert_allclose(out["ab"].numpy(), ab.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["images"].numpy(), colour.model_lab_to_rgb(lightness, ab).numpy(), atol=1e-4)
    # The served image has the input's lightness.
    served_l, _ = colour.rgb_to_model_lab(out["images"].numpy())
    assert np.abs(served_l.numpy() - lightness.numpy()).mean() < 0.02
    # A grey image is the same as its RGB version.
    grey = rgb[..., :1]
    np.testing.assert_allclose(
        serve(images=tf.constant(grey))["images"].numpy(),
        serve(images=tf.constant(np.repeat(grey, 3, axis=-1)))["images"].numpy(),
        atol=1e-5,
    )
    assert "1 or 3 channels" in error_line(lambda: serve(images=tf.zeros((1, 16, 16, 2))))


@pytest.mark.slow
def test_colouriser_export_loads_in_a_process_without_zoo(tmp_path, run_without_zoo):
    net = colouriser()
    path = export.export_translator(net, "colour", base_path=str(tmp_path))
    pixels = np.random.default_rng(2).integers(0, 256, (1, 16, 16, 3)).astype("uint8")
    np.save(tmp_path / "in.npy", pixels)
    report = run_without_zoo(LOADER, path, tmp_path / "in.npy", tmp_path / "out.npy")
    assert report == {"signatures": ["serving_default", "uint8"], "keys": ["ab", "images", "images_uint8"]}
    lightness, _ = colour.rgb_to_model_lab(pixels.astype("float32") / 127.5 - 1.0)
    expected = colour.model_lab_to_rgb(lightness, net(lightness)).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-4)


def test_a_pix2pix_colouriser_serves_both_modes_in_lab(tmp_path):
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4)
    model = Pix2Pix(generator, None, reconstruction="l2", reconstruction_weight=1.0, adversarial_weight=0.0)
    path = export.export_translator(model, "colour", base_path=str(tmp_path))
    info = export.read_metadata(path)
    assert info["colour_space"] == "lab" and info["inference"] == "paper" and info["signatures"] == MODES
    loaded = tf.saved_model.load(path)
    rgb = np.random.default_rng(5).uniform(-1, 1, (2, 16, 24, 3)).astype("float32")
    lightness, _ = colour.rgb_to_model_lab(rgb)
    fixed = loaded.signatures["deterministic"](images=tf.constant(rgb))
    np.testing.assert_allclose(fixed["ab"].numpy(), generator(lightness, training=False).numpy(), atol=1e-5)
    first, second = (loaded.signatures["serving_default"](images=tf.constant(rgb)) for _ in range(2))
    assert np.abs(first["ab"].numpy() - second["ab"].numpy()).mean() > 1e-3
    # Either way the served image keeps the input's lightness.
    for out in (fixed, first):
        served_l, _ = colour.rgb_to_model_lab(out["images"].numpy())
        assert np.abs(served_l.numpy() - lightness.numpy()).mean() < 0.02


def test_bad_export_arguments(tmp_path):
    with pytest.raises(ValueError, match="colour_space"):
        export.export_translator(colouriser(), "c", base_path=str(tmp_path), colour_space="hsv")
    with pytest.raises(ValueError, match="1 channel"):
        export.export_translator(rgb_translator(), "c", base_path=str(tmp_path), colour_space="lab")
    with pytest.raises(ValueError, match="image-to-image"):
        export.export_translator(nets.mlp_generator(8, (8, 8, 1), hidden_units=(4,)), "c", base_path=str(tmp_path))
