"""WGAN-GP with a real batch for every critic update (the papers) against one reused batch (issue 25).

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/wgan_gp_batches.py --threads 1    # 4 rounds of 150 updates
    PYTHONPATH=. .venv/bin/python benchmarks/wgan_gp_batches.py --quick        # smoke check

Protocol:
    data        the MNIST IDX files in ../shared/data/mnist (the real MNIST test split, Fashion-MNIST's
                shape 28x28x1): its first 8,000 images train, its last 2,000 are held out
                (`zoo.data.mnist_idx`). Without ../shared, `--quick` uses scikit-learn's digits at 28x28.
    model       the `wgan_gp` preset (Gulrajani et al.: lambda 10, 5 critic updates per generator
                update, Adam(1e-4, 0, 0.9), layer-norm DCGAN critic, EMA generator 0.999) with
                --base-filters 32 (the preset's 64 is slower than this budget allows), critic batch 64.
    variants    fresh   each critic update takes its own 64 real images: a step takes 5 x 64
                        (`fresh_real_batches=True`, zoo's default since issue 25; the papers' Algorithm 1);
                reuse   the step's one batch of 64 is seen by all 5 critic updates
                        (`fresh_real_batches=False`: keras.io's WGAN-GP, zoo before issue 25).
                Both start from the same weights and noise seed; a critic update costs the same in both.
    rounds      --rounds rounds; in each, each variant trains --steps-per-round generator updates
                (`fit`), the order alternating between rounds (fresh first in odd rounds), timed with
                `time.perf_counter`. After every round each variant is scored: FID of 2,000 EMA
                samples against the 2,000 held-out images in the features of a domain classifier
                trained once on the 8,000 training images (zoo's offline digit protocol; the floor
                is the FID of 2,000 training images).
    reported    per round: generator updates, each variant's cumulative training seconds and real
                images seen, and FID. At equal generator updates: the rows. At equal wall time: the
                seconds column (a step costs about the same in both variants, so the rows are also
                close to equal time; the ratio of times is reported).
    output      one JSON record appended to benchmarks/results/wgan_gp_batches.json
                (--quick: wgan_gp_batches_quick.json).
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARK = "wgan_gp_batches"
RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = {"fresh": True, "reuse": False}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps-per-round", type=int, default=150, help="generator updates per round and variant")
    parser.add_argument("--batch-size", type=int, default=64, help="real images per critic update")
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--samples", type=int, default=2000, help="generated images per FID")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra- and inter-op threads (0: default)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 updates, small nets, 200 samples")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps_per_round, args.base_filters, args.samples = 2, 3, 8, 200
    if args.output is None:
        args.output = RESULTS / f"{BENCHMARK}{'_quick' if args.quick else ''}.json"
    return args


def load_data(quick):
    """Training images and labels, held-out images: the shared MNIST IDX split, or digits for --quick."""
    import _shared

    folder = _shared.mnist_dir()
    if os.path.isdir(folder):
        images, labels = _shared.mnist_arrays(folder, "train")  # zoo.data.mnist_idx: the first 8,000
        held_out, _ = _shared.mnist_arrays(folder, "test")  # the last 2,000
        return images, labels, held_out, "mnist_idx (MNIST's test split: 8,000 train, 2,000 held out)"
    if not quick:
        raise SystemExit(f"needs the MNIST IDX files in {folder} (set ZOO_SHARED_DATA), or --quick")
    import zoo

    train, test_images, _ = zoo.data.train_and_test("digits", 64, seed=0, with_labels=True, image_size=28)
    images, labels = zoo.data.dataset_arrays(train)
    return images, labels, test_images, "digits at 28x28 (--quick without ../shared)"


def build(args, fresh):
    import zoo

    preset = zoo.presets.get("wgan_gp")
    model = preset.build((28, 28, 1), base_filters=args.base_filters, seed=args.seed)
    model.fresh_real_batches = fresh
    return model


def batches(images, size, seed):
    import tensorflow as tf

    return (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .repeat().batch(size, drop_remainder=True).prefetch(2))


def main(argv=None):
    import _shared

    args = parse_args(argv)
    _shared.limit_threads(args.threads)
    import keras

    import zoo
    from zoo.metrics.classifier import train_domain_classifier

    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after training
    train_images, train_labels, held_out, data_name = load_data(args.quick)
    began = time.perf_counter()
    judge = train_domain_classifier(train_images, train_labels, num_classes=10, epochs=1 if args.quick else 5,
                                    seed=args.seed)
    extractor = zoo.metrics.ClassifierExtractor(judge)
    floor = zoo.metrics.frechet_distance(extractor.features(train_images[:len(held_out)]), extractor.features(held_out))
    models, data, seconds, images_seen = {}, {}, {}, {}
    for name, fresh in VARIANTS.items():
        keras.utils.set_random_seed(args.seed)  # the same initial weights for both
        models[name] = build(args, fresh)
        step_images = args.batch_size * (models[name].d_steps if fresh else 1)
        data[name] = batches(train_images, step_images, args.seed)
        seconds[name], images_seen[name] = 0.0, 0
    rows = []
    for round_index in range(args.rounds):
        order = list(VARIANTS) if round_index % 2 == 0 else list(VARIANTS)[::-1]
        row = {"round": round_index + 1, "generator_updates": (round_index + 1) * args.steps_per_round}
        for name in order:
            model = models[name]
            start = time.perf_counter()
            model.fit(data[name], steps_per_epoch=args.steps_per_round, epochs=1, verbose=0)
            seconds[name] += time.perf_counter() - start
            per_step = args.batch_size * (model.d_steps if model.fresh_real_batches else 1)
            images_seen[name] += per_step * args.steps_per_round
        for name in VARIANTS:
            scores = zoo.metrics.evaluate_generator(models[name], held_out, extractor, metrics=("fid",),
                                                    num_samples=args.samples, seed=args.seed)
            fid = next(value for key, value in scores.items() if key.startswith("fid"))
            row[name] = {"fid": round(float(fid), 3), "train_seconds": round(seconds[name], 1),
                         "real_images_seen": images_seen[name],
                         "g_updates": int(models[name].g_optimizer.iterations),
                         "d_updates": int(models[name].d_optimizer.iterations)}
        rows.append(row)
        print(f"round {row['round']} ({row['generator_updates']} generator updates): "
              + ", ".join(f"{n} FID {row[n]['fid']:.2f} after {row[n]['train_seconds']:.0f} s" for n in VARIANTS),
              flush=True)
    last = rows[-1]
    record = {
        "benchmark": BENCHMARK,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/wgan_gp_batches.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "machine": _shared.machine_info(),
        "settings": {k: getattr(args, k) for k in ("rounds", "steps_per_round", "batch_size", "base_filters",
                                                  "samples", "seed", "threads", "quick")},
        "data": data_name,
        "fid_floor": round(float(floor), 3),
        "rounds": rows,
        "final": {name: last[name] for name in VARIANTS},
        "time_ratio_fresh_over_reuse": round(last["fresh"]["train_seconds"] / last["reuse"]["train_seconds"], 3),
        "seconds": round(time.perf_counter() - began, 1),
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print(f"FID floor {floor:.2f}; final: " + ", ".join(f"{n} {last[n]['fid']:.2f}" for n in VARIANTS)
          + f"; results appended to {args.output}", flush=True)
    return record


if __name__ == "__main__":
    main()
