"""VAE on CelebA faces and the lecture's "smile vector" from CelebA's attribute labels.

    python recipes/celeba_vae.py --epochs 20 --attribute Smiling   # GPU: CelebA through tfds, 64x64
    python recipes/celeba_vae.py --smoke                           # seconds on a CPU, embedded LFW faces

The `vae` preset with a Gaussian likelihood (colour photos are not binary), latent 128 and four
convolutions. LFW has no attribute labels, so the smoke run's "attribute" is "brighter than the
median face", only to exercise the figure. Writes to RUN_DIR samples.png, interpolation.png (slerp
between validation faces) and attribute.png (faces without the attribute plus s * the mean code of
--vector-images faces with it minus those without, s = 0 ... 2), and exports the decoder to
BASE_PATH/celeba_vae/<version>.
"""

import argparse
import os

import numpy as np

import zoo
import zoo.data.tfds_loaders  # a submodule: zoo.data imports its tf.data modules when first used

PRESET = zoo.presets.get("vae")
DEFAULTS = {"latent_dim": 128, "filters": "32,64,128,256", "likelihood": "gaussian", "learning_rate": 5e-4,
            "epochs": 20}
SMOKE = {"epochs": 1, "batch_size": 16, "steps_per_epoch": 2, "latent_dim": 8, "filters": "8,16", "image_size": 32}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attribute", default="Smiling", choices=zoo.data.tfds_loaders.CELEB_A_ATTRIBUTES)
    parser.add_argument("--vector-images", type=int, default=5000, help="labelled faces for the attribute vector")
    parser.add_argument("--image-size", type=int, default=64)
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "celeba_vae"), minutes=False, data_dir=True)
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, defaults=DEFAULTS)


def load_data(args):
    """(training dataset, labelled faces (images, 0/1 attribute) for the vector)."""
    if args.smoke:
        train = zoo.data.load("lfw_faces", image_size=32, batch_size=args.batch_size, seed=args.seed, limit=64)
        everything = zoo.data.load("lfw_faces", image_size=32, batch_size=10_000, shuffle=False, drop_remainder=False)
        images = next(iter(everything)).numpy()[:64]
        brightness = images.mean(axis=(1, 2, 3))
        return train, images, (brightness > np.median(brightness)).astype("int32")
    common = dict(image_size=args.image_size, data_dir=args.data_dir)
    train = zoo.data.celeb_a("train", batch_size=args.batch_size, seed=args.seed, **common)
    labelled = zoo.data.celeb_a("validation", batch_size=args.vector_images, shuffle=False, drop_remainder=False,
                                limit=args.vector_images, attribute=args.attribute, cache=False, **common)
    images, labels = next(iter(labelled))
    return train, images.numpy(), labels.numpy()


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    train, faces, has_attribute = load_data(args)
    vae = PRESET.build(zoo.data.image_shape(train), **args.options)
    history = zoo.training.train(vae, train, epochs=args.epochs, run_dir=args.run_dir,
                                 steps_per_epoch=args.steps_per_epoch, verbose=2)
    path = lambda name: os.path.join(args.run_dir, f"{name}.png")  # noqa: E731
    figures = {"samples": zoo.plotting.save_grid(vae.generate(64), path("samples"), num_rows=8)}
    codes = vae.encode(faces)
    pairs = np.random.default_rng(args.seed).choice(len(codes), size=(min(6, len(codes) // 2), 2), replace=False)
    zoo.latent.save_interpolation(vae.generate, codes[pairs[:, 0]], codes[pairs[:, 1]], path("interpolation"))
    vector = zoo.latent.attribute_vector(codes, has_attribute == 1)
    zoo.latent.save_arithmetic(vae.generate, codes[has_attribute == 0][:8], vector, path("attribute"),
                               scales=(0.0, 0.5, 1.0, 1.5, 2.0))
    figures.update(interpolation=path("interpolation"), attribute=path("attribute"))
    export_path = zoo.export.export_generator(vae, "celeba_vae", base_path=args.base_path)
    print("figures:", ", ".join(sorted(figures.values())), f"\nexport: {export_path}")
    return {"history": history.history, "figures": figures, "export": export_path,
            "attribute_vector_norm": float(np.linalg.norm(vector))}


if __name__ == "__main__":
    main()
