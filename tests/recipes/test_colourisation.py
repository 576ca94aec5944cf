import importlib.util
import os

import numpy as np
import pytest
import tensorflow as tf

from zoo import export

RECIPE = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "colourisation.py")


def load_recipe():
    spec = importlib.util.spec_from_file_location("colourisation", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gan_smoke_pretrains_then_trains_adversarially_scores_and_exports(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    )
    assert list(result["history"]) == ["pretrain", "adversarial"]
    assert set(result["history"]["pretrain"]) == {"g_loss", "recon_loss"}
    assert {"d_loss", "g_loss", "recon_loss"} <= set(result["history"]["adversarial"])
    scores = result["scores"]
    assert scores["num_test"] == 16 and 5 < scores["psnr"] < 60 and -1 <= scores["ssim"] <= 1
    assert scores["colourfulness"] >= 0 and scores["truth_colourfulness"] > 5  # the held-out cat has colour
    assert os.path.isfile(result["grid"])
    for folder in ("pretrain", ""):
        assert os.path.isfile(tmp_path / "run" / folder / "samples" / "latest.png")
    info = export.read_metadata(result["export"])
    assert info["colour_space"] == "lab" and info["variant"] == "gan" and info["stride"] == 32
    # The export colourises grey photos larger than the training crops.
    served = tf.saved_model.load(result["export"]).signatures["uint8"]
    out = served(images=tf.constant(np.full((1, 64, 96, 1), 120, np.uint8)))
    assert out["images_uint8"].shape == (1, 64, 96, 3)


@pytest.mark.slow  # its net and its regression training are tested in tests/nets and tests/models
def test_encoder_decoder_smoke_trains_without_fusion_and_says_so(tmp_path):
    result = load_recipe().main(
        ["--smoke", "--variant", "encoder_decoder", "--run-dir", str(tmp_path / "run"),
         "--base-path", str(tmp_path / "models")]
    )
    assert result["fusion"].startswith("fusion off")
    assert list(result["history"]) == ["train"] and result["scores"]["psnr"] > 5
    assert export.read_metadata(result["export"])["stride"] == 8


def test_a_folder_needs_a_held_out_folder(tmp_path):
    with pytest.raises(ValueError, match="--test-data"):
        load_recipe().main(["--smoke", "--data", str(tmp_path), "--run-dir", str(tmp_path / "run")])
