"""pix2pix on CMP Facades: architectural label maps -> photos (Isola et al. 2017).

    python recipes/pix2pix_facades.py                                    # downloads facades (400 pairs)
    python recipes/pix2pix_facades.py --data datasets/facades --minutes 60   # train/ and test/ or val/ of A|B files
    python recipes/pix2pix_facades.py --smoke      # seconds on a CPU: edges -> photo on embedded photo crops

The `pix2pix` preset holds the paper's settings (256x256, batch 1, 200 epochs, U-Net-256, 70x70
PatchGAN, L1 weight 100, Adam 2e-4 beta_1 0.5). Facades files are photo | labels, so labels -> photo
is BtoA, as in the reference code (`train.py --model pix2pix --direction BtoA`). Writes per-epoch
source | output | target grids, scores the held-out split (mean L1, PSNR, SSIM) in both inference modes
(`--inference paper`, the default: dropout on and each image's own batch-norm statistics, as the paper tests;
`deterministic`: no dropout, moving averages), writes source | paper | deterministic | target rows to
RUN_DIR/pix2pix_grid.png, exports the generator to BASE_PATH/pix2pix_facades/<version> (serving `--inference`
by default, both modes by name) and checks that the export serves held-out images at twice the training size.
"""

import argparse
import os

import zoo

PRESET = zoo.presets.get("pix2pix")  # the paper's nets, losses and settings
SMOKE = {"epochs": 1, "batch_size": 4, "image_size": 32, "base_filters": 4}
ROWS = 4


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="folder with train/ and test/ or val/ (default: download)")
    parser.add_argument("--held-out", default=None, choices=("test", "val"), help="split to score (default: test)")
    parser.add_argument("--image-size", type=int, default=256)
    zoo.presets.add_recipe_arguments(parser, os.path.join("runs", "pix2pix_facades"))
    return zoo.presets.parse_arguments(parser, argv, PRESET, smoke=SMOKE, defaults={"direction": "BtoA"})


def data_root(args):
    if args.smoke:
        return zoo.data.edge_photo_pairs(os.path.join(args.run_dir, "smoke_data"), args.seed)
    return args.data or zoo.data.pix2pix_dataset("facades")


def held_out(split, args, image_size, limit=None):
    """Every (sources, targets) of a split, resized without jitter, as numpy arrays."""
    return zoo.data.collect(zoo.data.paired_folder(split, direction=args.direction, image_size=image_size, jitter=False,
                                                   batch_size=64, shuffle=False, drop_remainder=False, cache=False, limit=limit))


def main(argv=None):
    args = parse_args(argv)
    zoo.device.prepare(args.precision, args.seed)
    root = data_root(args)
    split = os.path.join(root, args.held_out or ("test" if os.path.isdir(os.path.join(root, "test")) else "val"))
    sources, targets = held_out(split, args, args.image_size)
    train = zoo.data.paired_folder(os.path.join(root, "train"), direction=args.direction,
                                   image_size=args.image_size, batch_size=args.batch_size, seed=args.seed)
    channels = [int(spec.shape[-1]) for spec in train.element_spec]
    model = PRESET.build((args.image_size, args.image_size, channels[1]), source_channels=channels[0], **args.options)
    grids = zoo.callbacks.TranslationGrid(os.path.join(args.run_dir, "samples"), sources[:ROWS], targets[:ROWS])
    history = zoo.training.train(model, train, epochs=args.epochs, run_dir=args.run_dir, minutes=args.minutes,
                                 steps_per_epoch=args.steps_per_epoch, callbacks=[grids], samples=False, verbose=2)
    outputs = {mode: model.translate(sources, inference=mode) for mode in zoo.models.pix2pix.INFERENCE}
    by_mode = {mode: zoo.metrics.translation_scores(made, targets) for mode, made in outputs.items()}
    scores = {"split": os.path.basename(split), "inference": model.inference, **by_mode[model.inference]}
    print("evaluation:", scores, "| other mode:", {m: s for m, s in by_mode.items() if m != model.inference})
    grid_path = zoo.plotting.save_rows(os.path.join(args.run_dir, "pix2pix_grid.png"), sources[:ROWS],
                                       outputs["paper"][:ROWS], outputs["deterministic"][:ROWS], targets[:ROWS],
                                       title="source | paper (dropout, own statistics) | deterministic | target")
    dataset = "smoke_edges2photos" if args.smoke else os.path.basename(os.path.normpath(root))
    export_path = zoo.export.export_translator(model, "pix2pix_facades", base_path=args.base_path, metadata={
        "dataset": dataset, "pix2pix_direction": args.direction, "train_image_size": args.image_size})
    # Fully convolutional: the export serves held-out images at twice the training size.
    large = held_out(split, args, 2 * args.image_size, limit=ROWS)[0]
    served = zoo.export.translate_with_export(export_path, large)
    print(f"grid: {grid_path}\nexport: {export_path} (serves {large.shape} -> {served.shape})")
    result = {"history": history.history, "grid": grid_path, "evaluation": scores, "evaluation_by_mode": by_mode,
              "export": export_path,
              "served_shape": served.shape, "run_dir": args.run_dir}
    if args.minutes:
        result["train_seconds"] = history.train_seconds
    return result


if __name__ == "__main__":
    main()
