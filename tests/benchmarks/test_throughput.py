"""Tests of benchmarks/throughput.py: FLOP counts, data, plain models, a tiny interleaved run."""

import importlib.util
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "throughput.py"

# cGAN-28 (keras.io "Conditional GAN"), MACs of one forward pass, by hand:
#   G: Dense 138 -> 7*7*138            138 * 6762            =    933,156
#      ConvT 4x4 138->128, 7x7 in      49 * 16 * 138 * 128   = 13,848,576
#      ConvT 4x4 128->128, 14x14 in    196 * 16 * 128 * 128  = 51,380,224
#      Conv 7x7 128->1, 28x28 out      784 * 49 * 128        =  4,917,248
#   D: Conv 3x3 11->64, 14x14 out      196 * 9 * 11 * 64     =  1,241,856
#      Conv 3x3 64->128, 7x7 out       49 * 9 * 64 * 128     =  3,612,672
#      Dense 128 -> 1                                        =        128
CGAN28_G_MACS = 71_079_204
CGAN28_D_MACS = 4_854_656


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself.
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_cgan28_flops_match_the_hand_count_in_every_variant(bench):
    args = bench.parse_args(["--models", "cgan28"])
    spec = bench.model_spec("cgan28", args)
    for variant in ("plain", "zoo"):
        model, _ = bench.build_variant("cgan28", variant, spec, seed=0)
        flops = bench.flops_per_image("cgan28", spec, model)
        assert flops["generator_forward_macs"] == CGAN28_G_MACS, variant
        assert flops["discriminator_forward_macs"] == CGAN28_D_MACS, variant
        assert flops["train_step_gflop_per_image"] == pytest.approx(
            2 * (4 * CGAN28_G_MACS + 8 * CGAN28_D_MACS) / 1e9
        )


def test_wgangp28_critic_passes_count_the_penalty_and_critic_steps(bench):
    spec = {"d_steps": 5}
    # G: 5 x 1 (fakes) + 3 (update); D: 5 x (2 x 3 + 6 penalty) + 2.
    assert bench.MODELS["wgangp28"]["passes"](spec) == (8, 62)
    assert bench.MODELS["wgangp28"]["passes"]({"d_steps": 1}) == (4, 14)


def test_variants_see_the_same_data(bench):
    spec = bench.model_spec("cgan28", bench.parse_args(["--batch-size", "4"]))
    plain = next(iter(bench.synthetic_dataset(spec, "plain", 2, seed=3)))
    zoo_batch = next(iter(bench.synthetic_dataset(spec, "zoo_auto", 2, seed=3)))
    np.testing.assert_array_equal(plain[0].numpy(), zoo_batch[0].numpy())
    # Plain gets the keras.io example's one-hot labels, zoo the same labels as ints.
    np.testing.assert_array_equal(np.argmax(plain[1].numpy(), -1), zoo_batch[1].numpy())
    assert plain[0].shape == (4, 28, 28, 1) and -1 <= plain[0].numpy().min() < plain[0].numpy().max() <= 1


def test_zoo_auto_builds_under_the_device_default_and_restores_the_policy(bench, monkeypatch):
    monkeypatch.setattr(bench.zoo.device, "default_precision", lambda: "mixed_bfloat16")
    spec = bench.model_spec("cgan28", bench.parse_args([]))
    model, policy = bench.build_variant("cgan28", "zoo_auto", spec, seed=0)
    assert policy == "mixed_bfloat16"
    assert model.generator.layers[-1].dtype_policy.name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    model, policy = bench.build_variant("cgan28", "zoo", spec, seed=0)
    assert policy == "float32" and model.generator.layers[-1].dtype_policy.name == "float32"


def test_plain_conditional_gan_trains(bench):
    spec = bench.model_spec("cgan28", bench.parse_args(["--batch-size", "4"]))
    model, _ = bench.build_variant("cgan28", "plain", spec, seed=0)
    before_d = [w.numpy() for w in model.discriminator.trainable_weights]
    before_g = [w.numpy() for w in model.generator.trainable_weights]
    logs = model.fit(bench.synthetic_dataset(spec, "plain", 2, 0), steps_per_epoch=2, verbose=0).history
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["g_loss"][0])
    # Both players moved.
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before_d, model.discriminator.trainable_weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before_g, model.generator.trainable_weights))


