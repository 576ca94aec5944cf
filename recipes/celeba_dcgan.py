"""The lecture's CelebA DCGAN: 64x64 faces, latent 128 (Chollet, Deep Learning with Python, 12.5).

Full scale (GPU, downloads CelebA through tfds, about 200k aligned faces
centre-cropped and resized to 64x64):

    python recipes/celeba_dcgan.py --epochs 100

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 32x32):

    python recipes/celeba_dcgan.py --smoke

Writes sample grids to RUN_DIR/samples, resumes from RUN_DIR/checkpoint, and
exports the generator to BASE_PATH/celeba_dcgan/<version>.
"""

import argparse
import os

import keras

import zoo
from zoo import presets

# The lecture example's values: latent 128, batch 32, Adam(1e-4) for both players.
LECTURE = presets.get("keras_io_dcgan").defaults


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=LECTURE["epochs"])
    parser.add_argument("--batch-size", type=int, default=LECTURE["batch_size"])
    parser.add_argument("--latent-dim", type=int, default=LECTURE["latent_dim"])
    parser.add_argument("--learning-rate", type=float, default=LECTURE["learning_rate"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "celeba_dcgan"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    if args.smoke:
        args.epochs, args.batch_size, args.image_size, args.steps_per_epoch = 1, 8, 16, 2
        dataset = zoo.data.load("lfw_faces", batch_size=args.batch_size, image_size=args.image_size, seed=args.seed)
    else:
        dataset = zoo.data.load(
            "celeb_a", batch_size=args.batch_size, image_size=args.image_size, seed=args.seed, data_dir=args.data_dir
        )
    image_shape = zoo.data.image_shape(dataset)

    generator = zoo.nets.keras_dcgan_generator(args.latent_dim, image_shape)
    discriminator = zoo.nets.keras_dcgan_discriminator(image_shape)
    gan = zoo.models.GAN(generator, discriminator, seed=args.seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=LECTURE["beta_1"]),
        g_optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=LECTURE["beta_1"]),
    )
    history = zoo.training.train(
        gan, dataset, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        verbose=2,
    )
    export_path = zoo.export.export_generator(gan, "celeba_dcgan", base_path=args.base_path)
    print(f"samples: {os.path.join(args.run_dir, 'samples', 'latest.png')}\nexport: {export_path}")
    return {"history": history.history, "export": export_path, "run_dir": args.run_dir}


if __name__ == "__main__":
    main()
