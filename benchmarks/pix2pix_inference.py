"""pix2pix at test time: the paper's test mode against Keras' deterministic inference, one trained model (issue 25).

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/pix2pix_inference.py                # 10 CPU-minutes of training
    PYTHONPATH=. .venv/bin/python benchmarks/pix2pix_inference.py --quick        # smoke check

Protocol:
    data      the facades recipe's offline stand-in (`recipes/pix2pix_facades.py --smoke`):
              `zoo.data.edge_photos`, edge maps -> photos. `--num-train` random crops of four of
              scikit-image's colour photos train, with the paper's random jitter and mirroring;
              `--num-test` crops of a fifth photo (chelsea) are held out by image. No facades
              download offline.
    model     the `pix2pix` preset (U-Net down to 1x1 with dropout 0.5 on its first three decoder
              layers and batch norm, 70x70 PatchGAN, L1 weight 100, Adam 2e-4 beta_1 0.5) at
              `--image-size` with `--base-filters`, batch `--batch-size` (1, the paper's).
    budget    `--minutes` of the process's CPU time (`zoo.callbacks.TimeLimit(clock="cpu")`).
    modes     the one trained generator run four ways on the held-out edges:
              paper          dropout on and each image's own batch-norm statistics (the paper's test
                             mode; `Pix2Pix(inference="paper")`, the default), `--samples` draws;
              deterministic  Keras' inference, no dropout and the moving averages;
              and two halves of the paper mode, to tell the two changes apart:
              own_statistics each image's own statistics, no dropout;
              dropout_only   dropout on, the moving averages.
    scores    against the held-out photos, in [-1, 1]: mean L1, PSNR, SSIM (`zoo.metrics.
              translation_scores`); for the stochastic modes the mean and standard deviation over
              the draws, and the spread between draws (the per-pixel standard deviation over the
              draws and the mean L1 between two draws, in [-1, 1] units); also the scores of the
              mean of the paper draws. FID/KID are not computed: a few hundred 64x64 crops of one
              photo are far below the thousands of images FID needs to be more than noise, and the
              Inception weights are not available offline.
Results are appended to benchmarks/results/pix2pix_inference.json; the picture (per row: edges |
paper draw 1 | paper draw 2 | deterministic | photo) goes to results/pix2pix_inference_grid.png.
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

import zoo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _shared  # noqa: E402

BENCHMARK = "pix2pix_inference"
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
GRID_ROWS = 8


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU-minutes of training")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-train", type=int, default=1024, help="training crops")
    parser.add_argument("--num-test", type=int, default=256, help="held-out crops")
    parser.add_argument("--batch-size", type=int, default=1, help="1 in the paper")
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--samples", type=int, default=4, help="draws of each stochastic mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--note", default="", help="what else ran on the machine, recorded as given")
    parser.add_argument("--quick", action="store_true", help="seconds: tiny nets and data")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.image_size, args.num_train, args.num_test = 0.05, 32, 16, 8
        args.base_filters, args.samples = 4, 2
    if args.samples < 2:
        raise ValueError(f"--samples must be at least 2 (the spread needs two draws), got {args.samples}")
    if args.output is None:
        args.output = RESULTS_DIR / f"{BENCHMARK}{'_quick' if args.quick else ''}.json"
    return args


def half_paper_net(generator, keep):
    """The paper twin with only one of its two changes: "statistics" (no dropout) or "dropout" (moving averages)."""
    from zoo.layers import ImageStatisticsNormalization, NoiseDropout

    def swap(layer):
        if keep == "statistics" and isinstance(layer, keras.layers.BatchNormalization):
            return ImageStatisticsNormalization.sharing(layer)
        if keep == "dropout" and type(layer) is keras.layers.Dropout:
            return NoiseDropout(layer.rate, name=layer.name)
        return layer

    return keras.models.clone_model(generator, clone_function=swap)


def image_scores(outputs, targets):
    """Mean L1, PSNR, SSIM against the targets, and how washed out the outputs are: colourfulness, contrast."""
    return {**zoo.metrics.translation_scores(outputs, targets), **looks(outputs)}


def looks(images):
    """Colourfulness (Hasler & Suesstrunk 2003, 0-255 scale) and contrast (each image's pixel std, [-1, 1])."""
    return {"colourfulness": float(np.mean(zoo.metrics.colourfulness(images))),
            "contrast": float(np.mean(np.std(images, axis=(1, 2, 3))))}


def scores_of(draws, targets):
    """Scores of one deterministic output, or of several draws with their spread."""
    per_draw = [image_scores(d, targets) for d in draws]
    if len(draws) == 1:
        return per_draw[0]
    stacked = np.stack(draws)
    keys = ("l1", "psnr", "ssim", "colourfulness", "contrast")
    entry = {key: float(np.mean([s[key] for s in per_draw])) for key in keys}
    entry.update({f"{key}_std_over_draws": float(np.std([s[key] for s in per_draw])) for key in ("l1", "psnr", "ssim")})
    entry["pixel_std_between_draws"] = float(np.mean(np.std(stacked, axis=0)))
    entry["l1_between_two_draws"] = float(np.mean(np.abs(stacked[0] - stacked[1])))
    entry["num_draws"] = len(draws)
    entry["mean_of_draws"] = image_scores(stacked.mean(axis=0), targets)
    return entry


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    _shared.limit_threads(args.threads)
    _shared.read_results(args.output, BENCHMARK)
    started = time.perf_counter()
    load_at_start = list(os.getloadavg())
    keras.utils.set_random_seed(args.seed)

    photos, edges = zoo.data.edge_photos("train", args.num_train, image_size=args.image_size, seed=args.seed)
    train = zoo.data.paired_arrays(edges, photos, batch_size=args.batch_size, seed=args.seed)
    test_photos, test_edges = (
        x.astype("float32") / 127.5 - 1.0
        for x in zoo.data.edge_photos("test", args.num_test, image_size=args.image_size, seed=args.seed + 1)
    )
    model = zoo.presets.get("pix2pix").build(
        (args.image_size, args.image_size, 3), source_channels=3, base_filters=args.base_filters, seed=args.seed
    )
    limit = zoo.callbacks.TimeLimit(args.minutes * 60, clock="cpu")
    cpu = time.process_time()
    history = model.fit(train, epochs=10_000, callbacks=[limit], verbose=0)
    training = {
        "epochs": len(history.epoch),
        "updates": int(model.g_optimizer.iterations),
        "train_cpu_seconds": round(time.process_time() - cpu, 1),
        "final": {k: float(v[-1]) for k, v in history.history.items()},
        "generator_parameters": int(model.generator.count_params()),
    }
    print(f"trained: {training['updates']} updates in {training['train_cpu_seconds']} CPU-s", flush=True)

    generator = model.generator
    moving = [np.array(v) for v in generator.non_trainable_variables]
    outputs = {
        "paper": [model.translate(test_edges, inference="paper") for _ in range(args.samples)],
        "deterministic": [model.translate(test_edges, inference="deterministic")],
        "own_statistics": [half_paper_net(generator, "statistics").predict(test_edges, verbose=0)],
    }
    dropout_only = half_paper_net(generator, "dropout")
    outputs["dropout_only"] = [dropout_only.predict(test_edges, verbose=0) for _ in range(args.samples)]
    untouched = all(np.array_equal(a, np.array(b)) for a, b in zip(moving, generator.non_trainable_variables))
    modes = {mode: scores_of(draws, test_photos) for mode, draws in outputs.items()}
    modes["edges_as_output"] = image_scores(test_edges, test_photos)  # the floor
    modes["photo"] = looks(test_photos)  # what the outputs' colourfulness and contrast should be
    modes["paper"]["l1_to_deterministic"] = float(np.mean(np.abs(outputs["paper"][0] - outputs["deterministic"][0])))
    for mode, entry in modes.items():
        print(f"{mode}: " + ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if isinstance(v, float)), flush=True)

    rows = slice(0, GRID_ROWS)
    figure = args.output.parent / f"{args.output.stem}_grid.png"
    zoo.plotting.save_rows(
        figure, test_edges[rows], outputs["paper"][0][rows], outputs["paper"][1][rows],
        outputs["deterministic"][0][rows], test_photos[rows],
        title="edges | paper | paper | determ. | photo",
    )
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/pix2pix_inference.py " + shlex.join(argv),
        "machine": _shared.machine_info(),
        "load_average": {"start": load_at_start, "end": list(os.getloadavg())},
        "note": args.note,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "num_test": int(len(test_photos)),
        "training": training,
        "moving_averages_untouched_by_inference": untouched,
        "modes": modes,
        "figure": str(figure),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    _shared.append_record(args.output, record, BENCHMARK)
    return record


if __name__ == "__main__":
    main()
