"""Quick run of benchmarks/wgan_gp_batches.py: WGAN-GP with fresh and with reused critic batches."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "wgan_gp_batches.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("wgan_gp_batches_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # two WGAN-GPs traced and trained, a domain classifier, FIDs: about two minutes
def test_quick_run_trains_both_variants_alike_but_for_the_real_batches(bench, tmp_path):
    output = tmp_path / "wgan_gp_batches.json"
    bench.main(["--quick", "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    fresh, reuse = record["final"]["fresh"], record["final"]["reuse"]
    assert fresh["g_updates"] == reuse["g_updates"] == 6 and fresh["d_updates"] == reuse["d_updates"] == 30
    assert fresh["real_images_seen"] == 5 * reuse["real_images_seen"] == 5 * 64 * 6
    assert len(record["rounds"]) == 2 and record["fid_floor"] < fresh["fid"]


def test_the_variants_are_the_papers_and_keras_io(bench):
    assert bench.VARIANTS == {"fresh": True, "reuse": False}
