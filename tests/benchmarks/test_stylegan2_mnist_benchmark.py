"""Quick check of benchmarks/stylegan2_mnist.py: seconds of training on the shared MNIST files."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "stylegan2_mnist.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("stylegan2_mnist", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # trains a judge and a StyleGAN2, then PPL and two projections (~1-2 min on a loaded CPU)
def test_quick_run_records_fid_timeline_ppl_projection_and_figures(bench, shared_mnist, tmp_path):
    output = tmp_path / "results" / "stylegan2_mnist.json"
    bench.main(["--quick", "--threads", "1", "--data-dir", str(shared_mnist), "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["quick"] and record["settings"]["train_images"] == 500
    assert record["settings"]["resolution"] == 32 and record["settings"]["threads"] == 1
    floor = record["judge"]["fid_floor"]
    assert floor > 0 and 0.0 < record["judge"]["held_out_accuracy"] <= 1.0

    timeline = record["fid_timeline"]
    assert len(timeline) == 3 and timeline[0]["total_steps"] == 0  # the start, then 2 slices
    assert [point["slice"] for point in timeline[1:]] == [1, 2]
    assert timeline[2]["total_steps"] == timeline[1]["total_steps"] + timeline[2]["steps"] > timeline[1]["total_steps"]
    for point in timeline[1:]:
        assert point["fid_over_floor"] == pytest.approx(point["fid"] / floor)
        assert point["cpu_seconds"] > 0 and all(math.isfinite(v) for v in point["last_logs"].values())
    assert record["fid_improved"] == (timeline[-1]["fid"] < timeline[0]["fid"])

    ppl = record["ppl"]
    assert ppl["ppl_w_end"] > 0 and ppl["ppl_z_end"] > 0
    assert ppl["w_below_z"] == (ppl["ppl_w_end"] < ppl["ppl_z_end"])
    separability = record["separability"]
    assert record["settings"]["ls_samples"] == 200
    for space in ("w", "z"):
        entropies = separability[f"entropies_{space}"]
        assert len(entropies) == 10 and all(0.0 <= h <= 1.0 for h in entropies)
        assert separability[f"ls_{space}"] == pytest.approx(2.0 ** sum(entropies), rel=1e-3)
    assert separability["w_below_z"] == (separability["ls_w"] < separability["ls_z"])
    for space in ("w", "w+"):
        result = record["projection"][space]
        assert -1.0 <= result["min_ssim"] <= result["mean_ssim"] <= 1.0 and result["mean_mse"] > 0
    assert record["projection"]["w+_meets_target"] == (record["projection"]["w+"]["mean_ssim"] >= 0.8)

    figures = {name: tf.io.decode_png(tf.io.read_file(path)).numpy() for name, path in record["figures"].items()}
    assert figures["style_mix"].shape[:2] == (6 * 34 + 2, 7 * 34 + 2)  # 5 row + 6 column sources at 32 px
    assert figures["truncation"].shape[:2] == (8 * 34 + 2, 6 * 34 + 2)  # 8 rows x 6 psis
    # psi = 0 (fourth column) is w_avg's image in every row.
    sweep = figures["truncation"]
    cells = [sweep[2 + 34 * row : 34 * (row + 1), 2 + 34 * 3 : 34 * 4] for row in range(8)]
    assert all(np.array_equal(cells[0], cell) for cell in cells[1:]) and sweep.std() > 0
    assert Path(record["figures"]["samples"]).is_file() and Path(record["figures"]["projection"]).is_file()


def test_missing_mnist_exits_with_a_message(bench, tmp_path):
    with pytest.raises(SystemExit, match="MNIST IDX files"):
        bench.main(["--quick", "--data-dir", str(tmp_path / "nowhere"), "--output", str(tmp_path / "r.json")])
    assert not (tmp_path / "r.json").exists()


def test_bad_arguments_are_refused(bench):
    for argv in (["--slices", "0"], ["--minutes", "0"], ["--num-project", "-1"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)


def test_digits_are_padded_to_32_with_background(bench, shared_mnist):
    images, labels = bench.arrays(shared_mnist, "test")
    assert images.shape == (2000, 32, 32, 1) and labels.shape == (2000,)
    assert np.all(images[:, :2] == -1.0) and np.all(images[:, :, -2:] == -1.0)
    assert images.max() == pytest.approx(1.0)
