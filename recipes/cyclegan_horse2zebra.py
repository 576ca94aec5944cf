"""CycleGAN on horse2zebra: unpaired horses <-> zebras (Zhu et al. 2017).

    python recipes/cyclegan_horse2zebra.py                          # tfds cycle_gan/horse2zebra
    python recipes/cyclegan_horse2zebra.py --dataset monet2photo --minutes 600
    python recipes/cyclegan_horse2zebra.py --folder-a horses/trainA --folder-b horses/trainB \\
        --test-folder-a horses/testA --test-folder-b horses/testB --image-size 128
    python recipes/cyclegan_horse2zebra.py --smoke                  # seconds on a CPU, offline

The `cyclegan` preset holds the paper's settings (256x256 with jitter, batch 1, ResNet generators,
70x70 PatchGANs with instance norm, least squares, cycle 10, identity 0.5, a pool of 50, Adam 2e-4,
100 epochs then a linear decay). The smoke run's domain A is crops of scikit-image's photos, domain B
such crops with their hue turned half way round (colours changed, content kept, one-to-one), drawn
with other seeds, so unpaired. Writes per-epoch input | translation | reconstruction grids, scores
the cycle on held-out images of both domains (L1, PSNR), writes RUN_DIR/cyclegan_grid.png, exports
both generators to BASE_PATH/NAME_ab and NAME_ba, and checks each serves twice the training size.
"""

import argparse
import os

import numpy as np

import zoo
import zoo.data.paired  # a submodule: zoo.data imports its tf.data modules when first used

PRESET = zoo.presets.get("cyclegan")  # the paper's nets, losses, pool and schedule
SMOKE = {"epochs": 1, "batch_size": 4, "image_size": 32, "num_blocks": 1, "base_filters": 4}
SMOKE_CROPS = {"train": 16, "test": 8}  # per domain
ROWS = 4  # grid rows per domain


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="horse2zebra", choices=zoo.data.CYCLE_GAN_NAMES,
                        help="tfds cycle_gan config (ignored with --folder-a/--folder-b)")
    parser.add_argument("--folder-a", default=None, help="folder of domain A training images")
    parser.add_argument("--folder-b", default=None, help="folder of domain B training images")
    parser.add_argument("--test-folder-a", default=None, help="held-out domain A images (with --folder-a)")
    parser.add_argument("--test-folder-b", default=None, help="held-out domain B images (with --folder-b)")
    parser.add_argument("--num-test", type=int, default=None, help="held-out images scored per domain (default: all)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--name", default=None, help="export names NAME_ab and NAME_ba (default: cyclegan_<dataset>, "
                        "cyclegan_folders with folders, cyclegan_horse2zebra for --smoke)")
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "cyclegan_horse2zebra"))
    args = zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE)
    folders = (args.folder_a, args.folder_b, args.test_folder_a, args.test_folder_b)
    if any(folders) and not all(folders):
        raise ValueError(
            "--folder-a, --folder-b, --test-folder-a and --test-folder-b go together: "
            "two training folders and two held-out ones"
        )
    if args.smoke and any(folders):
        raise ValueError("--smoke trains on embedded photos: drop the --folder-* options")
    return args


def data_source(args):
    """'smoke', 'folders' or 'tfds'."""
    return "smoke" if args.smoke else "folders" if args.folder_a else "tfds"


def training_data(args):
    """The `(images_a, images_b)` training batches, the two domains shuffled and jittered apart."""
    source = data_source(args)
    if source == "smoke":
        # Different seeds: the crops of A and B come from different places, so nothing is paired.
        return zoo.data.unpaired(*zoo.data.hue_rotated_photos(
            "train", image_size=args.image_size, num_crops=SMOKE_CROPS["train"], seed=args.seed, batch_size=args.batch_size))
    if source == "folders":
        return zoo.data.unpaired(*(
            zoo.data.jittered_folder(directory, args.image_size, batch_size=args.batch_size, seed=args.seed + offset)
            for offset, directory in enumerate((args.folder_a, args.folder_b))
        ))
    return zoo.data.cycle_gan(args.dataset, batch_size=args.batch_size, image_size=args.image_size, seed=args.seed)


