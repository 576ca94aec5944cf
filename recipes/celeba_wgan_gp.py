"""WGAN-GP on CelebA 64x64: a layer-norm DCGAN critic kept 1-Lipschitz by a gradient penalty.

Full scale (GPU, downloads CelebA through tfds, 162,770 aligned training faces
centre-cropped and resized to 64x64):

    python recipes/celeba_wgan_gp.py --epochs 25

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 32x32):

    python recipes/celeba_wgan_gp.py --smoke

The `wgan_gp` preset: 5 critic updates per generator update, each on its own batch of
--batch-size (64) real faces, as in the paper's Algorithm 1, so a step takes 5 x 64.

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
PRESET = presets.get("wgan_gp")
SMOKE = {"epochs": 1, "batch_size": 16, "image_size": 32, "base_filters": 8, "steps_per_epoch": 2}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "celeba_wgan_gp"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    return presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)
    source = {"data_dir": args.data_dir} if not args.smoke else {}
    # A step takes a critic batch (--batch-size) for each of its d_steps critic updates.
    dataset = zoo.data.load("lfw_faces" if args.smoke else "celeb_a",
                            batch_size=presets.images_per_step(args.batch_size, args.options),
                            image_size=args.image_size, seed=args.seed, **source)
    gan = PRESET.build(zoo.data.image_shape(dataset), **args.options)
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
