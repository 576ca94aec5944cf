"""CycleGAN on horse2zebra: unpaired horses <-> zebras (Zhu et al. 2017).

Full scale (tfds `cycle_gan/horse2zebra`, 1,067 horses and 1,334 zebras; the
paper's settings: 256x256 with random jitter 286 -> 256 and mirroring, batch 1,
ResNet generators with 9 blocks (6 below 256), 70x70 PatchGANs with instance
norm, least-squares GAN, cycle weight 10, identity 0.5, a pool of 50 fakes,
Adam 2e-4 beta_1 0.5, 100 epochs constant then 100 decaying linearly to 0):

    python recipes/cyclegan_horse2zebra.py

Another tfds cycle_gan set, or two folders of unpaired images (and two of
held-out ones, e.g. the reference's trainA/trainB/testA/testB):

    python recipes/cyclegan_horse2zebra.py --dataset monet2photo --minutes 600
    python recipes/cyclegan_horse2zebra.py --folder-a horses/trainA --folder-b horses/trainB \\
        --test-folder-a horses/testA --test-folder-b horses/testB --image-size 128

Smoke run (CPU, seconds, offline): domain A is colour crops of scikit-image's
photos, domain B the same kind of crops with their hue turned half way round
the colour wheel (complementary colours: content and brightness kept, colours
changed, as a style or season translation does; one-to-one, so the cycle can
close exactly, unlike grey photos, whose lost colour the cycle would have to
hide). The two domains' crops are drawn with different seeds, so they are
unpaired; held-out crops come from the photo kept out of training:

    python recipes/cyclegan_horse2zebra.py --smoke

Writes per-epoch input | translation | reconstruction grids (rows of A, then B)
to RUN_DIR/samples, resumes from RUN_DIR/checkpoint, scores the cycle on the
held-out images of both domains (mean L1 and PSNR of A -> B -> A against A and
of B -> A -> B against B, in [-1, 1] units), writes RUN_DIR/cyclegan_grid.png,
exports both generators to BASE_PATH/<name>_ab/<version> (A -> B) and
BASE_PATH/<name>_ba/<version> (B -> A), and checks that each export serves
held-out images at twice the training size.
"""

import argparse
import functools
import os

import keras
import numpy as np
import tensorflow as tf

import zoo
import zoo.data.paired  # a submodule: zoo.data imports its tf.data modules when first used

PRESET = zoo.presets.get("cyclegan")  # the paper's nets, losses, pool and schedule
SMOKE = {"epochs": 1, "batch_size": 4, "image_size": 32, "num_blocks": 1, "base_filters": 4}
SMOKE_CROPS = {"train": 16, "test": 8}  # per domain
GRID_ROWS = 4  # per domain


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="horse2zebra", choices=zoo.data.CYCLE_GAN_NAMES,
                        help="tfds cycle_gan config (ignored with --folder-a/--folder-b)")
    parser.add_argument("--folder-a", default=None, help="folder of domain A training images")
    parser.add_argument("--folder-b", default=None, help="folder of domain B training images")
    parser.add_argument("--test-folder-a", default=None, help="held-out domain A images (with --folder-a)")
    parser.add_argument("--test-folder-b", default=None, help="held-out domain B images (with --folder-b)")
    parser.add_argument("--num-test", type=int, default=None, help="held-out images scored per domain (default: all)")
    parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--precision", default="auto", choices=zoo.device.PRECISIONS)
    parser.add_argument("--name", default=None,
                        help="export name, written as NAME_ab and NAME_ba (default: cyclegan_<dataset>; "
                             "cyclegan_folders with folders; cyclegan_horse2zebra for --smoke)")
    parser.add_argument("--run-dir", default=os.path.join("runs", "cyclegan_horse2zebra"))
    parser.add_argument("--base-path", default="saved_models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU: photos <-> hue-rotated photos")
    # smoke sizes as defaults: explicit options still win (e.g. more --epochs to resume)
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


def hue_rotated(images):
    """Photos in [-1, 1] with their hue turned by 180 degrees: the smoke run's domain B."""
    return tf.clip_by_value(tf.image.adjust_hue((images + 1.0) / 2.0, 0.5) * 2.0 - 1.0, -1.0, 1.0)


def photo_domain(domain, split, image_size, seed, **options):
    """Embedded photo crops (domain A) or hue-rotated ones (domain B), drawn with `seed`."""
    photos = zoo.data.embedded_photos(split, image_size=image_size, num_crops=SMOKE_CROPS[split], seed=seed, **options)
    return photos if domain == "A" else photos.map(hue_rotated)


