"""Smoke test of benchmarks/mnist_cgan.py: a few seconds per variant on the shared MNIST files."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mnist_cgan.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("mnist_cgan", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # trains a judge and two models
def test_quick_run_scores_both_variants_and_writes_figures(bench, shared_mnist, tmp_path):
    output = tmp_path / "results" / "mnist_cgan.json"
    bench.main(["--quick", "--data-dir", str(shared_mnist), "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["quick"] and record["settings"]["train_images"] == 500
    assert 0.0 < record["judge"]["held_out_accuracy"] <= 1.0 and record["judge"]["fid_floor"] > 0
    for name in ("zoo", "keras_io"):
        result = record["variants"][name]
        assert result["steps"] >= 1 and result["train_seconds"] > 0
        assert 0.0 <= result["worst_label_accuracy"] <= result["accuracy"] <= 1.0
        assert result["fid_over_floor"] == pytest.approx(result["fid"] / record["judge"]["fid_floor"])
        assert Path(record["figures"][name]).is_file()
    assert Path(record["figures"]["side_by_side"]).is_file()


def test_unknown_variant_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--variants", "zoo,biggan"])
