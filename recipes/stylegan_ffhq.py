"""StyleGAN on FFHQ faces (Karras et al. 2019), with its style-mixing and truncation figures.

FFHQ (70,000 aligned faces, 1024x1024) is not in tfds: download it yourself
and pass the folder with --data; without --data the recipe falls back to tfds
CelebA at 128x128. The paper's configuration, minus progressive growing
(zoo's StyleGAN trains all resolutions at once): latent and w 512, an
8-layer mapping (learning rate x0.01), the AdaIN synthesis with per-channel
noise and bilinear (blurred) upsampling, min(16384 / res, 512) feature maps,
a discriminator of the same widths without residual paths (ProGAN's, with
minibatch stddev group 4), the non-saturating loss with R1 gamma 10 on every
discriminator step, no path length regularisation, style mixing 0.9, w_avg
decay 0.995, EMA half-life 10k images, Adam(0.001, 0, 0.99, 1e-8), batch 32,
25M images. The figures use truncation psi 0.7 on the first 8 styles
(coarse and middle), as the paper's:

    python recipes/stylegan_ffhq.py --data ffhq/                     # 1024x1024
    python recipes/stylegan_ffhq.py --data ffhq/ --resolution 256
    python recipes/stylegan_ffhq.py                                  # tfds celeb_a, 128x128

Smoke run (CPU, seconds, scikit-image's embedded LFW faces at 16x16, narrow nets):

    python recipes/stylegan_ffhq.py --smoke

Writes per-epoch sample grids to RUN_DIR/samples, and at the end
RUN_DIR/samples.png (EMA nets, truncated), RUN_DIR/style_mix.png (the coarse
styles of the row faces copied into the column faces, the paper's figure 3)
and RUN_DIR/truncation.png (psi 1, 0.7, 0.5, 0, -0.5, -1 per row, figure 8);
logs to RUN_DIR/history.csv, resumes from RUN_DIR/checkpoint, exports the EMA
generator with `zoo.export.export_style_generator` to BASE_PATH/stylegan_ffhq/<version>
and checks that the export, loaded afresh, serves the model's images.
"""

import argparse
import math
import os

import keras
import zoo

NAME = "stylegan_ffhq"
PRESET = zoo.presets.get("stylegan")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {
    "resolution": 16, "batch_size": 4, "latent_dim": 16, "mapping_layers": 2, "fmap_base": 16, "fmap_max": 8,
    "total_kimg": 0.016, "steps_per_epoch": 2, "ema_half_life_images": 100, "num_figure_images": 4,
}
# Without --data: FFHQ's own size, else tfds CelebA's 178 px crops at a size they support.
DEFAULT_RESOLUTION = {"folder": 1024, "celeb_a": 128}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="the FFHQ folder (default: tfds celeb_a as a fallback)")
    parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    parser.add_argument("--resolution", type=int, default=None, help="side, a power of 2 >= 4 (1024; celeb_a 128)")
    parser.add_argument("--total-kimg", type=float, default=25_000, help="thousands of training images")
    parser.add_argument("--steps-per-epoch", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--truncation-psi", type=float, default=0.7, help="psi of the samples and style mixing")
    parser.add_argument("--truncation-cutoff", type=int, default=8, help="truncate the first this many styles")
    parser.add_argument("--num-figure-images", type=int, default=6, help="faces per side of the figures")
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--run-dir", default=os.path.join("runs", NAME))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded faces")
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    if args.smoke and args.data:
        raise ValueError("--smoke trains on embedded faces: drop --data")
    if args.resolution is None:
        args.resolution = DEFAULT_RESOLUTION["folder" if args.data else "celeb_a"]
    if args.resolution < 4 or args.resolution & (args.resolution - 1):
        raise ValueError(f"--resolution must be a power of 2 >= 4, got {args.resolution}")
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

    figures = zoo.plotting.save_style_figures(
        model, args.run_dir, args.num_figure_images, args.seed,
        truncation_psi=args.truncation_psi, truncation_cutoff=args.truncation_cutoff,
    )
    trained = {"images_seen": int(model.g_optimizer.iterations) * args.batch_size, "r1_gamma": model.r1_gamma}
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