def test_arguments_are_checked(bench):
    for argv in (["--models", "dcgan65"], ["--variants", "plain,plain"], ["--runs", "0"],
                 ["--image-size", "60"], ["--variants", "zoo_auto_spe", "--steps", "3", "--spe", "2"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
    args = bench.parse_args(["--quick"])
    assert (args.runs, args.steps, args.batch_size) == (1, 1, 4) and args.output == bench.QUICK_OUTPUT
    assert bench.parse_args([]).variants == ["plain", "zoo", "zoo_auto"]
    assert [bench.steps_for(m, bench.parse_args([])) for m in bench.MODELS] == [2, 4, 2]


def test_process_start_time_is_before_now(bench):
    started = bench.process_start_time()
    if started is None:
        pytest.skip("no /proc on this system")
    assert 0 < time.time() - started < 24 * 3600


@pytest.mark.slow  # three small variants, traced, plus one fresh Python process (~30 s)
def test_quick_run_writes_positive_figures(bench, tmp_path):
    output = tmp_path / "results" / "throughput.json"
    bench.main(["--quick", "--models", "cgan28", "--matmul-reps", "1", "--output", output])

    data = json.loads(output.read_text())
    assert data["benchmark"] == "throughput"
    (record,) = data["records"]
    assert record["order"] == {"models": ["cgan28"], "variants": ["plain", "zoo", "zoo_auto"], "rotate": False}
    assert record["settings"]["quick"] and record["settings"]["threads"] == 0
    for dtype in ("float32", "bfloat16"):
        assert record["matmul"][dtype]["median_gflop_per_second"] > 0
    model = record["models"]["cgan28"]
    assert model["settings"]["batch_size"] == 4
    for name, variant in model["variants"].items():
        (run,) = variant["runs"]
        assert 0 < run["loop_seconds"] <= run["fit_seconds"]
        assert run["images_per_second"] == pytest.approx(4 / run["loop_seconds"])
        assert variant["median_images_per_second"] == run["images_per_second"]
        assert variant["train_step_gflop_per_image"] == pytest.approx(
            2 * (4 * CGAN28_G_MACS + 8 * CGAN28_D_MACS) / 1e9
        )
        assert variant["share_of_matmul_ceiling"]["bfloat16"] == pytest.approx(
            variant["achieved_gflop_per_second"] / record["matmul"]["bfloat16"]["median_gflop_per_second"]
        )
    assert model["variants"]["plain"]["ratio_of_medians"] == pytest.approx(1.0)
    assert model["variants"]["zoo"]["dtype_policy"] == "float32"
    first = model["first_step"]["zoo_auto"]
    assert first["dtype_policy"] == model["variants"]["zoo_auto"]["dtype_policy"]
    assert 0 < first["import_seconds"] < first["time_to_first_step_seconds"] <= first["process_wall_seconds"] + 1
    assert first["fit_to_first_step_seconds"] > 0


def test_fused_discriminator_pass_trains_like_separate_passes(bench):
    # cGAN-28's discriminator has neither batch statistics nor dropout, so one call on
    # concat(real, fake) must give the same losses and weights as two calls.
    spec = bench.model_spec("cgan28", bench.parse_args(["--batch-size", "4"]))
    results = []
    for kind in ("zoo", "zoo_fused"):
        keras.utils.set_random_seed(0)
        model, optimizers = bench.MODELS["cgan28"]["build"](kind, spec, 0)
        model.compile(**optimizers)
        logs = model.fit(bench.synthetic_dataset(spec, "zoo", 2, 0), steps_per_epoch=2, verbose=0).history
        results.append((type(model).__name__, logs, [w.numpy() for w in model.discriminator.weights]))
    (separate_name, separate_logs, separate_weights), (fused_name, fused_logs, fused_weights) = results
    assert (separate_name, fused_name) == ("ConditionalGAN", "FusedConditionalGAN")
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert fused_logs[key][0] == pytest.approx(separate_logs[key][0], rel=1e-4, abs=1e-5), key
    for a, b in zip(separate_weights, fused_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
