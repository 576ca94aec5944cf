"""WGAN-GP on Fashion-MNIST: a layer-norm DCGAN critic kept 1-Lipschitz by a gradient penalty.

    python recipes/fashion_mnist_wgan_gp.py --epochs 25                # Fashion-MNIST 60k through tfds
    python recipes/fashion_mnist_wgan_gp.py --data ../shared/data/mnist --minutes 10 --evaluate
    python recipes/fashion_mnist_wgan_gp.py --smoke                    # seconds on a CPU, embedded digits

The `wgan_gp` preset (latent 128, Adam(1e-4, 0, 0.9), lambda 10, 5 critic updates per generator
update, each on its own batch of 64 real images as in the paper's Algorithm 1, so a step takes 320;
EMA generator). Writes RUN_DIR/wgan_gp_grid.png (100 samples), per-epoch grids,
`diag_*` diagnostics in history.csv, and exports to BASE_PATH/fashion_mnist_wgan_gp/<version>. With
--evaluate (IDX files: the first 8,000 train, the last 2,000 are held out): classifier-feature FID
against the held-out images, beside the floor of real training images.
"""

import argparse
import os

import numpy as np

import zoo
from zoo import presets

PRESET = presets.get("wgan_gp")
SMOKE = {"epochs": 1, "batch_size": 16, "base_filters": 8, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (Fashion-MNIST 60k/10k) or a folder of IDX files")
    parser.add_argument("--evaluate", action="store_true", help="classifier-feature FID against held-out images")
    presets.add_recipe_arguments(parser, os.path.join("runs", "fashion_mnist_wgan_gp"), data_dir=True)
    return presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    source = "digits" if args.smoke else "fashion_mnist" if args.data == "tfds" else args.data
    # A step takes a critic batch (--batch-size, the paper's m = 64) for each of its d_steps critic updates.
    train, test_images, _ = zoo.data.train_and_test(
        source, presets.images_per_step(args.batch_size, args.options), args.seed, with_labels=True,
        image_size=28 if args.smoke else None,
        limit=96 if args.smoke else None, data_dir=args.data_dir,
    )
    gan = PRESET.build(zoo.data.image_shape(train), **args.options)  # labels in the batches are ignored
    history = zoo.training.train(gan, train, epochs=args.epochs, run_dir=args.run_dir, verbose=2,
                                 steps_per_epoch=args.steps_per_epoch, minutes=args.minutes, num_samples=100,
                                 diagnostics=True)
    grid_path = os.path.join(args.run_dir, "wgan_gp_grid.png")
    z = np.random.default_rng(args.seed).standard_normal((100, gan.latent_dim)).astype("float32")
    zoo.plotting.save_grid(gan.generate(z), grid_path, num_rows=10)
    result = {"history": history.history, "grid": grid_path, "run_dir": args.run_dir}
    if args.minutes:
        result["train_seconds"] = history.train_seconds
    if args.evaluate:
        train_images, train_labels = zoo.data.dataset_arrays(train.take(200) if args.smoke else train)
        result["evaluation"] = zoo.metrics.judged_scores(
            gan, train_images, train_labels, test_images, epochs=1 if args.smoke else 10, seed=args.seed,
            save_path=os.path.join(args.run_dir, "domain_classifier.keras"),
        )
        print("evaluation:", {k: round(float(v), 4) for k, v in result["evaluation"].items()})
    result["export"] = zoo.export.export_generator(gan, "fashion_mnist_wgan_gp", base_path=args.base_path)
    print(f"grid: {grid_path}\nexport: {result['export']}")
    return result


if __name__ == "__main__":
    main()
