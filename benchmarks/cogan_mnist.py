"""CoGAN on MNIST digits and their edges/negatives: do generated pairs correspond without ever seeing one?

Run from the repository root (needs the MNIST test split as IDX files, by default
../shared/data/mnist or $ZOO_SHARED_DATA/mnist; without them the script says so and exits):

    PYTHONPATH=. .venv/bin/python benchmarks/cogan_mnist.py --threads 1                 # ~10 CPU-min
    PYTHONPATH=. .venv/bin/python benchmarks/cogan_mnist.py --threads 1 --transform negative
    PYTHONPATH=. .venv/bin/python benchmarks/cogan_mnist.py --quick                     # smoke check

Protocol (issue 7):
    data        the project's MNIST split: the first 8,000 images of the MNIST test set
                train, cut in two in file order (`zoo.data.unpaired_digits("idx")`):
                digits 1-4,000 are domain A, the transform (edges: 3x3 dilation minus the
                digit; or the negative) of digits 4,001-8,000 is domain B. No digit is
                ever shown with its own transform. The last 2,000 are held out.
    variants    cogan        `zoo.models.CoGAN` with the paper's MNIST nets and sharing
                             (generators share all but the output layer, discriminators
                             all but the first conv block), non-saturating loss, Adam
                             2e-4/0.5, latent 100;
                independent  the same nets with nothing shared (`num_shared=0`): two GANs
                             trained side by side on the same noise, the control: their
                             pairs can only correspond by chance.
                The generators' width is --base-filters (default 32, the paper's is 128)
                and the batch 64 (the paper's 128), to train for more steps in a CPU budget.
    budget      --minutes CPU-minutes per variant (`zoo.callbacks.TimeLimit(clock="cpu")`,
                tracing included); --threads 1 keeps the figure comparable on a shared
                machine.
    scores      on --num-pairs pairs (G_a(z), G_b(z)) per variant:
                pairing     `zoo.metrics.pairing_error`: mean |G_b(z) - T(G_a(z))| against
                            the same for shuffled pairs (chance); ratio < 1 = the pairs
                            correspond; pairs_closer = fraction of pairs whose own partner
                            is nearer than a shuffled one.
                judge       one domain classifier (`zoo.metrics.train_domain_classifier`)
                            trained on labelled digits 2,001-8,000 AND their transforms, so
                            it reads both domains; per domain the FID of its features
                            against the held-out 2,000 (transformed for B), with the floor
                            (real training images 1-2,000 against the same); and the class
                            agreement: how often the judge calls G_a(z) and G_b(z) the same
                            digit, against the chance level from the two class frequencies.
    output      a JSON record appended to benchmarks/results/cogan_mnist.json and a grid
                of 64 pairs (G_a | G_b) per variant beside it.
"""

import argparse
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

BENCHMARK = "cogan_mnist"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
VARIANTS = ("cogan", "independent")
NUM_CLASSES = 10


default_data_dir = _shared.mnist_dir


def arrays(data_dir, split):
    return _shared.mnist_arrays(data_dir, split)


def transform(images, name):
    return zoo.data.transform_digits(images, name).numpy()


def build(variant, args):
    shared = None if variant == "cogan" else 0
    g_a, g_b = zoo.nets.cogan_generators(args.latent_dim, (28, 28, 1), args.base_filters, num_shared=shared)
    d_a, d_b = zoo.nets.cogan_discriminators((28, 28, 1), num_shared=shared)
    model = zoo.models.CoGAN(g_a, g_b, d_a, d_b, seed=args.seed)
    model.compile()  # Adam(2e-4, beta_1=0.5) per player
    return model


