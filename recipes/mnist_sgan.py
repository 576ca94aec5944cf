"""Semi-supervised MNIST with 100 labels: the Improved-GAN feature-matching SGAN (Salimans et al. 2016).

    python recipes/mnist_sgan.py                                  # tfds MNIST: 60k unlabelled, 10k test
    python recipes/mnist_sgan.py --data ../shared/data/mnist      # IDX: first 8,000 / last 2,000
    python recipes/mnist_sgan.py --smoke                          # seconds, embedded 8x8 digits

The discriminator is a 10-class classifier trained on `--labels-per-class` labelled images per class
(chosen with `--seed`) and on every training image without its label (`zoo.data.semi_supervised_dataset`:
only the chosen labels enter training); the generator is trained by feature matching, and every
batch D sees is shifted by up to `--shift` pixels inside the step (DiffAugment). The `sgan` preset
holds the paper's settings with the changes that made zoo's shorter runs work (benchmarks/mnist_sgan.py:
lr 1e-3 then a linear decay, a 0.999 weight average, shifts of 2 px). Reports the test error.
"""

import argparse

import keras

import zoo

PRESET = zoo.presets.get("sgan")
SMOKE = {"epochs": 1, "batch_size": 50, "steps_per_epoch": 3, "g_units": "32", "d_units": "64,32"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1, help="labelled subset, weights and noise")
    parser.add_argument("--data", default="tfds", help="'tfds' or a directory of MNIST IDX files")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--export", default=None, metavar="NAME", help="export the classifier as NAME")
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded 8x8 digits")
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def load_data(args):
    """(train images, train labels, test images, test labels) as numpy arrays in [-1, 1]."""
    options = dict(with_labels=True, shuffle=False, drop_remainder=False, batch_size=1000)
    if args.smoke:
        images, labels = zoo.data.dataset_arrays(zoo.data.digits(image_size=None, **options))
        return images[:1500], labels[:1500], images[1500:], labels[1500:]
    if args.data == "tfds":
        train = zoo.data.mnist("train", data_dir=args.data_dir, **options)
        test = zoo.data.mnist("test", data_dir=args.data_dir, **options)
    else:
        train = zoo.data.mnist_idx(args.data, "train", **options)
        test = zoo.data.mnist_idx(args.data, "test", **options)
    return (*zoo.data.dataset_arrays(train), *zoo.data.dataset_arrays(test))


def main(argv=None):
    args = parse_args(argv)
    hparams = args.hparams
    keras.utils.set_random_seed(args.seed)
    images, labels, test_images, test_labels = load_data(args)
    keep = zoo.data.labelled_subset(labels, hparams["labels_per_class"], seed=args.seed)
    # The labels of every other training image stay here: only labels[keep] is passed on.
    dataset = zoo.data.semi_supervised_dataset(
        images, images[keep], labels[keep], batch_size=hparams["batch_size"], seed=args.seed
    )
    sgan = PRESET.build(images.shape[1:], num_classes=int(labels.max()) + 1, **args.options)
    PRESET.prepare(sgan, images, hparams)  # weight normalisation's data-dependent init
    # fit copies the discriminator's weight average in when it ends.
    history = sgan.fit(dataset, epochs=hparams["epochs"], steps_per_epoch=args.steps_per_epoch, verbose=2,
                       callbacks=PRESET.callbacks(hparams, hparams["epochs"], None))  # the learning-rate decay
    scores = sgan.evaluate(test_images, test_labels, batch_size=500, verbose=0, return_dict=True)
    print(f"{len(keep)} labels, {len(images)} unlabelled: test error {scores['error']:.2%} on {len(test_images)}")
    result = {"test_error": scores["error"], "test_accuracy": scores["accuracy"], "num_labels": len(keep),
              "num_unlabelled": len(images), "num_test": len(test_images), "history": history.history, "export": None}
    if args.export:
        result["export"] = zoo.export.export_classifier(
            sgan, args.export, base_path=args.base_path,
            metadata={"test_error": scores["error"], "num_labels": len(keep)},
        )
        print(f"export: {result['export']}")
    return result


if __name__ == "__main__":
    main()
