"""Coupled GAN on MNIST: digits and their edges (or negatives), learned without a single pair.

Full scale (downloads MNIST through tfds; 30,000 digits per domain):

    python recipes/cogan_mnist.py --transform edges
    python recipes/cogan_mnist.py --transform negative

The benchmark data (the MNIST test split as IDX files, its first 8,000 images:
4,000 digits per domain):

    python recipes/cogan_mnist.py --data ../shared/data/mnist --minutes 10

Smoke run (CPU, seconds, scikit-learn's embedded 8x8 digits upscaled to 28x28):

    python recipes/cogan_mnist.py --smoke

Domain A is the first half of the training digits, domain B the second half
passed through the transform, so no digit is ever shown with its own edges
(`zoo.data.unpaired_digits`, the paper's protocol). The nets are the paper's
MNIST CoGAN (`zoo.nets.cogan_generators` / `cogan_discriminators`): the
generators share all but their last layer, the discriminators all but their
first; `--g-shared 0` trains two independent GANs, the paper's control.

Writes RUN_DIR/cogan_pairs.png (each tile: G_a(z) | G_b(z) for one z), per-epoch
pair grids in RUN_DIR/samples, resumes from RUN_DIR/checkpoint, prints the
pairing error (|G_b(z) - transform(G_a(z))| against shuffled pairs, see
`zoo.metrics.pairing_error`) and exports both generators to
BASE_PATH/NAME_a/<version> and BASE_PATH/NAME_b/<version>: feed both the same
noise to get a pair.
"""

import argparse
import os

import keras
import numpy as np

import zoo


PRESET = zoo.presets.get("cogan")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {"epochs": 1, "batch_size": 16, "steps_per_epoch": 3, "num_pairs": 64, "base_filters": 8, "d_filters": "4,8",
         "d_hidden": 16}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST, 60,000 training digits) or a folder of MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=PRESET.defaults["epochs"])
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--num-pairs", type=int, default=2000, help="generated pairs for the pairing error")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "cogan_mnist"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--name", default="cogan_mnist", help="export names: NAME_a and NAME_b")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded digits")
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    args.transform = args.hparams["transform"]
    return args


def load_data(args):
    common = {"transform": args.transform, "batch_size": args.batch_size, "seed": args.seed}
    if args.smoke:
        return zoo.data.unpaired_digits("digits", limit=192, **common)
    if args.data == "tfds":
        return zoo.data.unpaired_digits("mnist", **common)
    return zoo.data.unpaired_digits("idx", data_dir=args.data, **common)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)
    train = load_data(args)
    model = PRESET.build(tuple(int(s) for s in train.element_spec[1].shape[1:]), source_channels=1, **args.options)
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    history = zoo.training.train(
        model, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=budget, num_samples=32, verbose=2,
    )

    grid_path = os.path.join(args.run_dir, "cogan_pairs.png")
    z = np.random.default_rng(args.seed).standard_normal((32, model.latent_dim)).astype("float32")
    zoo.plotting.save_grid(zoo.plotting.side_by_side(*model.generate(z)), grid_path, num_rows=8)
    images_a, images_b = model.generate(args.num_pairs)
    pairing = zoo.metrics.pairing_error(
        images_a, images_b, lambda x: zoo.data.transform_digits(x, args.transform), seed=args.seed
    )
    print("pairing:", {k: round(v, 4) for k, v in pairing.items()})
    result = {"history": history.history, "grid": grid_path, "run_dir": args.run_dir, "pairing": pairing}
    if budget:
        result["train_seconds"] = budget[0].elapsed

    # Each generator is served on its own; the pair comes from feeding both the same noise.
    result["export"] = {}
    for domain, generator, other in (("a", model.generator_a, "b"), ("b", model.generator_b, "a")):
        metadata = {
            "model": "CoGAN", "domain": domain, "content": "digits" if domain == "a" else args.transform,
            "pair_with": f"{args.name}_{other}",
        }
        result["export"][domain] = zoo.export.export_generator(
            generator, f"{args.name}_{domain}", base_path=args.base_path, metadata=metadata
        )
    print(f"grid: {grid_path}\nexports: {result['export']['a']}, {result['export']['b']}")
    return result


if __name__ == "__main__":
    main()
