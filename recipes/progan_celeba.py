"""Progressive GAN on CelebA faces (Karras et al. 2018), grown from 4x4 to --resolution.

Full scale (GPU, downloads CelebA through tfds: 162,770 aligned faces,
centre-cropped and resized to 128x128; the paper's settings: WGAN-GP with
lambda 10 and drift 0.001, Adam(1e-3, beta 0 / 0.99, epsilon 1e-8), batch 16,
800k images fading in and 800k stabilising each resolution, generator EMA
0.999, latent 512, feature maps min(8192 / 2^stage, 512)):

    python recipes/progan_celeba.py
    python recipes/progan_celeba.py --data faces/ --resolution 256   # a folder of images

The paper trained CelebA-HQ at 1024x1024 (--resolution 1024 with a folder of
HQ faces; it lowered the batch to 14/6/3 at 256/512/1024, here --batch-size).

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 32x32, a few
hundred images per phase, narrow nets):

    python recipes/progan_celeba.py --smoke

Trains for the growth (4x4 up to the full resolution) and one more
stabilisation at full resolution, or --total-images. Writes a grid per
resolution stage to RUN_DIR/stages (stage_0004.png, ...), per-epoch grids to
RUN_DIR/samples, `lod`/`resolution` in RUN_DIR/history.csv, resumes from
RUN_DIR/checkpoint at the right level of detail, exports the EMA generator to
BASE_PATH/progan_celeba/<version> and checks that the export, loaded afresh,
serves full-resolution images equal to the model's.
"""

import argparse
import math
import os

import keras
import numpy as np
import tensorflow as tf

import zoo

PRESET = zoo.presets.get("progan")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {
    "resolution": 32, "batch_size": 16, "latent_dim": 16, "fmap_base": 64, "fmap_max": 16,
    "stabilize_images": 32, "fade_images": 32, "steps_per_epoch": 7,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="a folder of face images instead of tfds celeb_a")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--resolution", type=int, default=128, help="final side, a power of 2 >= 4")
    parser.add_argument("--total-images", type=int, default=None,
                        help="default: the growth to full resolution plus one stabilisation there")
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", "progan_celeba"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    if args.smoke and args.data:
        raise ValueError("--smoke trains on embedded faces: drop --data")
    return args


def training_data(args):
    """Endless batches of faces in [-1, 1] at the full resolution."""
    source = "lfw_faces" if args.smoke else args.data or "celeb_a"
    return zoo.data.face_images(
        source, args.resolution, batch_size=args.batch_size, seed=args.seed, data_dir=args.data_dir
    )


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    dataset = training_data(args)
    image_shape = zoo.data.image_shape(dataset)
    hparams = args.hparams
    gan = PRESET.build(image_shape, **args.options)
    growing, = PRESET.callbacks(hparams, None, args.run_dir)  # the paper's schedule, grids in RUN_DIR/stages
    total = args.total_images or growing.images_to_full_resolution(gan.max_lod) + hparams["stabilize_images"]
    epochs = max(1, math.ceil(total / (args.steps_per_epoch * args.batch_size)))
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    history = zoo.training.train(
        gan, dataset, epochs=epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=[growing, *budget], verbose=2,
    )

    trained = {"lod": gan.lod, "resolution": gan.resolution, "images_seen": int(gan.images_seen)}
    export_path = zoo.export.export_generator(
        gan, "progan_celeba", base_path=args.base_path,
        metadata={"dataset": "lfw_faces" if args.smoke else args.data or "celeb_a", **trained},
    )
    # A fresh load serves full-size images (a resolution still growing is upsampled), as the model makes them.
    z = np.random.default_rng(args.seed).standard_normal((4, gan.latent_dim)).astype("float32")
    served = tf.saved_model.load(export_path).signatures["serving_default"](noise=tf.constant(z))["images"].numpy()
    if served.shape != (4, *image_shape) or not np.allclose(served, gan.generate(z), atol=1e-4):
        raise RuntimeError(f"the export at {export_path} does not serve the model's {image_shape} images")
    print(f"trained to {trained}\nstages: {os.path.join(args.run_dir, 'stages')}\nexport: {export_path}")
    return {
        "history": history.history, "export": export_path, "run_dir": args.run_dir,
        "served_shape": served.shape, **trained,
    }


if __name__ == "__main__":
    main()
