"""Training throughput of zoo on JAX beside TensorFlow: DCGAN-64, cGAN-28, WGAN-GP-28 (issue 20).

Run from the repository root:

    PYTHONPATH=. taskset -c 1 .venv/bin/python benchmarks/backends_throughput.py \
        --models cgan28,wgangp28,dcgan64 --runs 3 --first-step-repeats 1   # the record, ~12 min
    PYTHONPATH=. .venv/bin/python benchmarks/backends_throughput.py --quick       # smoke check, cgan28

On JAX's CPU backend zoo's nets compute strided and transposed convolutions with
zoo.layers.Conv2D / Conv2DTranspose (zoo/layers/strided.py), without which XLA:CPU ran these
models 11-60x slower than TensorFlow (benchmarks/README.md).

The models (nets, batch sizes, optimizers, analytic FLOPs) and the two variants are
throughput.py's: `zoo` (float32) and `zoo_auto` (built after `zoo.device.set_precision("auto")`:
mixed_bfloat16 on CPUs with avx512_bf16 or amx_bf16). Each backend runs with zoo's defaults:
XLA (`jit_compile=True`) on JAX, none on a TensorFlow CPU.

Protocol:
  - The Keras backend is fixed per process, so one long-lived worker per backend
    (KERAS_BACKEND=tensorflow, then jax, started one after the other) builds every
    (model, variant) and warms it up with a one-step `fit` (tracing, and XLA compilation on
    JAX), untimed; then it waits for commands on stdin.
  - Rounds: for every (model, variant), one timed `fit` of --steps steps on the TensorFlow
    worker, then one on the JAX worker (JAX first in every second round); the workers never
    run at the same time. Each round ends with float32 and bfloat16 `keras.ops.matmul`
    ceilings on each backend.
  - images/s = steps * batch / (start of fit's training loop to the end of its last step);
    medians over rounds; JAX against TensorFlow as the ratio of medians and the median of
    the per-round ratios.
  - Data: the same uniform [-1, 1] numpy batches on both. TensorFlow reads them from a
    cached, repeated tf.data pipeline (as throughput.py), JAX from the arrays, so that no JAX
    process imports TensorFlow.
  - Time to first step: fresh processes for every (backend, variant, model), --first-step-repeats
    times, from the process start (/proc/self/stat) to the end of fit's first step, split
    into import / data / build + compile / fit to the end of the first step; medians.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput  # noqa: E402  (imports TensorFlow only when its TensorFlow parts are used)
from _timing import timed_fit  # noqa: E402

IMPORTED_AT = time.time()

BENCHMARK = "backends_throughput"
DEFAULT_OUTPUT = throughput.RESULTS_DIR / f"{BENCHMARK}.json"
QUICK_OUTPUT = throughput.RESULTS_DIR / f"{BENCHMARK}_quick.json"
BACKENDS = ("tensorflow", "jax")
VARIANTS = ("zoo", "zoo_auto")
MARKER = "BACKENDS_JSON "


# -- what runs inside a worker or a fresh process (one backend, no TensorFlow on JAX) ----


def synthetic_arrays(spec, num_batches, seed):
    """`num_batches` batches of uniform [-1, 1] images (and int labels for cGAN), numpy."""
    rng = np.random.default_rng(seed)
    count = num_batches * spec["batch_size"]
    images = rng.uniform(-1.0, 1.0, (count, *spec["image_shape"])).astype("float32")
    if not spec["labels"]:
        return (images,)
    return images, rng.integers(0, throughput.NUM_CLASSES, count).astype("int32")


def fit_inputs(arrays, batch_size):
    """`fit`'s data arguments on this backend.

    TensorFlow: a cached, repeated tf.data pipeline without autotuning, as throughput.py
    feeds its variants. JAX: the arrays themselves (Keras slices them into batches).
    """
    if keras.backend.backend() != "tensorflow":
        return {"x": arrays[0], "y": arrays[1] if len(arrays) > 1 else None, "batch_size": batch_size}
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0])
    dataset = dataset.batch(batch_size, drop_remainder=True).cache()
    for _ in dataset:  # fill the cache before timing
        pass
    options = tf.data.Options()
    options.autotune.enabled = False  # see dcgan64_throughput.synthetic_dataset
    return {"x": dataset.repeat().with_options(options)}


def build(model_name, variant, spec, seed):
    """zoo's model for (model, variant), compiled with zoo's defaults.

    Returns (model, policy name, seconds to build the nets and model, seconds to compile).
    Unlike throughput.build_variant, no `keras.utils.set_random_seed`: with TensorFlow
    installed it imports TensorFlow on every backend, which would add TensorFlow's import to
    JAX's time to first step. The weights' values do not change the arithmetic.
    """
    kind, precision = throughput.VARIANTS[variant]
    start = time.perf_counter()
    with throughput.precision(precision) as policy:
        model, optimizers = throughput.MODELS[model_name]["build"](kind, spec, seed)
        built = time.perf_counter()
        model.compile(**optimizers)
    return model, policy, built - start, time.perf_counter() - built


def matmul_gflops(a, b):
    """GFLOP/s of one `a @ b` on this backend (reading a result back waits for JAX's)."""
    start = time.perf_counter()
    product = ops.matmul(a, b)
    ops.convert_to_numpy(ops.cast(product[0, 0], "float32"))
    seconds = time.perf_counter() - start
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / seconds / 1e9


def backend_info():
    """This process's backend: versions, threads, XLA_FLAGS, and whether TensorFlow is loaded."""
    backend = keras.backend.backend()
    info = {
        "keras_backend": backend,
        "keras": keras.__version__,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    if backend == "jax":
        import jax

        info.update(jax=jax.__version__, jaxlib=importlib.metadata.version("jaxlib"),
                    devices=[str(d) for d in jax.devices()])
    elif backend == "tensorflow":
        import tensorflow as tf

        info.update(tensorflow=tf.__version__,
                    tf_intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                    tf_inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads())
    info["tensorflow_imported"] = "tensorflow" in sys.modules
    return info


def reply(message):
    print(MARKER + json.dumps(message), flush=True)


def worker(args):
    """Builds and warms up every (model, variant), then answers JSON commands on stdin."""
    backend = keras.backend.backend()
    pairs, ready = {}, {}
    for model_name in args.models:
        spec = throughput.model_spec(model_name, args)
        steps = throughput.steps_for(model_name, args)
        arrays = synthetic_arrays(spec, steps, args.seed)
        for variant in args.variants:
            model, policy, build_seconds, compile_seconds = build(model_name, variant, spec, args.seed)
            inputs = fit_inputs(arrays, spec["batch_size"])
            warm = timed_fit(model, inputs, 1)
            info = {
                "dtype_policy": policy,
                "jit_compile": bool(model.jit_compile),
                "parameters": model.generator.count_params() + model.discriminator.count_params(),
                "build_seconds": build_seconds,
                "compile_seconds": compile_seconds,
                "warmup_fit_to_first_step_seconds": warm["first_step_end_seconds"],
            }
            if backend == "tensorflow":  # the nets are the same on both: counted once
                info.update(throughput.flops_per_image(model_name, spec, model))
            pairs[f"{model_name}:{variant}"] = (model, inputs)
            ready[f"{model_name}:{variant}"] = info
            print(f"{backend} {model_name} {variant}: warmed up, first step "
                  f"{warm['first_step_end_seconds']:.1f} s", file=sys.stderr, flush=True)

    rng = np.random.default_rng(args.seed)
    size = (args.matmul_size, args.matmul_size)
    lhs, rhs = (ops.convert_to_tensor(rng.uniform(size=size).astype("float32")) for _ in range(2))
    operands = {"float32": (lhs, rhs), "bfloat16": (ops.cast(lhs, "bfloat16"), ops.cast(rhs, "bfloat16"))}
    for a, b in operands.values():
        matmul_gflops(a, b)  # warm-up (compiles the op on JAX)

    reply({"info": backend_info(), "pairs": ready})
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "fit":
            model, inputs = pairs[command["pair"]]
            reply(timed_fit(model, inputs, command["steps"]))
        elif command["op"] == "matmul":
            reply({dtype: [matmul_gflops(a, b) for _ in range(command["reps"])] for dtype, (a, b) in operands.items()})
        elif command["op"] == "exit":
            reply(backend_info())
            return
        else:
            raise ValueError(f"unknown command {command!r}")


def first_step_child(model_name, variant, args):
    """In a fresh process: data, build, compile, fit one step; prints phase times since start."""
    started = throughput.process_start_time()
    spec = throughput.model_spec(model_name, args)
    inputs = fit_inputs(synthetic_arrays(spec, 1, args.seed), spec["batch_size"])
    data_done = time.time()
    model, policy, build_seconds, compile_seconds = build(model_name, variant, spec, args.seed)
    built = time.time()
    timing = timed_fit(model, inputs, 1)
    first_step_end = built + timing["first_step_end_seconds"]
    reply({
        "import_seconds": IMPORTED_AT - started if started else None,
        "data_seconds": data_done - IMPORTED_AT,
        "build_compile_seconds": built - data_done,
        "build_seconds": build_seconds,
        "compile_seconds": compile_seconds,
        "fit_to_first_step_seconds": timing["first_step_end_seconds"],
        "time_to_first_step_seconds": first_step_end - started if started else None,
        "dtype_policy": policy,
        "jit_compile": bool(model.jit_compile),
        "tensorflow_imported": "tensorflow" in sys.modules,
    })


# -- the parent: drives the workers, interleaves, summarises ------------------------------


def child_argv(args):
    """The settings a worker or a fresh process needs, as command-line arguments."""
    argv = ["--models", ",".join(args.models), "--variants", ",".join(args.variants),
            "--seed", str(args.seed), "--matmul-size", str(args.matmul_size)]
    for flag, value in (("--steps", args.steps), ("--batch-size", args.batch_size), ("--image-size", args.image_size)):
        if value:
            argv += [flag, str(value)]
    return argv


class Worker:
    """A long-lived process on one Keras backend, driven by JSON lines on its stdin."""

    def __init__(self, backend, args):
        self.backend = backend
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", *child_argv(args)],
            env={**os.environ, "KERAS_BACKEND": backend},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self):
        for line in self.process.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        raise RuntimeError(f"the {self.backend} worker exited with status {self.process.wait()} (stderr above)")

    def close(self):
        """Asks the worker to exit; returns its final backend info (None if it had ended)."""
        info = None
        if self.process.poll() is None:
            try:
                info = self.ask(op="exit")
                self.process.wait(timeout=60)
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        return info


def measure_first_step(backend, model_name, variant, args):
    """One fresh process on `backend`; returns its phase times."""
    command = [sys.executable, str(Path(__file__).resolve()), "--first-step-child",
               f"{model_name}:{variant}", *child_argv(args)]
    start = time.time()
    out = subprocess.run(command, env={**os.environ, "KERAS_BACKEND": backend},
                         capture_output=True, text=True, check=False)
    wall = time.time() - start
    lines = [line for line in out.stdout.splitlines() if line.startswith(MARKER)]
    if out.returncode or not lines:
        raise RuntimeError(f"first-step process {backend} {model_name}:{variant} failed:\n{out.stderr[-2000:]}")
    return {**json.loads(lines[-1][len(MARKER):]), "process_wall_seconds": wall}


def run_record(batch, steps, timing):
    step_seconds = timing["step_seconds"]
    return {
        "images_per_second": steps * batch / timing["loop_seconds"],
        # Without the fit call's first step, which pays for the new iterator.
        "steady_images_per_second": (
            (len(step_seconds) - 1) * batch / sum(step_seconds[1:]) if len(step_seconds) > 1 else None
        ),
        **timing,
        "load_average_1min": os.getloadavg()[0],
    }


def summarise(variant_entry, gflop_per_image, ceilings):
    """Medians per backend, JAX/TF ratios and shares of the machine's ceilings, in place."""
    per_backend = variant_entry["backends"]
    for entry in per_backend.values():
        rates = [r["images_per_second"] for r in entry["runs"]]
        steady = [r["steady_images_per_second"] for r in entry["runs"]]
        entry["median_images_per_second"] = statistics.median(rates)
        entry["median_steady_images_per_second"] = None if None in steady else statistics.median(steady)
        if gflop_per_image is not None:
            entry["achieved_gflop_per_second"] = entry["median_images_per_second"] * gflop_per_image
            entry["share_of_machine_ceiling"] = {
                dtype: entry["achieved_gflop_per_second"] / c for dtype, c in ceilings.items()
            }
    jax, tf = per_backend["jax"], per_backend["tensorflow"]
    round_ratios = [
        j["images_per_second"] / t["images_per_second"] for j, t in zip(jax["runs"], tf["runs"])
    ]
    variant_entry["jax_over_tensorflow"] = {
        "ratio_of_medians": jax["median_images_per_second"] / tf["median_images_per_second"],
        "round_ratios": round_ratios,
        "median_of_round_ratios": statistics.median(round_ratios),
        "steady_ratio_of_medians": (
            jax["median_steady_images_per_second"] / tf["median_steady_images_per_second"]
            if jax["median_steady_images_per_second"] and tf["median_steady_images_per_second"] else None
        ),
    }


def median_phases(reports):
    keys = ("time_to_first_step_seconds", "import_seconds", "data_seconds", "build_compile_seconds",
            "build_seconds", "compile_seconds", "fit_to_first_step_seconds", "process_wall_seconds")
    return {k: statistics.median(r[k] for r in reports) for k in keys if None not in (r[k] for r in reports)}


def print_table(record):
    header = (f"{'model':<9} {'variant':<9} {'policy':<15} {'TF img/s':>9} {'JAX img/s':>9} "
              f"{'JAX/TF':>7} {'rnd':>5} {'steady':>6} {'%ceil TF':>8} {'%ceil JAX':>9}")
    print(header)
    print("-" * len(header))
    for model_name, m in record["models"].items():
        for variant, v in m["variants"].items():
            tf, jax, r = v["backends"]["tensorflow"], v["backends"]["jax"], v["jax_over_tensorflow"]
            dtype = "bfloat16" if "bfloat16" in v["dtype_policy"] else "float32"
            shares = [f"{100 * b['share_of_machine_ceiling'][dtype]:.0f}%" if "share_of_machine_ceiling" in b else "-"
                      for b in (tf, jax)]
            steady = "-" if r["steady_ratio_of_medians"] is None else f"{r['steady_ratio_of_medians']:.2f}"
            print(f"{model_name:<9} {variant:<9} {v['dtype_policy']:<15} {tf['median_images_per_second']:>9.2f} "
                  f"{jax['median_images_per_second']:>9.2f} {r['ratio_of_medians']:>7.2f} "
                  f"{r['median_of_round_ratios']:>5.2f} {steady:>6} {shares[0]:>8} {shares[1]:>9}")
    print("matmul ceilings (GFLOP/s, medians): " + "; ".join(
        f"{backend} " + ", ".join(f"{d} {m['median_gflop_per_second']:.1f}" for d, m in per.items())
        for backend, per in record["matmul"].items()))
    if record["first_step"]:
        print("\ntime to first step from process start (median s: total = import + data + build + fit)")
        for backend, per_variant in record["first_step"].items():
            for variant, per_model in per_variant.items():
                for model_name, entry in per_model.items():
                    m = entry["median"]
                    parts = " + ".join(f"{m.get(k, float('nan')):.1f}" for k in (
                        "import_seconds", "data_seconds", "build_compile_seconds", "fit_to_first_step_seconds"))
                    print(f"  {backend:<10} {variant:<9} {model_name:<9} "
                          f"{m.get('time_to_first_step_seconds', float('nan')):6.1f} = {parts}")


def run_benchmark(args, argv):
    import _shared  # imports TensorFlow: the parent only, never a worker

    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after the runs
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_before = os.getloadavg()
    pairs = [(m, v) for m in args.models for v in args.variants]

    workers = {}
    try:
        for backend in BACKENDS:  # one after the other: warm-ups do not overlap
            workers[backend] = Worker(backend, args)
        models = {}
        for model_name in args.models:
            spec = throughput.model_spec(model_name, args)
            models[model_name] = {
                "settings": {**spec, "image_shape": list(spec["image_shape"]),
                             "steps": throughput.steps_for(model_name, args)},
                "variants": {},
            }
            for variant in args.variants:
                key = f"{model_name}:{variant}"
                tf_info = workers["tensorflow"].ready["pairs"][key]
                flops = {k: tf_info.pop(k) for k in list(tf_info) if "macs" in k or "passes" in k or "gflop" in k}
                models[model_name]["variants"][variant] = {
                    "dtype_policy": tf_info["dtype_policy"],
                    **flops,
                    "backends": {b: {**w.ready["pairs"][key], "runs": []} for b, w in workers.items()},
                }

        matmul = {b: {"float32": [], "bfloat16": []} for b in BACKENDS}
        for round_index in range(args.runs):
            order = BACKENDS if round_index % 2 == 0 else BACKENDS[::-1]
            for model_name, variant in pairs:
                settings = models[model_name]["settings"]
                for backend in order:
                    timing = workers[backend].ask(op="fit", pair=f"{model_name}:{variant}", steps=settings["steps"])
                    run = {"round": round_index, **run_record(settings["batch_size"], settings["steps"], timing)}
                    models[model_name]["variants"][variant]["backends"][backend]["runs"].append(run)
                    print(f"round {round_index + 1}/{args.runs} {model_name} {variant} {backend}: "
                          f"{run['images_per_second']:.2f} images/s", flush=True)
            for backend in order:
                for dtype, values in workers[backend].ask(op="matmul", reps=args.matmul_reps).items():
                    matmul[backend][dtype].extend(values)
    finally:
        final_info = {backend: w.close() for backend, w in workers.items()}

    # Whether TensorFlow was imported by the end (on JAX it must not be), beside the rest at start.
    backends = {
        b: {**w.ready["info"], "tensorflow_imported": (final_info[b] or {}).get("tensorflow_imported")}
        for b, w in workers.items()
    }
    matmul = {b: {d: {"gflop_per_second": v, "median_gflop_per_second": statistics.median(v)}
                  for d, v in per.items()} for b, per in matmul.items()}
    ceilings = {d: max(matmul[b][d]["median_gflop_per_second"] for b in BACKENDS) for d in ("float32", "bfloat16")}
    for m in models.values():
        for v in m["variants"].values():
            summarise(v, v.get("train_step_gflop_per_image"), ceilings)
        if set(VARIANTS) <= set(m["variants"]):
            m["zoo_auto_over_zoo"] = {
                b: m["variants"]["zoo_auto"]["backends"][b]["median_images_per_second"]
                / m["variants"]["zoo"]["backends"][b]["median_images_per_second"] for b in BACKENDS
            }

    # After the rounds and with the workers gone, so that nothing else of ours runs beside them.
    first_step = {}
    first_models = args.first_step_models or args.models
    index = 0
    for repeat in range(args.first_step_repeats):
        for model_name in first_models:
            for variant in args.variants:
                for backend in BACKENDS if index % 2 == 0 else BACKENDS[::-1]:
                    report = measure_first_step(backend, model_name, variant, args)
                    entry = first_step.setdefault(backend, {}).setdefault(variant, {}).setdefault(
                        model_name, {"repeats": []})
                    entry["repeats"].append(report)
                    print(f"first step {repeat + 1}/{args.first_step_repeats} {backend} {model_name} {variant}: "
                          f"{report['time_to_first_step_seconds']:.1f} s after process start", flush=True)
                index += 1
    for per_variant in first_step.values():
        for per_model in per_variant.values():
            for entry in per_model.values():
                entry["median"] = median_phases(entry["repeats"])

    record = {
        "benchmark": BENCHMARK,
        "date": date,
        "machine": _shared.machine_info(),
        "native_bf16": _shared.has_native_bf16(),
        "backends": backends,
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "settings": {
            "runs": args.runs,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "matmul_size": args.matmul_size,
            "matmul_reps": args.matmul_reps,
            "first_step_repeats": args.first_step_repeats,
            "first_step_models": list(first_models),
            "seed": args.seed,
            "quick": args.quick,
            "command": " ".join([Path(__file__).name, *argv]),
        },
        "protocol": (
            "one long-lived worker process per Keras backend (tensorflow, then jax), each building and "
            "warming up (one untimed fit step) every (model, variant) before any timed run; rounds: for "
            "each (model, variant) one fit of `steps` steps on one backend, then on the other (tensorflow "
            "first in even rounds, jax first in odd ones), never both at once; float32 and bfloat16 "
            "keras.ops.matmul ceilings on each backend after every round; images/s = steps * batch_size / "
            "loop_seconds; medians over rounds; JAX/TF as ratio of medians and median of per-round ratios; "
            "zoo's defaults per backend (XLA on JAX, none on a TensorFlow CPU); TensorFlow reads a cached "
            "tf.data pipeline, JAX the same numpy arrays; time to first step in fresh processes after the "
            "rounds, backends alternating, medians over repeats"
        ),
        "flops_method": (
            "analytic, as throughput.py: conv/dense MACs x 2 per forward pass; forward+backward = 3 forward "
            "passes; passes per image listed per variant; share_of_machine_ceiling is against the higher of "
            "the two backends' matmul medians per dtype"
        ),
        "matmul": matmul,
        "machine_ceilings": ceilings,
        "models": models,
        "first_step": first_step,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print()
    print_table(record)
    print(f"results appended to {args.output}")
    return record


# -- main ---------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=lambda t: throughput.parse_names(t, throughput.MODELS, "--models"),
                        default=None, help="comma-separated (default: all three; with --quick, cgan28)")
    parser.add_argument("--variants", type=lambda t: throughput.parse_names(t, VARIANTS, "--variants"),
                        default=list(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)} (default both)")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: cgan28 4, the others 2)")
    parser.add_argument("--batch-size", type=int, default=None, help="override every model's batch size")
    parser.add_argument("--image-size", type=int, default=None, help="dcgan64 side (multiple of 8; tests only)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="matmul side (default 2048)")
    parser.add_argument("--matmul-reps", type=int, default=3, help="matmuls per dtype, backend and round (default 3)")
    parser.add_argument("--first-step-repeats", type=int, default=3,
                        help="fresh processes per (backend, variant, model) for the time to first step (0: none)")
    parser.add_argument("--first-step-models", default=None,
                        type=lambda t: throughput.parse_names(t, throughput.MODELS, "--first-step-models"),
                        help="models timed to the first step (default: --models)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="smoke check: cgan28 (unless --models), 1 round of 1 step at batch 4, "
                             "one first step per backend and variant")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first-step-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.models is None:  # JAX takes minutes per DCGAN-64 step on a CPU, too slow for a smoke check
        args.models = ["cgan28"] if args.quick else list(throughput.MODELS)
    if args.quick:
        args.runs, args.steps, args.matmul_size, args.first_step_repeats = 1, 1, 256, 1
        args.batch_size = args.batch_size or 4
        args.first_step_models = args.first_step_models or args.models[:1]
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    for name in ("runs", "matmul_size", "matmul_reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    for name in ("steps", "batch_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    if args.first_step_repeats < 0:
        parser.error("--first-step-repeats must be >= 0")
    if args.image_size is not None and (args.image_size < 8 or args.image_size % 8):
        parser.error(f"--image-size must be a positive multiple of 8, got {args.image_size}")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.first_step_child:
        model_name, variant = args.first_step_child.split(":")
        return first_step_child(model_name, variant, args)
    return run_benchmark(args, argv)


if __name__ == "__main__":
    main()