def train_for(model, dataset, cpu_seconds):
    limit = zoo.callbacks.TimeLimit(cpu_seconds, clock="cpu")
    wall, load_before = time.perf_counter(), os.getloadavg()[0]
    history = model.fit(
        dataset.repeat(), steps_per_epoch=50, epochs=100_000, callbacks=[limit], verbose=0, shuffle=False
    )
    steps = int(model.g_optimizer.iterations)
    return {
        "cpu_seconds": round(limit.elapsed, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "steps": steps,
        "steps_per_cpu_second": round(steps / limit.elapsed, 3),
        "stopped_by_budget": limit.stopped_early,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "last_logs": {k: round(float(v[-1]), 4) for k, v in history.history.items()},
    }


def class_agreement(judge, images_a, images_b):
    """How often the judge gives both images of a pair the same digit, and the chance level."""
    classes_a = judge.probabilities(images_a).argmax(-1)
    classes_b = judge.probabilities(images_b).argmax(-1)
    frequency_a = np.bincount(classes_a, minlength=NUM_CLASSES) / len(classes_a)
    frequency_b = np.bincount(classes_b, minlength=NUM_CLASSES) / len(classes_b)
    return float(np.mean(classes_a == classes_b)), float(frequency_a @ frequency_b)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument("--transform", default="edges", choices=zoo.data.DIGIT_TRANSFORMS)
    parser.add_argument("--minutes", type=float, default=4.5, help="CPU-minutes of training per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--num-pairs", type=int, default=2000)
    parser.add_argument("--classifier-epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow intra/inter-op threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="seconds: tiny budget, 600 digits, own output")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    args.variants = [v for v in args.variants.split(",") if v]
    if not args.variants or set(args.variants) - set(VARIANTS):
        parser.error(f"--variants: expected a comma-separated subset of {VARIANTS}, got {args.variants}")
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isdir(args.data_dir):
        print(f"{BENCHMARK}: skipped, MNIST IDX folder not found: {args.data_dir} (pass --data-dir)", file=sys.stderr)
        return None
    _shared.limit_threads(args.threads)
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after training
    keras.utils.set_random_seed(args.seed)
    train_images, train_labels = arrays(args.data_dir, "train")
    test_images, test_labels = arrays(args.data_dir, "test")
    limit = None
    if args.quick:
        args.minutes, args.classifier_epochs, args.num_pairs, args.base_filters = 0.05, 1, 200, 8
        limit = 600
        train_images, train_labels = train_images[:limit], train_labels[:limit]
        test_images, test_labels = test_images[:200], test_labels[:200]

    # The judge reads both domains: digits 2,001-8,000 and their transforms, labelled.
    start = time.process_time()
    floor_count = len(test_images)
    judge_images = train_images[floor_count:]
    judge_labels = train_labels[floor_count:]
    judge = zoo.metrics.train_domain_classifier(
        np.concatenate([judge_images, transform(judge_images, args.transform)]),
        np.concatenate([judge_labels, judge_labels]),
        num_classes=NUM_CLASSES, epochs=args.classifier_epochs, seed=args.seed,
    )
    judge = zoo.metrics.ClassifierExtractor(judge)
    references = {"a": test_images, "b": transform(test_images, args.transform)}
    floors = {"a": train_images[:floor_count], "b": transform(train_images[:floor_count], args.transform)}
    reference_features = {d: judge.features(x) for d, x in references.items()}
    judge_info = {
        "trained_on": f"digits {floor_count + 1}-{len(train_images)} and their {args.transform}",
        "cpu_seconds": round(time.process_time() - start, 1),
    }
    for d in ("a", "b"):
        predicted = judge.probabilities(references[d]).argmax(-1)
        judge_info[f"held_out_accuracy_{d}"] = float(np.mean(predicted == test_labels))
    judge_info["fid_floor"] = {
        d: zoo.metrics.frechet_distance(judge.features(floors[d]), reference_features[d]) for d in ("a", "b")
    }
    print(f"judge: held-out accuracy {judge_info['held_out_accuracy_a']:.4f} (digits), "
          f"{judge_info['held_out_accuracy_b']:.4f} ({args.transform}); FID floors {judge_info['fid_floor']}")

    dataset = zoo.data.unpaired_digits(
        "idx", args.transform, data_dir=args.data_dir, batch_size=args.batch_size, seed=args.seed, limit=limit
    )
    results, figures = {}, {}
    prefix = args.output.parent / args.output.stem
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        keras.utils.set_random_seed(args.seed)
        model = build(variant, args)
        training = train_for(model, dataset, args.minutes * 60)
        z = np.random.default_rng(args.seed).standard_normal((args.num_pairs, args.latent_dim)).astype("float32")
        images_a, images_b = model.generate(z)
        pairing = zoo.metrics.pairing_error(
            images_a, images_b, lambda x: transform(x, args.transform), seed=args.seed
        )
        agreement, agreement_chance = class_agreement(judge, images_a, images_b)
        fid = {
            d: zoo.metrics.frechet_distance(judge.features(x), reference_features[d])
            for d, x in (("a", images_a), ("b", images_b))
        }
        results[variant] = {
            **training, **pairing, "class_agreement": agreement, "class_agreement_chance": agreement_chance,
            "fid": fid, "fid_over_floor": {d: fid[d] / judge_info["fid_floor"][d] for d in fid},
        }
        figures[variant] = str(zoo.plotting.save_grid(
            zoo.plotting.side_by_side(images_a[:64], images_b[:64]), f"{prefix}_{variant}.png",
            num_rows=8, title=f"{variant}: G_a(z) | G_b(z)",
        ))
        print(
            f"{variant:11s} {training['cpu_seconds']:.0f} CPU-s ({training['steps']} steps): pairing error "
            f"{pairing['pair_error']:.4f} vs shuffled {pairing['shuffled_error']:.4f} (ratio {pairing['ratio']:.3f}, "
            f"{pairing['pairs_closer']:.1%} closer); same class {agreement:.3f} vs chance {agreement_chance:.3f}; "
            f"FID a {fid['a']:.2f}, b {fid['b']:.2f}"
        )

    record = {
        "benchmark": BENCHMARK,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/cogan_mnist.py " + " ".join(argv or sys.argv[1:]),
        "machine": _shared.machine_info(),
        "settings": {
            "transform": args.transform, "minutes_cpu_per_variant": args.minutes, "batch_size": args.batch_size,
            "latent_dim": args.latent_dim, "base_filters": args.base_filters, "num_pairs": args.num_pairs,
            "classifier_epochs": args.classifier_epochs, "threads": args.threads, "seed": args.seed,
            "quick": args.quick, "train_images": len(train_images), "held_out_images": len(test_images),
        },
        "judge": judge_info,
        "variants": results,
        "figures": figures,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print(f"results appended to {args.output}")
    return record


if __name__ == "__main__":
    main()
