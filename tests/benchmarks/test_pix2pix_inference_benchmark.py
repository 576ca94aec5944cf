"""Quick run of benchmarks/pix2pix_inference.py: one tiny pix2pix scored in the paper's and the deterministic mode."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "pix2pix_inference.py"


@pytest.mark.slow  # trains a pix2pix for 3 CPU-seconds, then translates the held-out crops eight times
def test_quick_run_scores_every_mode_and_writes_the_picture(tmp_path):
    spec = importlib.util.spec_from_file_location("pix2pix_inference_benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = tmp_path / "results" / "pix2pix_inference.json"
    bench.main(["--quick", "--output", output])
    (record,) = json.loads(output.read_text())["records"]
    assert record["training"]["updates"] >= 1 and record["num_test"] == 8
    assert record["moving_averages_untouched_by_inference"] is True
    modes = record["modes"]
    assert set(modes) == {"paper", "deterministic", "own_statistics", "dropout_only", "edges_as_output", "photo"}
    assert modes["photo"]["colourfulness"] > 5 and modes["photo"]["contrast"] > 0
    for mode, entry in modes.items():
        assert entry["colourfulness"] >= 0 and entry["contrast"] >= 0
        if mode != "photo":
            assert 0 < entry["l1"] < 2 and 0 < entry["psnr"] < 100 and -1 <= entry["ssim"] <= 1
    paper = modes["paper"]
    assert paper["num_draws"] == 2 and paper["pixel_std_between_draws"] > 0 and paper["l1_between_two_draws"] > 0
    assert paper["l1_to_deterministic"] > 0 and "mean_of_draws" in paper
    assert "num_draws" not in modes["deterministic"]
    assert Path(record["figure"]).is_file() and record["figure"].endswith("pix2pix_inference_grid.png")
