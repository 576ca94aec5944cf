"""StyleGAN on FFHQ faces (Karras et al. 2019), with its style-mixing and truncation figures.

    python recipes/stylegan_ffhq.py --data ffhq/                     # 1024x1024 (download FFHQ yourself)
    python recipes/stylegan_ffhq.py --data ffhq/ --resolution 256
    python recipes/stylegan_ffhq.py                                  # fallback: tfds celeb_a, 128x128
    python recipes/stylegan_ffhq.py --smoke                          # seconds on a CPU, embedded faces

The `stylegan` preset is the paper's configuration minus progressive growing (`zoo train stylegan
--help`: AdaIN synthesis with noise, blurred upsampling, ProGAN's D, R1 gamma 10, style mixing 0.9,
Adam(0.001, 0, 0.99), batch 32, 25M images). The figures truncate the first 8 styles at psi 0.7, as
the paper's. Writes per-epoch grids, RUN_DIR/samples.png, style_mix.png (figure 3) and
truncation.png (figure 8), resumes from RUN_DIR/checkpoint, and exports the EMA generator to
BASE_PATH/stylegan_ffhq/<version>, checked to serve the model's images.
"""

import argparse
import math
import os

import zoo

NAME = "stylegan_ffhq"
PRESET = zoo.presets.get("stylegan")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {
    "resolution": 16, "batch_size": 4, "latent_dim": 16, "mapping_layers": 2, "fmap_base": 16, "fmap_max": 8,
    "total_kimg": 0.016, "steps_per_epoch": 2, "ema_half_life_images": 100, "num_figure_images": 4,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    zoo.presets.add_face_arguments(parser, resolution=None)  # FFHQ's 1024, or celeb_a's 128 without --data
    parser.add_argument("--total-kimg", type=float, default=25_000, help="thousands of training images")
    parser.add_argument("--truncation-psi", type=float, default=0.7, help="psi of the samples and style mixing")
    parser.add_argument("--truncation-cutoff", type=int, default=8, help="truncate the first this many styles")
    parser.add_argument("--num-figure-images", type=int, default=6, help="faces per side of the figures")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", NAME), steps_per_epoch=1000, data_dir=True)
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    args.resolution = args.resolution or (1024 if args.data else 128)
    return args


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    source = zoo.presets.face_source(args)
    dataset = zoo.data.face_images(source, args.resolution, args.batch_size, seed=args.seed, data_dir=args.data_dir)
    model = PRESET.build(zoo.data.image_shape(dataset), **args.options)
    epochs = max(1, math.ceil(args.total_kimg * 1000 / (args.steps_per_epoch * args.batch_size)))
    history = zoo.training.train(model, dataset, epochs=epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, verbose=2)
    figures = zoo.plotting.save_style_figures(
        model, args.run_dir, args.num_figure_images, args.seed,
        truncation_psi=args.truncation_psi, truncation_cutoff=args.truncation_cutoff,
    )
    trained = {"images_seen": int(model.g_optimizer.iterations) * args.batch_size, "r1_gamma": model.r1_gamma}
    export_path = zoo.export.export_style_generator(
        model, NAME, base_path=args.base_path, metadata={"dataset": source, **trained}
    )
    served = zoo.export.check_style_export(model, export_path, truncation_psi=args.truncation_psi, seed=args.seed + 1)
    print(f"trained on {trained['images_seen']} images\nfigures: {figures}\nexport: {export_path}")
    return {
        "history": history.history, "export": export_path, "run_dir": args.run_dir, "figures": figures,
        "served_shape": served.shape, **trained,
    }


if __name__ == "__main__":
    main()
