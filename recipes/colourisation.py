"""Colourisation in Lab space: the lecture's encoder-decoder, the GAN colouriser and the L2 baseline.

    python recipes/colourisation.py --variant gan --data cifar10 --image-size 32 --epochs 50      # GPU
    python recipes/colourisation.py --variant encoder_decoder --data PHOTOS --test-data TEST --image-size 224
    python recipes/colourisation.py --variant gan --minutes 10      # CPU: crops of scikit-image's photos
    python recipes/colourisation.py --smoke

A colouriser sees the lightness L of a photo and predicts its colour channels ab; the output keeps
the input's L. `encoder_decoder` (a): Deep Koalarization (Baldassarre et al. 2017) trained by MSE,
its fusion layer fed by Inception-ResNet-v2 when ImageNet weights load (`--fusion auto`). `gan` (b):
the `colourisation` preset, pix2pix on L -> ab (U-Net, PatchGAN, L1 100), after L1-only
pre-training (`--pretrain-epochs`, DeOldify's "NoGAN" phase). `regression`: the same U-Net by L2,
the washed-out baseline. Writes RUN_DIR/<phase>/ (checkpoint, grey | prediction | truth grids),
RUN_DIR/test_grid.png, prints PSNR, SSIM and colourfulness on held-out photos, and exports the
colouriser (RGB or grey in, colour out) to BASE_PATH/colourisation_<variant>/<version>.
"""

import argparse
import os
import sys

import keras
import numpy as np

import zoo

VARIANTS = ("encoder_decoder", "gan", "regression")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", default="gan", choices=VARIANTS)
    parser.add_argument("--data", default="photos",
                        help="'photos' (embedded), a registered RGB dataset (cifar10, celeb_a) or a folder")
    parser.add_argument("--test-data", default=None, help="held-out folder when --data is a folder")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--num-crops", type=int, default=2048, help="photos: training crops")
    parser.add_argument("--num-test", type=int, default=256, help="held-out images scored")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--pretrain-epochs", type=int, default=5, help="gan: epochs of L1-only pre-training")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--base-filters", type=int, default=64)
    parser.add_argument("--num-downsamples", type=int, default=None,
                        help="U-Net depth (default: down to 1x1, as the paper's U-Net-256)")
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--fusion", default="auto",
                        help="encoder_decoder: 'auto' (Inception-ResNet-v2 ImageNet weights if they load), "
                             "'off', or a path to those weights (.h5)")
    parser.add_argument("--pretrained", action="store_true",
                        help="also save the trained model as a pretrained preset beside the export (not encoder_decoder)")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "colourisation"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.image_size, args.num_crops, args.num_test, args.batch_size = 32, 32, 16, 8
        args.epochs, args.pretrain_epochs, args.base_filters = 1, 1, 4
        if args.fusion == "auto":
            args.fusion = "off"  # trying the download costs half a minute offline
    return args


def load_data(args):
    """(training dataset of RGB images, held-out RGB images as an array)."""
    train_options = {"batch_size": args.batch_size, "seed": args.seed, "image_size": args.image_size}
    test_options = {"batch_size": args.num_test, "shuffle": False, "drop_remainder": False,
                    "image_size": args.image_size, "limit": args.num_test}
    if args.data == "photos":
        train = zoo.data.embedded_photos("train", num_crops=args.num_crops, **train_options)
        test = zoo.data.embedded_photos("test", num_crops=args.num_test, seed=args.seed + 1, **test_options)
    elif args.data in zoo.data.DATASETS:
        train = zoo.data.load(args.data, **train_options)
        test = zoo.data.load(args.data, split="test", **test_options)
    else:
        if not args.test_data:
            raise ValueError("--data is a folder: pass --test-data, a folder of held-out photos")
        train = zoo.data.image_folder(args.data, channels=3, **train_options)
        test = zoo.data.image_folder(args.test_data, channels=3, **test_options)
    return train, next(iter(test)).numpy()


def adam(args):
    return keras.optimizers.Adam(args.learning_rate, beta_1=0.5)


