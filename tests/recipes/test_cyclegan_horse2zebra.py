import csv
import importlib.util
import math
import os

import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import export
from zoo.data import tfds_loaders
from zoo.data.colourisation import half_turn_hue

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "cyclegan_horse2zebra.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("cyclegan_horse2zebra", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_smoke_trains_on_unpaired_photos_scores_cycles_and_exports_both_ways(tmp_path):
    run_dir, models = tmp_path / "run", tmp_path / "models"
    argv = ["--smoke", "--precision", "float32", "--run-dir", str(run_dir), "--base-path", str(models)]
    recipe = load_recipe()
    result = recipe.main(argv)

    assert os.path.isfile(result["grid"])
    assert os.path.isfile(run_dir / "samples" / "epoch_0001.png")
    assert set(result["history"]) >= {"g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss"}
    assert all(len(values) == 1 and math.isfinite(values[0]) for values in result["history"].values())

    scores = result["evaluation"]
    assert scores["split"] == "test" and scores["num_a"] == scores["num_b"] == 8
    for domain in "ab":
        assert 0.0 < scores[f"cycle_l1_{domain}"] < 2.0
        assert 0.0 < scores[f"cycle_psnr_{domain}"] < 100.0 and math.isfinite(scores[f"cycle_psnr_{domain}"])

    for direction in ("ab", "ba"):
        path = result["exports"][direction]
        assert path == str(models / f"cyclegan_horse2zebra_{direction}" / "1")
        meta = export.read_metadata(path)
        assert meta["model"] == "CycleGAN" and meta["translator"] == f"generator_{direction}"
        assert meta["direction"] == direction and meta["stride"] == 4 and meta["train_image_size"] == 32
        assert result["served_shapes"][direction] == (4, 64, 64, 3)  # twice the training size

    # A served export translates a held-out image twice the size of the training crops, into [-1, 1].
    _, images_b = recipe.held_out(run_dir / "smoke_data", 64, limit=1)
    served = tf.saved_model.load(result["exports"]["ba"]).signatures["serving_default"](images=tf.constant(images_b))
    assert served["images"].shape == (1, 64, 64, 3) and served["images_uint8"].dtype == tf.uint8
    assert float(tf.reduce_max(tf.abs(served["images"]))) <= 1.0



@pytest.mark.slow  # two CycleGAN runs; resuming itself is tested in tests/test_callbacks.py and tests/test_cli.py
def test_smoke_run_resumes_in_the_same_run_dir(tmp_path, capsys):
    run_dir, models = tmp_path / "run", tmp_path / "models"
    argv = ["--smoke", "--precision", "float32", "--run-dir", str(run_dir), "--base-path", str(models)]
    recipe = load_recipe()
    recipe.main(argv)
    # Same run dir, one more epoch: continues from the checkpoint instead of starting over.
    resumed = recipe.main([*argv, "--epochs", "2"])
    assert "Resuming from" in capsys.readouterr().out
    assert len(resumed["history"]["cycle_loss"]) == 1
    with open(run_dir / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]
    assert os.path.isfile(run_dir / "samples" / "epoch_0002.png")
    assert resumed["exports"]["ab"].endswith(os.path.join("cyclegan_horse2zebra_ab", "2"))


def test_smoke_domains_are_unpaired_photos_and_their_hue_rotation(tmp_path):
    recipe = load_recipe()
    args = recipe.parse_args(["--smoke", "--batch-size", "2", "--run-dir", str(tmp_path)])
    assert (args.image_size, args.num_blocks, args.base_filters, args.batch_size) == (32, 1, 4, 2)
    source = recipe.dataset(args)
    assert sorted(os.listdir(source)) == ["testA", "testB", "trainA", "trainB"]
    assert len(os.listdir(os.path.join(source, "trainB"))) == 16
    images_a, images_b = next(iter(zoo.data.cycle_gan(source, batch_size=2, image_size=32, jitter=False, seed=0)))
    assert images_a.shape == images_b.shape == (2, 32, 32, 3)
    # B is not A with its hue turned: the crops are drawn apart, so the domains are unpaired.
    assert not np.allclose(half_turn_hue(images_a), images_b, atol=0.05)
    # Turning the hue half way twice comes back: the translation is one-to-one.
    np.testing.assert_allclose(half_turn_hue(half_turn_hue(images_a)), images_a, atol=0.02)
    test_a, test_b = recipe.held_out(source, 32)
    assert test_a.shape == test_b.shape == (8, 32, 32, 3)
    assert -1.0 <= min(test_a.min(), test_b.min()) and max(test_a.max(), test_b.max()) <= 1.0


