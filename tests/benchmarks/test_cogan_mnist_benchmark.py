"""Smoke test of benchmarks/cogan_mnist.py on the shared MNIST files."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cogan_mnist.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("cogan_mnist_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # trains a judge and two CoGANs, tracing each
def test_quick_run_scores_pairing_and_quality_of_both_variants(bench, shared_mnist, tmp_path):
    output = tmp_path / "results" / "cogan_mnist.json"
    bench.main(["--quick", "--data-dir", str(shared_mnist), "--output", str(output), "--transform", "negative"])
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["quick"] and record["settings"]["train_images"] == 600
    assert record["settings"]["transform"] == "negative"
    for domain in ("a", "b"):
        assert 0.0 <= record["judge"][f"held_out_accuracy_{domain}"] <= 1.0
        assert record["judge"]["fid_floor"][domain] > 0
    for name in ("cogan", "independent"):
        result = record["variants"][name]
        assert result["steps"] >= 1 and result["cpu_seconds"] > 0
        assert 0.0 <= result["pair_error"] <= 2.0 and result["shuffled_error"] > 0
        assert result["ratio"] == pytest.approx(result["pair_error"] / result["shuffled_error"])
        assert 0.0 <= result["class_agreement"] <= 1.0 and 0.0 < result["class_agreement_chance"] <= 1.0
        assert result["fid_over_floor"]["b"] == pytest.approx(result["fid"]["b"] / record["judge"]["fid_floor"]["b"])
        assert Path(record["figures"][name]).is_file()


def test_missing_data_is_skipped_with_a_message(bench, tmp_path, capsys):
    output = tmp_path / "results.json"
    assert bench.main(["--quick", "--data-dir", str(tmp_path / "absent"), "--output", str(output)]) is None
    assert "skipped" in capsys.readouterr().err and not output.exists()


def test_unknown_variant_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(["--variants", "cogan,shared_everything"])
