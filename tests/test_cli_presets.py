"""Every registered preset, from the command line: train one step on embedded data, export, sample the export."""

import os

import pytest

from zoo import cli, export, presets

# Each preset's options for a tiny run; a preset registered without an entry here fails
# `test_every_preset_has_a_tiny_run`.
TINY = {
    "gan": [],
    "dcgan": ["--base-filters", "4", "--latent-dim", "8"],
    "keras_io_dcgan": ["--latent-dim", "8"],
    "wgan": ["--base-filters", "4", "--latent-dim", "8", "--d-steps", "1"],
    "wgan_gp": ["--base-filters", "4", "--latent-dim", "8", "--d-steps", "1"],
    "cgan": ["--base-filters", "4", "--latent-dim", "8"],
    "cgan_concat": ["--base-filters", "4", "--latent-dim", "8"],
    "acgan": ["--base-filters", "4", "--latent-dim", "8"],
    "autoencoder": ["--latent-dim", "4"],
    "vae": ["--latent-dim", "4"],
    "cvae": ["--latent-dim", "4"],
    "vaegan": ["--latent-dim", "4", "--base-filters", "4"],
    "stylegan": ["--latent-dim", "8", "--mapping-layers", "2", "--fmap-base", "16", "--fmap-max", "8"],
    "sgan": ["--labels-per-class", "2", "--latent-dim", "8", "--shift", "1"],
    "stylegan2": ["--latent-dim", "8", "--mapping-layers", "2", "--fmap-base", "16", "--fmap-max", "8"],
}


def test_every_preset_has_a_tiny_run():
    assert set(TINY) == set(presets.PRESETS)


@pytest.mark.parametrize("name", sorted(TINY))
def test_train_export_and_sample_every_preset(capsys, tmp_path, name):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "models")
    code = cli.main([
        "train", name, *TINY[name], "--dataset", "digits", "--image-size", "16", "--limit", "32",
        "--batch-size", "8", "--steps-per-epoch", "1", "--epochs", "1", "--precision", "float32",
        "--run-dir", run_dir, "--quiet", "--export", f"digits_{name}", "--base-path", base,
    ])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert os.path.isfile(os.path.join(run_dir, "samples", "latest.png"))
    version = os.path.join(base, f"digits_{name}", "1")
    assert export.read_metadata(version)["preset"] == name
    grid = str(tmp_path / "samples.png")
    if presets.get(name).serves == "classifier":  # the export classifies; samples come from the checkpoint
        assert export.read_metadata(version)["num_classes"] == 10
        source = ["--checkpoint", os.path.join(run_dir, "checkpoint")]
    else:
        source = ["--export", os.path.join(base, f"digits_{name}")]
    code = cli.main(["sample", *source, "--num", "10", "--output", grid])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert os.path.getsize(grid) > 0
