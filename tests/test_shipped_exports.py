"""The pretrained exports shipped in saved_models/ (made by benchmarks/shipped_exports.py).

saved_models/README.md's table, .gitignore's tracked folders, saved_models/models.config
and the maker's list must name the same exports (a disagreement fails). A listed
export whose folder is missing altogether (deleted) skips its checks; one whose folder
is there but incomplete fails.
"""

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAVED = ROOT / "saved_models"
README = SAVED / "README.md"
ROW = re.compile(r"^\|\s*`([A-Za-z0-9_.-]+)`\s*\|(.*)$")
MAX_BYTES = 5 * 1024 * 1024
DIGIT_SHAPE = (32, 32, 1)


def readme_rows():
    """{name: [cells after the name]} of the README's export table."""
    rows = {}
    for line in README.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).rstrip("|").split("|")]
    return rows


def gitignore_tracked():
    """Names whose version folder .gitignore re-includes: `!/saved_models/NAME/1/`."""
    text = (ROOT / ".gitignore").read_text()
    names = set(re.findall(r"^!/saved_models/([A-Za-z0-9_.-]+)/1/$", text, flags=re.M))
    for kept in ("model.keras", "metadata.json"):  # the pretrained preset beside the export
        assert set(re.findall(rf"^!/saved_models/([A-Za-z0-9_.-]+)/{re.escape(kept)}$", text, flags=re.M)) == names
    return names


