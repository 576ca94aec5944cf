"""Tests of benchmarks/backends_throughput.py: arguments, data, the summary, a tiny run on both backends."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "backends_throughput.py"


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is a folder of scripts, not a package: load the file itself.
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("backends_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_arguments_are_checked(bench):
    for argv in (["--models", "dcgan65"], ["--variants", "plain"], ["--variants", "zoo,zoo"],
                 ["--runs", "0"], ["--steps", "0"], ["--first-step-repeats", "-1"], ["--image-size", "60"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
    args = bench.parse_args(["--quick"])
    assert (args.runs, args.steps, args.batch_size, args.first_step_repeats) == (1, 1, 4, 1)
    assert args.output == bench.QUICK_OUTPUT and args.models == args.first_step_models == ["cgan28"]
    args = bench.parse_args([])
    assert args.models == ["dcgan64", "cgan28", "wgangp28"] and args.variants == ["zoo", "zoo_auto"]
    assert args.output == bench.DEFAULT_OUTPUT
    # A worker gets the settings that shape its models.
    child = bench.parse_args(bench.child_argv(bench.parse_args(["--quick", "--models", "cgan28"])))
    assert (child.models, child.steps, child.batch_size, child.matmul_size) == (["cgan28"], 1, 4, 256)


def test_tensorflow_reads_the_arrays_batch_by_batch_and_repeats(bench):
    spec = {"batch_size": 3, "image_shape": (4, 4, 1), "labels": True}
    images, labels = bench.synthetic_arrays(spec, 2, seed=5)
    assert images.shape == (6, 4, 4, 1) and -1 <= images.min() < images.max() <= 1
    assert labels.dtype == np.int32 and 0 <= labels.min() and labels.max() < 10
    batches = list(bench.fit_inputs((images, labels), 3)["x"].take(3))
    for got, start in zip(batches, (0, 3, 0)):
        np.testing.assert_array_equal(got[0].numpy(), images[start:start + 3])
        np.testing.assert_array_equal(got[1].numpy(), labels[start:start + 3])


def test_summary_medians_and_ratios_by_hand(bench):
    def runs(*rates):
        return [{"images_per_second": r, "steady_images_per_second": 2 * r} for r in rates]

    entry = {"backends": {"tensorflow": {"runs": runs(10.0, 20.0, 12.0)}, "jax": {"runs": runs(5.0, 30.0, 9.0)}}}
    bench.summarise(entry, gflop_per_image=2.0, ceilings={"float32": 48.0, "bfloat16": 96.0})
    tf, jax, ratio = entry["backends"]["tensorflow"], entry["backends"]["jax"], entry["jax_over_tensorflow"]
    assert (tf["median_images_per_second"], jax["median_images_per_second"]) == (12.0, 9.0)
    assert tf["achieved_gflop_per_second"] == 24.0
    assert tf["share_of_machine_ceiling"] == {"float32": 0.5, "bfloat16": 0.25}
    assert ratio["ratio_of_medians"] == pytest.approx(0.75)
    assert ratio["round_ratios"] == pytest.approx([0.5, 1.5, 0.75])
    assert ratio["median_of_round_ratios"] == pytest.approx(0.75)
    assert ratio["steady_ratio_of_medians"] == pytest.approx(0.75)


@pytest.mark.slow  # two worker processes and four fresh ones, each importing Keras (~2 min on a loaded CPU)
def test_quick_run_on_both_backends(bench, tmp_path):
    output = tmp_path / "results" / "backends_throughput.json"
    bench.main(["--quick", "--matmul-reps", "1", "--output", output])

    (record,) = json.loads(output.read_text())["records"]
    assert record["benchmark"] == "backends_throughput" and record["settings"]["quick"]
    assert record["backends"]["tensorflow"]["tensorflow"] and record["backends"]["jax"]["jax"]
    # Nothing on JAX imported TensorFlow, not even throughput.py's model builders.
    assert record["backends"]["jax"]["tensorflow_imported"] is False
    model = record["models"]["cgan28"]
    assert model["settings"]["batch_size"] == 4 and model["settings"]["steps"] == 1
    for variant, v in model["variants"].items():
        assert v["train_step_gflop_per_image"] > 0
        tf, jax = v["backends"]["tensorflow"], v["backends"]["jax"]
        assert (tf["jit_compile"], jax["jit_compile"]) == (False, True)  # zoo's defaults on a CPU
        assert tf["parameters"] == jax["parameters"] and tf["dtype_policy"] == jax["dtype_policy"]
        for backend in (tf, jax):
            (run,) = backend["runs"]
            assert 0 < run["loop_seconds"] <= run["fit_seconds"]
            assert run["images_per_second"] == pytest.approx(4 / run["loop_seconds"])
        assert v["jax_over_tensorflow"]["ratio_of_medians"] == pytest.approx(
            jax["runs"][0]["images_per_second"] / tf["runs"][0]["images_per_second"]
        )
    assert model["variants"]["zoo"]["dtype_policy"] == "float32"
    for backend in ("tensorflow", "jax"):
        for dtype in ("float32", "bfloat16"):
            assert record["matmul"][backend][dtype]["median_gflop_per_second"] > 0
        for variant in ("zoo", "zoo_auto"):
            (first,) = record["first_step"][backend][variant]["cgan28"]["repeats"]
            assert first["tensorflow_imported"] is (backend == "tensorflow")
            phases = sum(first[k] for k in ("import_seconds", "data_seconds", "build_compile_seconds",
                                            "fit_to_first_step_seconds"))
            assert first["time_to_first_step_seconds"] == pytest.approx(phases, abs=0.05)
            assert first["time_to_first_step_seconds"] <= first["process_wall_seconds"] + 1
