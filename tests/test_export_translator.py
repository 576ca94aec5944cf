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


def rgb_translator():
    generator = nets.unet_generator(num_downsamples=3, base_filters=4)
    return Pix2Pix(generator, nets.patch_discriminator(source_channels=3, base_filters=4, num_layers=1))


def colouriser():
    return nets.colourisation_net(base_filters=4)


def signatures(path):
    loaded = tf.saved_model.load(path)
    return loaded, loaded.signatures["serving_default"], loaded.signatures["uint8"]


def error_line(call):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        call()
    return next(line for line in str(info.value).splitlines() if "assertion failed" in line)


def test_rgb_translator_serves_any_multiple_of_its_stride(tmp_path):
    model = rgb_translator()
    path = export.export_translator(model, "facades", base_path=str(tmp_path))
    assert export.read_metadata(path)["stride"] == 8
    _, serve, serve_uint8 = signatures(path)
    rng = np.random.default_rng(0)
    for height, width in ((16, 16), (24, 40)):
        pixels = rng.integers(0, 256, (2, height, width, 3)).astype("uint8")
        images = pixels.astype("float32") / 127.5 - 1.0
        expected = model.translate(images)
        out = serve(images=tf.constant(images))
        np.testing.assert_allclose(out["images"].numpy(), expected, atol=1e-5)
        assert out["images_uint8"].dtype == tf.uint8
        np.testing.assert_allclose(serve_uint8(images=tf.constant(pixels))["images"].numpy(), expected, atol=1e-5)


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


def test_bad_export_arguments(tmp_path):
    with pytest.raises(ValueError, match="colour_space"):
        export.export_translator(colouriser(), "c", base_path=str(tmp_path), colour_space="hsv")
    with pytest.raises(ValueError, match="1 channel"):
        export.export_translator(rgb_translator(), "c", base_path=str(tmp_path), colour_space="lab")
    with pytest.raises(ValueError, match="image-to-image"):
        export.export_translator(nets.mlp_generator(8, (8, 8, 1), hidden_units=(4,)), "c", base_path=str(tmp_path))
