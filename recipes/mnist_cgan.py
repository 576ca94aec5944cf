"""Conditional GAN on MNIST: the lecture figure, a 10x10 grid with one digit per row.

    python recipes/mnist_cgan.py --epochs 20                                   # MNIST 60k through tfds
    python recipes/mnist_cgan.py --data ../shared/data/mnist --minutes 10 --evaluate
    python recipes/mnist_cgan.py --smoke                                       # seconds on a CPU

`--conditioning` picks the preset: projection (cgan), concat (cgan_concat) or auxiliary (acgan).
Writes RUN_DIR/cgan_grid.png (row k: ten samples of digit k) and per-epoch grids, and exports the
generator (its signatures take labels) to BASE_PATH/mnist_cgan/<version>. With --evaluate (IDX
files: the first 8,000 train, the last 2,000 are held out) a judge trained on the training digits
gives the accuracy per requested label and classifier-feature FID, beside the real-digit floor.
"""

import argparse
import os

import numpy as np

import zoo


# One preset per way the label enters the discriminator.
PRESETS = {"projection": "cgan", "concat": "cgan_concat", "auxiliary": "acgan"}
SMOKE = {"epochs": 1, "batch_size": 16, "base_filters": 8, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST 60k/10k) or a folder of MNIST IDX files")
    parser.add_argument("--conditioning", default="projection", choices=tuple(PRESETS))
    parser.add_argument("--evaluate", action="store_true", help="score samples with a domain classifier")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "mnist_cgan"))
    args, _ = parser.parse_known_args(argv)
    return zoo.presets.parse_arguments(parser, argv, zoo.presets.get(PRESETS[args.conditioning]), smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    source = "digits" if args.smoke else "mnist" if args.data == "tfds" else args.data
    train, test_images, test_labels = zoo.data.train_and_test(
        source, args.batch_size, args.seed, with_labels=True, image_size=28 if args.smoke else None,
        limit=96 if args.smoke else None,
    )
    preset = zoo.presets.get(PRESETS[args.conditioning])
    gan = preset.build(zoo.data.image_shape(train), num_classes=10, **args.options)
    history = zoo.training.train(gan, train, epochs=args.epochs, run_dir=args.run_dir, verbose=2,
                                 steps_per_epoch=args.steps_per_epoch, minutes=args.minutes, num_samples=100)
    grid_path = os.path.join(args.run_dir, "cgan_grid.png")
    z = np.random.default_rng(args.seed).standard_normal((100, gan.latent_dim)).astype("float32")
    zoo.plotting.save_grid(gan.generate(z, labels=np.repeat(np.arange(10), 10)), grid_path, num_rows=10)
    result = {"history": history.history, "grid": grid_path, "run_dir": args.run_dir}
    if args.minutes:
        result["train_seconds"] = history.train_seconds
    if args.evaluate:
        train_images, train_labels = zoo.data.dataset_arrays(train.take(200) if args.smoke else train)
        result["evaluation"] = zoo.metrics.judged_scores(
            gan, train_images, train_labels, test_images, test_labels, metrics=("fid", "accuracy"),
            epochs=1 if args.smoke else 10, seed=args.seed, save_path=os.path.join(args.run_dir, "domain_classifier.keras"),
        )
        print("evaluation:", {k: round(float(v), 4) if np.isscalar(v) else v for k, v in result["evaluation"].items()})
    result["export"] = zoo.export.export_generator(gan, "mnist_cgan", base_path=args.base_path)
    print(f"grid: {grid_path}\nexport: {result['export']}")
    return result


if __name__ == "__main__":
    main()
