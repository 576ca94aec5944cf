import csv
import importlib.util
import os

import numpy as np
import pytest
import tensorflow as tf

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "stylegan_ffhq.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("stylegan_ffhq", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_png(path):
    return tf.io.decode_png(tf.io.read_file(str(path))).numpy()


def smoke_argv(tmp_path, *extra):
    return ["--smoke", "--precision", "float32", "--run-dir", str(tmp_path / "run"),
            "--base-path", str(tmp_path / "models"), *extra]


@pytest.mark.slow
def test_smoke_writes_the_three_figures_and_a_served_export(tmp_path):
    result = load_recipe().main(smoke_argv(tmp_path))
    run_dir = tmp_path / "run"
    assert result["images_seen"] == 16  # 16 images at batch 4: 4 generator updates
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    # StyleGAN 1: R1 on every discriminator step, no path length regularisation.
    assert all(float(r["r1_penalty"]) > 0 for r in rows)
    assert not any(key.startswith("pl_") for key in rows[0])
    for key in ("d_loss", "g_loss"):
        assert all(np.isfinite(float(r[key])) for r in rows), key
    mix, sweep = (read_png(run_dir / f"{name}.png") for name in ("style_mix", "truncation"))
    assert mix.shape[:2] == (5 * 18 + 2, 5 * 18 + 2) and sweep.shape[:2] == (4 * 18 + 2, 6 * 18 + 2)
    # psi = 0 (fourth column) gives w_avg in every row; psi = 1 (first) differs between rows.
    cells = [sweep[2 + 18 * row : 18 * (row + 1), 2 + 18 * 3 : 18 * 4] for row in range(4)]
    assert all(np.array_equal(cells[0], cell) for cell in cells[1:])
    assert not np.array_equal(sweep[2:18, 2:18], sweep[20:36, 2:18])
    # Style mixing: cell (row i, column j) takes the coarse styles (layers 0-3 of 6) of
    # row image i, so it differs from column image j (the mixing changed it).
    assert not np.array_equal(mix[20:36, 20:36], mix[2:18, 20:36])
    assert read_png(run_dir / "samples.png").shape[0] == 3 * 18 + 2

    assert result["export"] == str(tmp_path / "models" / "stylegan_ffhq" / "1")
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [16, 16, 1] and meta["dataset"] == "lfw_faces" and meta["r1_gamma"] == 10.0
    served = tf.saved_model.load(result["export"])
    z = tf.constant(np.random.default_rng(3).standard_normal((3, 16)).astype("float32"))
    images = served.signatures["serving_default"](noise=z)["images"].numpy()
    assert images.shape == (3, 16, 16, 1) and np.all(np.isfinite(images)) and np.ptp(images, axis=0).max() > 1e-3


@pytest.mark.slow  # two smoke runs: the second resumes from the first's checkpoint
def test_smoke_resumes_from_its_checkpoint(tmp_path):
    recipe = load_recipe()
    recipe.main(smoke_argv(tmp_path, "--total-kimg", "0.008"))  # 1 epoch of 2 steps
    result = recipe.main(smoke_argv(tmp_path, "--total-kimg", "0.024"))  # 3 epochs in all
    assert result["images_seen"] == 24  # 6 generator updates, not 2 + 6
    with open(tmp_path / "run" / "history.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1, 2]
    assert result["export"].endswith(os.path.join("stylegan_ffhq", "2"))


def test_bad_resolution_and_smoke_with_data_are_refused(capsys):
    with pytest.raises(SystemExit):
        load_recipe().parse_args(["--resolution", "96"])
    assert "--resolution: expected a power of 2 >= 4, got '96'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--smoke trains on embedded faces: drop --data"):
        load_recipe().main(["--smoke", "--data", "faces/"])


def test_resolution_defaults_to_ffhq_with_a_folder_and_128_for_celeba():
    recipe = load_recipe()
    assert recipe.parse_args(["--data", "ffhq"]).resolution == 1024
    assert recipe.parse_args([]).resolution == 128
    assert recipe.parse_args(["--data", "ffhq", "--resolution", "256"]).resolution == 256


@pytest.mark.slow  # tfds's mock CelebA through the full-scale path (16 px to keep it short)
def test_full_scale_path_reads_celeba_through_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=8):
        result = load_recipe().main(
            ["--resolution", "16", "--batch-size", "4", "--latent-dim", "8", "--mapping-layers", "2",
             "--fmap-base", "16", "--fmap-max", "8", "--total-kimg", "0.008", "--steps-per-epoch", "2",
             "--num-figure-images", "2", "--precision", "float32",
             "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
        )
    meta = export.read_metadata(result["export"])
    assert meta["image_shape"] == [16, 16, 3] and meta["latent_dim"] == 8 and meta["dataset"] == "celeb_a"
