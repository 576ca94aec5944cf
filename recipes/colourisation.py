"""Colourisation in Lab space: the lecture's encoder-decoder, the GAN colouriser and the L2 baseline.

    python recipes/colourisation.py --variant gan --data cifar10 --image-size 32 --epochs 50      # GPU
    python recipes/colourisation.py --variant encoder_decoder --data PHOTOS --test-data TEST --image-size 224
    python recipes/colourisation.py --variant gan --minutes 10      # CPU: crops of scikit-image's photos
    python recipes/colourisation.py --smoke

A colouriser sees the lightness L of a photo and predicts its colour channels ab. The `colourisation`
preset builds each variant: `encoder_decoder` (a), Deep Koalarization (Baldassarre et al. 2017) by MSE;
`gan` (b), pix2pix on L -> ab, here after L1-only pre-training (`--pretrain-epochs`, DeOldify's "NoGAN");
`regression`, the U-Net by L2, the washed-out baseline. Writes RUN_DIR (checkpoint, grey | prediction |
truth grids; the pre-training's in RUN_DIR/pretrain/) and RUN_DIR/test_grid.png, prints PSNR, SSIM and colourfulness on held-out
photos, exports the colouriser (RGB or grey in, colour out) to BASE_PATH/colourisation_<variant>/.
The U-Net colourises as the paper tests (`--inference paper`, the default: dropout on, each image's own
batch-norm statistics) or with `--inference deterministic`; held-out photos are scored in both modes, and the
export serves `--inference` by default and both modes by name (`paper`, `deterministic`). The encoder-decoder
has no batch norm and no dropout: its two modes are the same.
"""

import argparse
import os
import sys

import numpy as np

import zoo

PRESET = zoo.presets.get("colourisation")
SMOKE = {"image_size": 32, "num_crops": 32, "num_test": 16, "batch_size": 8, "epochs": 1, "pretrain_epochs": 1,
         "base_filters": 4, "fusion": "off"}  # trying the ImageNet download costs half a minute offline


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="photos",
                        help="'photos' (embedded), a registered RGB dataset (cifar10, celeb_a) or a folder")
    parser.add_argument("--test-data", default=None, help="held-out folder when --data is a folder")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-crops", type=int, default=2048, help="photos: training crops")
    parser.add_argument("--num-test", type=int, default=256, help="held-out images scored")
    parser.add_argument("--pretrained", action="store_true",
                        help="also save the trained model as a pretrained preset beside the export (not encoder_decoder)")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "colourisation"))
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def main(argv=None):
    args = parse_args(argv)
    variant = args.hparams["variant"]
    zoo.device.prepare(args.precision, args.seed)
    train, test_rgb = zoo.data.colour_photos(args.data, image_size=args.image_size, batch_size=args.batch_size,
                                             seed=args.seed, num_crops=args.num_crops, num_test=args.num_test,
                                             test_source=args.test_data)
    phases = PRESET.build_phases((args.image_size, args.image_size, 2), **args.options)
    model = phases[-1].model
    grid_l, grid_ab = (x.numpy() for x in zoo.data.rgb_to_model_lab(test_rgb[:8]))
    histories = zoo.training.train_phases(
        phases, zoo.data.lab_pairs(train), args.epochs, args.run_dir, minutes=args.minutes, samples=False,
        steps_per_epoch=args.steps_per_epoch, verbose=2, phase_callbacks=lambda folder: [zoo.callbacks.TranslationGrid(
            os.path.join(folder, "samples"), grid_l, grid_ab, render=zoo.plotting.lab_columns)])
    result = {"variant": variant, "history": {name: h.history for name, h in histories.items()},
              **({"fusion": model.fusion} if hasattr(model, "fusion") else {})}
    scores, lightness, predicted, truth = zoo.metrics.colourisation_scores(model.inference_net(), test_rgb)
    other = next(mode for mode in zoo.models.pix2pix.INFERENCE if mode != model.inference)
    scores = {"inference": model.inference, **scores,
              other: zoo.metrics.colourisation_scores(model.inference_net(other), test_rgb)[0]}
    grid_path = zoo.plotting.save_rows(os.path.join(args.run_dir, "test_grid.png"), np.repeat(lightness[:8], 3, axis=-1),
                                       predicted[:8], truth[:8], title=f"{variant}: grey | colourised | truth")
    print("held-out:", {k: round(v, 3) if isinstance(v, float) else v for k, v in scores.items() if k != other},
          f"| {other}:", {k: round(v, 3) for k, v in scores[other].items() if isinstance(v, float)}, flush=True)
    export_path = zoo.export.export_translator(model, f"colourisation_{variant}", base_path=args.base_path,
                                               metadata={"variant": variant, "data": args.data, "image_size": args.image_size})
    print(f"grid: {grid_path}\nexport: {export_path}")
    if args.pretrained and variant != "encoder_decoder":
        facts = {"preset": "colourisation", "hparams": args.hparams, "dataset": args.data, "num_classes": None,
                 "image_shape": [args.image_size, args.image_size, 3], "exports": [export_path],
                 "command": ["python", "recipes/colourisation.py", *(argv or sys.argv[1:])]}
        print(f"pretrained preset: {zoo.pretrained.save(model, os.path.dirname(export_path), facts)}")
    return {**result, "scores": scores, "grid": grid_path, "export": export_path}


if __name__ == "__main__":
    main()
