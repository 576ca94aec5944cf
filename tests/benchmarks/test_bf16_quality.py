"""Tests of benchmarks/bf16_quality.py: argument checks, the comparison, and a --quick smoke run."""

import importlib.util
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bf16_quality.py"
MNIST_DIR = os.path.join(
    os.environ.get("ZOO_SHARED_DATA", str(Path(__file__).resolve().parents[3] / "shared" / "data")), "mnist"
)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bf16_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--mode-variants", "nope"], "--mode-variants"),
        (["--datasets", "spiral"], "--datasets"),
        (["--mode-steps", "0"], "--mode-steps"),
        (["--mnist-steps", "-3"], "--mnist-steps"),
        (["--threads", "-1"], "--threads"),
        (["--seeds", "1", "1"], "--seeds"),
    ],
)
def test_bad_arguments_are_rejected_naming_the_argument(bench, argv, message, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert message in capsys.readouterr().err


def test_quick_shrinks_the_protocol(bench):
    args = bench.parse_args(["--quick", "--seeds", "3", "4"])
    assert args.seeds == [3] and args.mode_steps == 20 and args.mnist_steps == 10
    assert args.output.name == "bf16_quality_quick.json"
    assert bench.parse_args([]).output.name == "bf16_quality.json"


def test_with_precision_sets_then_restores_the_policy(bench):
    seen = bench.with_precision("mixed_bfloat16", lambda: keras.mixed_precision.global_policy().name)
    assert seen == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="precision"):
        bench.with_precision("float64", lambda: None)


def test_median_sigmas_on_known_points(bench):
    # Ring modes lie on the unit circle, sigma 0.01: points 0.02 and 0.04 outside modes 0 and 2.
    samples = np.array([[1.02, 0.0], [0.0, 1.04], [-1.0, 0.0]])
    assert bench.median_sigmas(samples, "ring") == pytest.approx(2.0)
    assert bench.median_sigmas(np.array([[np.nan, 0.0]]), "ring") is None


def test_compare_pairs_seeds_and_judges_against_the_float32_spread(bench):
    runs = [
        {"precision": "float32", "seed": 0, "g": "a", "fid": 10.0},
        {"precision": "mixed_bfloat16", "seed": 0, "g": "a", "fid": 11.0},
        {"precision": "float32", "seed": 1, "g": "a", "fid": 14.0},
        {"precision": "mixed_bfloat16", "seed": 1, "g": "a", "fid": 12.0},
        {"precision": "float32", "seed": 0, "g": "b", "fid": 1.0},
        {"precision": "mixed_bfloat16", "seed": 0, "g": "b", "fid": 9.0},
        {"precision": "float32", "seed": 1, "g": "b", "fid": 1.5},
        {"precision": "mixed_bfloat16", "seed": 1, "g": "b", "fid": 8.0},
    ]
    result = bench.compare(runs, ("fid",), key=lambda r: r["g"])
    a, b = result["a"]["fid"], result["b"]["fid"]
    assert result["a"]["seeds"] == [0, 1]
    assert a["differences"] == [1.0, -2.0] and a["float32_spread"] == 4.0
    assert a["mean_difference"] == pytest.approx(-0.5) and a["within_float32_range"] is True
    assert b["mean_difference"] == pytest.approx(7.25) and b["within_float32_range"] is False
    one_seed = bench.compare(runs[:2], ("fid",), key=lambda r: r["g"])
    assert one_seed["a"]["fid"]["within_float32_range"] is None  # no spread to judge by


