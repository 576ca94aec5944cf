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


def _run_on_jax(args, timeout):
    import os
    import subprocess
    import sys

    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(SCRIPT.parents[1]), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_keras_io_variant_is_refused_on_jax_with_the_reason(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench.keras.backend, "backend", lambda: "jax")
    with pytest.raises(SystemExit) as exit:
        bench.parse_args(["--variants", "zoo,keras_io"])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "TensorFlow code" in err and "--variants zoo" in err


@pytest.mark.slow  # trains a judge and the zoo model on JAX
def test_quick_run_on_jax_records_the_backend(shared_mnist, tmp_path):
    output = tmp_path / "mnist_cgan_jax.json"
    result = _run_on_jax(["--quick", "--variants", "zoo", "--data-dir", str(shared_mnist), "--output", str(output)], 900)
    assert result.returncode == 0, result.stderr[-3000:]
    (record,) = json.loads(output.read_text())["records"]
    assert record["machine"]["keras_backend"] == "jax" and record["command"].startswith("KERAS_BACKEND=jax ")
    assert record["variants"]["zoo"]["steps"] >= 1 and set(record["variants"]) == {"zoo"}
