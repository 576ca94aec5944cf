"""SavedModel export for TF Serving, checked from processes with no zoo code."""

import os
import subprocess
import sys

import numpy as np
import pytest

from zoo import export, nets
from zoo.models import GAN

SHAPE = (16, 16, 1)

# Runs in a fresh interpreter in which importing zoo is impossible.
LOADER = r"""
import json
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
noise = np.load(sys.argv[2])
out = loaded.signatures["serving_default"](noise=tf.constant(noise))
sampled = loaded.signatures["sample"](batch_size=tf.constant(3))
np.save(sys.argv[3], out["images"].numpy())
print(json.dumps({
    "signatures": sorted(loaded.signatures.keys()),
    "uint8_dtype": out["images_uint8"].dtype.name,
    "uint8_max": int(out["images_uint8"].numpy().max()),
    "sampled_shape": sampled["images"].shape.as_list(),
}))
"""


def make_gan():
    return GAN(nets.dcgan_generator(8, SHAPE, base_filters=4), nets.dcgan_discriminator(SHAPE, base_filters=4))


def test_export_loads_in_a_process_without_zoo(tmp_path, run_without_zoo):
    gan = make_gan()
    path = export.export_generator(gan, "digits", base_path=str(tmp_path))
    assert path == str(tmp_path / "digits" / "1")
    noise = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    np.save(tmp_path / "noise.npy", noise)
    report = run_without_zoo(LOADER, path, tmp_path / "noise.npy", tmp_path / "out.npy")
    assert report["signatures"] == ["sample", "serving_default"]
    assert report["uint8_dtype"] == "uint8" and report["uint8_max"] <= 255
    assert report["sampled_shape"] == [3, *SHAPE]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), gan.generate(noise), atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_lists_the_signatures(tmp_path):
    path = export.export_generator(make_gan(), "g", base_path=str(tmp_path))
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip("saved_model_cli is not installed next to this Python")
    result = subprocess.run(
        [cli, "show", "--all", "--dir", path], capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "signature_def['serving_default']" in result.stdout
    assert "signature_def['sample']" in result.stdout
    assert "inputs['noise']" in result.stdout and "inputs['batch_size']" in result.stdout
    assert "outputs['images_uint8']" in result.stdout


def test_versions_count_up_and_are_never_overwritten(tmp_path):
    gan = make_gan()
    first = export.export_generator(gan, "m", base_path=str(tmp_path))
    second = export.export_generator(gan, "m", base_path=str(tmp_path))
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    assert export.versions(str(tmp_path), "m") == [1, 2]
    with pytest.raises(ValueError, match="already exists"):
        export.export_generator(gan, "m", base_path=str(tmp_path), version=2)
    assert export.resolve_export(str(tmp_path / "m")) == second
    assert export.read_metadata(second)["latent_dim"] == 8


def test_a_failed_export_leaves_no_version_behind(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    # Fails after the SavedModel is written, while its metadata is being added.
    monkeypatch.setattr(export.json, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        export.export_generator(make_gan(), "m", base_path=str(tmp_path))
    assert os.listdir(tmp_path / "m") == []


@pytest.mark.parametrize("name", ["", "a/b", "white space"])
def test_bad_names_are_rejected(tmp_path, name):
    with pytest.raises(ValueError, match="name must be"):
        export.export_generator(make_gan(), name, base_path=str(tmp_path))


def test_the_training_wrapper_is_never_exported(tmp_path):
    import tensorflow as tf

    gan = make_gan()
    path = export.export_generator(gan, "m", base_path=str(tmp_path))
    assert export.read_metadata(path)["generator"] == gan.generator.name
    assert export.read_metadata(path)["ema"] is False
    loaded = tf.saved_model.load(path)
    exported = sum(int(np.prod(v.shape)) for v in loaded.variables)
    assert exported == gan.generator.count_params()


def test_resolve_export_explains_a_missing_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        export.resolve_export(str(tmp_path))


CONDITIONAL_LOADER = r"""
import json
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
noise = np.load(sys.argv[2])
labels = tf.constant([0, 1, 2, 1], tf.int32)
out = loaded.signatures["serving_default"](noise=tf.constant(noise), labels=labels)
sampled = loaded.signatures["sample"](labels=tf.constant([2, 2], tf.int32))
np.save(sys.argv[3], out["images"].numpy())
try:
    loaded.signatures["sample"](labels=tf.constant([3], tf.int32))
    error = ""
except tf.errors.InvalidArgumentError as e:
    error = e.message
print(json.dumps({"sampled_shape": sampled["images"].shape.as_list(), "error": error}))
"""


def test_conditional_export_takes_labels(tmp_path, run_without_zoo):
    from zoo.models import ConditionalGAN

    gan = ConditionalGAN(
        nets.dcgan_generator(8, SHAPE, 4, num_classes=3),
        nets.dcgan_discriminator(SHAPE, 4, num_classes=3),
        num_classes=3,
    )
    path = export.export_generator(gan, "digits_cgan", base_path=str(tmp_path))
    assert export.read_metadata(path)["num_classes"] == 3
    noise = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    np.save(tmp_path / "noise.npy", noise)
    report = run_without_zoo(CONDITIONAL_LOADER, path, tmp_path / "noise.npy", tmp_path / "out.npy")
    assert report["sampled_shape"] == [2, *SHAPE]
    assert "labels must be class indices in [0, 3)" in report["error"]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), gan.generate(noise, labels=[0, 1, 2, 1]), atol=1e-5)


def test_bare_conditional_generator_is_refused(tmp_path):
    with pytest.raises(ValueError, match="num_classes"):
        export.export_generator(nets.dcgan_generator(8, SHAPE, 4, num_classes=3), "x", base_path=str(tmp_path))


def test_check_style_export_passes_a_faithful_export_and_detects_mismatches(tmp_path):
    from zoo.models import StyleGAN

    mapping = nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8)
    discriminator = nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
    model = StyleGAN(mapping, synthesis, discriminator, seed=0)
    model.w_avg.assign(np.random.default_rng(5).standard_normal(8).astype("float32"))
    path = export.export_style_generator(model, "style", base_path=str(tmp_path))
    images = export.check_style_export(model, path, truncation_psi=0.7, seed=1, num_images=3)
    z = np.random.default_rng(1).standard_normal((3, 8)).astype("float32")
    np.testing.assert_allclose(images, model.generate(z, noise_mode="const"), atol=1e-4)
    # A different w_avg only changes the truncated images: the truncated signature is caught.
    model.w_avg.assign(model.w_avg + 1.0)
    export.check_style_export(model, path, truncation_psi=1.0, seed=1)
    with pytest.raises(RuntimeError, match="truncated"):
        export.check_style_export(model, path, truncation_psi=0.7, seed=1)
    # Changed synthesis weights: the untruncated signature is caught.
    kernel = [w for w in model.ema_synthesis.weights if "kernel" in w.path][-1]
    kernel.assign(kernel + 0.5)
    with pytest.raises(RuntimeError, match="serving_default"):
        export.check_style_export(model, path, truncation_psi=1.0, seed=1)
    with pytest.raises(ValueError, match="num_images"):
        export.check_style_export(model, path, num_images=0)