def maker():
    spec = importlib.util.spec_from_file_location("shipped_exports", ROOT / "benchmarks" / "shipped_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def export_dir(name):
    """saved_models/NAME/1, skipping when saved_models/NAME is gone, failing when it is incomplete."""
    if not (SAVED / name).exists():
        pytest.skip(f"saved_models/{name} is missing (deleted?); remake it with `python3 dev.py shipped`")
    path = SAVED / name / "1"
    assert (path / "saved_model.pb").is_file(), f"{path} has no saved_model.pb"
    return path


_LOADED = {}


def loaded(name):
    import tensorflow as tf

    if name not in _LOADED:
        _LOADED[name] = tf.saved_model.load(str(export_dir(name)))
    return _LOADED[name]


def test_readme_gitignore_models_config_and_maker_name_the_same_exports():
    listed = set(readme_rows())
    assert 3 <= len(listed) <= 6, listed
    assert gitignore_tracked() == listed, "the .gitignore's !/saved_models/NAME/1/ lines must match the README"
    assert set(maker().SHIPPED) == listed, "benchmarks/shipped_exports.py SHIPPED must match the README"
    config = (SAVED / "models.config").read_text()
    assert set(re.findall(r'name: "([^"]+)"', config)) == listed
    assert set(re.findall(r'base_path: "/models/([^"]+)"', config)) == listed
    for name, command in ((n, s["command"]) for n, s in maker().SHIPPED.items()):
        assert "saved_models" in command, f"{name}'s command must export into saved_models"


@pytest.mark.parametrize("name", sorted(readme_rows()))
def test_export_is_small_complete_and_as_documented(name):
    path = export_dir(name)
    size = path.lstat().st_size + sum(p.lstat().st_size for p in path.rglob("*"))  # as `du -sb` counts
    assert size < MAX_BYTES
    documented = int(readme_rows()[name][1].replace(",", ""))
    assert abs(documented - size) <= 0.02 * size, f"README says {documented} bytes, the folder has {size}"
    assert not [p for p in (SAVED / name).iterdir() if p.name.startswith(".tmp")]
    from zoo import export, serving

    metadata = export.read_metadata(str(path))
    requests = serving.read_warmup_requests(str(path))
    assert {signature for _, signature, _ in requests} == set(metadata["signatures"])
    assert all(model == name for model, _, _ in requests)


def generators():
    return [n for n, s in maker().SHIPPED.items() if s["kind"] in ("generator", "conditional")]


@pytest.mark.parametrize("name", generators())
def test_generator_export_gives_varied_images_in_range(name):
    import tensorflow as tf

    from zoo import export

    model = loaded(name)
    metadata = export.read_metadata(str(export_dir(name)))
    noise = np.random.default_rng(0).standard_normal((8, metadata["latent_dim"])).astype("float32")
    inputs = {"noise": tf.constant(noise)}
    if "num_classes" in metadata:
        assert metadata["num_classes"] == 10
        inputs["labels"] = tf.constant(np.arange(8, dtype="int32"))
    out = model.signatures["serving_default"](**inputs)
    images, pixels = out["images"].numpy(), out["images_uint8"].numpy()
    assert images.shape == (8, *DIGIT_SHAPE) and pixels.dtype == np.uint8
    if metadata.get("model") == "StyleGAN":  # a linear output, as the paper's: not clipped, about [-1, 1]
        assert -2.0 < images.min() and images.max() < 2.0
        images = np.clip(images, -1.0, 1.0)
    assert images.min() >= -1.0 and images.max() <= 1.0
    np.testing.assert_allclose(pixels, np.round((images + 1) * 127.5), atol=1)
    # Digits: a dark background with bright strokes, and eight noises give eight images.
    assert images.max() > 0.5 and np.median(images) < -0.5
    assert np.std(images, axis=0).mean() > 0.05


def test_cgan_draws_the_requested_digits():
    """A nearest-class-mean judge built from the real digits reads the requested labels."""
    import tensorflow as tf

    import zoo

    model = loaded("digits_cgan")
    real, labels = zoo.data.dataset_arrays(
        zoo.data.load("digits", batch_size=4096, shuffle=False, with_labels=True, drop_remainder=False)
    )
    means = np.stack([real[labels == k].mean(axis=0).ravel() for k in range(10)])

    def judge(images):
        flat = images.reshape(len(images), -1)
        return np.argmin(((flat[:, None, :] - means[None]) ** 2).sum(-1), axis=1)

    assert np.mean(judge(real) == labels) > 0.85  # the judge itself reads real digits
    requested = np.repeat(np.arange(10), 10).astype("int32")
    noise = np.random.default_rng(1).standard_normal((100, 64)).astype("float32")
    images = model.signatures["serving_default"](noise=tf.constant(noise), labels=tf.constant(requested))
    images = images["images"].numpy()
    assert np.mean(judge(images) == requested) > 0.7
    # The same noise with another label gives another image.
    same_noise = model.signatures["serving_default"](
        noise=tf.constant(np.repeat(noise[:1], 10, axis=0)), labels=tf.constant(np.arange(10, dtype="int32"))
    )["images"].numpy()
    assert np.abs(same_noise[1:] - same_noise[:1]).mean() > 0.1
    sampled = model.signatures["sample"](labels=tf.constant(np.arange(10, dtype="int32")))["images"]
    assert sampled.shape == (10, *DIGIT_SHAPE)


@pytest.mark.parametrize("name", generators())
def test_zoo_sample_writes_a_png_from_the_export(name, tmp_path, capsys):
    from PIL import Image

    from zoo import cli

    export_dir(name)
    output = tmp_path / "grid.png"
    code = cli.main(["sample", "--export", str(SAVED / name / "1"), "--num", "20", "--output", str(output)])
    assert code == 0, capsys.readouterr().err
    grid = np.asarray(Image.open(output).convert("L"), dtype=np.float32)
    assert grid.shape[0] >= 32 and grid.shape[1] >= 32 and grid.std() > 20


def test_colouriser_export_colours_held_out_photos_and_keeps_their_lightness():
    import tensorflow as tf

    import zoo

    model = loaded("colourisation_gan")
    photos = next(iter(zoo.data.embedded_photos(
        "test", num_crops=16, seed=1, batch_size=16, shuffle=False, image_size=64
    ))).numpy()
    out = model.signatures["serving_default"](images=tf.constant(photos))
    coloured = out["images"].numpy()
    assert coloured.shape == photos.shape == (16, 64, 64, 3)
    assert coloured.min() >= -1.0 - 1e-5 and coloured.max() <= 1.0 + 1e-5
    lightness, ab = zoo.data.rgb_to_model_lab(photos)
    # The output is the input's L with the predicted ab, in RGB; where that colour is outside the
    # RGB gamut the clip moves L a little, so the check is on nearly all pixels, not every one.
    moved = np.abs(zoo.data.rgb_to_model_lab(coloured)[0].numpy() - lightness.numpy())
    assert moved.mean() < 0.005 and np.quantile(moved, 0.999) < 0.05 and moved.max() < 0.2
    assert np.mean(zoo.metrics.colourfulness(coloured)) > 10  # not grey
    grey = zoo.data.model_lab_to_rgb(lightness, tf.zeros_like(ab)).numpy()  # the input's L, ab = 0
    truth = zoo.data.model_lab_to_rgb(lightness, ab).numpy()
    assert np.mean(zoo.metrics.psnr(coloured, truth)) > np.mean(zoo.metrics.psnr(grey, truth))
    # The uint8 signature and grey input give the same colouring.
    uint8 = model.signatures["uint8"](images=tf.constant(np.round((photos + 1) * 127.5).astype("uint8")))
    assert np.abs(uint8["images"].numpy() - coloured).mean() < 0.02
    from_grey = model.signatures["serving_default"](images=tf.constant(grey[..., :1]))["images"].numpy()
    assert np.abs(from_grey - coloured).mean() < 0.02


def test_pix2pix_export_draws_held_out_photos_from_their_edges():
    import tensorflow as tf

    import zoo

    model = loaded("edges2photos_pix2pix")
    photos, edges = (x / 127.5 - 1.0 for x in zoo.data.edge_photos("test", 32, image_size=64, seed=1))
    made = model.signatures["serving_default"](images=tf.constant(edges, tf.float32))["images"].numpy()
    assert made.shape == photos.shape == (32, 64, 64, 3) and np.abs(made).max() <= 1.0 + 1e-5
    learned, baseline = zoo.metrics.translation_scores(made, photos), zoo.metrics.translation_scores(edges, photos)
    assert learned["psnr"] > baseline["psnr"] + 3 and learned["l1"] < baseline["l1"]
    # Fully convolutional: a larger held-out crop, twice the training size, is drawn too.
    large = zoo.data.edge_photos("test", 1, image_size=128, seed=2)[1]
    assert model.signatures["uint8"](images=tf.constant(large))["images_uint8"].shape == (1, 128, 128, 3)


def test_zoo_sample_refuses_the_colouriser_with_a_clear_error(tmp_path, capsys):
    from zoo import cli

    export_dir("colourisation_gan")
    output = tmp_path / "grid.png"
    code = cli.main(["sample", "--export", str(SAVED / "colourisation_gan" / "1"), "--output", str(output)])
    assert code == 2 and "not a generator export" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize("name", sorted(readme_rows()))
def test_pretrained_preset_beside_the_export_is_the_model_it_was_exported_from(name):
    """zoo.from_preset(NAME) finds the checkout's copy; it serves what the export serves."""
    import tensorflow as tf

    import zoo
    from zoo import presets, pretrained

    export_dir(name)
    if not (SAVED / name / pretrained.MODEL_FILE).is_file():
        pytest.skip(f"saved_models/{name} has no pretrained preset; remake it with `python3 dev.py shipped`")
    assert (SAVED / name / pretrained.MODEL_FILE).stat().st_size < MAX_BYTES
    entry = pretrained.PRETRAINED[name]
    model, metadata = pretrained.load_with_metadata(name)
    assert metadata["preset"] == entry.preset and model.compiled
    built = presets.get(entry.preset).build(tuple(metadata["image_shape"]), num_classes=metadata["num_classes"],
                                            **{k: v for k, v in metadata["hparams"].items() if k != "num_classes"})
    assert type(model) is type(built)
    signatures = loaded(name).signatures
    # A pix2pix export serves the paper's noisy inference by default; its `deterministic` signature
    # (exports made since issue 25) is what `generator.predict` computes.
    served = signatures["deterministic"] if "deterministic" in signatures else signatures["serving_default"]
    kind = maker().SHIPPED[name]["kind"]
    if kind == "colouriser":
        photos = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
        lightness, _ = zoo.data.rgb_to_model_lab(photos)
        ours = zoo.data.model_lab_to_rgb(lightness, model.generator.predict(lightness.numpy(), verbose=0)).numpy()
        theirs = served(images=tf.constant(photos))["images"].numpy()
    elif kind == "translator":
        images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 48, 3)).astype("float32")
        ours = model.generator.predict(images, verbose=0)
        theirs = served(images=tf.constant(images))["images"].numpy()
    else:
        z = np.random.default_rng(0).standard_normal((4, model.latent_dim)).astype("float32")
        inputs = {"noise": tf.constant(z)}
        if metadata["num_classes"]:
            inputs["labels"] = tf.constant(np.arange(4, dtype="int32"))
            ours = model.generate(z, labels=np.arange(4, dtype="int32"))
        elif isinstance(model, zoo.models.StyleGAN):  # its export serves the fixed noise
            ours = model.generate(z, noise_mode="const")
        else:
            ours = model.generate(z)
        theirs = served(**inputs)["images"].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
