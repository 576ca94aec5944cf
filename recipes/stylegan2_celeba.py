"""StyleGAN2 on CelebA faces (Karras et al. 2020, config F), with its style-mixing and truncation figures.

    python recipes/stylegan2_celeba.py                                   # GPU: CelebA through tfds, 128 px
    python recipes/stylegan2_celeba.py --resolution 64 --r1-gamma 1
    python recipes/stylegan2_celeba.py --data faces/ --resolution 256    # a folder of images
    python recipes/stylegan2_celeba.py --smoke                           # seconds on a CPU, embedded faces

The `stylegan2` preset is config F (`zoo train stylegan2 --help`: latent and w 512, 8-layer mapping,
modulated skip synthesis, residual D, lazy R1 and path length, Adam(0.002, 0, 0.99), batch 32, 25M
images); R1 gamma scales with the image area and batch as stylegan2-ada's `auto`, 0.0002 * res^2 /
batch. Writes per-epoch grids, RUN_DIR/samples.png, style_mix.png (coarse styles of the row faces
in the column faces) and truncation.png (psi 1 ... -1), resumes from RUN_DIR/checkpoint, and exports
the EMA generator to BASE_PATH/stylegan2_celeba/<version>, checked to serve the model's images.
"""

import argparse
import math
import os

import zoo

NAME = "stylegan2_celeba"
PRESET = zoo.presets.get("stylegan2")  # the nets, the algorithm and the paper's hyper-parameters
SMOKE = {
    "resolution": 16, "batch_size": 4, "latent_dim": 16, "mapping_layers": 2, "fmap_base": 32, "fmap_max": 8,
    "total_kimg": 0.016, "steps_per_epoch": 2, "ema_half_life_images": 100, "num_figure_images": 4,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    zoo.presets.add_face_arguments(parser, resolution=128)
    parser.add_argument("--total-kimg", type=float, default=25_000, help="thousands of training images")
    parser.add_argument("--truncation-psi", type=float, default=0.7, help="psi of the exported 'truncated' example")
    parser.add_argument("--num-figure-images", type=int, default=6, help="faces per side of the figures")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", NAME), steps_per_epoch=1000, data_dir=True)
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, skip=("epochs", "seed"))
    if args.r1_gamma is None:  # the preset's own default, made explicit for the record
        args.r1_gamma = 0.0002 * args.resolution**2 / args.batch_size
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
    figures = zoo.plotting.save_style_figures(model, args.run_dir, args.num_figure_images, args.seed)
    trained = {"images_seen": int(model.g_optimizer.iterations) * args.batch_size, "r1_gamma": args.r1_gamma}
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
