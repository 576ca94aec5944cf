"""Progressive GAN on 32x32 MNIST: classifier FID at every stage as the nets grow 4 -> 8 -> 16 -> 32.

Run from the repository root (needs the MNIST test split as IDX files, by default
../shared/data/mnist or $ZOO_SHARED_DATA/mnist; without them the script says so and exits):

    PYTHONPATH=. .venv/bin/python benchmarks/progan_mnist.py --threads 1
    PYTHONPATH=. .venv/bin/python benchmarks/progan_mnist.py --quick        # smoke check

Protocol (issue 7):
    data        the project's MNIST split: the first 8,000 images of the MNIST test set
                train, the last 2,000 are held out; 28x28 padded with background to 32x32,
                1 channel, in [-1, 1].
    model       `zoo.models.ProgressiveGAN` (WGAN-GP, lambda 10, drift 0.001, one critic
                step per generator step) on `zoo.nets.progan_generator` /
                `progan_discriminator` (pixel norm, minibatch stddev, equalised learning
                rate) narrowed for this CPU: --fmap-base/--fmap-max feature maps (64, 64,
                32, 16 at 4x4..32x32), latent --latent-dim, batch --batch-size; Adam(beta_1
                0, beta_2 0.99). Two settings differ from the paper, for a schedule 25-50x
                shorter than its 800k images per phase, on nets 8-32x narrower:
                - the critic's rate is 4e-3 against the generator's 1e-3 (the paper: 1e-3
                  for both). With equal rates the critic lost from 8x8 on: E[D(fake)] rose
                  above E[D(real)] and the 8x8 stage stalled (`--d-learning-rate 1e-3`
                  shows it; the record beside the default's in the results);
                - the generator average (EMA) has momentum 0.99 per step (the paper's
                  0.999 averages over ~1,000 steps, a whole phase here, so the average
                  lags behind the growing nets).
    schedule    `zoo.callbacks.ProgressiveGrowing`: --stabilize-images real images at 4x4,
                then for 8x8, 16x16 and 32x32 a fade-in over --fade-images and a
                stabilisation over --stabilize-images; optimizer state reset at every
                fade start and end, as the reference code.
    judge       a domain classifier (`zoo.metrics.train_domain_classifier`) trained on the
                8,000 training digits with their labels, at 32x32.
    scores      after every stage (at its end, before the next fade), with --num-fid EMA
                samples:
                fid_at_stage  against the held-out 2,000 shown at the stage's resolution
                              (`zoo.layers.images_at_lod`: block means repeated to 32x32),
                              beside its floor (training digits 1-2,000 at that resolution
                              against the same);
                fid_32        against the held-out 2,000 at full 32x32 (floor: training
                              digits 1-2,000 at 32x32). It must fall from stage to stage:
                              each new resolution adds the detail the judge sees.
                Both the EMA generator's FIDs and the raw generator's are recorded.
    output      a JSON record appended to benchmarks/results/progan_mnist.json and
                progan_mnist_stages.png: one row of EMA samples (fixed noise) per stage.
"""

import argparse
import datetime
import os
import shlex
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

BENCHMARK = "progan_mnist"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
NUM_CLASSES = 10
RESOLUTION = 32
QUICK = {
    "stabilize_images": 256, "fade_images": 256, "classifier_epochs": 1, "num_fid": 200,
    "fmap_base": 32, "fmap_max": 8, "latent_dim": 16, "batch_size": 16,
}


default_data_dir = _shared.mnist_dir


