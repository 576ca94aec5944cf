"""Progressive GAN on CelebA faces (Karras et al. 2018), grown from 4x4 to --resolution.

    python recipes/progan_celeba.py                                   # GPU: CelebA through tfds, 128 px
    python recipes/progan_celeba.py --data faces/ --resolution 256   # a folder of images
    python recipes/progan_celeba.py --smoke                           # seconds on a CPU, embedded faces

The `progan` preset holds the paper's settings (`zoo train progan --help`: WGAN-GP with drift, Adam(1e-3,
0, 0.99), batch 16, 800k images fading in and 800k stabilising per resolution, EMA 0.999, latent 512;
CelebA-HQ at 1024 lowered the batch to 14/6/3 at 256/512/1024). Trains the growth plus one more
stabilisation at full resolution (or --total-images); writes a grid per stage to RUN_DIR/stages,
`lod`/`resolution` in history.csv, resumes at the right level of detail, and exports the EMA generator
to BASE_PATH/progan_celeba/<version>, checked to serve full-resolution images equal to the model's.
"""

import argparse
import math
import os

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
    zoo.presets.add_face_arguments(parser, resolution=128)
    parser.add_argument("--total-images", type=int, default=None,
                        help="default: the growth to full resolution plus one stabilisation there")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "progan_celeba"), steps_per_epoch=1000,
                                     data_dir=True)
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    source = zoo.presets.face_source(args)
    dataset = zoo.data.face_images(source, args.resolution, args.batch_size, seed=args.seed, data_dir=args.data_dir)
    image_shape = zoo.data.image_shape(dataset)
    gan = PRESET.build(image_shape, **args.options)
    growing, = PRESET.callbacks(args.hparams, None, args.run_dir)  # the paper's schedule, grids in RUN_DIR/stages
    total = args.total_images or growing.images_to_full_resolution(gan.max_lod) + args.hparams["stabilize_images"]
    epochs = max(1, math.ceil(total / (args.steps_per_epoch * args.batch_size)))
    history = zoo.training.train(gan, dataset, epochs=epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, callbacks=[growing], verbose=2)
    trained = {"lod": gan.lod, "resolution": gan.resolution, "images_seen": int(gan.images_seen)}
    export_path = zoo.export.export_generator(
        gan, "progan_celeba", base_path=args.base_path, metadata={"dataset": source, **trained}
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
