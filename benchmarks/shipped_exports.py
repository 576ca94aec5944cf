"""The pretrained exports shipped in saved_models/: the commands that make them, and their scores.

Run from the repository root (or `python3 dev.py shipped`, which runs the first line):

    PYTHONPATH=. .venv/bin/python benchmarks/shipped_exports.py --make --force   # train + export + score
    PYTHONPATH=. .venv/bin/python benchmarks/shipped_exports.py                   # score what is there

`--make` runs, one after the other and each in a fresh run directory under
runs/shipped/, the exact commands of zoo's pretrained presets (`zoo.pretrained.PRETRAINED`,
read into `SHIPPED`: `zoo train ... --pretrained` and the
colourisation recipe, as a user would type them, on data that ships with
scikit-learn and scikit-image), which export into saved_models/<name>/1; then
`zoo serve-config --root /models` writes saved_models/models.config. It
refuses to replace an existing export without `--force`. Each training command
runs with one TensorFlow thread (TF_NUM_INTRAOP_THREADS=1), float32.

Protocol of the scores (every figure is computed from the export itself,
loaded with `tf.saved_model.load`):
    digits    scikit-learn's 1,797 8x8 digits at 32x32 (`zoo.data.load("digits")`),
              split by a seeded permutation: 897 train the judge
              (`zoo.metrics.train_domain_classifier`, 30 epochs), 450 are the
              floor set, 450 the reference set. The generators trained on all
              1,797 digits, so the reference set is not held out from them.
    fid       Frechet distance in the judge's feature space between 450
              samples (seeded noise) and the reference set; `fid_floor` is the
              floor set against the reference set (equal sizes, so the same
              small-sample bias).
    coverage  the judge's labels of the samples: the share of each digit,
              `classes_covered` (digits with at least a quarter of the uniform
              share, 2.5 %) and `min_class_share`.
    cgan      45 samples per requested label: `accuracy` of the judge on the
              requested labels (and the worst label's), beside the judge's own
              accuracy on the reference set.
    pix2pix   the edges -> photo translator on the edge maps of 512 held-out 64x64 crops of
              chelsea (`zoo.data.edge_photos("test", seed=1)`): mean L1, PSNR and SSIM
              against the photos, beside those of the edge maps themselves.
    colour    the colouriser on 512 held-out 64x64 crops of chelsea (the recipe's
              test crops: `zoo.data.embedded_photos("test", seed=1)`), joined to the
              input's L: PSNR and SSIM against the photo after the same Lab round
              trip, colourfulness (Hasler & Suesstrunk 2003) beside the truth's,
              and the grey input's row.
    pretrained the `model.keras` beside each export (`zoo.pretrained.load_with_metadata`): its
              size, class, SHA-256 against its metadata, and the largest difference between
              its outputs and the export's on the same inputs.
Results are appended to benchmarks/results/shipped_exports.json, with one sample
grid per export (benchmarks/results/shipped_exports_<name>.png).
"""

import argparse
import datetime
import os
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCHMARK = "shipped_exports"
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
SAVED_MODELS = ROOT / "saved_models"
RUNS = Path("runs") / "shipped"
MAX_BYTES = 5 * 1024 * 1024

# name -> what it is, the exact command (run from the repository root), how to score it:
# read from zoo's registry of pretrained presets (zoo/pretrained.py), which owns them.
sys.path.insert(0, str(ROOT))
from zoo import presets, pretrained  # noqa: E402  (neither imports TensorFlow)

KINDS = {"noise": "generator", "codes": "generator", "noise_and_labels": "conditional", "translation": "translator"}
SHIPPED = {
    name: {"what": entry.description, "command": list(entry.command),
           "kind": "colouriser" if entry.preset == "colourisation" else KINDS[presets.get(entry.preset).serves]}
    for name, entry in pretrained.PRETRAINED.items()
}

