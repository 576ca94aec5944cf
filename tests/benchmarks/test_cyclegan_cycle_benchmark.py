"""Smoke test of benchmarks/cyclegan_cycle.py: a tiny run on the embedded photos."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cyclegan_cycle.py"


@pytest.mark.slow  # CycleGAN graph training is covered by the recipe smoke test
def test_quick_run_scores_cycles_and_translations_before_and_after(tmp_path):
    spec = importlib.util.spec_from_file_location("cyclegan_cycle_benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = tmp_path / "results" / "cyclegan_cycle.json"
    bench.main(["--quick", "--output", output])
    (record,) = json.loads(output.read_text())["records"]
    assert record["training"]["updates"] >= 1 and record["num_test"] == 8
    for scores in (record["before"], record["after"]):
        assert set(scores) == {"cycle_l1_a", "cycle_l1_b", "cycle_psnr_a", "cycle_psnr_b",
                               "translation_l1_ab", "translation_l1_ba"}
        assert all(0 < scores[k] < 2 for k in scores if "l1" in k)
    assert 0.1 < record["untranslated_l1"] < 2  # the hue turn changes the photos
    assert Path(record["figure"]).is_file()
