"""StyleGAN2 on 32x32 MNIST in a CPU-minute budget: FID over time, PPL and separability in W and Z, projection.

Run from the repository root (needs the MNIST test split as IDX files, by default
../shared/data/mnist or $ZOO_SHARED_DATA/mnist; without them the script says so and exits):

    PYTHONPATH=. .venv/bin/python benchmarks/stylegan2_mnist.py --threads 1 --minutes 15
    PYTHONPATH=. .venv/bin/python benchmarks/stylegan2_mnist.py --quick        # smoke check

Protocol (issue 7):
    data        the project's MNIST split: the first 8,000 images of the MNIST test set
                train, the last 2,000 are held out; 28x28 padded with background to 32x32,
                1 channel, in [-1, 1].
    model       `zoo.models.StyleGAN` in its StyleGAN2 configuration (modulated synthesis
                with skip outputs, residual discriminator, style mixing 0.9, lazy R1 every
                16 D steps, path length weight 2 every 4 G steps, Adam 0.002 (0, 0.99),
                batch 32) on narrow nets so that it trains on this CPU: latent and w 64,
                a 2-layer mapping (stylegan2-ada's small-data mapping depth), at most
                --fmap-max feature maps (32: 4^2-16^2 32, 32^2 16). R1 gamma 1 and an EMA
                half-life of 2,000 images with ramp-up 0.05, as zoo's digit learning test
                (the paper's gamma 10 and 10k images are for 1024^2 faces).
    budget      --minutes CPU-minutes of training (`zoo.callbacks.TimeLimit(clock="cpu")`,
                tracing included), cut in --slices equal slices; --threads 1 keeps the
                figure comparable on a shared machine. Scoring is not counted.
    judge       a domain classifier (`zoo.metrics.train_domain_classifier`) trained on the
                8,000 training digits with their labels; its held-out accuracy is reported.
    scores      FID       in the judge's features, --num-fid EMA samples against the held-out
                          2,000, at the start and after every slice; floor: real training
                          digits 1-2,000 against the held-out 2,000.
                PPL       `zoo.metrics.perceptual_path_length` of the trained EMA nets in W
                          and in Z, sampling "end", epsilon 1e-4, --ppl-samples pairs, the
                          judge's normalised features (`ppl_features_classifier`). The
                          paper's finding: PPL_W < PPL_Z.
                separability  `zoo.metrics.separability_of` of the trained EMA nets in W and
                          in Z (Karras et al. 2019, sec. 4.2): --ls-samples codes, the
                          judge's ten digits as ten one-vs-rest attributes, the more
                          confident half kept per digit, a linear SVM per digit; the score
                          is 2 ** (summed conditional entropy in bits), 1 at best, 1024 at
                          worst. The paper's finding: separability in W < in Z.
                projection  `zoo.projection.project` of --num-project held-out digits (the
                          first of the last 2,000) into W and into W+ from w_avg, the pixel
                          MSE loss, --project-steps steps; mean SSIM (`zoo.metrics.ssim`) of
                          the reconstructions against their targets. Issue 7's target: W+
                          SSIM >= 0.8.
    output      a JSON record appended to benchmarks/results/stylegan2_mnist.json and, next
                to it, stylegan2_mnist_samples.png (EMA samples), _style_mix.png (coarse
                styles of the row images copied into the column images), _truncation.png
                (psi 1, 0.7, 0.5, 0, -0.5, -1) and _projection.png (targets, W, W+).
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

BENCHMARK = "stylegan2_mnist"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
NUM_CLASSES = 10
RESOLUTION = 32
SSIM_TARGET = 0.8
QUICK = {
    "minutes": 0.15, "slices": 2, "classifier_epochs": 1, "num_fid": 200, "ppl_samples": 64, "ls_samples": 200,
    "num_project": 4, "project_steps": 20, "fmap_max": 8, "latent_dim": 16, "batch_size": 8,
}


default_data_dir = _shared.mnist_dir


def arrays(data_dir, split):
    """Images padded with background (-1) from 28x28 to 32x32, and labels."""
    return _shared.mnist_arrays(data_dir, split, pad_to=RESOLUTION)


def build_model(args):
    mapping = zoo.nets.style_mapping(latent_dim=args.latent_dim, w_dim=args.latent_dim, num_layers=2)
    nets = {"channels": 1, "fmap_base": args.fmap_base, "fmap_max": args.fmap_max}
    synthesis = zoo.nets.stylegan2_synthesis(RESOLUTION, w_dim=args.latent_dim, **nets)
    discriminator = zoo.nets.stylegan2_discriminator(RESOLUTION, mbstd_group_size=4, **nets)
    model = zoo.models.StyleGAN(
        mapping, synthesis, discriminator, r1_gamma=args.r1_gamma,
        ema_half_life_images=args.ema_half_life_images, ema_rampup=0.05, seed=args.seed,
    )
    model.compile()
    return model


def train_slice(model, dataset, seconds):
    limit = zoo.callbacks.TimeLimit(seconds, clock="cpu")
    wall, load_before = time.perf_counter(), os.getloadavg()[0]
    steps_before = int(model.g_optimizer.iterations) if model.g_optimizer.built else 0
    history = model.fit(dataset, steps_per_epoch=20, epochs=1_000_000, callbacks=[limit], verbose=0, shuffle=False)
    steps = int(model.g_optimizer.iterations)
    return {
        "cpu_seconds": round(limit.elapsed, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "steps": steps - steps_before,
        "total_steps": steps,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "last_logs": {k: float(v[-1]) for k, v in history.history.items()},
    }


def fid_of(model, extractor, held_features, num, seed):
    z = np.random.default_rng(seed).standard_normal((num, model.latent_dim)).astype("float32")
    return zoo.metrics.frechet_distance(extractor.features(model.generate(z, batch_size=250)), held_features)


def project(model, targets, space, steps, seed):
    start = time.perf_counter()
    result = zoo.projection.project(model, targets, space=space, steps=steps, seed=seed)
    ssim = zoo.metrics.ssim(np.clip(result.images, -1, 1), targets)
    return result.images, {
        "mean_ssim": float(np.mean(ssim)), "median_ssim": float(np.median(ssim)),
        "min_ssim": float(np.min(ssim)), "fraction_ssim_at_least_0.8": float(np.mean(ssim >= SSIM_TARGET)),
        "mean_mse": float(np.mean((result.images - targets) ** 2)),
        "seconds": round(time.perf_counter() - start, 1),
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument("--minutes", type=float, default=15.0, help="CPU-minutes of training in all")
    parser.add_argument("--slices", type=int, default=4, help="FID after each of this many equal slices")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra/inter-op threads (0: default)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--latent-dim", type=int, default=64, help="z and w size")
    parser.add_argument("--fmap-base", type=int, default=256)
    parser.add_argument("--fmap-max", type=int, default=32)
    parser.add_argument("--r1-gamma", type=float, default=1.0)
    parser.add_argument("--ema-half-life-images", type=float, default=2000.0)
    parser.add_argument("--classifier-epochs", type=int, default=8)
    parser.add_argument("--num-fid", type=int, default=2000)
    parser.add_argument("--ppl-samples", type=int, default=2000)
    parser.add_argument("--ls-samples", type=int, default=10_000,
                        help="codes for linear separability (the paper: 200,000)")
    parser.add_argument("--num-project", type=int, default=64)
    parser.add_argument("--project-steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="seconds: tiny budget and nets, 500 digits, own output")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:  # quick sizes as defaults: explicit options still win
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    for name in ("slices", "batch_size", "latent_dim", "num_fid", "ppl_samples", "ls_samples", "num_project", "project_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int, got {getattr(args, name)}")
    if args.minutes <= 0:
        parser.error(f"--minutes must be > 0, got {args.minutes}")
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not (Path(args.data_dir) / "t10k-images-idx3-ubyte.gz").is_file() and not (
        Path(args.data_dir) / "t10k-images-idx3-ubyte"
    ).is_file():
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
    held_features = extractor.features(test_images)
    floor_images = train_images[: len(test_images)]
    judge_info = {
        "held_out_accuracy": float(np.mean(extractor.probabilities(test_images).argmax(-1) == test_labels)),
        "fid_floor": zoo.metrics.frechet_distance(extractor.features(floor_images), held_features),
        "trained_on": f"training digits 1-{len(train_images)}",
        "floor": f"training digits 1-{len(floor_images)} vs the held-out {len(test_images)}",
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"judge: held-out accuracy {judge_info['held_out_accuracy']:.4f}; "
          f"FID floor {judge_info['fid_floor']:.3f}; load {os.getloadavg()[0]:.2f}", flush=True)

    keras.utils.set_random_seed(args.seed)
    model = build_model(args)
    dataset = (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(len(train_images), seed=args.seed, reshuffle_each_iteration=True)
        .batch(args.batch_size, drop_remainder=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    fid_seed = args.seed + 1
    timeline = [{"cpu_minutes": 0.0, "total_steps": 0, "fid": fid_of(model, extractor, held_features, args.num_fid, fid_seed)}]
    print(f"start: FID {timeline[0]['fid']:.2f}", flush=True)
    cpu_spent = 0.0
    for index in range(args.slices):
        training = train_slice(model, dataset, args.minutes * 60 / args.slices)
        cpu_spent += training["cpu_seconds"]
        fid = fid_of(model, extractor, held_features, args.num_fid, fid_seed)
        timeline.append({"slice": index + 1, "cpu_minutes": round(cpu_spent / 60, 2), **training, "fid": fid,
                         "fid_over_floor": fid / judge_info["fid_floor"]})
        print(f"slice {index + 1}: {training['total_steps']} steps, {cpu_spent / 60:.1f} CPU-min, "
              f"{training['wall_seconds']:.0f} s wall; FID {fid:.2f} ({fid / judge_info['fid_floor']:.1f}x floor)",
              flush=True)

    features = zoo.metrics.ppl_features_classifier(extractor)
    ppl = {}
    for space in ("w", "z"):
        begin = time.perf_counter()
        ppl.update(zoo.metrics.perceptual_path_length(
            model.ema_mapping, model.ema_synthesis, features, space=space, num_samples=args.ppl_samples,
            sampling="end", seed=args.seed,
        ))
        ppl[f"seconds_{space}"] = round(time.perf_counter() - begin, 1)
    ppl["w_below_z"] = bool(ppl["ppl_w_end"] < ppl["ppl_z_end"])
    print(f"PPL (end, judge features): W {ppl['ppl_w_end']:.2f}, Z {ppl['ppl_z_end']:.2f}", flush=True)

    separability = {}
    for space in ("w", "z"):
        begin = time.perf_counter()
        scores, entropies = zoo.metrics.separability_of(
            model.ema_mapping, model.ema_synthesis, extractor, space=space, num_samples=args.ls_samples,
            seed=args.seed, return_entropies=True,
        )
        separability.update(scores)
        separability[f"entropies_{space}"] = [round(float(h), 4) for h in entropies]
        separability[f"seconds_{space}"] = round(time.perf_counter() - begin, 1)
    separability["w_below_z"] = bool(separability["ls_w"] < separability["ls_z"])
    print(f"linear separability (judge's digits, one vs rest): W {separability['ls_w']:.2f}, "
          f"Z {separability['ls_z']:.2f}", flush=True)

    targets = test_images[: args.num_project]
    projection, reconstructions = {}, {}
    for space in ("w", "w+"):
        reconstructions[space], projection[space] = project(model, targets, space, args.project_steps, args.seed)
        print(f"projection into {space.upper()}: mean SSIM {projection[space]['mean_ssim']:.3f} "
              f"({projection[space]['seconds']:.0f} s)", flush=True)
    projection["w+_meets_target"] = bool(projection["w+"]["mean_ssim"] >= SSIM_TARGET)

    prefix = args.output.parent / args.output.stem
    args.output.parent.mkdir(parents=True, exist_ok=True)
    z = np.random.default_rng(args.seed + 2).standard_normal((64, model.latent_dim)).astype("float32")
    figures = {
        "samples": zoo.plotting.save_grid(model.generate(z, noise_mode="const"), f"{prefix}_samples.png", num_rows=8),
        "style_mix": f"{prefix}_style_mix.png",
        "truncation": f"{prefix}_truncation.png",
    }
    keras.utils.save_img(figures["style_mix"], model.style_mix(z[:6], z[6:11], styles="coarse"), scale=False)
    keras.utils.save_img(figures["truncation"], model.truncation_sweep(z[:8]), scale=False)
    shown = min(16, len(targets))
    rows = np.concatenate([targets[:shown], reconstructions["w"][:shown], reconstructions["w+"][:shown]])
    figures["projection"] = zoo.plotting.save_grid(rows, f"{prefix}_projection.png", num_rows=3,
                                                   title="held-out targets / W / W+")
    figures = {name: str(path) for name, path in figures.items()}

    record = {
        "benchmark": BENCHMARK,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/stylegan2_mnist.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "machine": _shared.machine_info(),
        "settings": {
            "quick": args.quick, "minutes": args.minutes, "clock": "cpu", "slices": args.slices,
            "threads": args.threads, "batch_size": args.batch_size, "latent_dim": args.latent_dim,
            "w_dim": args.latent_dim, "mapping_layers": 2, "fmap_base": args.fmap_base, "fmap_max": args.fmap_max,
            "r1_gamma": args.r1_gamma, "ema_half_life_images": args.ema_half_life_images, "resolution": RESOLUTION,
            "train_images": len(train_images), "held_out_images": len(test_images),
            "classifier_epochs": args.classifier_epochs, "num_fid": args.num_fid, "ppl_samples": args.ppl_samples,
            "ls_samples": args.ls_samples, "num_project": args.num_project, "project_steps": args.project_steps, "projection_loss": "mse",
            "seed": args.seed, "parameters": {
                net.name: int(net.count_params()) for net in (model.mapping, model.synthesis, model.discriminator)
            },
        },
        "judge": judge_info,
        "fid_timeline": timeline,
        "fid_improved": bool(timeline[-1]["fid"] < timeline[0]["fid"]),
        "fid_falls_every_slice": bool(all(b["fid"] < a["fid"] for a, b in zip(timeline, timeline[1:]))),
        "ppl": ppl,
        "separability": separability,
        "projection": projection,
        "targets": {"ppl": "ppl_w_end < ppl_z_end", "separability": "ls_w < ls_z",
                    "projection_w+_mean_ssim": SSIM_TARGET},
        "figures": figures,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print(f"results appended to {args.output}; figures {prefix}_*.png", flush=True)
    return record


if __name__ == "__main__":
    main()
