"""VAE on MNIST: the lecture's latent-space figures (manifold, scatter, interpolation, arithmetic).

    python recipes/mnist_vae.py --epochs 30                           # MNIST 60k through tfds
    python recipes/mnist_vae.py --data ../shared/data/mnist --epochs 30  # IDX files: 8,000 train, 2,000 held out
    python recipes/mnist_vae.py --smoke                               # seconds on a CPU, embedded digits

The `vae` preset with a 2-D code (so that the code space can be drawn); resumes from
RUN_DIR/checkpoint and writes to RUN_DIR: manifold.png (decoded Gaussian quantiles, Kingma &
Welling fig. 4), scatter.png (held-out codes by label), interpolation.png (slerp between held-out
digits), arithmetic.png (digits of --from-digit plus s * (mean code of --to-digit minus theirs)),
samples.png; reports the held-out ELBO and exports the decoder to BASE_PATH/mnist_vae/<version>.
"""

import argparse
import os

import keras
import numpy as np

import zoo
from zoo import presets

PRESET = presets.get("vae")  # the convolutional VAE, Bernoulli likelihood
SMOKE = {"epochs": 1, "batch_size": 16, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST 60k/10k) or a folder of MNIST IDX files")
    parser.add_argument("--binarize", action="store_true", help="train on stochastically binarised digits")
    parser.add_argument("--from-digit", type=int, default=1)
    parser.add_argument("--to-digit", type=int, default=7)
    presets.add_recipe_arguments(parser, os.path.join("runs", "mnist_vae"), minutes=False, precision=False)
    # A 2-D code by default, so that the code space can be drawn.
    return presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, defaults={"latent_dim": 2})


def load_data(args):
    """(training dataset of images, held-out images, held-out labels)."""
    source = "digits" if args.smoke else "mnist" if args.data == "tfds" else args.data
    train, images, labels = zoo.data.train_and_test(
        source, args.batch_size, seed=args.seed, image_size=28 if args.smoke else None, limit=96 if args.smoke else None
    )
    if args.binarize:
        return train.map(zoo.data.binarize), zoo.data.binarize(images, seed=args.seed), labels
    return train, images, labels


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    train, test_images, test_labels = load_data(args)
    vae = PRESET.build(zoo.data.image_shape(train), **args.options)
    history = zoo.training.train(
        vae, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch, verbose=2
    )
    scores = vae.evaluate(test_images, batch_size=500, verbose=0, return_dict=True)
    print(f"held-out: ELBO {scores['elbo']:.2f} nats, reconstruction {scores['recon_loss']:.2f}, KL {scores['kl_loss']:.2f}")

    path = lambda name: os.path.join(args.run_dir, f"{name}.png")  # noqa: E731
    decode, codes = vae.generate, vae.encode(test_images)  # codes <-> images in [-1, 1]
    figures = {}
    if vae.latent_dim == 2:
        figures["manifold"] = zoo.latent.save_manifold(decode, path("manifold"), n=20)
        figures["scatter"] = zoo.latent.save_latent_scatter(codes, test_labels, path("scatter"))
    pairs = np.random.default_rng(args.seed).choice(len(codes), size=(min(6, len(codes) // 2), 2), replace=False)
    figures["interpolation"] = zoo.latent.save_interpolation(
        decode, codes[pairs[:, 0]], codes[pairs[:, 1]], path("interpolation"), steps=10
    )
    if {args.from_digit, args.to_digit} <= set(np.unique(test_labels).tolist()):
        vector = zoo.latent.class_vector(codes, test_labels, positive=args.to_digit, negative=args.from_digit)
        figures["arithmetic"] = zoo.latent.save_arithmetic(
            decode, codes[test_labels == args.from_digit][:6], vector, path("arithmetic"),
            scales=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
        )
    figures["samples"] = zoo.plotting.save_grid(vae.generate(64), path("samples"), num_rows=8)
    figures = {k: (v if isinstance(v, str) else path(k)) for k, v in figures.items()}
    export_path = zoo.export.export_generator(vae, "mnist_vae", base_path=args.base_path)
    print("figures:", ", ".join(sorted(figures.values())), f"\nexport: {export_path}")
    return {"history": history.history, "evaluation": scores, "figures": figures, "export": export_path}


if __name__ == "__main__":
    main()
