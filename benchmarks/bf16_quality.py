"""Does zoo's faster setting (mixed_bfloat16) cost quality? float32 against bf16 at equal steps.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/bf16_quality.py --part mode --threads 1
    PYTHONPATH=. .venv/bin/python benchmarks/bf16_quality.py --part mnist --threads 1
    PYTHONPATH=. .venv/bin/python benchmarks/bf16_quality.py --quick           # smoke check

Protocol (issue 8, "Speed": "no loss of quality from the faster settings, shown on
the mode-coverage benchmark and an MNIST FID at equal steps"):
    precisions  `float32` and `mixed_bfloat16` (what `zoo.device.set_precision("auto")`
                picks on this CPU, which has avx512_bf16), set as the global Keras
                policy before the nets are built; everything else identical.
    order       interleaved: float32 seed 0, bf16 seed 0, float32 seed 1, ... so that
                a change of machine load hits both precisions alike.
    mode        `benchmarks/mode_coverage.py`'s runs (its nets, data, optimizers and
                scores: modes covered, high-quality share within 3 sigma, reverse KL,
                2,500 samples), for the variants of --mode-variants at --mode-steps
                generator updates each (equal for both precisions), on --datasets.
                Also the median distance of a sample to its nearest mode in sigmas,
                a continuous score that still tells runs apart when few samples are
                high quality (e.g. WGAN-GP early in training).
    mnist       `benchmarks/mnist_cgan.py`'s zoo variant (conditional DCGAN-28,
                projection D, non-saturating loss, Adam 2e-4/0.5, batch 64, latent 64,
                base 64 filters) on its MNIST split (test split: first 8,000 digits to
                train, last 2,000 held out), --mnist-steps generator steps for both
                precisions, then its scores: judge-feature FID against the held-out
                2,000 and its floor, the judge's accuracy on 2,000 generated digits
                overall and per label. The judge is trained once, in float32.
    time        per run: wall seconds and process CPU seconds of `fit` (tracing
                included), TensorFlow limited to --threads threads.
    verdict     per score, the bf16-minus-float32 difference of every seed and the
                float32 seed-to-seed range; with one seed there is no spread and the
                record says so.
    output      one JSON record per part appended to
                benchmarks/results/bf16_quality.json (quick: bf16_quality_quick.json),
                scatter plots of the mode runs and the MNIST grids in the folder of the
                same name.
"""

import argparse
import dataclasses
import datetime
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402

tf.get_logger().setLevel("ERROR")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared  # noqa: E402
import mnist_cgan  # noqa: E402
import mode_coverage  # noqa: E402

BENCHMARK = "bf16_quality"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PRECISIONS = ("float32", "mixed_bfloat16")
PARTS = ("mode", "mnist")
MODE_SCORES = ("modes_covered", "high_quality", "reverse_kl", "median_sigmas")
MNIST_SCORES = ("fid", "fid_over_floor", "accuracy", "worst_label_accuracy")


# -- helpers ----------------------------------------------------------------------------


def with_precision(precision, function, *args, **kwargs):
    """Calls `function` under the global Keras policy `precision`, then restores float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(precision)
    try:
        return function(*args, **kwargs)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def median_sigmas(samples, dataset):
    """Median distance of the samples to their nearest mode, in units of the mixture's sigma."""
    modes, sigma = zoo.data.toy_distribution(dataset)
    samples = np.asarray(samples, dtype=np.float64)
    if not np.all(np.isfinite(samples)):
        return None
    distances = np.sqrt(((samples[:, None, :] - np.asarray(modes)[None]) ** 2).sum(-1)).min(1)
    return float(np.median(distances) / sigma)


