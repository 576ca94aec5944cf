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
PRESET = presets.get("keras_io_dcgan")
SMOKE = {"epochs": 1, "batch_size": 8, "image_size": 16, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "celeba_dcgan"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    return presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)
    source = {"data_dir": args.data_dir} if not args.smoke else {}
    dataset = zoo.data.load("lfw_faces" if args.smoke else "celeb_a", batch_size=args.batch_size,
                            image_size=args.image_size, seed=args.seed, **source)
    gan = PRESET.build(zoo.data.image_shape(dataset), **args.options)
    history = zoo.training.train(
        gan, dataset, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        verbose=2,
    )
    export_path = zoo.export.export_generator(gan, "celeba_dcgan", base_path=args.base_path)
    print(f"samples: {os.path.join(args.run_dir, 'samples', 'latest.png')}\nexport: {export_path}")
    return {"history": history.history, "export": export_path, "run_dir": args.run_dir}


if __name__ == "__main__":
    main()
