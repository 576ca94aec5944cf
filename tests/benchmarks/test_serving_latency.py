"""Smoke test of benchmarks/serving_latency.py: one tiny interleaved run, JSON shape, same outputs."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "serving_latency.py"


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself.
    spec = importlib.util.spec_from_file_location("serving_latency", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_measures_four_variants_of_the_same_generator(bench, tmp_path):
    output = tmp_path / "results" / "serving_latency.json"
    # One small shape and width keep the test to seconds; the script's defaults are 64x64x3 and 28x28x1.
    bench.main(["--quick", "--shapes", "8x8x3", "--base-filters", "4", "--output", output])

    data = json.loads(output.read_text())
    assert data["benchmark"] == "serving_latency"
    (record,) = data["records"]
    assert record["settings"]["quick"] and record["settings"]["batch_size"] == 8
    assert record["settings"]["shapes"] == ["8x8x3"] and list(record["shapes"]) == ["8x8x3"]
    assert record["baseline"] == "saved_model"
    assert [p.name for p in output.parent.iterdir()] == ["serving_latency.json"]  # no temporary files left
    for shape in ("8x8x3",):
        figures = record["shapes"][shape]
        assert figures["parameters"] > 0 and figures["export_bytes"] > 0
        assert figures["orders"] == [["saved_model", "predict", "call", "predict_on_batch"]]
        # The export, predict, the eager call and predict_on_batch compute the same images.
        for name, difference in figures["max_abs_difference_to_saved_model"].items():
            assert difference < 1e-4, name
        assert sorted(figures["variants"]) == ["call", "predict", "predict_on_batch", "saved_model"]
        for name, r in figures["variants"].items():
            assert len(r["latency_ms"]) == 3 and all(t > 0 for t in r["latency_ms"])
            assert 0 < r["latency_p50_ms"] <= r["latency_p99_ms"] == pytest.approx(max(r["latency_ms"]), abs=1e-3)
            assert len(r["throughput_runs"]) == 1 and r["median_images_per_second"] > 0
        assert figures["variants"]["saved_model"]["latency_p50_ratio"] == pytest.approx(1.0)
        assert figures["variants"]["saved_model"]["throughput_ratio"] == pytest.approx(1.0)


def test_percentile_is_nearest_rank(bench):
    values = list(range(1, 101))
    assert bench.percentile(values, 50) == 50
    assert bench.percentile(values, 99) == 99
    assert bench.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert bench.percentile([3.0, 1.0, 2.0], 99) == 3.0


def test_arguments(bench):
    args = bench.parse_args(["--shapes", "64x64x3,28x28x1", "--threads", "1"])
    assert args.shapes == [(64, 64, 3), (28, 28, 1)] and args.threads == 1
    assert args.rounds == 5 and args.batch_size == 256
    with pytest.raises(SystemExit):
        bench.parse_args(["--shapes", "64x64"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--rounds", "0"])