def compare(runs, scores, key):
    """Per score: bf16 minus float32 for each seed, and each precision's mean and range over seeds.

    Args:
        runs: list of dicts holding `precision`, `seed`, the grouping `key`'s value and the scores.
        scores: tuple of str, the score names.
        key: callable mapping a run to its group (e.g. variant and dataset).

    Returns:
        dict, group name -> score -> {"float32": {...}, "mixed_bfloat16": {...},
        "differences": [...], "within_float32_range": bool or None}.
    """
    groups = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    result = {}
    for group, members in groups.items():
        by = {p: {r["seed"]: r for r in members if r["precision"] == p} for p in PRECISIONS}
        seeds = sorted(set(by["float32"]) & set(by["mixed_bfloat16"]))
        entry = {"seeds": seeds}
        for score in scores:
            values = {p: [by[p][s].get(score) for s in seeds] for p in PRECISIONS}
            stats = {}
            for p, vs in values.items():
                finite = [v for v in vs if v is not None]
                stats[p] = (
                    {"values": vs, "mean": float(np.mean(finite)), "min": float(min(finite)), "max": float(max(finite))}
                    if finite and len(finite) == len(vs) else {"values": vs}
                )
            pairs = [(a, b) for a, b in zip(values["float32"], values["mixed_bfloat16"]) if a is not None and b is not None]
            stats["differences"] = [float(b - a) for a, b in pairs]
            if len(seeds) >= 2 and "mean" in stats["float32"] and "mean" in stats["mixed_bfloat16"]:
                spread = stats["float32"]["max"] - stats["float32"]["min"]
                stats["float32_spread"] = spread
                stats["mean_difference"] = stats["mixed_bfloat16"]["mean"] - stats["float32"]["mean"]
                stats["within_float32_range"] = bool(
                    stats["float32"]["min"] <= stats["mixed_bfloat16"]["mean"] <= stats["float32"]["max"]
                    or abs(stats["mean_difference"]) <= spread
                )
            else:
                stats["within_float32_range"] = None  # one seed: no spread to judge by
            entry[score] = stats
        result[group] = entry
    return result


# -- parts ------------------------------------------------------------------------------


def run_mode(args, figure_dir):
    runs = []
    for variant_name in args.mode_variants:
        variant = mode_coverage.VARIANTS[variant_name]
        for dataset in args.datasets:
            for seed in args.seeds:
                for precision in PRECISIONS:
                    name = f"{variant_name}_{precision}"
                    load = os.getloadavg()[0]
                    record = with_precision(
                        precision, _mode_one, name, variant, dataset, seed, args.mode_steps, figure_dir
                    )
                    record.update(variant=variant_name, precision=precision, load_average_1min_before=round(load, 2))
                    runs.append(record)
                    print(
                        f"{variant_name:8s} {dataset:4s} seed {seed} {precision:14s}: {record['modes_covered']:2d}/"
                        f"{record['num_modes']} modes, HQ {100 * record['high_quality']:5.1f} %, median "
                        f"{record['median_sigmas']} sigma, fit {record['train_wall_seconds']:.0f} s wall / "
                        f"{record['train_cpu_seconds']:.0f} s CPU (load {load:.1f})",
                        flush=True,
                    )
    comparison = compare(runs, MODE_SCORES + ("train_cpu_seconds", "train_wall_seconds"),
                         key=lambda r: f"{r['variant']}/{r['dataset']}")
    return {"runs": runs, "comparison": comparison}