@pytest.mark.slow
def test_quick_run_records_both_parts(bench, tmp_path):
    if not os.path.isdir(MNIST_DIR):
        pytest.skip(f"MNIST IDX files not found in {MNIST_DIR}")
    output = tmp_path / "results" / "bf16_quality.json"
    bench.main(["--quick", "--mode-variants", "best", "--datasets", "grid", "--output", str(output)])
    mode, mnist = json.loads(output.read_text())["records"]
    assert (mode["part"], mnist["part"]) == ("mode", "mnist") and mode["quick"]
    assert [(r["precision"], r["generator_dtype"]) for r in mode["runs"]] == [
        ("float32", "float32"), ("mixed_bfloat16", "bfloat16")
    ]
    for run in mode["runs"]:
        assert run["steps"] == 20 and run["num_modes"] == 25 and sum(run["counts"]) == round(run["high_quality"] * 2500)
        assert run["median_sigmas"] > 0 and run["train_cpu_seconds"] > 0 and Path(run["figure"]).is_file()
    comparison = mode["comparison"]["best/grid"]["high_quality"]
    assert comparison["within_float32_range"] is None and len(comparison["differences"]) == 1
    assert [(r["precision"], r["generator_dtype"]) for r in mnist["runs"]] == [
        ("float32", "float32"), ("mixed_bfloat16", "bfloat16")
    ]
    for run in mnist["runs"]:
        assert run["steps"] == 10 and 0.0 <= run["accuracy"] <= 1.0 and len(run["per_label"]) == 10
        assert run["fid"] > 0 and run["fid_over_floor"] == pytest.approx(run["fid"] / mnist["judge"]["fid_floor"])
    assert mnist["judge"]["precision"] == "float32" and mnist["held_out_images"] == 200
    assert Path(mnist["figures"]["side_by_side"]).is_file()
    assert keras.mixed_precision.global_policy().name == "float32"


def test_pooled_joins_records_and_refuses_two_judges(bench):
    def mnist_record(seed, fid32, fid16, floor=9.0):
        runs = [dict(precision=p, seed=seed, steps=800, fid=f, fid_over_floor=f / floor, accuracy=0.9,
                     worst_label_accuracy=0.8, train_cpu_seconds=100.0, train_wall_seconds=200.0)
                for p, f in zip(bench.PRECISIONS, (fid32, fid16))]
        return {"part": "mnist", "quick": False, "judge": {"fid_floor": floor}, "runs": runs}

    records = [mnist_record(0, 20.0, 21.0), mnist_record(1, 24.0, 22.0), dict(mnist_record(2, 1, 99), quick=True)]
    pool = bench.pooled(records)
    fid = pool["mnist"]["cgan28/800 steps"]["fid"]
    assert pool["mnist"]["cgan28/800 steps"]["seeds"] == [0, 1]  # the quick record is left out
    assert fid["differences"] == [1.0, -2.0] and fid["within_float32_range"] is True
    table = bench.markdown(pool)
    assert "| cgan28/800 steps | fid | 2 | 22 [20, 24] | 21.5 [21, 22] | -0.5 | yes |" in table
    with pytest.raises(ValueError, match="judges"):
        bench.pooled(records[:1] + [mnist_record(1, 24.0, 22.0, floor=8.0)])


def test_pool_option_appends_a_pooled_record(bench, tmp_path):
    output = tmp_path / "bf16_quality.json"
    run = dict(steps=800, fid=20.0, fid_over_floor=2.0, accuracy=0.9, worst_label_accuracy=0.8,
               train_cpu_seconds=100.0, train_wall_seconds=200.0)
    record = {"part": "mnist", "quick": False, "date": "d0", "judge": {"fid_floor": 10.0},
              "runs": [dict(run, precision="float32", seed=0), dict(run, precision="mixed_bfloat16", seed=0, fid=25.0)]}
    output.write_text(json.dumps({"benchmark": "bf16_quality", "records": [record]}))
    table = bench.main(["--pool", "--output", str(output)])
    assert "| cgan28/800 steps | fid | 1 | 20 [20, 20] | 25 [25, 25] | +5 | one seed |" in table
    pooled_record = json.loads(output.read_text())["records"][-1]
    assert pooled_record["part"] == "pooled" and pooled_record["pooled_records"] == ["d0"]
    assert pooled_record["comparison"]["mnist"]["cgan28/800 steps"]["fid"]["differences"] == [5.0]
