"""Inference latency and throughput of an exported DCGAN generator against Keras calls.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/serving_latency.py
    PYTHONPATH=. .venv/bin/python benchmarks/serving_latency.py --threads 1 --rounds 5
    PYTHONPATH=. .venv/bin/python benchmarks/serving_latency.py --quick   # smoke check

For each image shape (default 64x64x3 and 28x28x1) a fresh, untrained
`zoo.nets.dcgan_generator` (latent 100, base 64 filters; throughput does not depend on
training) is exported with `zoo.export.export_generator` to a temporary folder and
loaded back with `tf.saved_model.load`. Four ways of running the same weights:

    saved_model       `loaded.signatures["serving_default"](noise=...)["images"]`: the
                      graph TF Serving runs (without its RPC and batching layers).
    predict           `generator.predict(z, batch_size=len(z), verbose=0)`.
    call              `generator(z, training=False)`, an eager call of the functional model.
    predict_on_batch  `generator.predict_on_batch(z)`: Keras's compiled predict step
                      without `predict`'s per-call data pipeline.

Every variant returns a numpy array, so the device-to-host copy counts alike.

Protocol:
    1. Build, export, load; warm up every variant (3 calls at batch 1, 1 at the large
       batch: traces `predict`'s function and the signature's kernels). Outputs of the
       variants on the same noise are compared (max abs difference recorded).
    2. `--rounds` rounds; in each, every variant runs `--latency-calls` batch-1 calls
       (each timed alone), then every variant runs `--throughput-calls` calls at
       `--batch-size` (timed together). The variant order rotates by one each round,
       so no variant always runs first or after the same neighbour.
    3. Reported per variant: batch-1 latency p50 and p99 over all its timed calls
       (nearest-rank), median images/s over its throughput runs, and both as ratios
       to `saved_model`; also the median of per-round p50 ratios.

Results are appended to a JSON file (`--output`), written atomically.
"""

import argparse
import datetime
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo import export  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared  # noqa: E402
from _shared import limit_threads, machine_info  # noqa: E402

BENCHMARK = "serving_latency"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_OUTPUT = RESULTS_DIR / f"{BENCHMARK}.json"
# Smoke runs go to their own file so they never mix with real measurements.
QUICK_OUTPUT = RESULTS_DIR / f"{BENCHMARK}_quick.json"
VARIANTS = ("saved_model", "predict", "call", "predict_on_batch")
BASELINE = "saved_model"