NUM_SAMPLES = 450
NUM_TEST = 512
JUDGE, FLOOR = 897, 450  # the rest (450) is the reference set


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make", action="store_true", help="run the training/export commands first")
    parser.add_argument("--force", action="store_true", help="with --make: replace existing exports")
    parser.add_argument("--only", nargs="+", choices=sorted(SHIPPED), help="these exports only (default all)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads (default 1)")
    parser.add_argument("--judge-epochs", type=int, default=30, help="epochs of the digit judge (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke check: a 5-epoch judge, 50 samples, 32 crops")
    parser.add_argument("--output", default=None, help=f"results file (default benchmarks/results/{BENCHMARK}.json)")
    args = parser.parse_args(argv)
    args.num_samples, args.num_test = NUM_SAMPLES, NUM_TEST
    if args.quick:
        args.judge_epochs, args.num_samples, args.num_test = 5, 50, 32
    if args.output is None:
        args.output = str(RESULTS_DIR / f"{BENCHMARK}{'_quick' if args.quick else ''}.json")
    if args.force and not args.make:
        parser.error("--force needs --make")
    if args.threads < 1:
        parser.error(f"--threads must be a positive int, got {args.threads}")
    return args


def export_path(name):
    return SAVED_MODELS / name / "1"


def directory_bytes(path):
    """Apparent size of a folder, as `du -sb` counts it (files and folders)."""
    path = Path(path)
    return path.lstat().st_size + sum(p.lstat().st_size for p in path.rglob("*"))


def shell_line(command):
    return " ".join(shlex.quote(part) for part in command)


def thread_env(threads):
    return {
        **os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT),
        "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
    }


def runnable(command):
    """The command with `zoo`/`python` resolved to this interpreter's environment."""
    bin_dir = Path(sys.executable).parent
    head = {"zoo": str(bin_dir / "zoo"), "python": sys.executable}.get(command[0], command[0])
    return [head, *command[1:]]


