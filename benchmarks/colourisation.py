"""Colourisation on held-out photos: encoder-decoder, GAN colouriser and L2 regression, equal CPU budgets.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/colourisation.py --threads 1     # 8 CPU-min per variant
    PYTHONPATH=. .venv/bin/python benchmarks/colourisation.py --threads 1 --random-hue  # ambiguous colour
    PYTHONPATH=. .venv/bin/python benchmarks/colourisation.py --quick         # smoke check

Protocol (issue 6):
    data      `zoo.data.embedded_photos`: `--num-crops` random 64x64 crops of four
              scikit-image colour photos (astronaut, coffee, rocket, the left
              motorcycle) train; `--num-test` crops of a fifth photo, chelsea, are
              held out by image. Photos go to `(L, ab)` with `zoo.data.lab_pairs`.
    variants  `recipes/colourisation.py`'s three, built by the `colourisation` preset's
              `build_phases`:
              encoder_decoder (Deep Koalarization net, MSE; fusion off, as no
              ImageNet weights load here), regression (U-Net, L2) and gan (the
              same U-Net pre-trained by L1 for `--pretrain-share` of the budget,
              then pix2pix with a 70x70 PatchGAN on (L, ab) pairs, L1 weight 100).
              Adam(2e-4, beta_1 0.5), batch 16, `--base-filters` 32.
    hue       with `--random-hue`, every crop, training and held-out, has its hue turned
              by its own uniform random angle in the Lab ab plane (`zoo.data.rotate_hue`;
              a fresh angle each time a training crop is drawn): lightness and chroma
              stay, so the grey input says nothing about the hue. Colour is then
              ambiguous given L by construction, the case the lecture's argument is
              about (an L2 colouriser averages the possible colours to grey, a GAN
              picks one). Results go to colourisation_random_hue.json.
    budget    each variant trains for `--minutes` of the process's CPU time
              (`zoo.callbacks.TimeLimit(clock="cpu")`, tracing included).
    scores    on the held-out crops, after joining the predicted ab to the input's
              L: PSNR and SSIM against the photo (after the same Lab round trip),
              and colourfulness (Hasler & Suesstrunk 2003) beside the truth's; the
              "grey" row is the input itself (ab = 0).
Results are appended to benchmarks/results/colourisation.json, with a grid per variant.
"""

import argparse
import datetime
import importlib.util
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

BENCHMARK = "colourisation"
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"