def _mode_one(name, variant, dataset, seed, steps, figure_dir):
    """One mode-coverage run (`mode_coverage`'s model, data and scores) under the current policy."""
    variant = dataclasses.replace(variant, steps=steps)
    cpu_start = time.process_time()
    model = mode_coverage.build_model(variant, seed)
    wall_start = time.perf_counter()
    history = model.fit(mode_coverage.training_data(dataset, seed), steps_per_epoch=steps, epochs=1, verbose=0,
                        shuffle=False)
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    samples = np.asarray(model.generate(mode_coverage.NUM_SAMPLES), dtype=np.float32)
    finite = bool(np.all(np.isfinite(samples)))
    if finite:
        scores = zoo.metrics.mode_coverage_for(samples, dataset)
    else:  # a diverged generator: nothing is high quality
        num_modes = len(zoo.data.toy_distribution(dataset)[0])
        scores = {"modes_covered": 0, "num_modes": num_modes, "high_quality": 0.0, "reverse_kl": float("inf"),
                  "counts": [0] * num_modes}
    figure = Path(figure_dir) / f"{name}_{dataset}_seed{seed}.png"
    zoo.plotting.save_scatter(
        np.nan_to_num(samples, nan=0.0, posinf=1e6, neginf=-1e6), figure,
        modes=zoo.data.toy_distribution(dataset)[0], limits=mode_coverage.PLOT_LIMITS[dataset],
        title=f"{name} / {dataset} / seed {seed}: {scores['modes_covered']}/{scores['num_modes']} modes, "
        f"{100 * scores['high_quality']:.1f} % HQ",
    )
    return {
        "dataset": dataset, "seed": seed, "steps": steps,
        "modes_covered": scores["modes_covered"], "num_modes": scores["num_modes"],
        "high_quality": scores["high_quality"], "reverse_kl": mode_coverage._finite_or_none(scores["reverse_kl"]),
        "median_sigmas": median_sigmas(samples, dataset), "counts": scores["counts"], "finite_samples": finite,
        "generator_dtype": str(model.generator.compute_dtype),
        "train_wall_seconds": round(wall, 1), "train_cpu_seconds": round(cpu, 1),
        "last_logs": {k: float(v[-1]) for k, v in history.history.items()}, "figure": str(figure),
    }


def run_mnist(args, figure_dir):
    if not os.path.isdir(args.data_dir):
        raise SystemExit(f"MNIST IDX folder not found: {args.data_dir} (pass --data-dir)")
    train_images, train_labels = mnist_cgan.arrays(args.data_dir, "train")
    test_images, test_labels = mnist_cgan.arrays(args.data_dir, "test")
    if args.quick:
        train_images, train_labels = train_images[:500], train_labels[:500]
        test_images, test_labels = test_images[:200], test_labels[:200]
    start, cpu_start = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(args.judge_seed)
    floor_images = train_images[: len(test_images)]
    judge = zoo.metrics.train_domain_classifier(
        train_images[len(test_images):], train_labels[len(test_images):], num_classes=mnist_cgan.NUM_CLASSES,
        epochs=args.classifier_epochs, seed=args.judge_seed, verbose=0,
    )
    extractor = zoo.metrics.ClassifierExtractor(judge)
    floor = zoo.metrics.frechet_distance(extractor.features(floor_images), extractor.features(test_images))
    judge_info = {
        "held_out_accuracy": float(np.mean(extractor.probabilities(test_images).argmax(-1) == test_labels)),
        "fid_floor": floor, "epochs": args.classifier_epochs, "seed": args.judge_seed, "precision": "float32",
        "wall_seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu_start, 1),
    }
    print(f"judge: held-out accuracy {judge_info['held_out_accuracy']:.4f}, FID floor {floor:.3f}", flush=True)
    runs, grids = [], {}
    for seed in args.seeds:
        for precision in PRECISIONS:
            load = os.getloadavg()[0]
            record, grid = with_precision(
                precision, _mnist_one, train_images, train_labels, test_images, test_labels, judge, extractor,
                floor, seed, args.mnist_steps, args.batch_size,
            )
            record.update(precision=precision, seed=seed, load_average_1min_before=round(load, 2))
            runs.append(record)
            grids[f"{precision} seed {seed}"] = grid
            print(
                f"cGAN-28 seed {seed} {precision:14s}: {record['steps']} steps, fit {record['train_wall_seconds']:.0f} s "
                f"wall / {record['train_cpu_seconds']:.0f} s CPU, FID {record['fid']:.3f} = "
                f"{record['fid_over_floor']:.2f}x floor, accuracy {record['accuracy']:.4f}, worst label "
                f"{record['worst_label']} {record['worst_label_accuracy']:.4f} (load {load:.1f})",
                flush=True,
            )
    figures = mnist_cgan.save_figures(
        {k.replace(" ", "_"): v for k, v in grids.items()}, str(figure_dir / "mnist")
    )
    comparison = compare(runs, MNIST_SCORES + ("train_cpu_seconds", "train_wall_seconds"), key=lambda r: "cgan28")
    return {"judge": judge_info, "runs": runs, "comparison": comparison, "figures": figures,
            "train_images": len(train_images), "held_out_images": len(test_images)}


