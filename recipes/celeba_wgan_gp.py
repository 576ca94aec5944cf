"""WGAN-GP on CelebA 64x64: a layer-norm DCGAN critic kept 1-Lipschitz by a gradient penalty.

Full scale (GPU, downloads CelebA through tfds, 162,770 aligned training faces
centre-cropped and resized to 64x64):

    python recipes/celeba_wgan_gp.py --epochs 25

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 32x32):

    python recipes/celeba_wgan_gp.py --smoke

Writes sample grids to RUN_DIR/samples, `diag_*` diagnostics (sample
diversity, critic gap `d_real - d_fake`, mode collapse flag) to
RUN_DIR/history.csv, resumes from RUN_DIR/checkpoint, and exports the EMA
generator to BASE_PATH/celeba_wgan_gp/<version>.
"""

import argparse
import os

import keras

import zoo
from zoo import presets

# Gulrajani et al. 2017: latent 128, batch 64, Adam(1e-4, 0, 0.9), lambda 10,
# 5 critic updates per generator update; zoo adds a 0.999 EMA generator.
PAPER = presets.get("wgan_gp").defaults


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=PAPER["epochs"])
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--batch-size", type=int, default=PAPER["batch_size"])
    parser.add_argument("--latent-dim", type=int, default=PAPER["latent_dim"])
    parser.add_argument("--base-filters", type=int, default=PAPER["base_filters"])
    parser.add_argument("--learning-rate", type=float, default=PAPER["learning_rate"])
    parser.add_argument("--beta-1", type=float, default=PAPER["beta_1"])
    parser.add_argument("--beta-2", type=float, default=PAPER["beta_2"])
    parser.add_argument("--gradient-penalty", type=float, default=PAPER["gradient_penalty"])
    parser.add_argument("--d-steps", type=int, default=PAPER["d_steps"])
    parser.add_argument("--ema-momentum", type=float, default=PAPER["ema_momentum"], help="0: no EMA generator")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "celeba_wgan_gp"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    if args.smoke:
        args.epochs, args.batch_size, args.image_size, args.base_filters, args.steps_per_epoch = 1, 16, 32, 8, 2
        dataset = zoo.data.load("lfw_faces", batch_size=args.batch_size, image_size=args.image_size, seed=args.seed)
    else:
        dataset = zoo.data.load(
            "celeb_a", batch_size=args.batch_size, image_size=args.image_size, seed=args.seed, data_dir=args.data_dir
        )
    image_shape = zoo.data.image_shape(dataset)

    generator = zoo.nets.dcgan_generator(args.latent_dim, image_shape, args.base_filters)
    critic = zoo.nets.dcgan_discriminator(image_shape, args.base_filters, normalization="layer")
    gan = zoo.models.WGANGP(
        generator, critic, gradient_penalty=args.gradient_penalty, d_steps=args.d_steps,
        ema_momentum=args.ema_momentum or None, seed=args.seed,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=args.beta_1, beta_2=args.beta_2),
        g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=args.beta_1, beta_2=args.beta_2),
    )
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    history = zoo.training.train(
        gan, dataset, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=budget, diagnostics=True, verbose=2,
    )
    export_path = zoo.export.export_generator(gan, "celeba_wgan_gp", base_path=args.base_path)
    print(f"samples: {os.path.join(args.run_dir, 'samples', 'latest.png')}\nexport: {export_path}")
    return {"history": history.history, "export": export_path, "run_dir": args.run_dir}


if __name__ == "__main__":
    main()
