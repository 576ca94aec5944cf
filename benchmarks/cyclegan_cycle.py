"""CycleGAN on unpaired photos <-> hue-rotated photos: cycle-reconstruction and translation error.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/cyclegan_cycle.py --threads 1    # 10 CPU-minutes
    PYTHONPATH=. .venv/bin/python benchmarks/cyclegan_cycle.py --quick        # smoke check

Protocol (issue 6):
    data     domain A: `--num-crops` random crops of the four training photos of
             `zoo.data.embedded_photos`; domain B: other crops of the same photos
             (another seed, so no pair is shown) with their hue turned by 180
             degrees (`tf.image.adjust_hue(x, 0.5)`, the recipe's smoke domains).
             Held out: `--num-test` crops of chelsea, a photo never trained on,
             in both domains.
    model    `zoo.models.CycleGAN` as in `recipes/cyclegan_horse2zebra.py`:
             ResNet generators (`--num-blocks`, `--base-filters`, instance norm,
             reflection padding), instance-norm 70x70 PatchGANs, LSGAN, cycle
             weight 10, identity 0.5, pool 50, Adam(2e-4, beta_1 0.5), batch 1.
    budget   `--minutes` of the process's CPU time (`TimeLimit(clock="cpu")`).
    scores   on the held-out crops, before and after training:
             cycle L1 and PSNR of A -> B -> A and B -> A -> B (images in [-1, 1]);
             and, because the true mapping is known here, the translation error
             L1(G_ab(a), hue_rotated(a)) and L1(G_ba(b), a), beside the error of
             not translating at all, L1(a, hue_rotated(a)).
Results are appended to benchmarks/results/cyclegan_cycle.json, with a grid.
"""

import argparse
import datetime
import os
import shlex
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared  # noqa: E402

BENCHMARK = "cyclegan_cycle"
RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU-minutes of training")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--num-crops", type=int, default=1024)
    parser.add_argument("--num-test", type=int, default=256)
    parser.add_argument("--num-blocks", type=int, default=3)
    parser.add_argument("--base-filters", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="seconds: tiny nets and data")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.num_crops, args.num_test, args.num_blocks, args.base_filters = 0.05, 16, 8, 1, 4
        args.batch_size = 4
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def hue_rotated(images):
    return tf.clip_by_value(tf.image.adjust_hue((images + 1.0) / 2.0, 0.5) * 2.0 - 1.0, -1.0, 1.0)


def crops(split, args, seed, count, **options):
    return zoo.data.embedded_photos(split, image_size=args.image_size, num_crops=count, seed=seed, **options)


def scores(model, images_a, images_b):
    fake_b, fake_a = model.translate_ab(images_a), model.translate_ba(images_b)
    cycled_a, cycled_b = model.translate_ba(fake_b), model.translate_ab(fake_a)
    truth_b = hue_rotated(images_a).numpy()
    truth_a = hue_rotated(images_b).numpy()  # the hue turn is its own inverse
    return {
        "cycle_l1_a": float(np.mean(np.abs(cycled_a - images_a))),
        "cycle_l1_b": float(np.mean(np.abs(cycled_b - images_b))),
        "cycle_psnr_a": float(np.mean(zoo.metrics.psnr(cycled_a, images_a))),
        "cycle_psnr_b": float(np.mean(zoo.metrics.psnr(cycled_b, images_b))),
        "translation_l1_ab": float(np.mean(np.abs(fake_b - truth_b))),
        "translation_l1_ba": float(np.mean(np.abs(fake_a - truth_a))),
    }, (fake_b, cycled_a)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    _shared.limit_threads(args.threads)
    _shared.read_results(args.output, BENCHMARK)
    started = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    train = zoo.data.unpaired(
        crops("train", args, args.seed, args.num_crops, batch_size=args.batch_size),
        crops("train", args, args.seed + 1, args.num_crops, batch_size=args.batch_size).map(hue_rotated),
    )
    test_options = {"batch_size": args.num_test, "shuffle": False, "drop_remainder": False}
    images_a = next(iter(crops("test", args, args.seed + 2, args.num_test, **test_options))).numpy()
    images_b = hue_rotated(next(iter(crops("test", args, args.seed + 3, args.num_test, **test_options)))).numpy()

    generator_ab, generator_ba = (
        zoo.nets.resnet_generator(num_blocks=args.num_blocks, base_filters=args.base_filters, name=f"generator_{d}")
        for d in ("ab", "ba")
    )
    discriminator_a, discriminator_b = (
        zoo.nets.patch_discriminator(base_filters=args.base_filters, norm="instance", name=f"discriminator_{d}")
        for d in "ab"
    )
    model = zoo.models.CycleGAN(
        generator_ab, generator_ba, discriminator_a, discriminator_b,
        image_shape=(args.image_size, args.image_size), seed=args.seed,
    )
    model.compile()  # Adam(2e-4, beta_1=0.5) for each of the four nets
    before, _ = scores(model, images_a, images_b)
    limit = zoo.callbacks.TimeLimit(args.minutes * 60, clock="cpu")
    cpu = time.process_time()
    history = model.fit(train, epochs=100_000, callbacks=[limit], verbose=0)
    training = {
        "epochs": len(history.epoch),
        "updates": int(model.g_ab_optimizer.iterations),
        "train_cpu_seconds": round(time.process_time() - cpu, 1),
        "final": {k: float(v[-1]) for k, v in history.history.items()},
    }
    after, (fake_b, cycled_a) = scores(model, images_a, images_b)
    untranslated = float(np.mean(np.abs(images_a - hue_rotated(images_a).numpy())))
    figure = args.output.parent / f"{args.output.stem}_grid.png"
    truth_b = hue_rotated(images_a[:8]).numpy()
    rows = np.stack([images_a[:8], fake_b[:8], truth_b, cycled_a[:8]], axis=1)
    zoo.plotting.save_grid(rows.reshape((-1, *rows.shape[2:])), figure, num_rows=8,
                           title="A | G_ab(A) | true hue turn | G_ba(G_ab(A))")
    print(f"before: {before}\nafter:  {after}\nuntranslated L1 {untranslated:.4f}; {training['updates']} updates")
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/cyclegan_cycle.py " + shlex.join(argv),
        "machine": _shared.machine_info(),
        "load_average": list(os.getloadavg()),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "num_test": int(len(images_a)),
        "training": training,
        "before": before,
        "after": after,
        "untranslated_l1": untranslated,
        "figure": str(figure),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    _shared.append_record(args.output, record, BENCHMARK)
    return record


if __name__ == "__main__":
    main()
