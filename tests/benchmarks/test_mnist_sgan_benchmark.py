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


@pytest.mark.slow
def test_quick_run_writes_errors_of_both_models(bench, tmp_path, shared_mnist):
    output = tmp_path / "results" / "mnist_sgan.json"
    bench.main(
        ["--quick", "--data", shared_mnist, "--limit", "300", "--batch-size", "50", "--shift", "1",
         "--shift-images", "labelled", "--output", output]
    )
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
    assert "benchmarks/mnist_sgan.py" in record["command"] and record["settings"]["shift"] == 1
    assert record["settings"]["shift_images"] == "labelled"


def test_baseline_only_makes_as_many_updates_as_the_sgan_would(bench, tmp_path, shared_mnist):
    output = tmp_path / "out.json"
    bench.main(
        ["--quick", "--data", shared_mnist, "--limit", "300", "--batch-size", "50", "--baseline-only",
         "--output", output]
    )
    (record,) = json.loads(output.read_text())["records"]
    (run,) = record["runs"]
    assert "sgan" not in run and "sgan" not in record
    assert run["supervised"]["updates"] == 6 and record["supervised"]["worst"] == run["supervised"]["test_error"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--baseline-only", "--skip-baseline"])


def test_parallel_runs_append_without_losing_records(bench, tmp_path):
    """Seeds run as separate processes share one --output: every record must survive."""
    import multiprocessing

    output = tmp_path / "out.json"
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_append_many, args=(output, k)) for k in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    records = json.loads(output.read_text())["records"]
    assert sorted((r["writer"], r["n"]) for r in records) == [(k, n) for k in range(4) for n in range(10)]
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    output.write_text("[]")
    with pytest.raises(ValueError, match="records"):
        bench._shared.append_record(output, {"n": 3}, "mnist_sgan")


def _append_many(output, writer):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_shared", SCRIPT.parent / "_shared.py")
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    for n in range(10):
        shared.append_record(output, {"writer": writer, "n": n}, "mnist_sgan")


def test_diffaugment_shifts_inside_the_sgan_step_not_in_the_data(bench, tmp_path, shared_mnist, monkeypatch):
    import zoo

    built = []

    class Recording(zoo.models.SemiSupervisedGAN):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self)

    shifted = []
    monkeypatch.setattr(bench.zoo.models, "SemiSupervisedGAN", Recording)
    monkeypatch.setattr(bench.zoo.data, "random_shift", lambda *a, **k: shifted.append(a) or a[0])
    output = tmp_path / "out.json"
    bench.main(
        ["--quick", "--data", shared_mnist, "--limit", "300", "--batch-size", "50", "--shift", "2",
         "--shift-images", "diffaugment", "--skip-baseline", "--output", output]
    )
    (sgan,) = built
    assert isinstance(sgan.augment, zoo.layers.RandomShift) and sgan.augment.max_shift == 2
    assert not shifted  # the dataset's images are left as they are
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["shift_images"] == "diffaugment" and record["runs"][0]["sgan"]["updates"] == 6
