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


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST 60k/10k) or a folder of MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--base-filters", type=int, default=64)
    parser.add_argument("--conditioning", default="projection", choices=zoo.nets.conditioning.CONDITIONINGS)
    parser.add_argument("--loss", default="non_saturating")
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--beta-1", type=float, default=0.5)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--evaluate", action="store_true", help="score samples with a domain classifier")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "mnist_cgan"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded digits")
    return parser.parse_args(argv)


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
    if args.smoke:
        args.epochs, args.batch_size, args.base_filters, args.steps_per_epoch = 1, 16, 8, 2

    train, test_images, test_labels = load_data(args)
    image_shape = zoo.data.image_shape(train)
    num_classes = 10

    generator = zoo.nets.dcgan_generator(args.latent_dim, image_shape, args.base_filters, num_classes=num_classes)
    discriminator = zoo.nets.dcgan_discriminator(
        image_shape, args.base_filters, num_classes=num_classes, conditioning=args.conditioning
    )
    gan = zoo.models.ConditionalGAN(generator, discriminator, num_classes=num_classes, loss=args.loss, seed=args.seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=args.beta_1),
        g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=args.beta_1),
    )
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
