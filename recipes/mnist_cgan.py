"""Conditional GAN on MNIST: the lecture figure, a 10x10 grid with one digit per row.

Full scale (downloads MNIST through tfds; 60,000 training digits):

    python recipes/mnist_cgan.py --epochs 20

The benchmark protocol (the real MNIST test split as IDX files: first 8,000
to train, last 2,000 held out for evaluation), at most 10 minutes on a CPU:

    python recipes/mnist_cgan.py --data ../shared/data/mnist --minutes 10 --evaluate

Smoke run (CPU, seconds, scikit-learn's embedded 8x8 digits upscaled to 28x28):

    python recipes/mnist_cgan.py --smoke

Writes RUN_DIR/cgan_grid.png (row k: ten samples of digit k), per-epoch grids
in RUN_DIR/samples, resumes from RUN_DIR/checkpoint, and exports the generator
(signatures take labels) to BASE_PATH/mnist_cgan/<version>. With --evaluate a
domain classifier trained on the training digits scores the samples:
accuracy per requested label and classifier-feature FID against the held-out
digits (and the floor: real training digits against the same held-out set).
"""

import argparse
import os

import keras
import numpy as np

import zoo


# One preset per way the label enters the discriminator.
PRESETS = {"projection": "cgan", "concat": "cgan_concat", "auxiliary": "acgan"}
SMOKE = {"epochs": 1, "batch_size": 16, "base_filters": 8, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST 60k/10k) or a folder of MNIST IDX files")
    parser.add_argument("--conditioning", default="projection", choices=tuple(PRESETS),
                        help="projection (cgan), concat (cgan_concat) or auxiliary (acgan)")
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--evaluate", action="store_true", help="score samples with a domain classifier")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "mnist_cgan"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded digits")
    zoo.presets.add_arguments(parser, zoo.presets.get("cgan"))  # the three share their options
    args = parser.parse_args(argv)
    if args.smoke:  # smoke sizes as defaults: explicit options still win
        parser.set_defaults(**SMOKE)
        args = parser.parse_args(argv)
    args.preset = zoo.presets.get(PRESETS[args.conditioning])
    args.options = {**zoo.presets.from_arguments(args.preset, args), "seed": args.seed}
    args.hparams = args.preset.hparams(**args.options)
    args.batch_size, args.epochs = args.hparams["batch_size"], args.hparams["epochs"]
    return args


def load_data(args):
    """(training dataset, held-out images, held-out labels)."""
    common = {"batch_size": args.batch_size, "seed": args.seed, "with_labels": True}
    everything = {"batch_size": 100_000, "shuffle": False, "with_labels": True, "drop_remainder": False}
    if args.smoke:
        train = zoo.data.load("digits", image_size=28, limit=96, **common)
        held_out = zoo.data.load("digits", image_size=28, **everything)
    elif args.data == "tfds":
        train = zoo.data.load("mnist", **common)
        held_out = zoo.data.load("mnist", split="test", **everything)
    else:
        train = zoo.data.mnist_idx(args.data, "train", **common)
        held_out = zoo.data.mnist_idx(args.data, "test", **everything)
    test_images, test_labels = zoo.data.dataset_arrays(held_out)
    return train, test_images, test_labels


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)
    train, test_images, test_labels = load_data(args)
    num_classes = 10
    gan = args.preset.build(zoo.data.image_shape(train), num_classes=num_classes, **args.options)
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    history = zoo.training.train(
        gan, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=budget, num_samples=100, verbose=2,
    )

    grid_path = os.path.join(args.run_dir, "cgan_grid.png")
    z = np.random.default_rng(args.seed).standard_normal((100, gan.latent_dim)).astype("float32")
    zoo.plotting.save_grid(gan.generate(z, labels=np.repeat(np.arange(10), 10)), grid_path, num_rows=10)
    result = {"history": history.history, "grid": grid_path, "run_dir": args.run_dir}
    if budget:
        result["train_seconds"] = budget[0].elapsed

    if args.evaluate:
        train_images, train_labels = zoo.data.dataset_arrays(train.take(200) if args.smoke else train)
        # The floor's real digits are held out from the judge, like the test digits.
        floor_images = train_images[: min(len(test_images), len(train_images) // 2)]
        classifier = zoo.metrics.train_domain_classifier(
            train_images[len(floor_images):], train_labels[len(floor_images):], num_classes=num_classes,
            epochs=1 if args.smoke else 10, seed=args.seed,
            save_path=os.path.join(args.run_dir, "domain_classifier.keras"),
        )
        extractor = zoo.metrics.ClassifierExtractor(classifier)
        scores = zoo.metrics.evaluate_generator(
            gan, test_images, extractor, metrics=("fid", "accuracy"), reference_labels=test_labels, seed=args.seed
        )
        floor = zoo.metrics.frechet_distance(extractor.features(floor_images), extractor.features(test_images))
        scores["fid_floor"] = floor
        print("evaluation:", {k: round(float(v), 4) if np.isscalar(v) else v for k, v in scores.items()})
        result["evaluation"] = scores

    result["export"] = zoo.export.export_generator(gan, "mnist_cgan", base_path=args.base_path)
    print(f"grid: {grid_path}\nexport: {result['export']}")
    return result


if __name__ == "__main__":
    main()
