"""Every registered preset, from the command line: train one step on embedded data, export, sample the export."""

import argparse
import os

import numpy as np
import pytest
from PIL import Image

from zoo import checkpoint, cli, export, presets, pretrained

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
    "pix2pix": ["--base-filters", "4", "--direction", "BtoA", "--patch-layers", "1"],
    "colourisation": ["--base-filters", "4", "--patch-layers", "1", "--pretrain-epochs", "1"],
    "cogan": ["--latent-dim", "8", "--base-filters", "8", "--d-filters", "4,8", "--d-hidden", "16"],
    "progan": ["--latent-dim", "8", "--fmap-base", "16", "--fmap-max", "8", "--stabilize-images", "8",
               "--fade-images", "8"],
    "cyclegan": ["--base-filters", "4", "--num-blocks", "1", "--pool-size", "2", "--patch-layers", "1"],
    "stylegan2": ["--latent-dim", "8", "--mapping-layers", "2", "--fmap-base", "16", "--fmap-max", "8"],
}




def write_images(folder, count, width=16, seed=0):
    """`count` random 16 x `width` RGB PNGs (smooth blobs, so they compress like photos)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        small = rng.integers(0, 256, (4, width // 4, 3), dtype=np.uint8)
        Image.fromarray(small).resize((width, 16), Image.BILINEAR).save(os.path.join(folder, f"{i:02d}.png"))
    return str(folder)


def dataset_arguments(name, tmp_path):
    """What each data kind trains on: embedded digits, or small PNG folders written here."""
    kind = presets.get(name).data
    if kind == "paired":  # side-by-side A|B files, the pix2pix layout
        return ["--dataset", write_images(tmp_path / "pairs", 6, width=32)]
    if kind == "colour_images":
        return ["--dataset", "photos"]  # scikit-image's colour photos
    if kind == "unpaired":
        return ["--dataset", write_images(tmp_path / "a", 6), "--dataset-b", write_images(tmp_path / "b", 5, seed=1)]
    return ["--dataset", "digits"]


def test_every_preset_has_a_tiny_run():
    assert set(TINY) == set(presets.PRESETS)


@pytest.mark.parametrize("name", sorted(TINY))
def test_train_export_and_sample_every_preset(capsys, tmp_path, name):
    run_dir, base = str(tmp_path / "run"), str(tmp_path / "models")
    code = cli.main([
        "train", name, *TINY[name], *dataset_arguments(name, tmp_path), "--image-size", "16", "--limit", "32",
        "--batch-size", "8" if presets.get(name).serves != "translation" else "2", "--steps-per-epoch", "1", "--epochs", "1", "--precision", "float32",
        "--run-dir", run_dir, "--quiet", "--export", f"digits_{name}", "--base-path", base, "--pretrained",
    ])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert os.path.isfile(os.path.join(run_dir, "samples", "latest.png"))
    preset = presets.get(name)
    if name == "colourisation":  # its U-Net is pre-trained by L1 first, in a folder of its own
        assert "for 1 epochs of pretrain, then 1 epochs" in captured.out
        assert os.path.isfile(os.path.join(run_dir, "pretrain", "samples", "latest.png"))
        # Fine-tuning a trained colouriser skips the pre-training.
        tuned = str(tmp_path / "tuned")
        code = cli.main(["train", name, *TINY[name], *dataset_arguments(name, tmp_path), "--image-size", "16",
                         "--limit", "8", "--batch-size", "2", "--steps-per-epoch", "1", "--epochs", "1", "--quiet",
                         "--run-dir", tuned, "--init-from", os.path.join(run_dir, "checkpoint")])
        out = capsys.readouterr().out
        assert code == 0 and "--init-from: skipping the pretrain phase(s)" in out and "then" not in out
        assert not os.path.exists(os.path.join(tuned, "pretrain"))
    # The pretrained preset beside the export: the trained model, its weights, its options.
    trained = checkpoint.load_model(os.path.join(run_dir, "checkpoint"), compile=False)
    model, metadata = pretrained.load_with_metadata(os.path.join(base, f"digits_{name}"))
    assert type(model) is type(trained) and model.compiled and metadata["preset"] == name
    assert metadata["hparams"] == preset.hparams(**metadata["hparams"])
    for ours, theirs in zip(model.weights, trained.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    if preset.serves in ("classifier", "translation", "noise_pair"):  # zoo export follows the model's EXPORT too
        code = cli.main(["export", "--checkpoint", os.path.join(run_dir, "checkpoint"), "--name", "again",
                         "--base-path", base])
        assert code == 0, capsys.readouterr().err[-2000:]
        expected = {"translation": ["again_ab", "again_ba"] if preset.data == "unpaired" else ["again"],
                    "noise_pair": ["again_a", "again_b"], "classifier": ["again"]}[preset.serves]
        assert sorted(n for n in os.listdir(base) if n.startswith("again")) == expected
    if preset.serves == "translation":  # an image-to-image export: served by signature, not sampled
        for export_name in [f"digits_{name}_ab", f"digits_{name}_ba"] if preset.data == "unpaired" else [f"digits_{name}"]:
            version = os.path.join(base, export_name, "1")
            metadata = export.read_metadata(version)
            assert metadata["preset"] == name and metadata["output_channels"] == 3
            import tensorflow as tf

            served = tf.saved_model.load(version).signatures["serving_default"](images=tf.zeros((1, 32, 32, 3)))
            assert tuple(served["images"].shape) == (1, 32, 32, 3)  # fully convolutional: twice the training size
        return
    export_name = f"digits_{name}_a" if preset.serves == "noise_pair" else f"digits_{name}"  # CoGAN: _a and _b
    version = os.path.join(base, export_name, "1")
    assert export.read_metadata(version)["preset"] == name
    if preset.serves == "noise_pair":
        assert export.read_metadata(os.path.join(base, f"digits_{name}_b", "1"))["pair_with"] == export_name
    grid = str(tmp_path / "samples.png")
    if preset.serves == "classifier":  # the export classifies; samples come from the checkpoint
        assert export.read_metadata(version)["num_classes"] == 10
        source = ["--checkpoint", os.path.join(run_dir, "checkpoint")]
    else:
        source = ["--export", os.path.join(base, export_name)]
    code = cli.main(["sample", *source, "--num", "10", "--output", grid])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert os.path.getsize(grid) > 0


def test_pix2pix_from_two_folders_of_matching_images(capsys, tmp_path):
    a, b = write_images(tmp_path / "a", 4), write_images(tmp_path / "b", 4, seed=1)
    code = cli.main(["train", "pix2pix", *TINY["pix2pix"], "--dataset", f"{a}:{b}", "--image-size", "16",
                     "--batch-size", "2", "--epochs", "1", "--run-dir", str(tmp_path / "run"), "--quiet"])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert os.path.isfile(tmp_path / "run" / "samples" / "latest.png")


def test_image_to_image_data_errors_name_what_was_expected(capsys, tmp_path):
    a, b = write_images(tmp_path / "a", 3), write_images(tmp_path / "b", 2, seed=1)
    for argv, expected in (
        (["train", "dcgan", "--dataset", "digits", "--dataset-b", b], "--dataset-b is for models that train on two"),
        (["train", "pix2pix", "--dataset", "digits"], "--dataset must be a folder of side-by-side A|B images"),
        (["train", "pix2pix", "--dataset", f"{a}:{b}", "--image-size", "32"], "holds 3 images but"),
        (["train", "cyclegan", "--dataset", a], "--dataset A_FOLDER --dataset-b B_FOLDER"),
        (["train", "pix2pix", "--dataset", f"{a}:{a}", "--image-size", "16"], "needs images of at least 24x24"),
    ):
        code = cli.main([*argv, "--run-dir", str(tmp_path / "run"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (argv, err[-500:])


def test_cyclegan_reads_a_folder_in_the_authors_layout(tmp_path):
    for name, count in (("trainA", 3), ("trainB", 4)):
        write_images(tmp_path / "set" / name, count, seed=count)
    args = argparse.Namespace(model="cyclegan", dataset=str(tmp_path / "set"), dataset_b=None, image_size=16, seed=0,
                              limit=None)
    dataset, image_shape, source_channels, (grid_a, _) = cli._unpaired_data(args, {}, 2)
    assert image_shape == (16, 16, 3) and source_channels == 3 and grid_a.shape[1:] == (16, 16, 3)
    assert len(list(dataset)) == 2  # the 4 images of the larger domain, in batches of 2


def test_pix2pix_trains_offline_on_edge_maps_of_photos():
    args = argparse.Namespace(model="pix2pix", dataset="edges2photos", image_size=32, seed=0, limit=8)
    dataset, image_shape, source_channels, (sources, targets) = cli._paired_data(args, {"direction": "BtoA"}, 4)
    assert image_shape == (32, 32, 3) and source_channels == 3 and len(list(dataset)) == 2
    # BtoA: edge maps (dark lines on white, mostly bright) to photos.
    assert sources.mean() > targets.mean() and sources.shape == targets.shape == (4, 32, 32, 3)
    spread = np.ptp(sources, axis=-1).max()
    assert spread < 1e-5  # the edge maps are grey

