"""VAE on MNIST: the lecture's latent-space figures (manifold, scatter, interpolation, arithmetic).

Full scale (downloads MNIST through tfds; 60,000 training digits):

    python recipes/mnist_vae.py --epochs 30

The benchmark data (the real MNIST test split as IDX files: first 8,000 to
train, last 2,000 held out):

    python recipes/mnist_vae.py --data ../shared/data/mnist --epochs 30

Smoke run (CPU, seconds, scikit-learn's embedded 8x8 digits upscaled to 28x28):

    python recipes/mnist_vae.py --smoke

Trains `zoo.models.VAE` with the convolutional nets (a 2-D code by default, so
the code space can be drawn), resumes from RUN_DIR/checkpoint, and writes to
RUN_DIR:
    manifold.png      decoded grid of 2-D codes at Gaussian quantiles (Kingma & Welling, fig. 4)
    scatter.png       held-out digits' codes coloured by label
    interpolation.png spherical interpolation between pairs of held-out digits' codes
    arithmetic.png    held-out digits of class --from plus s * (mean code of --to minus
                      mean code of --from), s = 0 ... 1.5
    samples.png       decoded N(0, I) codes
then reports the held-out ELBO and exports the decoder to BASE_PATH/mnist_vae/<version>.
"""

import argparse
import os

import keras
import numpy as np

import zoo


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="tfds", help="'tfds' (MNIST 60k/10k) or a folder of MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--binarize", action="store_true", help="train on stochastically binarised digits")
    parser.add_argument("--from-digit", type=int, default=1, dest="from_digit")
    parser.add_argument("--to-digit", type=int, default=7, dest="to_digit")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--run-dir", default=os.path.join("runs", "mnist_vae"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded digits")
    return parser.parse_args(argv)


def load_data(args):
    """(training dataset of images, held-out images, held-out labels)."""
    common = {"batch_size": args.batch_size, "seed": args.seed}
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
    if args.binarize:
        train = train.map(zoo.data.binarize)
    test_images, test_labels = zoo.data.dataset_arrays(held_out)
    return train, test_images, test_labels


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    if args.smoke:
        args.epochs, args.batch_size, args.steps_per_epoch = 1, 16, 2
    train, test_images, test_labels = load_data(args)
    if args.binarize:
        test_images = zoo.data.binarize(test_images, seed=args.seed)
    image_shape = zoo.data.image_shape(train)

    vae = zoo.models.VAE(
        zoo.nets.conv_encoder(image_shape, args.latent_dim),
        zoo.nets.conv_decoder(args.latent_dim, image_shape),
        beta=args.beta,
        seed=args.seed,
    )
    vae.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    history = zoo.training.train(
        vae, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch, verbose=2
    )
    scores = vae.evaluate(test_images, batch_size=500, verbose=0, return_dict=True)
    print(f"held-out: ELBO {scores['elbo']:.2f} nats, reconstruction {scores['recon_loss']:.2f}, KL {scores['kl_loss']:.2f}")

    figures = {}
    decode = vae.generate  # codes -> images in [-1, 1]
    codes = vae.encode(test_images)
    rng = np.random.default_rng(args.seed)
    if args.latent_dim == 2:
        figures["manifold"] = zoo.latent.save_manifold(decode, os.path.join(args.run_dir, "manifold.png"), n=20)
        figures["scatter"] = zoo.latent.save_latent_scatter(codes, test_labels, os.path.join(args.run_dir, "scatter.png"))
    pairs = rng.choice(len(codes), size=(min(6, len(codes) // 2), 2), replace=False)
    figures["interpolation"] = zoo.latent.save_interpolation(
        decode, codes[pairs[:, 0]], codes[pairs[:, 1]], os.path.join(args.run_dir, "interpolation.png"), steps=10
    )
    present = set(np.unique(test_labels).tolist())
    if {args.from_digit, args.to_digit} <= present:
        vector = zoo.latent.class_vector(codes, test_labels, positive=args.to_digit, negative=args.from_digit)
        sources = codes[test_labels == args.from_digit][:6]
        figures["arithmetic"] = zoo.latent.save_arithmetic(
            decode, sources, vector, os.path.join(args.run_dir, "arithmetic.png"), scales=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
        )
    samples_path = os.path.join(args.run_dir, "samples.png")
    zoo.plotting.save_grid(vae.generate(64), samples_path, num_rows=8)
    figures["samples"] = samples_path
    figures = {k: (v if isinstance(v, str) else os.path.join(args.run_dir, f"{k}.png")) for k, v in figures.items()}

    path = zoo.export.export_generator(vae, "mnist_vae", base_path=args.base_path)
    print("figures:", ", ".join(sorted(figures.values())), f"\nexport: {path}")
    return {"history": history.history, "evaluation": scores, "figures": figures, "export": path}


if __name__ == "__main__":
    main()
