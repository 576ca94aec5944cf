"""pix2pix on CMP Facades: architectural label maps -> photos (Isola et al. 2017).

Full scale (downloads facades.tar.gz, 400 training pairs, from the pix2pix
authors' server; the paper's settings: 256x256, batch 1, 200 epochs, U-Net-256,
70x70 PatchGAN, L1 weight 100, Adam 2e-4 beta_1 0.5):

    python recipes/pix2pix_facades.py

Any folder in the pix2pix format (train/ and test/ or val/ of side-by-side A|B
images) instead of the download:

    python recipes/pix2pix_facades.py --data datasets/facades --minutes 60

In facades the photo is on the left (A) and the label map on the right (B), so
labels -> photo is BtoA, as in the reference code
(`train.py --dataroot ./datasets/facades --model pix2pix --direction BtoA`).

Smoke run (CPU, seconds, offline): edges -> photo on 64x64 crops of
scikit-image's photos, written as side-by-side PNGs to RUN_DIR/smoke_data
(photo | edge map, like facades' photo | labels) and trained at 32x32:

    python recipes/pix2pix_facades.py --smoke

Writes per-epoch source | output | target grids to RUN_DIR/samples, resumes from
RUN_DIR/checkpoint, scores the held-out split (mean L1 and PSNR in [-1, 1] units,
SSIM) and writes its first rows to RUN_DIR/pix2pix_grid.png, exports the
generator to BASE_PATH/pix2pix_facades/<version>, and checks that the export
serves held-out images at twice the training size.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

import zoo
import zoo.data.paired  # a submodule: zoo.data imports its tf.data modules when first used

FACADES_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
PRESET = zoo.presets.get("pix2pix")  # the paper's nets, losses and settings
SMOKE = {"epochs": 1, "batch_size": 4, "image_size": 32, "base_filters": 4}
GRID_ROWS = 4


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder with train/ and test/ or val/ (default: download)")
    parser.add_argument("--held-out", default=None, choices=("test", "val"),
                        help="split to score (default: test, else val)")
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "pix2pix_facades"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU: edges -> photo, embedded photos")
    # facades holds photo | labels, so labels -> photo is BtoA, as in the reference code.
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, defaults={"direction": "BtoA"})


def write_smoke_pairs(directory, seed):
    """Side-by-side photo | edge map PNGs of scikit-image photo crops in directory/{train,test}."""
    for split, count in (("train", 16), ("test", 8)):
        photos = next(iter(zoo.data.embedded_photos(
            split, image_size=64, num_crops=count, batch_size=count, shuffle=False, seed=seed
        )))
        grey = tf.image.rgb_to_grayscale((photos + 1.0) / 2.0)
        magnitude = tf.norm(tf.image.sobel_edges(grey)[..., 0, :], axis=-1, keepdims=True)
        edges = tf.image.grayscale_to_rgb(1.0 - tf.clip_by_value(magnitude / 2.0, 0.0, 1.0)) * 2.0 - 1.0
        pairs = zoo.plotting.to_uint8(tf.concat([photos, edges], axis=2))
        os.makedirs(os.path.join(directory, split), exist_ok=True)
        for i, pair in enumerate(pairs):
            tf.io.write_file(os.path.join(directory, split, f"{i:03d}.png"), tf.io.encode_png(pair))
    return directory


def data_root(args):
    """The folder holding train/ and the held-out split."""
    if args.smoke:
        return write_smoke_pairs(os.path.join(args.run_dir, "smoke_data"), args.seed)
    if args.data:
        return args.data
    extracted = keras.utils.get_file("facades", origin=FACADES_URL, extract=True)
    return os.path.join(extracted, "facades") if os.path.isdir(os.path.join(extracted, "facades")) else extracted


def held_out_pairs(directory, args, image_size, limit=None):
    """All (sources, targets) of a split, resized without jitter, as numpy arrays."""
    ds = zoo.data.paired_folder(
        directory, direction=args.direction, image_size=image_size, jitter=False, batch_size=64,
        shuffle=False, drop_remainder=False, cache=False, limit=limit,
    )
    sources, targets = zip(*ds.as_numpy_iterator())
    return np.concatenate(sources), np.concatenate(targets)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    root = data_root(args)
    split = args.held_out or ("test" if os.path.isdir(os.path.join(root, "test")) else "val")
    train = zoo.data.paired_folder(
        os.path.join(root, "train"), direction=args.direction, image_size=args.image_size,
        batch_size=args.batch_size, seed=args.seed,
    )
    sources, targets = held_out_pairs(os.path.join(root, split), args, args.image_size)
    source_channels, target_channels = (int(spec.shape[-1]) for spec in train.element_spec)

    model = PRESET.build((args.image_size, args.image_size, target_channels), source_channels=source_channels,
                         **args.options)
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    grids = zoo.callbacks.TranslationGrid(
        os.path.join(args.run_dir, "samples"), sources[:GRID_ROWS], targets[:GRID_ROWS]
    )
    history = zoo.training.train(
        model, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=[grids, *budget], samples=False, verbose=2,
    )

    outputs = model.translate(sources)
    scores = {
        "split": split,
        "num_images": len(sources),
        "l1": float(np.mean(np.abs(outputs - targets))),
        "psnr": float(np.mean(tf.image.psnr(outputs, targets, max_val=2.0))),
        "ssim": float(np.mean(zoo.metrics.ssim(outputs, targets))),
    }
    print("evaluation:", {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()})
    grid_path = os.path.join(args.run_dir, "pix2pix_grid.png")
    rows = np.stack([sources[:GRID_ROWS], outputs[:GRID_ROWS], targets[:GRID_ROWS]], axis=1)
    zoo.plotting.save_grid(rows.reshape((-1, *rows.shape[2:])), grid_path, num_rows=len(rows))

    export_path = zoo.export.export_translator(
        model, "pix2pix_facades", base_path=args.base_path,
        metadata={
            "dataset": "smoke_edges2photos" if args.smoke else os.path.basename(os.path.normpath(root)),
            "pix2pix_direction": args.direction, "train_image_size": args.image_size,
        },
    )
    # The export is fully convolutional: serve held-out images at twice the training size.
    large, _ = held_out_pairs(os.path.join(root, split), args, 2 * args.image_size, limit=GRID_ROWS)
    served = tf.saved_model.load(export_path).signatures["serving_default"](images=tf.constant(large))["images"]
    print(f"grid: {grid_path}\nexport: {export_path} (serves {tuple(large.shape)} -> {tuple(served.shape)})")
    result = {
        "history": history.history, "grid": grid_path, "evaluation": scores, "export": export_path,
        "served_shape": tuple(served.shape), "run_dir": args.run_dir,
    }
    if budget:
        result["train_seconds"] = budget[0].elapsed
    return result


if __name__ == "__main__":
    main()