def parse_shape(text):
    try:
        shape = tuple(int(s) for s in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected HxWxC such as 64x64x3, got {text!r}")
    return shape


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--shapes",
        type=lambda t: [parse_shape(s) for s in t.split(",")],
        default=[(64, 64, 3), (28, 28, 1)],
        help="comma-separated image shapes HxWxC (default 64x64x3,28x28x1)",
    )
    parser.add_argument("--latent-dim", type=int, default=100, help="noise size (default 100)")
    parser.add_argument("--base-filters", type=int, default=64, help="generator width (default 64)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--latency-calls", type=int, default=40, help="batch-1 calls per variant and round (default 40)")
    parser.add_argument("--throughput-calls", type=int, default=2, help="large-batch calls per run (default 2)")
    parser.add_argument("--batch-size", type=int, default=256, help="throughput batch size (default 256)")
    parser.add_argument(
        "--threads", type=int, default=0, help="TensorFlow intra- and inter-op threads (default 0: TF's choice)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and noise (default 0)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"results JSON (default benchmarks/results/{DEFAULT_OUTPUT.name}; with --quick {QUICK_OUTPUT.name})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 1 round, 3 latency calls, 1 throughput call at batch 8"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.latency_calls, args.throughput_calls, args.batch_size = 1, 3, 1, 8
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    for name in ("latent_dim", "base_filters", "rounds", "latency_calls", "throughput_calls", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    if args.threads < 0:
        parser.error("--threads must be 0 (TF's default) or a positive int")
    return args


def percentile(values, q):
    """Nearest-rank percentile: the smallest value with at least q% of values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def build_variants(shape, args, folder):
    """The generator, its export loaded back, and a callable per variant (numpy in, numpy out)."""
    keras.utils.set_random_seed(args.seed)
    generator = zoo.nets.dcgan_generator(args.latent_dim, shape, base_filters=args.base_filters)
    start = time.perf_counter()
    path = export.export_generator(generator, "dcgan_" + "x".join(map(str, shape)), base_path=folder)
    export_seconds = time.perf_counter() - start
    start = time.perf_counter()
    serve = tf.saved_model.load(path).signatures["serving_default"]
    load_seconds = time.perf_counter() - start
    variants = {
        "saved_model": lambda z: serve(noise=tf.constant(z))["images"].numpy(),
        "predict": lambda z: generator.predict(z, batch_size=len(z), verbose=0),
        "call": lambda z: keras.ops.convert_to_numpy(generator(z, training=False)),
        "predict_on_batch": lambda z: np.asarray(generator.predict_on_batch(z)),
    }
    info = {
        "parameters": generator.count_params(),
        "export_seconds": export_seconds,
        "load_seconds": load_seconds,
        "export_bytes": sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()),
    }
    return variants, info


def timed(fn, z):
    start = time.perf_counter()
    out = fn(z)
    seconds = time.perf_counter() - start
    assert out.shape[0] == len(z)
    return seconds


def measure_shape(shape, args, folder):
    variants, info = build_variants(shape, args, folder)
    rng = np.random.default_rng(args.seed)
    single = rng.standard_normal((1, args.latent_dim)).astype(np.float32)
    batch = rng.standard_normal((args.batch_size, args.latent_dim)).astype(np.float32)
    warmup_seconds = {}
    for name, fn in variants.items():
        start = time.perf_counter()
        for _ in range(3):
            fn(single)
        fn(batch)
        warmup_seconds[name] = time.perf_counter() - start
    reference = variants[BASELINE](batch[:4])
    info["max_abs_difference_to_saved_model"] = {
        name: float(np.max(np.abs(fn(batch[:4]) - reference))) for name, fn in variants.items()
    }
    results = {name: {"warmup_seconds": warmup_seconds[name], "latency_seconds": [], "round_p50_seconds": [],
                      "throughput_runs": []} for name in variants}  # fmt: skip
    orders = []
    names = list(variants)
    for round_index in range(args.rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        orders.append(order)
        for name in order:
            calls = [timed(variants[name], single) for _ in range(args.latency_calls)]
            results[name]["latency_seconds"].extend(calls)
            results[name]["round_p50_seconds"].append(statistics.median(calls))
        for name in order:
            seconds = sum(timed(variants[name], batch) for _ in range(args.throughput_calls))
            results[name]["throughput_runs"].append(args.throughput_calls * args.batch_size / seconds)
        line = ", ".join(
            f"{n} {1e3 * results[n]['round_p50_seconds'][-1]:.2f} ms / {results[n]['throughput_runs'][-1]:.0f} img/s"
            for n in names
        )
        print(f"{'x'.join(map(str, shape))} round {round_index + 1}/{args.rounds}: {line}", flush=True)
    base = results[BASELINE]
    base_p50 = percentile(base["latency_seconds"], 50)
    base_rounds = list(base["round_p50_seconds"])
    base_throughput = statistics.median(base["throughput_runs"])
    for name, r in results.items():
        r["latency_p50_ms"] = 1e3 * percentile(r["latency_seconds"], 50)
        r["latency_p99_ms"] = 1e3 * percentile(r["latency_seconds"], 99)
        r["median_images_per_second"] = statistics.median(r["throughput_runs"])
        r["latency_p50_ratio"] = percentile(r["latency_seconds"], 50) / base_p50
        r["median_of_round_p50_ratios"] = statistics.median(
            a / b for a, b in zip(r["round_p50_seconds"], base_rounds)
        )
        r["throughput_ratio"] = r["median_images_per_second"] / base_throughput
        r["latency_ms"] = [round(1e3 * s, 4) for s in r.pop("latency_seconds")]
        r["round_p50_ms"] = [round(1e3 * s, 4) for s in r.pop("round_p50_seconds")]
    return {**info, "orders": orders, "variants": results}


def print_table(record):
    print(f"{'shape':10s} {'variant':12s} {'p50 ms':>9s} {'p99 ms':>9s} {'x p50':>7s} {'img/s':>9s} {'x img/s':>8s}")
    for shape, figures in record["shapes"].items():
        for name, r in figures["variants"].items():
            print(
                f"{shape:10s} {name:12s} {r['latency_p50_ms']:9.2f} {r['latency_p99_ms']:9.2f} "
                f"{r['latency_p50_ratio']:7.2f} {r['median_images_per_second']:9.1f} {r['throughput_ratio']:8.2f}"
            )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after the runs
    limit_threads(args.threads)
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_before = os.getloadavg()
    shapes = {}
    with tempfile.TemporaryDirectory(prefix="serving_latency-") as folder:
        for shape in args.shapes:
            shapes["x".join(map(str, shape))] = measure_shape(shape, args, folder)
    record = {
        "benchmark": BENCHMARK,
        "date": date,
        "machine": machine_info(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "settings": {
            "shapes": ["x".join(map(str, s)) for s in args.shapes],
            "latent_dim": args.latent_dim,
            "base_filters": args.base_filters,
            "rounds": args.rounds,
            "latency_calls": args.latency_calls,
            "throughput_calls": args.throughput_calls,
            "batch_size": args.batch_size,
            "threads": args.threads,
            "seed": args.seed,
            "quick": args.quick,
            "command": " ".join([Path(__file__).name, *argv]),
        },
        "protocol": (
            "untrained zoo.nets.dcgan_generator exported with export_generator and loaded with "
            "tf.saved_model.load; variants warmed up, then interleaved rounds with the order rotated each "
            "round: batch-1 calls timed one by one, then large-batch calls timed together; numpy out in "
            "every variant; latency p50/p99 nearest-rank over all calls, throughput median over runs"
        ),
        "baseline": BASELINE,
        "shapes": shapes,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print()
    print_table(record)
    print(f"results appended to {args.output}")
    return record


if __name__ == "__main__":
    main()