def load_recipe():
    spec = importlib.util.spec_from_file_location("colourisation_recipe", ROOT / "recipes" / "colourisation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["regression", "gan", "encoder_decoder"])
    parser.add_argument("--minutes", type=float, default=8.0, help="CPU-minutes per variant")
    parser.add_argument("--pretrain-share", type=float, default=0.3, help="gan: share of the budget for L1 pre-training")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-crops", type=int, default=4096)
    parser.add_argument("--num-test", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--num-downsamples", type=int, default=None, help="U-Net depth (default: down to 1x1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--random-hue", action="store_true",
        help="turn every crop's hue by a random angle (Lab), so that colour is ambiguous given lightness",
    )
    parser.add_argument("--quick", action="store_true", help="seconds: tiny nets and data")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.image_size, args.num_crops, args.num_test = 0.05, 32, 32, 16
        args.batch_size, args.base_filters = 8, 4
    if not 0.0 < args.pretrain_share < 1.0:
        raise ValueError(f"--pretrain-share must be in (0, 1), got {args.pretrain_share}")
    if args.output is None:
        stem = BENCHMARK + ("_random_hue" if args.random_hue else "") + ("_quick" if args.quick else "")
        args.output = RESULTS_DIR / f"{stem}.json"
    return args


def recipe_args(recipe, args, variant):
    return recipe.parse_args([
        "--variant", variant, "--image-size", str(args.image_size), "--batch-size", str(args.batch_size),
        "--base-filters", str(args.base_filters), "--fusion", "off", "--seed", str(args.seed),
        *(["--num-downsamples", str(args.num_downsamples)] if args.num_downsamples else []),
    ])


def run_variant(recipe, args, variant, pairs, test_rgb):
    keras.backend.clear_session()
    keras.utils.set_random_seed(args.seed)
    settings = recipe_args(recipe, args, variant)
    planned = recipe.PRESET.build_phases((args.image_size, args.image_size, 2), **settings.options)
    shares = [args.pretrain_share, 1.0 - args.pretrain_share] if len(planned) == 2 else [1.0]
    training = {}
    for (name, model, _), share in zip(planned, shares):  # the phases' epochs give way to the time budget
        limit = zoo.callbacks.TimeLimit(args.minutes * 60 * share, clock="cpu")
        start = time.process_time()
        history = model.fit(pairs, epochs=10_000, callbacks=[limit], verbose=0)
        training[name] = {
            "epochs": len(history.epoch),
            "updates": int(model.g_optimizer.iterations),
            "train_cpu_seconds": round(time.process_time() - start, 1),
            "final": {k: float(v[-1]) for k, v in history.history.items()},
        }
    generator = planned[-1].model.generator
    scores, lightness, predicted, truth = zoo.metrics.colourisation_scores(generator, test_rgb)
    return {"training": training, "scores": scores, "parameters": int(generator.count_params())}, lightness, predicted, truth


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    _shared.limit_threads(args.threads)
    _shared.read_results(args.output, BENCHMARK)
    started = time.perf_counter()
    recipe = load_recipe()
    train = zoo.data.embedded_photos(
        "train", image_size=args.image_size, num_crops=args.num_crops, batch_size=args.batch_size, seed=args.seed
    )
    test = zoo.data.embedded_photos(
        "test", image_size=args.image_size, num_crops=args.num_test, batch_size=args.num_test, shuffle=False,
        drop_remainder=False, seed=args.seed + 1,
    )
    test_rgb = next(iter(test)).numpy()
    if args.random_hue:
        angles = tf.random.Generator.from_seed(args.seed + 2)
        train = train.map(
            lambda images: zoo.data.rotate_hue(images, angles.uniform((tf.shape(images)[0],), 0.0, 2 * np.pi)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        test_angles = np.random.default_rng(args.seed + 3).uniform(0.0, 2 * np.pi, len(test_rgb))
        test_rgb = zoo.data.rotate_hue(test_rgb, test_angles).numpy()
    pairs = zoo.data.lab_pairs(train)

    lightness, ab = zoo.data.rgb_to_model_lab(test_rgb)
    grey = zoo.data.model_lab_to_rgb(lightness, np.zeros_like(ab)).numpy()
    truth = zoo.data.model_lab_to_rgb(lightness, ab).numpy()
    results = {"grey": {"scores": {
        "psnr": float(np.mean(zoo.metrics.psnr(grey, truth))),
        "ssim": float(np.mean(zoo.metrics.ssim(grey, truth))),
        "colourfulness": float(np.mean(zoo.metrics.colourfulness(grey))),
        "truth_colourfulness": float(np.mean(zoo.metrics.colourfulness(truth))),
    }}}
    columns = [np.repeat(lightness.numpy()[:8], 3, axis=-1)]
    for variant in args.variants:
        entry, _, predicted, _ = run_variant(recipe, args, variant, pairs, test_rgb)
        results[variant] = entry
        columns.append(predicted[:8])
        print(f"{variant}: " + ", ".join(f"{k} {v:.3f}" for k, v in entry["scores"].items() if k != "num_test"),
              flush=True)
    columns.append(truth[:8])
    figure = args.output.parent / f"{args.output.stem}_grid.png"
    zoo.plotting.save_grid(
        np.stack(columns, axis=1).reshape((-1, *truth.shape[1:])), figure, num_rows=8,
        title="grey | " + " | ".join(args.variants) + " | truth",
    )
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/colourisation.py " + shlex.join(argv),
        "machine": _shared.machine_info(),
        "load_average": list(os.getloadavg()),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "num_train_crops": args.num_crops,
        "num_test": int(len(test_rgb)),
        "variants": results,
        "figure": str(figure),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    _shared.append_record(args.output, record, BENCHMARK)
    return record


if __name__ == "__main__":
    main()