def training_data(args):
    """The `(images_a, images_b)` training batches, the two domains shuffled and jittered apart."""
    source = data_source(args)
    if source == "smoke":
        # Different seeds: the crops of A and B come from different places, so nothing is paired.
        return zoo.data.unpaired(*(
            photo_domain(domain, "train", args.image_size, args.seed + offset, batch_size=args.batch_size)
            for offset, domain in enumerate("AB")
        ))
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
        domains = [photo_domain(domain, "test", image_size, args.seed + 2 + offset, **options)
                   for offset, domain in enumerate("AB")]
    elif source == "folders":
        domains = [zoo.data.image_folder(directory, image_size=image_size, channels=3, **options)
                   for directory in (args.test_folder_a, args.test_folder_b)]
    else:
        domains = [zoo.data.cycle_gan(args.dataset, "test", domain, image_size=image_size, jitter=False, **options)
                   for domain in "AB"]
    return tuple(np.concatenate(list(ds.as_numpy_iterator())) for ds in domains)


def translate_rows(first, second, num_first, images):
    """`first` on the first `num_first` images, `second` on the rest."""
    return np.concatenate([first(images[:num_first]), second(images[num_first:])])


def main(argv=None):
    args = parse_args(argv)
    zoo.device.set_precision(args.precision)
    keras.utils.set_random_seed(args.seed)

    train = training_data(args)
    images_a, images_b = held_out(args, args.image_size)
    channels_a, channels_b = (int(spec.shape[-1]) for spec in train.element_spec)

    model = PRESET.build((args.image_size, args.image_size, channels_b), source_channels=channels_a, **args.options)
    decay = PRESET.callbacks(args.hparams, args.epochs, args.run_dir)  # constant, then linear decay to 0
    budget = [zoo.callbacks.TimeLimit(args.minutes * 60)] if args.minutes else []
    sources = np.concatenate([images_a[:GRID_ROWS], images_b[:GRID_ROWS]])
    num_a = len(images_a[:GRID_ROWS])
    forward = functools.partial(translate_rows, model.translate_ab, model.translate_ba, num_a)
    backward = functools.partial(translate_rows, model.translate_ba, model.translate_ab, num_a)
    grids = zoo.callbacks.TranslationGrid(
        os.path.join(args.run_dir, "samples"), sources, translate=forward,
        render=lambda inputs, outputs, _: [inputs, outputs, backward(outputs)],
    )
    history = zoo.training.train(
        model, train, epochs=args.epochs, run_dir=args.run_dir, steps_per_epoch=args.steps_per_epoch,
        callbacks=[grids, *decay, *budget], samples=False, verbose=2,
    )

    fake_b, fake_a = model.translate_ab(images_a), model.translate_ba(images_b)
    cycled_a, cycled_b = model.translate_ba(fake_b), model.translate_ab(fake_a)
    scores = {"split": "test", "num_a": len(images_a), "num_b": len(images_b)}
    for domain, images, cycled in (("a", images_a, cycled_a), ("b", images_b, cycled_b)):
        scores[f"cycle_l1_{domain}"] = float(np.mean(np.abs(cycled - images)))
        scores[f"cycle_psnr_{domain}"] = float(np.mean(tf.image.psnr(cycled, images, max_val=2.0)))
    print("evaluation:", {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()})
    grid_path = os.path.join(args.run_dir, "cyclegan_grid.png")
    rows = [(images[:GRID_ROWS], fake[:GRID_ROWS], cycled[:GRID_ROWS])
            for images, fake, cycled in ((images_a, fake_b, cycled_a), (images_b, fake_a, cycled_b))]
    rows = np.concatenate([np.stack(columns, axis=1) for columns in rows])
    zoo.plotting.save_grid(rows.reshape((-1, *rows.shape[2:])), grid_path, num_rows=len(rows))

    source = data_source(args)
    name = args.name or {"smoke": "cyclegan_horse2zebra", "folders": "cyclegan_folders"}.get(
        source, f"cyclegan_{args.dataset}")
    dataset = {"smoke": "smoke_photos2hue_rotated", "folders": f"{args.folder_a} <-> {args.folder_b}"}.get(
        source, f"cycle_gan/{args.dataset}")
    # Fully convolutional: each export serves held-out images at twice the training size.
    large = held_out(args, 2 * args.image_size, limit=GRID_ROWS)
    exports, served = {}, {}
    for direction, images in (("ab", large[0]), ("ba", large[1])):
        exports[direction] = zoo.export.export_translator(
            model, f"{name}_{direction}", base_path=args.base_path, direction=direction,
            metadata={"dataset": dataset, "from_domain": direction[0].upper(), "to_domain": direction[1].upper(),
                      "train_image_size": args.image_size},
        )
        serve = tf.saved_model.load(exports[direction]).signatures["serving_default"]
        served[direction] = tuple(serve(images=tf.constant(images))["images"].shape)
        print(f"export {direction}: {exports[direction]} (serves {images.shape} -> {served[direction]})")
    print(f"grid: {grid_path}")
    result = {
        "history": history.history, "grid": grid_path, "evaluation": scores, "exports": exports,
        "served_shapes": served, "run_dir": args.run_dir,
    }
    if budget:
        result["train_seconds"] = budget[0].elapsed
    return result


if __name__ == "__main__":
    main()
