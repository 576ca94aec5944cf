"""VAE on CelebA faces and the lecture's "smile vector" from CelebA's attribute labels.

Full scale (GPU, downloads CelebA through tfds; aligned faces centre-cropped to 64x64):

    python recipes/celeba_vae.py --epochs 20 --attribute Smiling

Smoke run (CPU, seconds, scikit-image's embedded greyscale LFW faces at 32x32; LFW has no
attribute labels, so the smoke run's "attribute" is "brighter than the median face",
only to exercise the figure):

    python recipes/celeba_vae.py --smoke

Trains `zoo.models.VAE` (convolutional nets, Gaussian likelihood: colour photos
are not binary), resumes from RUN_DIR/checkpoint, and writes to RUN_DIR:
    samples.png        decoded N(0, I) codes
    interpolation.png  spherical interpolation between pairs of validation faces
    attribute.png      validation faces without the attribute, plus s * the attribute
                       vector (mean code of faces with it minus those without, from
                       --vector-images labelled validation faces), s = 0 ... 2
then exports the decoder to BASE_PATH/celeba_vae/<version>.
"""

import argparse
import os

import keras
import numpy as np

import zoo
import zoo.data.tfds_loaders  # a submodule: zoo.data imports its tf.data modules when first used


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--gaussian-scale", type=float, default=0.1)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--attribute", default="Smiling", choices=zoo.data.tfds_loaders.CELEB_A_ATTRIBUTES)
    parser.add_argument("--vector-images", type=int, default=5000, help="labelled faces for the attribute vector")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "celeba_vae"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded LFW faces")
    return parser.parse_args(argv)


def load_data(args):
    """(training dataset, labelled faces (images, 0/1 attribute) for the vector)."""
    if args.smoke:
        train = zoo.data.load("lfw_faces", image_size=32, batch_size=args.batch_size, seed=args.seed, limit=64)
        everything = zoo.data.load("lfw_faces", image_size=32, batch_size=10_000, shuffle=False, drop_remainder=False)
        images = next(iter(everything)).numpy()[:64]
        brightness = images.mean(axis=(1, 2, 3))
        return train, (images, (brightness > np.median(brightness)).astype("int32"))
    common = dict(image_size=args.image_size, data_dir=args.data_dir)
    train = zoo.data.celeb_a("train", batch_size=args.batch_size, seed=args.seed, **common)
    labelled = zoo.data.celeb_a(
        "validation", batch_size=args.vector_images, shuffle=False, drop_remainder=False,
        limit=args.vector_images, attribute=args.attribute, cache=False, **common,
    )
    images, labels = next(iter(labelled))
    return train, (images.numpy(), labels.numpy())


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)
    if args.smoke:
        args.epochs, args.batch_size, args.steps_per_epoch = 1, 16, 2
        args.latent_dim, args.filters = 8, [8, 16]
    train, (faces, has_attribute) = load_data(args)
    image_shape = zoo.data.image_shape(train)

    vae = zoo.models.VAE(
        zoo.nets.conv_encoder(image_shape, args.latent_dim, filters=tuple(args.filters), hidden_units=2 * args.latent_dim),
        zoo.nets.conv_decoder(args.latent_dim, image_shape, filters=tuple(reversed(args.filters))),
        beta=args.beta,
        likelihood="gaussian",
        gaussian_scale=args.gaussian_scale,
        seed=args.seed,
    )
    vae.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    history = zoo.training.train(
        vae, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch, verbose=2
    )

    figures = {}
    samples = os.path.join(args.run_dir, "samples.png")
    zoo.plotting.save_grid(vae.generate(64), samples, num_rows=8)
    figures["samples"] = samples
    codes = vae.encode(faces)
    rng = np.random.default_rng(args.seed)
    pairs = rng.choice(len(codes), size=(min(6, len(codes) // 2), 2), replace=False)
    figures["interpolation"] = os.path.join(args.run_dir, "interpolation.png")
    zoo.latent.save_interpolation(vae.generate, codes[pairs[:, 0]], codes[pairs[:, 1]], figures["interpolation"])
    vector = zoo.latent.attribute_vector(codes, has_attribute == 1)
    figures["attribute"] = os.path.join(args.run_dir, "attribute.png")
    zoo.latent.save_arithmetic(
        vae.generate, codes[has_attribute == 0][:8], vector, figures["attribute"], scales=(0.0, 0.5, 1.0, 1.5, 2.0)
    )
    path = zoo.export.export_generator(vae, "celeba_vae", base_path=args.base_path)
    print("figures:", ", ".join(sorted(figures.values())), f"\nexport: {path}")
    return {"history": history.history, "figures": figures, "export": path, "attribute_vector_norm": float(np.linalg.norm(vector))}


if __name__ == "__main__":
    main()
