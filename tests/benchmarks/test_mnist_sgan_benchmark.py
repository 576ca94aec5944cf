"""Smoke test of benchmarks/mnist_sgan.py: one tiny run on the shared MNIST IDX files."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mnist_sgan.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mnist_sgan", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_errors_of_both_models(bench, tmp_path, shared_mnist):
    output = tmp_path / "results" / "mnist_sgan.json"
    bench.main(["--quick", "--data", shared_mnist, "--limit", "300", "--batch-size", "50", "--output", output])
    data = json.loads(output.read_text())
    assert data["benchmark"] == "mnist_sgan"
    (record,) = data["records"]
    assert record["num_labels"] == 100 and record["num_unlabelled"] == 300 and record["num_test"] == 2000
    (run,) = record["runs"]
    assert run["seed"] == 0 and len(run["labelled_indices"]) == 100
    for model in ("sgan", "supervised"):
        assert 0.0 <= run[model]["test_error"] <= 1.0
        assert record[model]["worst"] == run[model]["test_error"]
    assert run["supervised"]["updates"] == run["sgan"]["updates"] == 6
    assert "benchmarks/mnist_sgan.py" in record["command"]


def test_results_are_appended(bench, tmp_path):
    output = tmp_path / "out.json"
    bench.append_record(output, {"n": 1})
    bench.append_record(output, {"n": 2})
    assert [r["n"] for r in json.loads(output.read_text())["records"]] == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    output.write_text("[]")
    with pytest.raises(ValueError, match="records"):
        bench.append_record(output, {"n": 3})