def held_out(args, image_size, limit=None):
    """The held-out images of A and of B, resized without jitter, as two numpy arrays."""
    limit = limit or args.num_test
    options = {"batch_size": 64, "shuffle": False, "drop_remainder": False, "cache": False, "limit": limit}
    source = data_source(args)
    if source == "smoke":
        domains = zoo.data.hue_rotated_photos("test", image_size=image_size, num_crops=SMOKE_CROPS["test"],
                                              seed=args.seed + 2, **options)
    elif source == "folders":
        domains = [zoo.data.image_folder(directory, image_size=image_size, channels=3, **options)
                   for directory in (args.test_folder_a, args.test_folder_b)]
    else:
        domains = [zoo.data.cycle_gan(args.dataset, "test", domain, image_size=image_size, jitter=False, **options)
                   for domain in "AB"]
    return tuple(zoo.data.collect(domain) for domain in domains)


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    train = training_data(args)
    images_a, images_b = held_out(args, args.image_size)
    channels_a, channels_b = (int(spec.shape[-1]) for spec in train.element_spec)
    model = PRESET.build((args.image_size, args.image_size, channels_b), source_channels=channels_a, **args.options)
    decay = PRESET.callbacks(args.hparams, args.epochs, args.run_dir)  # constant, then linear decay to 0
    grids = zoo.callbacks.TranslationGrid.cycle(os.path.join(args.run_dir, "samples"), model, images_a[:ROWS],
                                                images_b[:ROWS])  # input | translation | reconstruction
    history = zoo.training.train(model, train, epochs=args.epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, callbacks=[grids, *decay], samples=False,
                                 verbose=2)
    fake_b, fake_a = model.translate_ab(images_a), model.translate_ba(images_b)
    cycled_a, cycled_b = model.translate_ba(fake_b), model.translate_ab(fake_a)
    scores = {"split": "test", "num_a": len(images_a), "num_b": len(images_b)}
    for domain, images, cycled in (("a", images_a, cycled_a), ("b", images_b, cycled_b)):
        cycle = zoo.metrics.translation_scores(cycled, images)
        scores.update({f"cycle_l1_{domain}": cycle["l1"], f"cycle_psnr_{domain}": cycle["psnr"]})
    print("evaluation:", scores)
    grid_path = zoo.plotting.save_rows(
        os.path.join(args.run_dir, "cyclegan_grid.png"), *(np.concatenate([x[:ROWS], y[:ROWS]]) for x, y in
                                                          ((images_a, images_b), (fake_b, fake_a), (cycled_a, cycled_b))))
    source = data_source(args)
    name = args.name or {"smoke": "cyclegan_horse2zebra", "folders": "cyclegan_folders"}.get(
        source, f"cyclegan_{args.dataset}")
    dataset = {"smoke": "smoke_photos2hue_rotated", "folders": f"{args.folder_a} <-> {args.folder_b}"}.get(
        source, f"cycle_gan/{args.dataset}")
    # Fully convolutional: each export serves held-out images at twice the training size.
    large = dict(zip(("ab", "ba"), held_out(args, 2 * args.image_size, limit=ROWS)))
    exports = dict(zip(("ab", "ba"), zoo.export.export_model(
        model, name, base_path=args.base_path, metadata={"dataset": dataset, "train_image_size": args.image_size})))
    served = {d: zoo.export.translate_with_export(exports[d], large[d]).shape for d in exports}
    print(f"grid: {grid_path}\nexports: {exports} (serving {served})")
    result = {"history": history.history, "grid": grid_path, "evaluation": scores, "exports": exports,
              "served_shapes": served, "run_dir": args.run_dir}
    if args.minutes:
        result["train_seconds"] = history.train_seconds
    return result


if __name__ == "__main__":
    main()
