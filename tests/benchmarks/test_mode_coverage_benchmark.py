"""Smoke test of benchmarks/mode_coverage.py: a few dozen steps per run, one seed."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mode_coverage.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mode_coverage", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_run_records_scores_and_writes_scatter_plots(bench, tmp_path):
    output = tmp_path / "results" / "mode_coverage.json"
    bench.main(["--quick", "--steps", "10", "--variants", "best", "wgan", "--datasets", "grid", "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["quick"] and record["settings"]["seeds"] == [0]
    assert record["settings"]["num_samples"] == 2500 and record["settings"]["cpu_budget_seconds"] == 180
    assert set(record["published"]) == {"GAN", "PacGAN2", "PacGAN4", "VEEGAN"}
    assert record["machine"]["cpu_count"] >= 1 and len(record["load_average"]["before"]) == 3
    assert set(record["variants"]) == {"best", "wgan"}
    for name, entry in record["variants"].items():
        assert entry["config"]["steps"] == 10
        assert set(entry["runs"]) == {"grid"}
        for dataset, num_modes in (("grid", 25),):
            (run,) = entry["runs"][dataset]
            assert (run["variant"], run["dataset"], run["seed"], run["steps"]) == (name, dataset, 0, 10)
            assert run["num_modes"] == num_modes and len(run["counts"]) == num_modes
            assert 0 <= run["modes_covered"] <= num_modes and 0.0 <= run["high_quality"] <= 1.0
            assert sum(run["counts"]) == round(run["high_quality"] * 2500)
            assert run["cpu_seconds"] > 0 and run["within_budget"]
            assert Path(run["figure"]).is_file() and Path(run["figure"]).parent == output.parent / "mode_coverage"
            summary = entry["summary"][dataset]
            assert summary["seeds"] == [0]
            assert summary["modes_covered"]["mean"] == summary["modes_covered"]["min"] == run["modes_covered"]
    assert set(record["best_target"]) == {"grid"}
    assert not record["best_target"]["grid"]["checks"]["seeds"]  # one seed is not the protocol's five
    assert "| zoo `best` |" in record["table"] and "| published PacGAN4 |" in record["table"]


def test_target_check_and_plan(bench):
    runs = [
        {"seed": s, "modes_covered": 25, "high_quality": 0.96, "reverse_kl": 0.01, "cpu_seconds": 100.0,
         "within_budget": True}
        for s in range(5)
    ]
    assert bench.target_check({"grid": bench.summarise(runs)})["grid"]["met"]
    runs[0] = dict(runs[0], reverse_kl=None, within_budget=False)  # no HQ sample, over budget
    check = bench.target_check({"grid": bench.summarise(runs)})["grid"]
    assert not check["met"] and not check["checks"]["reverse_kl"] and not check["checks"]["within_budget"]
    args = bench.parse_args(["--variants", "ns", "best", "--seeds", "0", "1", "2", "--other-seeds", "1"])
    planned = bench.plan(args)
    assert [(n, s) for n, d, s, _ in planned if d == "ring"] == [("best", 0), ("best", 1), ("best", 2), ("ns", 0)]
    # Competing variants run in turn, seed by seed and dataset by dataset (the same load for both).
    args = bench.parse_args(["--variants", "wgan_gp", "wgan_gp_reuse", "--seeds", "0", "1"])
    assert [(n, d, s) for n, d, s, _ in bench.plan(args)][:4] == [
        ("wgan_gp", "ring", 0), ("wgan_gp_reuse", "ring", 0), ("wgan_gp", "grid", 0), ("wgan_gp_reuse", "grid", 0)]


def test_unknown_variant_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--variants", "ns", "veegan"])
