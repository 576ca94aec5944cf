"""Quick check of benchmarks/progan_mnist.py: a tiny ProGAN grown 4 -> 32 px on the shared MNIST files."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "progan_mnist.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("progan_mnist", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # trains a judge and grows a tiny ProGAN through four stages (~30-60 s)
def test_quick_run_records_every_stage_and_a_figure(bench, shared_mnist, tmp_path):
    output = tmp_path / "results" / "progan_mnist.json"
    bench.main(["--quick", "--threads", "1", "--data-dir", str(shared_mnist), "--output", str(output)])
    (record,) = json.loads(output.read_text())["records"]
    assert record["settings"]["quick"] and record["settings"]["stabilize_images"] == 256
    stages = record["stages"]
    assert [s["resolution"] for s in stages] == [4, 8, 16, 32]
    # Each stage ends where the schedule says: 256 images at 4x4, then 256 + 256 per resolution.
    assert [s["images_seen"] for s in stages] == [256, 768, 1280, 1792]
    assert [s["lod"] for s in stages] == [3.0, 2.0, 1.0, 0.0]
    floor = record["fid_32_floor"]
    assert floor > 0 and record["fid_32_initial"] > 0
    for stage in stages:
        assert stage["fid_at_stage"] > 0 and stage["fid_at_stage_floor"] > 0 and stage["cpu_seconds"] > 0
        assert all(math.isfinite(v) for v in stage["last_logs"].values())
    # At full resolution the stage's references are the full-size ones.
    assert stages[-1]["fid_at_stage"] == pytest.approx(stages[-1]["fid_32"])
    assert stages[-1]["fid_at_stage_floor"] == pytest.approx(floor, rel=1e-5)
    assert record["final_fid_32_over_floor"] == pytest.approx(stages[-1]["fid_32"] / floor)
    fids = [record["fid_32_initial"]] + [s["fid_32"] for s in stages]
    assert record["fid_32_falls_every_stage"] == all(b < a for a, b in zip(fids, fids[1:]))
    figure = tf.io.decode_png(tf.io.read_file(str(output.with_name("progan_mnist_stages.png")))).numpy()
    assert figure.std() > 0


def test_missing_mnist_exits_with_a_message(bench, tmp_path):
    with pytest.raises(SystemExit, match="MNIST IDX files"):
        bench.main(["--quick", "--data-dir", str(tmp_path / "nowhere"), "--output", str(tmp_path / "r.json")])
    assert not (tmp_path / "r.json").exists()


def test_bad_arguments_are_refused(bench):
    for argv in (["--batch-size", "0"], ["--fade-images", "-1"], ["--d-learning-rate", "0"], ["--ema-momentum", "1"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)


def test_stage_boundaries_follow_the_schedule(bench):
    class Growing:
        stabilize_images, fade_images = 100, 50

    assert bench.stage_boundaries(Growing, 3) == [(4, 100), (8, 250), (16, 400), (32, 550)]


def test_digits_are_padded_to_32_with_background(bench, shared_mnist):
    images, labels = bench.arrays(shared_mnist, "test")
    assert images.shape == (2000, 32, 32, 1) and labels.shape == (2000,)
    assert np.all(images[:, :2] == -1.0) and images.max() == pytest.approx(1.0)
