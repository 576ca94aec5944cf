"""StyleGAN2 on CelebA faces (Karras et al. 2020, config F), with its style-mixing and truncation figures.

Full scale (GPU, downloads CelebA through tfds: 162,770 aligned faces,
centre-cropped and resized to --resolution, 128 by default). The paper's
config F: latent and w 512, an 8-layer mapping (learning rate x0.01),
modulated/demodulated skip synthesis and residual discriminator with
min(32768 / res, 512) feature maps, minibatch stddev group 4, style mixing
0.9, lazy R1 every 16 D steps, path length weight 2 every 4 G steps (decay
0.01, half batch), w_avg decay 0.995, EMA half-life 10k images, Adam(0.002,
0, 0.99, 1e-8), batch 32, 25M images. R1 gamma: 10 is the paper's for
1024x1024 FFHQ; by default it scales with the image area and batch as
stylegan2-ada's `auto` configuration does, `0.0002 * res^2 / batch` (0.1 at
128 px and batch 32):

    python recipes/stylegan2_celeba.py
    python recipes/stylegan2_celeba.py --resolution 64 --r1-gamma 1
    python recipes/stylegan2_celeba.py --data faces/ --resolution 256   # a folder of images

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 16x16, narrow nets):

    python recipes/stylegan2_celeba.py --smoke

Writes per-epoch sample grids to RUN_DIR/samples, and at the end
RUN_DIR/samples.png (EMA nets, psi 1), RUN_DIR/style_mix.png (the coarse
styles of the row faces copied into the column faces, the paper's figure
style) and RUN_DIR/truncation.png (psi 1, 0.7, 0.5, 0, -0.5, -1 per row);
logs to RUN_DIR/history.csv, resumes from RUN_DIR/checkpoint, exports the EMA
generator with `zoo.export.export_style_generator` to BASE_PATH/stylegan2_celeba/<version>
and checks that the export, loaded afresh, serves the model's images.
"""

import argparse
import math
import os

import keras
import zoo

NAME = "stylegan2_celeba"
PRESET = zoo.presets.get("stylegan2")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {
    "resolution": 16, "batch_size": 4, "latent_dim": 16, "mapping_layers": 2, "fmap_base": 32, "fmap_max": 8,
    "total_kimg": 0.016, "steps_per_epoch": 2, "ema_half_life_images": 100, "num_figure_images": 4,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="a folder of face images instead of tfds celeb_a")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--resolution", type=int, default=128, help="side, a power of 2 >= 4")
    parser.add_argument("--total-kimg", type=float, default=25_000, help="thousands of training images")
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--truncation-psi", type=float, default=0.7, help="psi of the exported 'truncated' example")
    parser.add_argument("--num-figure-images", type=int, default=6, help="faces per side of the figures")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", NAME))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    if args.smoke and args.data:
        raise ValueError("--smoke trains on embedded faces: drop --data")
    if args.resolution < 4 or args.resolution & (args.resolution - 1):
        raise ValueError(f"--resolution must be a power of 2 >= 4, got {args.resolution}")
    if args.r1_gamma is None:  # the preset's own default, made explicit for the record
        args.r1_gamma = 0.0002 * args.resolution**2 / args.batch_size
    return args


def training_data(args):
    """Endless batches of faces in [-1, 1]."""
    source = "lfw_faces" if args.smoke else args.data or "celeb_a"
    return zoo.data.face_images(
        source, args.resolution, batch_size=args.batch_size, seed=args.seed, data_dir=args.data_dir
    )


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    dataset = training_data(args)
    model = PRESET.build(zoo.data.image_shape(dataset), **args.options)
    epochs = max(1, math.ceil(args.total_kimg * 1000 / (args.steps_per_epoch * args.batch_size)))
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    history = zoo.training.train(
        model, dataset, epochs=epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=budget, verbose=2,
    )

    figures = zoo.plotting.save_style_figures(model, args.run_dir, args.num_figure_images, args.seed)
    trained = {"images_seen": int(model.g_optimizer.iterations) * args.batch_size, "r1_gamma": args.r1_gamma}
    export_path = zoo.export.export_style_generator(
        model, NAME, base_path=args.base_path,
        metadata={"dataset": "lfw_faces" if args.smoke else args.data or "celeb_a", **trained},
    )
    served = zoo.export.check_style_export(model, export_path, truncation_psi=args.truncation_psi, seed=args.seed + 1)
    print(f"trained on {trained['images_seen']} images\nfigures: {figures}\nexport: {export_path}")
    return {
        "history": history.history, "export": export_path, "run_dir": args.run_dir, "figures": figures,
        "served_shape": served.shape, **trained,
    }


if __name__ == "__main__":
    main()