def phases(args):
    """[(name, model, epochs)] to train in order; the models share their generator."""
    if args.variant == "encoder_decoder":
        extractor, message = zoo.nets.inception_resnet_fusion(args.fusion)
        print(message, flush=True)
        net = zoo.nets.colourisation_net(base_filters=args.base_filters, fusion_extractor=extractor)
        model = zoo.models.Pix2Pix(net, None, reconstruction="l2", reconstruction_weight=1.0, adversarial_weight=0.0)
        model.compile(d_optimizer=adam(args), g_optimizer=adam(args))
        model.fusion_message = message
        return [("regression", model, args.epochs)]
    # The colourisation preset's nets (hparams below), built in the order of the shipped run.
    unet = zoo.nets.unet_generator(1, 2, num_downsamples=args.num_downsamples or int(np.log2(args.image_size)),
                                   base_filters=args.base_filters)
    if args.variant == "regression":
        model = zoo.models.Pix2Pix(unet, None, reconstruction="l2", reconstruction_weight=1.0, adversarial_weight=0.0)
        model.compile(d_optimizer=adam(args), g_optimizer=adam(args))
        return [("regression", model, args.epochs)]
    pretrain = zoo.models.Pix2Pix(unet, None, reconstruction="l1", reconstruction_weight=1.0, adversarial_weight=0.0)
    discriminator = zoo.nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=args.base_filters)
    gan = zoo.models.Pix2Pix(unet, discriminator, reconstruction_weight=100.0, seed=args.seed)
    for model in (pretrain, gan):
        model.compile(d_optimizer=adam(args), g_optimizer=adam(args))
    return [("pretrain", pretrain, args.pretrain_epochs), ("adversarial", gan, args.epochs)]


def hparams(args):
    """The colourisation preset's options this recipe sets."""
    return {"variant": args.variant, "base_filters": args.base_filters, "num_downsamples": args.num_downsamples,
            "learning_rate": args.learning_rate, "seed": args.seed}


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    train, test_rgb = load_data(args)
    pairs = zoo.data.lab_pairs(train)
    grid_l, grid_ab = zoo.data.rgb_to_model_lab(test_rgb[:8])

    planned = phases(args)
    total_epochs = sum(epochs for _, _, epochs in planned)
    result = {"variant": args.variant, "history": {}}
    if hasattr(planned[0][1], "fusion_message"):
        result["fusion"] = planned[0][1].fusion_message
    for name, model, epochs in planned:
        if epochs < 1:
            continue
        grids = zoo.callbacks.TranslationGrid(os.path.join(args.run_dir, name, "samples"), grid_l.numpy(),
                                              grid_ab.numpy(), render=zoo.plotting.lab_columns)
        history = zoo.training.train(
            model, pairs, epochs=epochs, run_dir=os.path.join(args.run_dir, name), callbacks=[grids], samples=False,
            minutes=args.minutes and args.minutes * epochs / total_epochs, steps_per_epoch=args.steps_per_epoch,
            verbose=2,
        )
        result["history"][name] = history.history

    generator = planned[-1][1].generator
    scores, lightness, predicted, truth = zoo.metrics.colourisation_scores(generator, test_rgb)
    grid_path = zoo.plotting.save_rows(os.path.join(args.run_dir, "test_grid.png"),
                                       np.repeat(lightness[:8], 3, axis=-1), predicted[:8], truth[:8],
                                       title=f"{args.variant}: grey | colourised | truth")
    print("held-out:", {k: round(v, 3) if isinstance(v, float) else v for k, v in scores.items()}, flush=True)
    export_path = zoo.export.export_translator(
        generator, f"colourisation_{args.variant}", base_path=args.base_path,
        metadata={"variant": args.variant, "data": args.data, "image_size": args.image_size},
    )
    print(f"grid: {grid_path}\nexport: {export_path}")
    if args.pretrained and args.variant != "encoder_decoder":
        options = {**hparams(args), "epochs": args.epochs, "batch_size": args.batch_size}
        facts = {"preset": "colourisation", "hparams": zoo.presets.get("colourisation").hparams(**options),
                 "dataset": args.data, "image_shape": [args.image_size, args.image_size, 3], "num_classes": None,
                 "command": ["python", "recipes/colourisation.py", *(argv or sys.argv[1:])], "exports": [export_path]}
        print(f"pretrained preset: {zoo.pretrained.save(planned[-1][1], os.path.dirname(export_path), facts)}")
    result.update({"scores": scores, "grid": grid_path, "export": export_path})
    return result


if __name__ == "__main__":
    main()