def arrays(data_dir, split):
    """Images padded with background (-1) from 28x28 to 32x32, and labels."""
    return _shared.mnist_arrays(data_dir, split, pad_to=RESOLUTION)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow threads (1: comparable on a shared machine)")
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--fmap-base", type=int, default=256, help="feature maps at 4x4..32x32: 64, 64, 32, 16 by default")
    parser.add_argument("--fmap-max", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--d-learning-rate", type=float, default=4e-3, help="the critic's rate (the paper: as --learning-rate)")
    parser.add_argument(
        "--ema-momentum", type=float, default=0.99,
        help="generator weight average per step (the paper: 0.999, a half-life of ~700 steps)",
    )
    parser.add_argument("--stabilize-images", type=int, default=16_000)
    parser.add_argument("--fade-images", type=int, default=16_000)
    parser.add_argument("--classifier-epochs", type=int, default=4)
    parser.add_argument("--num-fid", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="seconds: tiny nets and schedule")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    for name in ("latent_dim", "fmap_base", "fmap_max", "batch_size", "stabilize_images", "classifier_epochs", "num_fid"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.fade_images < 0:
        parser.error(f"--fade-images must be >= 0, got {args.fade_images}")
    for name in ("learning_rate", "d_learning_rate"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    if not 0 <= args.ema_momentum < 1:
        parser.error(f"--ema-momentum must be in [0, 1), got {args.ema_momentum}")
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def build_model(args):
    image_shape = (RESOLUTION, RESOLUTION, 1)
    nets = {"fmap_base": args.fmap_base, "fmap_max": args.fmap_max}
    generator = zoo.nets.progan_generator(args.latent_dim, image_shape, **nets)
    critic = zoo.nets.progan_discriminator(image_shape, **nets)
    model = zoo.models.ProgressiveGAN(generator, critic, ema_momentum=args.ema_momentum, seed=args.seed)
    adam = dict(beta_1=0.0, beta_2=0.99, epsilon=1e-8)
    model.compile(
        d_optimizer=keras.optimizers.Adam(args.d_learning_rate or args.learning_rate, **adam),
        g_optimizer=keras.optimizers.Adam(args.learning_rate, **adam),
    )
    return model


def stage_boundaries(growing, max_lod):
    """(side, images_seen at the stage's end) for 4x4 ... full size."""
    period = growing.stabilize_images + growing.fade_images
    ends = [growing.stabilize_images + k * period for k in range(max_lod + 1)]
    return [(4 * 2**k, end) for k, end in enumerate(ends)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    if not any((Path(args.data_dir) / name).is_file() for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte")):
        raise SystemExit(f"MNIST IDX files (t10k-images-idx3-ubyte.gz) not found in {args.data_dir} "
                         "(pass --data-dir or set ZOO_SHARED_DATA)")
    _shared.limit_threads(args.threads)
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after training
    keras.utils.set_random_seed(args.seed)
    train_images, train_labels = arrays(args.data_dir, "train")
    test_images, test_labels = arrays(args.data_dir, "test")
    if args.quick:
        train_images, train_labels = train_images[:500], train_labels[:500]
        test_images, test_labels = test_images[:200], test_labels[:200]

    start = time.perf_counter()
    judge = zoo.metrics.train_domain_classifier(
        train_images, train_labels, num_classes=NUM_CLASSES, epochs=args.classifier_epochs, seed=args.seed
    )
    extractor = zoo.metrics.ClassifierExtractor(judge)
    floor_images = train_images[: len(test_images)]
    judge_info = {
        "held_out_accuracy": float(np.mean(extractor.probabilities(test_images).argmax(-1) == test_labels)),
        "trained_on": f"training digits 1-{len(train_images)}",
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"judge: held-out accuracy {judge_info['held_out_accuracy']:.4f}", flush=True)
    held_32 = extractor.features(test_images)
    fid_floor_32 = zoo.metrics.frechet_distance(extractor.features(floor_images), held_32)

    keras.utils.set_random_seed(args.seed)
    model = build_model(args)
    growing = zoo.callbacks.ProgressiveGrowing(args.stabilize_images, args.fade_images)
    dataset = (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(len(train_images), seed=args.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(args.batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    noise = np.random.default_rng(args.seed + 1).standard_normal((args.num_fid, args.latent_dim)).astype("float32")

    def score(lod):
        held = extractor.features(zoo.layers.images_at_lod(test_images, lod, model.max_lod).numpy())
        floor = extractor.features(zoo.layers.images_at_lod(floor_images, lod, model.max_lod).numpy())
        generated = model.generate(noise, batch_size=250)
        features = extractor.features(generated)
        raw = extractor.features(model.generator.predict(noise, batch_size=250, verbose=0))
        return generated, {
            "fid_at_stage": zoo.metrics.frechet_distance(features, held),
            "fid_at_stage_floor": zoo.metrics.frechet_distance(floor, held),
            "fid_32": zoo.metrics.frechet_distance(features, held_32),
            "fid_at_stage_raw_generator": zoo.metrics.frechet_distance(raw, held),
            "fid_32_raw_generator": zoo.metrics.frechet_distance(raw, held_32),
        }

    _, initial = score(float(model.max_lod))
    stages, rows = [], []
    print(f"start (4x4 level): fid_32 {initial['fid_32']:.2f} (floor {fid_floor_32:.2f})", flush=True)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    for side, end in stage_boundaries(growing, model.max_lod):
        steps = (end - int(model.images_seen.numpy())) // args.batch_size
        stage_cpu, stage_wall = time.process_time(), time.perf_counter()
        history = model.fit(dataset, epochs=1, steps_per_epoch=max(steps, 1), callbacks=[growing], verbose=0, shuffle=False)
        generated, scores = score(model.lod)
        stages.append({
            "resolution": side,
            "lod": model.lod,
            "images_seen": int(model.images_seen.numpy()),
            "cpu_seconds": round(time.process_time() - stage_cpu, 1),
            "wall_seconds": round(time.perf_counter() - stage_wall, 1),
            "last_logs": {k: float(v[-1]) for k, v in history.history.items()},
            **scores,
        })
        rows.append(generated[:10])
        print(f"{side}x{side}: images {stages[-1]['images_seen']}, fid_at_stage {scores['fid_at_stage']:.2f} "
              f"(floor {scores['fid_at_stage_floor']:.2f}; raw G {scores['fid_at_stage_raw_generator']:.2f}), fid_32 {scores['fid_32']:.2f} (floor {fid_floor_32:.2f}); "
              f"{stages[-1]['cpu_seconds']:.0f} CPU-s; d_loss {stages[-1]['last_logs'].get('d_loss', float('nan')):.3f}",
              flush=True)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure = args.output.with_name(args.output.stem + "_stages.png")
    zoo.plotting.save_grid(np.concatenate(rows), str(figure), num_rows=len(rows),
                           title="ProGAN on MNIST: one row per stage, 4x4 to 32x32 (EMA, fixed noise)")
    fid_32 = [s["fid_32"] for s in stages]
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/progan_mnist.py " + shlex.join(argv),
        "machine": _shared.machine_info(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "judge": judge_info,
        "fid_32_floor": fid_floor_32,
        "fid_32_initial": initial["fid_32"],
        "stages": stages,
        "fid_32_falls_every_stage": bool(all(b < a for a, b in zip([initial["fid_32"]] + fid_32, fid_32))),
        "final_fid_32_over_floor": fid_32[-1] / fid_floor_32,
        "train_cpu_seconds": round(time.process_time() - cpu_start, 1),
        "train_wall_seconds": round(time.perf_counter() - wall_start, 1),
        "figure": figure.name,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print(f"fid_32: {initial['fid_32']:.1f} -> " + " -> ".join(f"{f:.1f}" for f in fid_32)
          + f" (floor {fid_floor_32:.1f}); figure {figure}")
    return record


if __name__ == "__main__":
    main()