def _mnist_one(train_images, train_labels, test_images, test_labels, judge, extractor, floor, seed, steps, batch_size):
    """Trains zoo's cGAN-28 for `steps` generator steps under the current policy and scores it."""
    keras.utils.set_random_seed(seed)
    model, dataset = mnist_cgan.build_zoo(train_images, train_labels, batch_size, seed)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    history = model.fit(dataset.repeat(), steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    wall, cpu = time.perf_counter() - wall_start, time.process_time() - cpu_start
    rng = np.random.default_rng(seed)

    def generate(labels):
        z = rng.standard_normal((len(labels), model.latent_dim)).astype("float32")
        return np.asarray(model.generate(z, labels=np.asarray(labels, "int32")), dtype=np.float32)

    _, scores = mnist_cgan.score(generate, judge, extractor, test_images, test_labels, floor)
    grid = generate(np.repeat(np.arange(mnist_cgan.NUM_CLASSES), 10))
    record = {
        "steps": int(model.g_optimizer.iterations), "generator_dtype": str(model.generator.compute_dtype),
        "train_wall_seconds": round(wall, 1), "train_cpu_seconds": round(cpu, 1),
        "steps_per_second": round(steps / wall, 3),
        "last_logs": {k: float(v[-1]) for k, v in history.history.items()}, **scores,
    }
    return record, grid


# -- pooling records --------------------------------------------------------------------


def pooled(records):
    """`compare` over the runs of several records (e.g. seeds run in separate invocations).

    Mode runs are grouped by variant, dataset and steps; MNIST runs by steps, and only
    records whose judge has the same FID floor (the same judge) are pooled.

    Args:
        records: list of dicts, records of this benchmark (quick ones are skipped).

    Returns:
        dict, "mode" and "mnist" -> group -> score -> comparison (see `compare`).

    Raises:
        ValueError: if MNIST records with different judges would be pooled.
    """
    mode = [r for rec in records if rec.get("part") == "mode" and not rec.get("quick") for r in rec["runs"]]
    mnist_records = [rec for rec in records if rec.get("part") == "mnist" and not rec.get("quick")]
    floors = {round(rec["judge"]["fid_floor"], 6) for rec in mnist_records}
    if len(floors) > 1:
        raise ValueError(f"MNIST records have different judges (FID floors {sorted(floors)}); pool one judge only")
    mnist = [dict(r, steps=r["steps"]) for rec in mnist_records for r in rec["runs"]]
    return {
        "mode": compare(mode, MODE_SCORES + ("train_cpu_seconds", "train_wall_seconds"),
                        key=lambda r: f"{r['variant']}/{r['dataset']}/{r['steps']} steps"),
        "mnist": compare(mnist, MNIST_SCORES + ("train_cpu_seconds", "train_wall_seconds"),
                         key=lambda r: f"cgan28/{r['steps']} steps"),
    }


def markdown(pool):
    """One table row per (group, score): float32 and bf16 mean [min, max], mean difference, verdict."""
    lines = ["| runs | score | seeds | float32 mean [min, max] | bf16 mean [min, max] | bf16 - fp32 | "
             "within fp32 spread |", "|---|---|---|---|---|---|---|"]
    for part, groups in pool.items():
        for group, entry in groups.items():
            for score, stats in entry.items():
                if score == "seeds" or "mean" not in stats["float32"] or "mean" not in stats["mixed_bfloat16"]:
                    continue
                cells = [
                    f"{stats[p]['mean']:.4g} [{stats[p]['min']:.4g}, {stats[p]['max']:.4g}]" for p in PRECISIONS
                ]
                difference = stats.get("mean_difference", (stats["differences"] or [float("nan")])[0])
                verdict = {True: "yes", False: "no", None: "one seed"}[stats["within_float32_range"]]
                lines.append(f"| {group} | {score} | {len(entry['seeds'])} | {cells[0]} | {cells[1]} | "
                             f"{difference:+.4g} | {verdict} |")
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=PARTS + ("both",), default="both")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--mode-variants", nargs="+", default=["best", "wgan_gp"])
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"])
    parser.add_argument("--mode-steps", type=int, default=10_000, help="generator updates per mode run")
    parser.add_argument("--mnist-steps", type=int, default=800, help="generator steps per MNIST run")
    parser.add_argument("--mnist-seeds", type=int, default=1, help="the first K of --seeds for MNIST")
    parser.add_argument("--judge-seed", type=int, default=0,
                        help="seed of the MNIST judge, the same for every run so records can be pooled")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--classifier-epochs", type=int, default=12)
    parser.add_argument("--data-dir", default=mnist_cgan.default_data_dir())
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra- and inter-op threads (0: default)")
    parser.add_argument("--quick", action="store_true", help="seconds: few steps, seed 0, own output file")
    parser.add_argument("--pool", action="store_true",
                        help="train nothing: print the comparison pooled over the records in --output "
                        "and append it as a `pooled` record")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    unknown = [v for v in args.mode_variants if v not in mode_coverage.VARIANTS]
    if unknown:
        parser.error(f"--mode-variants: expected names among {', '.join(mode_coverage.VARIANTS)}, got {unknown}")
    bad = [d for d in args.datasets if d not in mode_coverage.DATASETS]
    if bad:
        parser.error(f"--datasets: expected a subset of {mode_coverage.DATASETS}, got {bad}")
    for name in ("mode_steps", "mnist_steps", "mnist_seeds", "batch_size", "classifier_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int, got {getattr(args, name)}")
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds must be distinct, got {args.seeds}")
    if args.quick:
        args.seeds, args.mode_steps, args.mnist_steps, args.classifier_epochs = args.seeds[:1], 20, 10, 1
        args.mnist_seeds = 1
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.pool:
        records = _shared.read_results(args.output, BENCHMARK)["records"]
        pool = pooled(records)
        table = markdown(pool)
        print(table)
        _shared.append_record(args.output, {
            "benchmark": BENCHMARK, "part": "pooled",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "PYTHONPATH=. .venv/bin/python benchmarks/bf16_quality.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "pooled_records": [r["date"] for r in records if r.get("part") in PARTS and not r.get("quick")],
            "comparison": pool, "table": table,
        }, BENCHMARK)
        return table
    threads_limited = True
    try:
        _shared.limit_threads(args.threads)
    except RuntimeError:  # TensorFlow already running (e.g. under pytest)
        threads_limited = False
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after training
    figure_dir = args.output.parent / args.output.stem
    figure_dir.mkdir(parents=True, exist_ok=True)
    parts = PARTS if args.part == "both" else (args.part,)
    records = []
    for part in parts:
        load_before, start, cpu_start = os.getloadavg(), time.perf_counter(), time.process_time()
        if part == "mode":
            result = run_mode(args, figure_dir)
            settings = {"variants": args.mode_variants, "datasets": args.datasets, "seeds": args.seeds,
                        "steps": args.mode_steps, "num_samples": mode_coverage.NUM_SAMPLES}
        else:
            seeds = args.seeds[: args.mnist_seeds]
            result = run_mnist(argparse.Namespace(**{**vars(args), "seeds": seeds}), figure_dir)
            settings = {"seeds": seeds, "steps": args.mnist_steps, "batch_size": args.batch_size,
                        "classifier_epochs": args.classifier_epochs, "data_dir": args.data_dir}
        record = {
            "benchmark": BENCHMARK,
            "part": part,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": "PYTHONPATH=. .venv/bin/python benchmarks/bf16_quality.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "machine": _shared.machine_info(),
            "threads": args.threads,
            "threads_limited_in_process": threads_limited,
            "auto_precision": zoo.device.default_precision(),
            "precisions": list(PRECISIONS),
            "quick": args.quick,
            "settings": settings,
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]},
            "wall_seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(time.process_time() - cpu_start, 1),
            **result,
        }
        _shared.append_record(args.output, record, BENCHMARK)
        records.append(record)
        print(f"{part}: record appended to {args.output}", flush=True)
    return records


if __name__ == "__main__":
    main()
