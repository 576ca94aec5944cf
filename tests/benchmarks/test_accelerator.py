"""Tests of benchmarks/accelerator.py and its PyTorch reference (benchmarks/torch_gan.py).

The benchmark is meant for a GPU machine with JAX and PyTorch and no TensorFlow; here it
runs on the CPU with `import tensorflow` blocked, as it would fail there.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "accelerator.py"
MNIST = Path(os.environ.get("ZOO_SHARED_DATA", ROOT.parent / "shared" / "data")) / "mnist"

# Runs a script as on a machine without TensorFlow: the path finder does not see it, so
# `import tensorflow` raises ModuleNotFoundError and `importlib.util.find_spec` returns None
# (PyTorch's dynamo probes it), and nothing is put in sys.modules (Keras takes any entry
# there, even None, for TensorFlow being loaded).
WITHOUT_TENSORFLOW = """
import importlib.machinery, runpy, sys

class HideTensorFlow:
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            return None
        return self.finder.find_spec(name, path, target)

    def __getattr__(self, attr):
        return getattr(self.finder, attr)

sys.meta_path[:] = [HideTensorFlow(f) if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def has_torch():
    return importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself. Loading it
    # sets KERAS_BACKEND=jax in os.environ, which must not leak into this process's tests.
    saved = os.environ.get("KERAS_BACKEND")
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("accelerator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            os.environ.pop("KERAS_BACKEND", None)
        else:
            os.environ["KERAS_BACKEND"] = saved
    return module


def test_arguments_are_checked(bench):
    for argv in (["--parts", "peak,speed"], ["--configs", "dcgan65"], ["--zoo-variants", "zoo_f16"],
                 ["--torch-variants", "torch_jit"], ["--sg2-precisions", "f16"], ["--sg2-resolutions", "64,x"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
    args = bench.parse_args([])
    assert args.parts == list(bench.PARTS) and args.sg2_resolutions == [64, 256]
    assert args.output == bench.RESULTS_DIR / "accelerator.json"
    args = bench.parse_args(["--quick"])
    assert (args.steps, args.rounds, args.sg2_resolutions) == (2, 1, [8, 16])
    assert args.output == bench.RESULTS_DIR / "accelerator_quick.json"
    assert bench.parse_args(["--quick", "--steps", "3"]).steps == 3  # given values win over quick's
    assert bench.parse_args(["--torch-compile-cases", "dcgan64_b128"]).torch_compile_cases == ["dcgan64_b128"]
    # The batch sizes, and the quick run's scaled ones.
    assert bench.throughput_cases(bench.parse_args([])) == [("dcgan64", 32), ("dcgan64", 128), ("dcgan32", 128)]
    assert bench.throughput_cases(args) == [("dcgan64", 2), ("dcgan64", 8), ("dcgan32", 8)]


def test_summary_medians_ratios_and_ceiling_share_by_hand(bench):
    per_round = {
        "dcgan32_b8:zoo_bf16": [100.0, 300.0, 200.0],
        "dcgan32_b8:torch_eager_f32": [50.0, 100.0, 80.0],
        "dcgan32_b8:torch_compile_bf16": [400.0, 100.0, 200.0],
    }
    described = {key: {} for key in per_round}
    described["dcgan32_b8:zoo_bf16"]["train_step_gflop_per_image"] = 2.0
    warm = dict.fromkeys(per_round, 1.0)
    case = bench.summarise(per_round, described, warm, ceiling=4.0)["dcgan32_b8"]
    assert case["gflop_per_image"] == 2.0
    zoo_bf16 = case["variants"]["zoo_bf16"]
    assert zoo_bf16["images_per_second_median"] == 200.0
    assert zoo_bf16["tflops"] == pytest.approx(0.4) and zoo_bf16["share_of_bf16_ceiling"] == pytest.approx(0.1)
    eager = case["ratios"]["zoo_bf16/torch_eager_f32"]
    assert eager["ratio_of_medians"] == pytest.approx(2.5)
    assert eager["median_of_round_ratios"] == pytest.approx(2.5)  # 2, 3, 2.5
    compiled = case["ratios"]["zoo_bf16/torch_compile_bf16"]
    assert compiled["ratio_of_medians"] == pytest.approx(1.0)
    assert compiled["median_of_round_ratios"] == pytest.approx(1.0)  # 0.25, 3, 1
    assert set(case["ratios"]) == {"zoo_bf16/torch_eager_f32", "zoo_bf16/torch_compile_bf16"}


@pytest.mark.skipif(not has_torch(), reason="PyTorch is not installed")
@pytest.mark.parametrize("config_name", ["dcgan64", "dcgan32"])
def test_torch_reference_has_zoo_nets_and_learns(bench, config_name):
    """Same trainable weights as zoo's nets, same shapes, and a step that moves both nets."""
    import keras
    import torch

    import torch_gan

    config = bench.CONFIGS[config_name]
    shape = (16, 16, config["image_shape"][-1]) if config_name == "dcgan32" else (32, 32, 3)
    config = {**config, "image_shape": shape}
    generator, discriminator = bench.zoo_nets(config)
    step = torch_gan.GANStep(config["nets"], config["latent_dim"], shape, 1e-3, 0.5, seed=1)
    for keras_net, torch_net in ((generator, step.generator), (discriminator, step.discriminator)):
        keras_count = sum(int(np.prod(w.shape)) for w in keras_net.trainable_weights)
        torch_count = sum(p.numel() for p in torch_net.parameters())
        assert torch_count == keras_count, (keras_net.name, torch_count, keras_count)
    fakes = step.generator(torch.randn(3, config["latent_dim"]))
    assert tuple(fakes.shape) == (3, shape[2], shape[0], shape[1])
    assert float(fakes.detach().abs().max()) <= 1.0
    assert tuple(step.discriminator(fakes).shape) == (3, 1)
    before = [p.detach().clone() for p in (*step.generator.parameters(), *step.discriminator.parameters())]
    real = torch.rand(4, shape[2], shape[0], shape[1]) * 2 - 1
    d_loss, g_loss = step(real)
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    after = list((*step.generator.parameters(), *step.discriminator.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(before, after)), "every weight moves in one step"
    assert all(p.requires_grad for p in step.discriminator.parameters())  # unfrozen after G's update
    del keras


def run_quick(tmp_path, *extra):
    output = tmp_path / "accelerator_quick.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("KERAS_BACKEND", None)
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, str(SCRIPT), "--quick", "--output", str(output),
         "--mnist", str(MNIST), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = json.loads(output.read_text())["records"]
    return {r["part"]: r for r in records}, proc.stdout


def check_records(records, stdout, torch_variants):
    for record in records.values():
        assert record["benchmark"] == "accelerator" and record["quick"] is True
        env = record["environment"]
        assert env["tensorflow_imported"] is False and env["jax_platform"] == "cpu"
        assert "--quick" in record["command"]
    peak = records["peak"]["result"]
    assert peak["bf16_ceiling_tflops"] > 0 and "jax_f32_highest" in peak["rates"]
    assert ("torch_bf16" in peak["rates"]) == has_torch()
    cases = records["throughput"]["result"]["cases"]
    for case in cases.values():
        assert case["gflop_per_image"] > 0
        for name, variant in case["variants"].items():
            assert len(variant["images_per_second"]) == 1 and variant["images_per_second_median"] > 0
            if name.startswith("zoo"):
                assert variant["jit_compile"] is True  # XLA, zoo's default on JAX
        expected = set(torch_variants) if has_torch() else set()
        assert {v for v in case["variants"] if v.startswith("torch")} == expected
    if not has_torch():
        assert "PyTorch is not installed" in stdout
    if "stylegan2" not in records:
        return
    runs = records["stylegan2"]["result"]["runs"]
    assert runs and all(r["step_ms_median"] > 0 for r in runs.values())
    if MNIST.is_dir():
        quality = records["quality"]["result"]
        assert quality["cgan"]["steps"] >= 1 and quality["stylegan2_32"]["steps"] >= 1
        assert 0 < quality["cgan"]["judge"]["fid_floor"] and np.isfinite(quality["cgan"]["fid"])
        assert all(Path(f).is_file() for f in quality["figures"].values())
    else:
        assert "quality" not in records and "no MNIST IDX folder" in stdout


def test_quick_run_without_tensorflow(tmp_path):
    """The comparison with PyTorch on a narrow selection: one configuration, the cheapest variants.

    The StyleGAN2 and quality parts compile for about a minute on a CPU: the slow test below runs them.
    """
    torch_variants = ["torch_eager_f32"]
    records, stdout = run_quick(
        tmp_path, "--parts", "peak,throughput", "--configs", "dcgan32", "--zoo-variants", "zoo_f32",
        "--torch-variants", *torch_variants,
    )
    check_records(records, stdout, torch_variants)
    assert set(records) == {"peak", "throughput"}
    assert set(records["throughput"]["result"]["cases"]) == {"dcgan32_b8"}


@pytest.mark.slow
def test_whole_quick_run_without_tensorflow(tmp_path):
    """`--quick` as documented: every configuration and variant, torch.compile included (~5 min)."""
    records, stdout = run_quick(tmp_path)
    torch_variants = ["torch_eager_f32", "torch_eager_bf16", "torch_compile_f32", "torch_compile_bf16"]
    check_records(records, stdout, torch_variants)
    result = records["throughput"]["result"]
    assert set(result["cases"]) == {"dcgan64_b2", "dcgan64_b8", "dcgan32_b8"}
    if has_torch():
        assert set(result["targets"]) == {"dcgan64_b128_zoo_bf16_over_torch_eager",
                                          "dcgan64_b128_zoo_bf16_over_torch_compile"}
