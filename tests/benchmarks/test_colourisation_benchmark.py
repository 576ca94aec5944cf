"""Smoke test of benchmarks/colourisation.py: a tiny run on the embedded photos."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "colourisation.py"


@pytest.mark.parametrize(
    "hue",
    [pytest.param([], marks=pytest.mark.slow), pytest.param(["--random-hue"], marks=pytest.mark.slow)],
    ids=["photos", "random_hue"],
)
def test_quick_run_scores_the_variants_and_the_grey_input(tmp_path, hue):
    spec = importlib.util.spec_from_file_location("colourisation_benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = tmp_path / "results" / "colourisation.json"
    bench.main(["--quick", "--variants", "gan", "--output", output, *hue])
    (record,) = json.loads(output.read_text())["records"]
    grey, gan = record["variants"]["grey"]["scores"], record["variants"]["gan"]
    assert grey["colourfulness"] < 0.01 and grey["truth_colourfulness"] > 5
    assert list(gan["training"]) == ["pretrain", "adversarial"]
    assert all(phase["updates"] >= 1 for phase in gan["training"].values())
    assert 5 < gan["scores"]["psnr"] < 60 and gan["scores"]["num_test"] == record["num_test"] == 16
    assert Path(record["figure"]).is_file()
    assert record["settings"]["random_hue"] == bool(hue)
