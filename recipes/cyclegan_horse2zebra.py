"""CycleGAN on horse2zebra: unpaired horses <-> zebras (Zhu et al. 2017).

    python recipes/cyclegan_horse2zebra.py                          # tfds cycle_gan/horse2zebra
    python recipes/cyclegan_horse2zebra.py --dataset monet2photo --minutes 600
    python recipes/cyclegan_horse2zebra.py --dataset datasets/horse2zebra --image-size 128  # trainA, trainB, testA, testB
    python recipes/cyclegan_horse2zebra.py --smoke                  # seconds on a CPU, offline

The `cyclegan` preset holds the paper's settings (256x256 with jitter, batch 1, ResNet generators,
70x70 PatchGANs with instance norm, least squares, cycle 10, identity 0.5, a pool of 50, Adam 2e-4,
100 epochs then a linear decay). The smoke run's domain A is crops of scikit-image's photos, domain B
other crops with their hue turned half way round (colours changed, content kept, one-to-one), so
unpaired. Writes per-epoch input | translation | reconstruction grids, scores the cycle on held-out
images of both domains (L1, PSNR), writes RUN_DIR/cyclegan_grid.png, exports both generators to
BASE_PATH/NAME_ab and NAME_ba, and checks each serves twice the training size.
"""

import argparse
import os

import numpy as np

import zoo

PRESET = zoo.presets.get("cyclegan")  # the paper's nets, losses, pool and schedule
SMOKE = {"epochs": 1, "batch_size": 4, "image_size": 32, "num_blocks": 1, "base_filters": 4}
ROWS = 4  # grid rows per domain


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="horse2zebra", help=f"a tfds cycle_gan set ({', '.join(zoo.data.CYCLE_GAN_NAMES)}) "
                        "or a folder holding trainA, trainB, testA and testB, as the authors' downloads")
    parser.add_argument("--num-test", type=int, default=None, help="held-out images scored per domain (default: all)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--name", default=None, help="export names NAME_ab and NAME_ba (default: cyclegan_<dataset>)")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "cyclegan_horse2zebra"))
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)


def dataset(args):
    """A tfds name or a folder; with --smoke, a folder of photo crops and hue-rotated ones written offline."""
    smoke = args.smoke and zoo.data.hue_rotated_folders(os.path.join(args.run_dir, "smoke_data"), args.seed, args.image_size)
    return smoke or args.dataset


def held_out(source, image_size, limit=None):
    """The held-out images of A and of B, resized without jitter, as two numpy arrays."""
    return tuple(zoo.data.collect(zoo.data.cycle_gan(
        source, "test", domain, image_size=image_size, jitter=False, batch_size=64, shuffle=False,
        drop_remainder=False, cache=False, limit=limit)) for domain in "AB")


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    source = dataset(args)
    train = zoo.data.cycle_gan(source, batch_size=args.batch_size, image_size=args.image_size, seed=args.seed)
    images_a, images_b = held_out(source, args.image_size, args.num_test)
    model = PRESET.build((args.image_size, args.image_size, 3), **args.options)
    decay = PRESET.callbacks(args.hparams, args.epochs, args.run_dir)  # constant, then linear decay to 0
    grids = zoo.callbacks.TranslationGrid.cycle(os.path.join(args.run_dir, "samples"), model, images_a[:ROWS],
                                                images_b[:ROWS])  # input | translation | reconstruction
    history = zoo.training.train(model, train, epochs=args.epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, callbacks=[grids, *decay], samples=False,
                                 verbose=2)
    scores, fakes, cycled = zoo.metrics.cycle_scores(model, images_a, images_b)
    print("evaluation:", {"split": "test", **scores})
    grid_path = zoo.plotting.save_rows(os.path.join(args.run_dir, "cyclegan_grid.png"), *(
        np.concatenate([x[:ROWS], y[:ROWS]]) for x, y in ((images_a, images_b), fakes, cycled)))
    name = args.name or f"cyclegan_{os.path.basename(os.path.normpath(args.dataset))}"
    described = "smoke_photos2hue_rotated" if args.smoke else args.dataset if os.path.isdir(args.dataset) else \
        f"cycle_gan/{args.dataset}"
    # Fully convolutional: each export serves held-out images at twice the training size.
    large = dict(zip(("ab", "ba"), held_out(source, 2 * args.image_size, limit=ROWS)))
    exports = dict(zip(("ab", "ba"), zoo.export.export_model(
        model, name, base_path=args.base_path, metadata={"dataset": described, "train_image_size": args.image_size})))
    served = {d: zoo.export.translate_with_export(exports[d], large[d]).shape for d in exports}
    print(f"grid: {grid_path}\nexports: {exports} (serving {served})")
    return {"history": history.history, "grid": grid_path, "evaluation": {"split": "test", **scores}, "exports": exports,
            "served_shapes": served, "run_dir": args.run_dir,
            **({"train_seconds": history.train_seconds} if args.minutes else {})}


if __name__ == "__main__":
    main()