def make(names, force, threads):
    """Runs each export's command in a fresh run directory; returns {name: timing}."""
    for name in names:
        if (SAVED_MODELS / name).exists() and not force:
            raise SystemExit(f"saved_models/{name} exists; pass --force to replace it")
    timings = {}
    for name in names:
        spec = SHIPPED[name]
        shutil.rmtree(SAVED_MODELS / name, ignore_errors=True)
        shutil.rmtree(ROOT / RUNS / name, ignore_errors=True)
        print(f"+ {shell_line(spec['command'])}", flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(runnable(spec["command"]), check=True, cwd=ROOT, env=thread_env(threads))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timings[name] = {
            "wall_seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
        print(f"  {name}: {timings[name]}", flush=True)
    config = ["zoo", "serve-config", "--root", "/models"]
    print(f"+ {shell_line(config)}", flush=True)
    subprocess.run(runnable(config), check=True, cwd=ROOT, env=thread_env(threads))
    return timings


def digit_sets(seed):
    """(judge images, judge labels, floor images, reference images, reference labels)."""
    import numpy as np

    import zoo

    everything = zoo.data.load("digits", batch_size=4096, shuffle=False, with_labels=True, drop_remainder=False)
    images, labels = zoo.data.dataset_arrays(everything)
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    judge, floor = slice(0, JUDGE), slice(JUDGE, JUDGE + FLOOR)
    reference = slice(JUDGE + FLOOR, None)
    return images[judge], labels[judge], images[floor], images[reference], labels[reference]


def class_coverage(probabilities, num_classes=10):
    import numpy as np

    shares = np.bincount(np.argmax(probabilities, axis=1), minlength=num_classes) / len(probabilities)
    return {
        "class_shares": [round(float(s), 4) for s in shares],
        "classes_covered": int(np.sum(shares >= 0.25 / num_classes)),
        "min_class_share": float(shares.min()),
    }


def figure_path(output, name):
    """The sample grid beside the results file: <output stem>_<name>.png."""
    output = Path(output)
    return output.parent / f"{output.stem}_{name}.png"


def score_digits(name, kind, judge, floor_features, seed, num_samples, output):
    """FID against the reference digits, class coverage, and for the cGAN accuracy per label."""
    import numpy as np

    import zoo
    from zoo.metrics import loading

    extractor, reference_features = judge
    generator = loading.ExportedGenerator(str(export_path(name)))
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((num_samples, generator.latent_dim)).astype("float32")
    labels = None
    if kind == "conditional":
        labels = np.repeat(np.arange(10), num_samples // 10).astype("int32")
    images = generator.generate(z, labels=labels)
    features, probabilities = extractor.features_and_probabilities(images)
    scores = {
        "num_samples": len(images),
        "image_shape": list(images.shape[1:]),
        "pixel_range": [float(images.min()), float(images.max())],
        "fid": float(zoo.metrics.frechet_distance(features, reference_features)),
        **class_coverage(probabilities),
    }
    scores["fid_floor"] = float(zoo.metrics.frechet_distance(floor_features, reference_features))
    scores["fid_over_floor"] = scores["fid"] / scores["fid_floor"]
    if labels is not None:
        predicted = np.argmax(probabilities, axis=1)
        per_label = [float(np.mean(predicted[labels == k] == k)) for k in range(10)]
        scores.update(accuracy=float(np.mean(predicted == labels)), per_label_accuracy=per_label,
                      worst_label_accuracy=min(per_label), worst_label=int(np.argmin(per_label)))
        grid = images.reshape(10, num_samples // 10, *images.shape[1:])[:, :10].reshape(-1, *images.shape[1:])
        zoo.plotting.save_grid(grid, figure_path(output, name), num_rows=10)
    else:
        zoo.plotting.save_grid(images[:100], figure_path(output, name), num_rows=10)
    return scores


def score_colouriser(name, seed, num_test, output):
    """PSNR, SSIM, colourfulness of the export's colourings of held-out chelsea crops."""
    import numpy as np
    import tensorflow as tf

    import zoo

    test = zoo.data.embedded_photos(
        "test", num_crops=num_test, seed=seed + 1, batch_size=num_test, shuffle=False, drop_remainder=False,
        image_size=64, limit=num_test,
    )
    photos = next(iter(test)).numpy()
    lightness, ab = zoo.data.rgb_to_model_lab(photos)
    truth = zoo.data.model_lab_to_rgb(lightness, ab).numpy()
    grey = zoo.data.model_lab_to_rgb(lightness, tf.zeros_like(ab)).numpy()  # the input: ab = 0
    serve = tf.saved_model.load(str(export_path(name))).signatures["serving_default"]
    coloured = np.concatenate(
        [serve(images=tf.constant(photos[i : i + 64]))["images"].numpy() for i in range(0, len(photos), 64)]
    )

    def scores(images):
        return {
            "psnr": float(np.mean(zoo.metrics.psnr(images, truth))),
            "ssim": float(np.mean(zoo.metrics.ssim(images, truth))),
            "colourfulness": float(np.mean(zoo.metrics.colourfulness(images))),
        }

    columns = np.stack([grey[:8], coloured[:8], truth[:8]], axis=1).reshape(-1, *photos.shape[1:])
    zoo.plotting.save_grid(columns, figure_path(output, name), num_rows=8,
                           title="grey | colourised | truth")
    return {
        "num_test": len(photos),
        "image_shape": list(coloured.shape[1:]),
        "pixel_range": [float(coloured.min()), float(coloured.max())],
        **scores(coloured),
        "grey": scores(grey),
        "truth_colourfulness": float(np.mean(zoo.metrics.colourfulness(truth))),
    }


def held_out_edges(seed, num_test):
    """Held-out (edge maps, photos) in [-1, 1]: 64x64 crops of chelsea, which no training crop sees."""
    import zoo

    photos, edges = zoo.data.edge_photos("test", num_test, image_size=64, seed=seed + 1)
    return edges / 127.5 - 1.0, photos / 127.5 - 1.0


def score_translator(name, seed, num_test, output):
    """L1, PSNR, SSIM of the export's photos from held-out edge maps, and of the edge maps themselves."""
    import numpy as np
    import tensorflow as tf

    import zoo

    edges, photos = held_out_edges(seed, num_test)
    serve = tf.saved_model.load(str(export_path(name))).signatures["serving_default"]
    made = np.concatenate([serve(images=tf.constant(edges[i : i + 64], tf.float32))["images"].numpy()
                           for i in range(0, len(edges), 64)])
    columns = np.stack([edges[:8], made[:8], photos[:8]], axis=1).reshape(-1, *photos.shape[1:])
    zoo.plotting.save_grid(columns, figure_path(output, name), num_rows=8, title="edges | pix2pix | photo")
    return {"num_test": len(photos), "image_shape": list(made.shape[1:]),
            "pixel_range": [float(made.min()), float(made.max())], **zoo.metrics.translation_scores(made, photos),
            "edges": zoo.metrics.translation_scores(edges, photos)}


def check_pretrained(name, kind, seed):
    """The pretrained preset beside the export: its size, and how far its outputs are from the export's."""
    import numpy as np
    import tensorflow as tf

    import zoo
    from zoo.metrics import loading

    folder = SAVED_MODELS / name
    if not (folder / pretrained.MODEL_FILE).is_file():
        return {"missing": True}
    model, metadata = pretrained.load_with_metadata(str(folder))
    rng = np.random.default_rng(seed)
    if kind == "colouriser":
        photos = rng.uniform(-1, 1, (4, 64, 64, 3)).astype("float32")
        served = tf.saved_model.load(str(export_path(name))).signatures["serving_default"](images=tf.constant(photos))
        lightness, _ = zoo.data.rgb_to_model_lab(photos)
        ab = model.generator.predict(lightness.numpy(), verbose=0)
        ours, theirs = zoo.data.model_lab_to_rgb(lightness, ab).numpy(), served["images"].numpy()
    elif kind == "translator":
        edges = held_out_edges(seed, 4)[0].astype("float32")
        served = tf.saved_model.load(str(export_path(name))).signatures["serving_default"](images=tf.constant(edges))
        ours, theirs = model.generator.predict(edges, verbose=0), served["images"].numpy()
    else:
        exported = loading.ExportedGenerator(str(export_path(name)))
        z = rng.standard_normal((16, exported.latent_dim)).astype("float32")
        labels = np.arange(16, dtype="int32") % 10 if kind == "conditional" else None
        theirs = exported.generate(z, labels=labels)
        if labels is not None:
            ours = model.generate(z, labels=labels)
        else:  # a StyleGAN export serves its fixed noise
            ours = model.generate(z, noise_mode="const") if isinstance(model, zoo.models.StyleGAN) else model.generate(z)
    return {
        "bytes": (folder / pretrained.MODEL_FILE).stat().st_size,
        "class": type(model).__name__,
        "sha256_matches": metadata.get("sha256") == pretrained.file_sha256(folder / pretrained.MODEL_FILE),
        "max_abs_difference_from_export": float(np.max(np.abs(ours - theirs))),
    }


def figures(scores):
    """A README cell: the export's headline figures."""
    if "edges" in scores:
        edges = scores["edges"]
        return (f"L1 {scores['l1']:.3f}, PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f} against the held-out "
                f"photos (the edge maps themselves: L1 {edges['l1']:.3f}, PSNR {edges['psnr']:.2f} dB, "
                f"SSIM {edges['ssim']:.3f})")
    if "psnr" in scores:
        grey = scores["grey"]
        return (f"PSNR {scores['psnr']:.2f} dB (grey input {grey['psnr']:.2f}), SSIM {scores['ssim']:.3f}, "
                f"colourfulness {scores['colourfulness']:.1f} (photos {scores['truth_colourfulness']:.1f})")
    text = (f"FID {scores['fid']:.2f} (floor {scores['fid_floor']:.2f}, {scores['fid_over_floor']:.1f}x), "
            f"classes {scores['classes_covered']}/10 (min share {scores['min_class_share']:.1%})")
    if "accuracy" in scores:
        text += (f", judge accuracy on the requested labels {scores['accuracy']:.1%} "
                 f"(worst label {scores['worst_label']}: {scores['worst_label_accuracy']:.1%})")
    return text


def readme_table(record):
    """saved_models/README.md's table of the shipped exports, from a results record."""
    lines = ["| name | what | bytes | figures | command (from the repository root) |", "|---|---|---|---|---|"]
    for name, entry in record["exports"].items():
        if entry.get("missing"):
            continue
        lines.append(f"| `{name}` | {entry['what']} | {entry['bytes']:,} | {figures(entry['scores'])} | "
                     f"`{entry['command']}` |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    names = args.only or list(SHIPPED)
    timings = make(names, args.force, args.threads) if args.make else {}

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _shared  # noqa: E402

    try:
        _shared.limit_threads(args.threads)
    except RuntimeError:  # TensorFlow already running in this process (tests): keep its threads
        pass
    import keras

    import zoo

    keras.utils.set_random_seed(args.seed)
    record = {
        "benchmark": BENCHMARK,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/shipped_exports.py " + shell_line(argv or sys.argv[1:]),
        "machine": _shared.machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "protocol": {
            "num_samples": args.num_samples, "num_test": args.num_test, "quick": args.quick, "judge_images": JUDGE,
            "floor_images": FLOOR, "judge_epochs": args.judge_epochs, "seed": args.seed,
        },
        "exports": {},
    }
    judge = None
    for name in names:
        spec = SHIPPED[name]
        path = export_path(name)
        entry = {"what": spec["what"], "command": shell_line(spec["command"])}
        if name in timings:
            entry["training"] = timings[name]
        if not (path / "saved_model.pb").is_file():
            entry["missing"] = True
            print(f"{name}: no export at {path}; skipped", flush=True)
            record["exports"][name] = entry
            continue
        entry["bytes"] = directory_bytes(path)
        if spec["kind"] == "colouriser":
            entry["scores"] = score_colouriser(name, args.seed, args.num_test, args.output)
        elif spec["kind"] == "translator":
            entry["scores"] = score_translator(name, args.seed, args.num_test, args.output)
        else:
            if judge is None:
                start = time.process_time()
                judge_images, judge_labels, floor_images, reference_images, reference_labels = digit_sets(args.seed)
                classifier = zoo.metrics.train_domain_classifier(
                    judge_images, judge_labels, num_classes=10, epochs=args.judge_epochs, seed=args.seed
                )
                extractor = zoo.metrics.ClassifierExtractor(classifier)
                reference_features, reference_probabilities = extractor.features_and_probabilities(reference_images)
                judge = (extractor, reference_features)
                floor_features = extractor.features(floor_images)
                record["judge"] = {
                    "reference_accuracy": float((reference_probabilities.argmax(1) == reference_labels).mean()),
                    "cpu_seconds": round(time.process_time() - start, 1),
                }
                print(f"judge: {record['judge']}", flush=True)
            entry["scores"] = score_digits(
                name, spec["kind"], judge, floor_features, args.seed, args.num_samples, args.output
            )
        entry["pretrained"] = check_pretrained(name, spec["kind"], args.seed)
        entry["under_5_mb"] = entry["bytes"] < MAX_BYTES and entry["pretrained"].get("bytes", 0) < MAX_BYTES
        record["exports"][name] = entry
        summary = {k: v for k, v in entry["scores"].items() if not isinstance(v, (list, dict))}
        print(f"{name}: {entry['bytes'] / 1e6:.2f} MB {summary}", flush=True)
    record["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    _shared.append_record(Path(args.output), record, BENCHMARK)
    print(f"appended to {args.output}; saved_models/README.md table:\n{readme_table(record)}")
    return record


if __name__ == "__main__":
    main()
