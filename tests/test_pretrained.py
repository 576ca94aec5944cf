"""Pretrained presets: saving, finding (names, folders, URLs, the cache), loading, fine-tuning."""

import json
import os
import zipfile

import keras
import numpy as np
import pytest

import zoo
from zoo import checkpoint, cli, presets, pretrained

DIGITS = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)).astype("float32")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny DCGAN after one step, saved as a pretrained preset; (model, folder)."""
    options = {"base_filters": 4, "latent_dim": 8, "ema_momentum": 0.9, "seed": 0}
    model = presets.get("dcgan").build((16, 16, 1), **options)
    model.fit(DIGITS, batch_size=8, epochs=1, verbose=0)
    folder = str(tmp_path_factory.mktemp("presets") / "tiny_dcgan")
    pretrained.save(model, folder, {"preset": "dcgan", "hparams": presets.get("dcgan").hparams(**options)})
    return model, folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "pretrained"


def test_save_writes_a_keras_file_with_fresh_optimizers_and_its_metadata(trained):
    model, folder = trained
    path = os.path.join(folder, pretrained.MODEL_FILE)
    with zipfile.ZipFile(path) as archive:
        assert {m.compress_type for m in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    metadata = json.load(open(os.path.join(folder, pretrained.METADATA_FILE)))
    assert metadata["class"] == "GAN" and metadata["preset"] == "dcgan" and metadata["format"] == pretrained.FORMAT
    assert metadata["sha256"] == pretrained.file_sha256(path) and metadata["bytes"] == os.path.getsize(path)
    # Keras itself reads it: every weight (EMA generator included), compiled, optimizers reset.
    loaded = keras.saving.load_model(path)
    assert loaded.compiled and loaded.g_optimizer.iterations.numpy() == 0 < model.g_optimizer.iterations.numpy()
    assert all(not np.any(v.numpy()) for v in loaded.g_optimizer.variables[2:])  # moments are zeros
    for ours, theirs in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    # The model it was saved from keeps its optimizer state.
    assert any(np.any(v.numpy()) for v in model.g_optimizer.variables[2:])


def test_loaded_model_samples_like_the_original_and_trains(trained):
    model, folder = trained
    loaded = zoo.from_preset(folder)
    z = np.random.default_rng(1).standard_normal((4, 8)).astype("float32")
    np.testing.assert_allclose(loaded.generate(z), model.generate(z), atol=1e-6)
    before = [w.numpy().copy() for w in loaded.generator.trainable_weights]
    history = loaded.fit(DIGITS, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][-1])
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, loaded.generator.trainable_weights))


def test_from_preset_on_a_class_checks_the_class(trained):
    _, folder = trained
    assert type(zoo.models.GAN.from_preset(folder)) is zoo.models.GAN
    with pytest.raises(ValueError, match="is a GAN, not a VAE"):
        zoo.models.VAE.from_preset(folder)


def test_a_damaged_model_file_is_refused(trained, tmp_path):
    _, folder = trained
    copy = tmp_path / "copy"
    os.makedirs(copy)
    for name in (pretrained.MODEL_FILE, pretrained.METADATA_FILE):
        data = open(os.path.join(folder, name), "rb").read()
        (copy / name).write_bytes(data[:-10] + b"0" * 10 if name == pretrained.MODEL_FILE else data)
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        pretrained.load(str(copy))


def test_urls_download_once_into_the_cache(trained, cache):
    model, folder = trained
    url = "file://" + os.path.abspath(folder)
    loaded = pretrained.load(url)
    cached = os.listdir(cache)
    assert len(cached) == 1 and sorted(os.listdir(cache / cached[0])) == [pretrained.METADATA_FILE, pretrained.MODEL_FILE]
    np.testing.assert_array_equal(loaded.generator.weights[0].numpy(), model.generator.weights[0].numpy())
    # A .keras file URL too; and the cache answers without the source.
    assert pretrained.resolve(url + "/" + pretrained.MODEL_FILE).startswith(str(cache))
    assert pretrained.resolve(url) == str(cache / cached[0])


def test_a_download_that_does_not_match_its_metadata_is_not_kept(trained, cache, tmp_path):
    _, folder = trained
    mirror = tmp_path / "mirror"
    os.makedirs(mirror)
    metadata = json.load(open(os.path.join(folder, pretrained.METADATA_FILE)))
    (mirror / pretrained.METADATA_FILE).write_text(json.dumps({**metadata, "sha256": "0" * 64}))
    (mirror / pretrained.MODEL_FILE).write_bytes(open(os.path.join(folder, pretrained.MODEL_FILE), "rb").read())
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        pretrained.resolve(f"file://{mirror}")
    assert not any(name.endswith(pretrained.MODEL_FILE) for _, _, names in os.walk(cache) for name in names)


def test_unreachable_urls_fail_with_a_clear_error(cache):
    with pytest.raises(ConnectionError, match="could not download .*needs internet"):
        pretrained.resolve("file:///nonexistent/zoo-preset")


def test_hugging_face_handles_map_to_file_urls():
    assert pretrained._url_of("hf://someone/digits") == "https://huggingface.co/someone/digits/resolve/main"
    assert pretrained._url_of("hf://a/b/sub/dir") == "https://huggingface.co/a/b/resolve/main/sub/dir"
    assert pretrained._url_of("digits_cgan") is None
    with pytest.raises(ValueError, match="hf://OWNER/REPO"):
        pretrained._url_of("hf://lonely")


def test_registered_names_come_from_the_checkout_a_mirror_or_nowhere(trained, cache, monkeypatch, tmp_path):
    _, folder = trained
    with pytest.raises(ValueError, match="unknown pretrained preset 'nope'.*digits_cgan"):
        pretrained.resolve("nope")
    monkeypatch.setattr(pretrained, "_checkout_copy", lambda name: None)  # a pip install: no saved_models/
    monkeypatch.delenv("ZOO_PRETRAINED_URL", raising=False)
    with pytest.raises(FileNotFoundError, match="not on this machine.*ZOO_PRETRAINED_URL.*zoo train dcgan"):
        pretrained.resolve("digits_dcgan")
    mirror = tmp_path / "mirror"
    os.makedirs(mirror)
    os.symlink(os.path.abspath(folder), mirror / "digits_dcgan")
    monkeypatch.setenv("ZOO_PRETRAINED_URL", f"file://{mirror}")
    local = pretrained.resolve("digits_dcgan")
    assert local.startswith(str(cache)) and os.path.isfile(os.path.join(local, pretrained.MODEL_FILE))
    monkeypatch.delenv("ZOO_PRETRAINED_URL")  # offline again: the cached copy still answers
    assert pretrained.resolve("digits_dcgan") == local


def test_bad_handles_name_what_was_expected(tmp_path):
    (tmp_path / "weights.h5").write_bytes(b"")
    for handle, error, expected in (
        (None, ValueError, "a name, a path or a URL"),
        (str(tmp_path / "weights.h5"), ValueError, "not a .keras file"),
        (str(tmp_path), FileNotFoundError, "holds no model.keras"),
    ):
        with pytest.raises(error, match=expected):
            pretrained.resolve(handle)


def test_initialize_checks_class_and_shapes(trained):
    model, _ = trained
    other = presets.get("dcgan").build((16, 16, 1), base_filters=8, latent_dim=8, ema_momentum=0.9)
    with pytest.raises(ValueError, match=r"is \(.*\) in the model being trained but"):
        pretrained.initialize(other, model)
    with pytest.raises(ValueError, match="cannot start a VAE from a GAN"):
        pretrained.initialize(presets.get("vae").build((16, 16, 1), latent_dim=4), model)
    same = presets.get("dcgan").build((16, 16, 1), base_filters=4, latent_dim=8, ema_momentum=0.9)
    pretrained.initialize(same, model)
    for ours, theirs in zip(same.weights, model.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cli_fine_tunes_from_a_preset_with_its_options(capsys, trained, tmp_path):
    model, folder = trained
    # --learning-rate 0: the weights stay those of the preset, so the checkpoint shows where training started.
    run_dir = str(tmp_path / "run")
    code = cli.main(["train", "dcgan", "--dataset", "digits", "--image-size", "16", "--limit", "16",
                     "--batch-size", "8", "--steps-per-epoch", "1", "--epochs", "1", "--learning-rate", "0",
                     "--precision", "float32", "--init-from", folder, "--run-dir", run_dir, "--quiet"])
    assert code == 0, capsys.readouterr().err[-2000:]
    tuned = checkpoint.load_model(os.path.join(run_dir, "checkpoint"), compile=False)
    assert tuned.latent_dim == 8  # the preset's, not dcgan's default 100
    for ours, theirs in zip(tuned.generator.trainable_weights, model.generator.trainable_weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    # A preset of another model is refused, naming the model it belongs to.
    code = cli.main(["train", "wgan", "--dataset", "digits", "--init-from", folder, "--run-dir", run_dir])
    assert code == 2 and "is a dcgan model; start `zoo train dcgan`" in capsys.readouterr().err


def test_cli_samples_from_a_preset(capsys, trained, tmp_path):
    _, folder = trained
    grid = str(tmp_path / "grid.png")
    assert cli.main(["sample", "--preset", folder, "--num", "4", "--output", grid]) == 0
    assert os.path.getsize(grid) > 0
    assert cli.main(["sample", "--preset", folder, "--export", folder, "--output", grid]) == 2
    assert "exactly one of --checkpoint DIR, --export PATH or --preset" in capsys.readouterr().err


def test_zoo_list_shows_the_pretrained_presets(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name, entry in pretrained.PRETRAINED.items():
        assert name in out and presets.get(entry.preset)  # each names a registered preset
