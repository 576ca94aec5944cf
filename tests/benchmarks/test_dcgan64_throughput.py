"""Smoke test of benchmarks/dcgan64_throughput.py: one tiny interleaved run, JSON shape."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "dcgan64_throughput.py"


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself.
    spec = importlib.util.spec_from_file_location("dcgan64_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # 64 px nets in three precisions
def test_quick_run_writes_positive_figures(bench, tmp_path):
    output = tmp_path / "results" / "dcgan64_throughput.json"
    # 32 px keeps the test well under a minute on a shared 2-core machine.
    bench.main(["--quick", "--image-size", "32", "--matmul-reps", "1", "--output", output])

    data = json.loads(output.read_text())
    assert data["benchmark"] == "dcgan64_throughput"
    (record,) = data["records"]
    for key in ("date", "machine", "settings", "order", "baseline", "matmul", "variants"):
        assert key in record
    for key in ("cpu_model", "cpu_count", "tensorflow", "keras"):
        assert key in record["machine"]
    assert record["settings"]["quick"] and record["settings"]["batch_size"] == 4
    # zoo_bf16 joins the default list on CPUs with native bf16.
    expected = ["plain", "zoo"] + (["zoo_bf16"] if bench.has_native_bf16() else [])
    assert record["order"] == expected and record["baseline"] == "plain"
    assert record["matmul"]["median_gflop_per_second"] > 0

    for name in ("plain", "zoo"):
        variant = record["variants"][name]
        (run,) = variant["runs"]
        assert run["images_per_second"] > 0
        assert 0 < run["loop_seconds"] <= run["fit_seconds"]
        for key in (
            "median_images_per_second",
            "ratio_of_medians",
            "median_of_round_ratios",
            "time_to_first_step_seconds",
            "train_step_gflop_per_image",
            "achieved_gflop_per_second",
            "share_of_matmul_ceiling",
        ):
            assert variant[key] > 0, key
    assert record["variants"]["plain"]["ratio_of_medians"] == pytest.approx(1.0)
    # Same architecture, same analytic count.
    assert (
        record["variants"]["plain"]["train_step_gflop_per_image"]
        == record["variants"]["zoo"]["train_step_gflop_per_image"]
    )


def test_results_are_appended(bench, tmp_path):
    output = tmp_path / "out.json"
    bench.append_record(output, {"n": 1})
    bench.append_record(output, {"n": 2})
    assert [r["n"] for r in json.loads(output.read_text())["records"]] == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary files left

    output.write_text("[]")
    with pytest.raises(ValueError, match="records"):
        bench.append_record(output, {"n": 3})


def test_bf16_only_by_default_on_bf16_hardware(bench, monkeypatch):
    monkeypatch.setattr(bench, "has_native_bf16", lambda: False)
    assert bench.parse_args([]).variants == ["plain", "zoo"]
    monkeypatch.setattr(bench, "has_native_bf16", lambda: True)
    assert bench.parse_args([]).variants == ["plain", "zoo", "zoo_bf16"]
    assert bench.parse_args(["--variants", "zoo_bf16,plain"]).variants == ["zoo_bf16", "plain"]