def test_default_data_is_tfds_horse2zebra_train_and_test_splits(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    requested = []
    load = tfds_loaders._load
    monkeypatch.setattr(tfds_loaders, "_load", lambda name, split, *args, **kwargs: requested.append((name, split))
                        or load(name, split, *args, **kwargs))
    recipe = load_recipe()
    args = recipe.parse_args(["--image-size", "16", "--batch-size", "2"])
    hparams = args.hparams  # the paper's values, from the cyclegan preset
    assert (args.epochs, hparams["pool_size"], hparams["cycle_weight"], hparams["identity_weight"]) == (200, 50, 10.0, 0.5)
    with tfds.testing.mock_data(num_examples=4):
        images_a, images_b = next(iter(zoo.data.cycle_gan(recipe.dataset(args), batch_size=2, image_size=16)))
        test_a, test_b = recipe.held_out(recipe.dataset(args), 16)
    assert images_a.shape == images_b.shape == (2, 16, 16, 3)
    assert test_a.shape == test_b.shape == (4, 16, 16, 3)
    assert sorted(requested) == [("cycle_gan/horse2zebra", split) for split in ("testA", "testB", "trainA", "trainB")]


def test_a_folder_in_the_authors_layout(tmp_path):
    for name, count in (("trainA", 3), ("trainB", 5), ("testA", 2), ("testB", 2)):
        os.makedirs(tmp_path / name)
        for i in range(count):
            image = tf.cast(tf.fill((20, 24, 3), 40 * i), tf.uint8)
            tf.io.write_file(str(tmp_path / name / f"{i}.png"), tf.io.encode_png(image))
    recipe = load_recipe()
    args = recipe.parse_args(["--dataset", str(tmp_path), "--image-size", "16"])
    batches = list(zoo.data.cycle_gan(recipe.dataset(args), batch_size=1, image_size=16, seed=0))
    assert len(batches) == 5  # every image of the larger domain once, the smaller one repeated
    assert all(a.shape == b.shape == (1, 16, 16, 3) for a, b in batches)
    test_a, test_b = recipe.held_out(recipe.dataset(args), 16)
    assert test_a.shape == test_b.shape == (2, 16, 16, 3)
    os.rename(tmp_path / "testB", tmp_path / "valB")
    with pytest.raises(ValueError, match="testB is missing"):
        recipe.held_out(str(tmp_path), 16)
    with pytest.raises(ValueError, match="slices are tfds's"):
        zoo.data.cycle_gan(str(tmp_path), "train[:2]", image_size=16)


@pytest.mark.slow  # a third train-step trace; the tfds loading itself is covered above
def test_full_scale_path_trains_on_tfds_horse2zebra(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=4):
        result = load_recipe().main(
            ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--image-size", "32",
             "--num-blocks", "1", "--base-filters", "4", "--precision", "float32",
             "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    assert result["exports"]["ab"] == str(tmp_path / "models" / "cyclegan_horse2zebra_ab" / "1")
    meta = export.read_metadata(result["exports"]["ba"])
    assert meta["dataset"] == "cycle_gan/horse2zebra" and meta["direction"] == "ba"
    assert result["evaluation"]["num_a"] == 4 and result["served_shapes"]["ab"] == (4, 64, 64, 3)
