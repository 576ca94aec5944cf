"""Coupled GAN on MNIST: digits and their edges (or negatives), learned without a single pair.

    python recipes/cogan_mnist.py --transform edges                    # MNIST through tfds, 30,000 per domain
    python recipes/cogan_mnist.py --data ../shared/data/mnist --minutes 10   # IDX files: 4,000 per domain
    python recipes/cogan_mnist.py --smoke                              # seconds on a CPU, embedded digits

Domain A is the first half of the training digits, domain B the second half through the transform,
so no digit is shown with its own edges (`zoo.data.unpaired_digits`, the paper's protocol). The
`cogan` preset holds the paper's MNIST nets: the generators share all but their last layer, the
discriminators all but their first; `--g-shared 0` trains two independent GANs, the paper's control.
Writes RUN_DIR/cogan_pairs.png (each tile G_a(z) | G_b(z)), prints the pairing error
(`zoo.metrics.pairing_error`) and exports both generators to BASE_PATH/NAME_a and NAME_b: fed the same
noise, they serve a pair.
"""

import argparse
import os

import numpy as np

import zoo

PRESET = zoo.presets.get("cogan")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {"epochs": 1, "batch_size": 16, "steps_per_epoch": 3, "num_pairs": 64, "base_filters": 8, "d_filters": "4,8",
         "d_hidden": 16}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST) or a folder of MNIST IDX files")
    parser.add_argument("--num-pairs", type=int, default=2000, help="generated pairs for the pairing error")
    parser.add_argument("--name", default="cogan_mnist", help="export names: NAME_a and NAME_b")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "cogan_mnist"))
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    transform = args.hparams["transform"]
    source = {"source": "digits", "limit": 192} if args.smoke else {"source": "mnist"} if args.data == "tfds" else {
        "source": "idx", "data_dir": args.data}
    train = zoo.data.unpaired_digits(transform=transform, batch_size=args.batch_size, seed=args.seed, **source)
    model = PRESET.build(tuple(int(s) for s in train.element_spec[1].shape[1:]), source_channels=1, **args.options)
    history = zoo.training.train(model, train, epochs=args.epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, num_samples=32, verbose=2)
    grid_path = os.path.join(args.run_dir, "cogan_pairs.png")
    z = np.random.default_rng(args.seed).standard_normal((32, model.latent_dim)).astype("float32")
    zoo.plotting.save_grid(zoo.plotting.side_by_side(*model.generate(z)), grid_path, num_rows=8)
    images_a, images_b = model.generate(args.num_pairs)
    pairing = zoo.metrics.pairing_error(images_a, images_b, lambda x: zoo.data.transform_digits(x, transform),
                                        seed=args.seed)
    print("pairing:", {k: round(v, 4) for k, v in pairing.items()})
    result = {"history": history.history, "grid": grid_path, "run_dir": args.run_dir, "pairing": pairing}
    if args.minutes:
        result["train_seconds"] = history.train_seconds
    # Each generator is served on its own (metadata: domain, pair_with); the pair comes from the same noise.
    paths = zoo.export.export_model(model, args.name, base_path=args.base_path, metadata={"transform": transform})
    result["export"] = dict(zip("ab", paths))
    print(f"grid: {grid_path}\nexports: {paths[0]}, {paths[1]}")
    return result


if __name__ == "__main__":
    main()
