"""The `zoo` command: list, train, sample, export, serve-config, evaluate, stats, classifier."""

import argparse
import contextlib
import os
import re
import sys

from zoo import files

MAIN_HELP = """zoo: generative models trained with keras.Model.fit.

examples:
  zoo list
  zoo train dcgan --dataset digits --epochs 20
  zoo train dcgan --dataset celeb_a --strategy mirrored --batch-size 512
  zoo sample --checkpoint runs/dcgan-digits/checkpoint --output grid.png
  zoo export --checkpoint runs/dcgan-digits/checkpoint --name digits_dcgan
  zoo sample --preset digits_cgan --output cgan.png
  zoo train cgan --dataset digits --init-from digits_cgan --epochs 5
  zoo serve-config --root /models
  zoo classifier --dataset digits --output digits.keras
  zoo evaluate saved_models/digits_dcgan --metric fid --metric kid --reference digits --extractor digits.keras
  zoo stats cifar10 --reference-split train --protocol tf1 --output cifar10_tf1.npz
"""


def keras_backend():
    import keras

    return keras.backend.backend()


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _dataset(name, batch_size, image_size, seed, limit, with_labels=False):
    """tf.data on TensorFlow; on other backends numpy batches where the data fit in memory.

    `name`: a registered dataset, `mnist_idx:DIR` or a folder of MNIST IDX files (its
    "train" split: the first 8,000 images, as `zoo.data.mnist_idx`), or a folder of images.
    """
    import keras

    from zoo import data
    from zoo.data.mnist_idx import PREFIX, idx_folder

    options = {"batch_size": batch_size, "seed": seed, "limit": limit, "with_labels": with_labels}
    if image_size is not None:  # else each loader's own default size
        options["image_size"] = image_size
    idx = idx_folder(name)
    if keras.backend.backend() != "tensorflow" and data.arrays.supports(idx or name):
        return data.in_memory(idx or name, **options)
    if idx is not None:
        dataset = data.mnist_idx(idx, "train", **options)
        dataset.class_names = [str(digit) for digit in range(10)]  # labels for the conditional models
        return dataset
    if name in data.DATASETS:
        return data.load(name, **options)
    if os.path.isdir(name):
        return data.image_folder(name, **options)
    raise ValueError(
        f"unknown dataset {name!r}; known: {', '.join(data.list_datasets())}, a folder of images, "
        f"{PREFIX}DIR or a folder of MNIST IDX files"
    )


def cmd_list(args):
    from zoo import data, presets

    print("models (zoo train NAME --help for a model's options):")
    for name in sorted(presets.PRESETS):
        preset = presets.PRESETS[name]
        print(f"  {name:15s} [{presets.DATA_LABELS[preset.data]}] {preset.description}")
    from zoo import pretrained

    print("pretrained (zoo.from_preset NAME, zoo sample --preset NAME, zoo train MODEL --init-from NAME):")
    for name in sorted(pretrained.PRETRAINED):
        entry = pretrained.PRETRAINED[name]
        print(f"  {name:18s} [{entry.preset}] {entry.description}")
    print("datasets:")
    for name in data.list_datasets():
        print(f"  {name:14s} {data.describe(name)}")
    print("  <folder>       any folder of PNG/JPEG images (class subfolders give labels)")
    print(f"  {EDGES2PHOTOS:14s} image pairs for pix2pix, offline: crops of scikit-image's photos | their edge maps")
    for name, description in data.PIX2PIX_DATASETS.items():
        print(f"  {name:14s} image pairs for pix2pix (downloaded): {description}")
    return 0


def _strategy(args):
    """The --strategy, made before any other TensorFlow work (multi-worker needs that)."""
    from zoo import distributed

    if args.cpu_replicas and args.strategy != "mirrored":
        raise ValueError(f"--cpu-replicas needs --strategy mirrored, got --strategy {args.strategy}")
    devices = distributed.split_cpu(args.cpu_replicas) if args.cpu_replicas else None
    return distributed.make_strategy(args.strategy, devices=devices)


def cmd_train(args):
    # The run directory's lock is held from when it is known until the export is written.
    with contextlib.ExitStack() as held:
        return _train(args, held)


def _train(args, held):
    from zoo import data, device, presets, training

    if keras_backend() == "tensorflow":
        from zoo import distributed

    import keras

    preset = presets.get(args.model)  # fails fast on an unknown model
    if args.best:
        scored = [name for metric in args.metric or () for name in _BEST_NAMES.get(metric, (metric,))]
        if args.best not in scored:
            raise ValueError(f"--best {args.best} keeps the state with the best value of a metric scored during "
                             f"training; the --metric flags score {', '.join(scored) or 'nothing'} "
                             "(e.g. --metric fid --best fid)")
    if args.metric and preset.serves not in SAMPLERS:
        raise ValueError(f"--metric scores sampled images; {args.model} serves {presets.SERVES[preset.serves]}: "
                         "score its outputs with zoo.metrics instead")
    on_tensorflow = keras.backend.backend() == "tensorflow"
    if on_tensorflow:
        strategy = _strategy(args)
        chief, replicas = distributed.is_chief(strategy), strategy.num_replicas_in_sync
    else:  # JAX: keras.distribution shards the batches inside fit
        from zoo import distribution

        strategy = None
        replicas = distribution.data_parallel(args.strategy, args.cpu_replicas)
        chief = distribution.is_chief()
    policy = device.set_precision(args.precision)
    source = _init_source(args, preset)  # after the strategy: multi-worker needs it made first
    batch_size = args.batch_size or preset.defaults["batch_size"]
    epochs = args.epochs or preset.defaults["epochs"]
    unlabelled = ValueError(
        f"{args.model} is class-conditional, but {args.dataset} has no class labels "
        "(use a labelled dataset such as mnist or digits, or a folder with class subfolders)"
    )
    if preset.conditional and args.dataset in data.DATASETS and not data.num_classes(args.dataset):
        raise unlabelled
    hparams = preset.hparams(**_model_options(preset, args))
    # WGAN, WGAN-GP: --batch-size is a critic batch, and a step takes one for each of its d_steps updates.
    step_batch = presets.images_per_step(batch_size, hparams)
    prepare_images, source_channels, grid = None, None, None
    if args.dataset_b and preset.data not in ("unpaired", "two_domains"):
        raise ValueError(f"--dataset-b is for models that train on two unpaired domains; {args.model} trains on "
                         f"{presets.DATA_KINDS[preset.data]}")
    loaders = {"paired": _paired_data, "unpaired": _unpaired_data, "two_domains": _two_domain_data,
               "colour_images": _colour_data}
    if preset.data in loaders:
        load = loaders[preset.data]
        dataset, image_shape, source_channels, grid = load(args, hparams, batch_size)
        num_classes = None
    elif preset.data == "few_labels":
        dataset, image_shape, num_classes, prepare_images = _few_labels_data(args, hparams, batch_size, unlabelled)
    else:
        dataset = _dataset(
            args.dataset, step_batch, args.image_size, args.seed, args.limit, with_labels=preset.conditional
        )
        image_shape = data.image_shape(dataset)
        num_classes = None
        if preset.conditional:
            num_classes = data.num_classes(args.dataset if args.dataset in data.DATASETS else dataset)
            if not num_classes:
                raise unlabelled
    run_dir = args.run_dir or os.path.join("runs", f"{args.model}-{os.path.basename(os.path.normpath(args.dataset))}")
    if chief:
        from zoo import locks

        held.enter_context(locks.run_directory_lock(run_dir))
    if batch_size % replicas:
        raise ValueError(f"--batch-size {batch_size} (the global batch) must be divisible by the {replicas} replicas")
    critic = f" per critic update ({step_batch} real images per step)" if step_batch != batch_size else ""
    if on_tensorflow and distributed.is_multi_worker(strategy):
        dataset = distributed.shard_by_data(dataset)
    # Variables, optimizers included, are made under the strategy.
    with strategy.scope() if strategy is not None and args.strategy != "default" else contextlib.nullcontext():
        phases = preset.build_phases(
            image_shape, num_classes=num_classes, source_channels=source_channels, **_model_options(preset, args)
        )
        model = phases[-1].model
        if preset.prepare is not None:
            preset.prepare(model, prepare_images, hparams)
        if source is not None:
            from zoo import pretrained

            pretrained.initialize(model, source)
            if len(phases) > 1 and chief:
                print(f"--init-from: skipping the {', '.join(p.name for p in phases[:-1])} phase(s)")
            phases = phases[-1:]
    evaluation = _evaluation_callbacks(args, preset, image_shape, run_dir)
    placement = f" ({batch_size // replicas} on each of {replicas} replicas, {args.strategy})" if replicas > 1 else ""
    if chief:
        print(
            f"training {args.model} on {args.dataset} {image_shape} for "
            f"{''.join(f'{p.epochs} epochs of {p.name}, then ' for p in phases[:-1])}{epochs} epochs, "
            f"batch {batch_size}{critic}{placement}, {policy}; run directory {run_dir}"
        )
    training.train_phases(
        phases,
        dataset,
        epochs=epochs,
        run_dir=run_dir,
        steps_per_epoch=args.steps_per_epoch,
        **_snapshot_options(args, step_batch),
        best=args.best,
        tensorboard=args.tensorboard,
        resume=not args.no_resume,
        verbose=2 if args.quiet else "auto",
        strategy=None if args.strategy == "default" else strategy,
        callbacks=[*(preset.callbacks(hparams, epochs, run_dir) if preset.callbacks else ()), *evaluation],
        phase_callbacks=lambda folder: _translation_grid(preset, model, grid, folder),
        samples=preset.serves != "translation",
    )
    if not chief:
        return 0
    print(f"samples: {os.path.join(run_dir, 'samples', 'latest.png')}")
    if args.export:
        from zoo import export

        metadata = {"dataset": args.dataset, "preset": args.model}
        paths = export.export_model(model, args.export, base_path=args.base_path, metadata=metadata)
        for path in paths:
            print(f"exported: {path}")
        if args.pretrained:
            from zoo import pretrained

            facts = {**metadata, "hparams": {**hparams, "epochs": epochs, "batch_size": batch_size},
                     "image_shape": list(image_shape), "num_classes": num_classes, "precision": str(policy),
                     "init_from": args.init_from, "command": ["zoo", *sys.argv[1:]], "exports": paths}
            print(f"pretrained preset: {pretrained.save(model, os.path.join(args.base_path, args.export), facts)}")
    return 0


def _init_source(args, preset):
    """The model --init-from names (None without it).

    A pretrained preset's metadata gives the options not set on the command line
    (its architecture), so `zoo train cgan --init-from digits_cgan` needs no more.
    """
    if not args.init_from:
        return None
    from zoo import checkpoint, presets, pretrained

    if checkpoint.exists(args.init_from):
        return checkpoint.load_model(args.init_from, compile=False)
    source, metadata = pretrained.load_with_metadata(args.init_from, compile=False)
    trained_as = metadata.get("preset")
    if trained_as and presets.get(trained_as).name != preset.name:
        raise ValueError(f"--init-from {args.init_from} is a {trained_as} model; start `zoo train {trained_as}` "
                         f"from it, not {preset.name}")
    for name, value in (metadata.get("hparams") or {}).items():
        if name not in ("seed", "epochs", "num_classes", "source_channels") and getattr(args, name, 0) is None:
            setattr(args, name, value)  # not given on the command line: the preset's trained value
    return source


GRID_IMAGES = 4


def _first_pairs(dataset, count=GRID_IMAGES):
    """The first `count` (a, b) pairs of a batched pair dataset, as two numpy arrays."""
    import numpy as np

    firsts, seconds = [], []
    for first, second in dataset:
        firsts.append(np.asarray(first))
        seconds.append(np.asarray(second))
        if sum(map(len, firsts)) >= count:
            break
    return np.concatenate(firsts)[:count], np.concatenate(seconds)[:count]


# Offline image pairs: crops of scikit-image's photos (A) and their edge maps (B); --limit crops, default 2,048.
EDGES2PHOTOS = "edges2photos"


def _paired_data(args, hparams, batch_size):
    """pix2pix pairs: a folder of side-by-side A|B images, or A_FOLDER:B_FOLDER (same file order)."""
    import numpy as np

    from zoo import data
    from zoo.metrics import loading

    size = args.image_size or 256
    if args.dataset == EDGES2PHOTOS:  # offline: photo | edge map, as the side-by-side files hold them
        a, b = data.edge_photos("train", args.limit or 2048, image_size=size, seed=args.seed)
        sources, targets = (a, b) if hparams["direction"] == "AtoB" else (b, a)
        dataset = data.paired_arrays(sources, targets, image_size=size, batch_size=batch_size, seed=args.seed)
    elif os.path.isdir(args.dataset) or args.dataset in data.PIX2PIX_DATASETS:
        folder = args.dataset
        if not os.path.isdir(folder):  # the authors' set, downloaded once
            folder = os.path.join(data.pix2pix_dataset(args.dataset), "train")
        dataset = data.paired_folder(folder, direction=hparams["direction"], image_size=size,
                                     batch_size=batch_size, seed=args.seed, limit=args.limit)
    else:
        folders = args.dataset.split(":")
        if len(folders) != 2 or not all(os.path.isdir(folder) for folder in folders):
            raise ValueError(f"{args.model} trains on pairs: --dataset must be a folder of side-by-side A|B images, "
                             f"A_FOLDER:B_FOLDER (two folders, images paired in sorted file order), one of the "
                             f"pix2pix authors' sets ({', '.join(data.PIX2PIX_DATASETS)}) or {EDGES2PHOTOS} "
                             f"(offline); got {args.dataset!r}")
        a, b = (loading.load_reference(folder, image_size=size, limit=args.limit)[0] for folder in folders)
        if len(a) != len(b):
            raise ValueError(f"{folders[0]} holds {len(a)} images but {folders[1]} {len(b)}: pairs need as many")
        sources, targets = (a, b) if hparams["direction"] == "AtoB" else (b, a)
        pixels = [np.round((x + 1.0) * 127.5).astype("uint8") for x in (sources, targets)]
        dataset = data.paired_arrays(*pixels, image_size=size, batch_size=batch_size, seed=args.seed)
    sources, targets = _first_pairs(dataset)
    return dataset, tuple(targets.shape[1:]), sources.shape[-1], (sources, targets)


def _unpaired_data(args, hparams, batch_size):
    """CycleGAN domains: --dataset A_FOLDER --dataset-b B_FOLDER, a folder of trainA and trainB, or a tfds name."""
    from zoo import data

    size = args.image_size or 256
    if args.dataset_b:
        for folder in (args.dataset, args.dataset_b):
            if not os.path.isdir(folder):
                raise ValueError(f"{args.model}: {folder!r} is not a folder of images")
        dataset = data.unpaired(*(
            data.jittered_folder(folder, size, batch_size=batch_size, seed=args.seed + offset, limit=args.limit)
            for offset, folder in enumerate((args.dataset, args.dataset_b))
        ))
    elif args.dataset in data.CYCLE_GAN_NAMES or os.path.isdir(os.path.join(args.dataset, "trainA")):
        dataset = data.cycle_gan(args.dataset, batch_size=batch_size, image_size=size, seed=args.seed,
                                 limit=args.limit)
    else:
        raise ValueError(f"{args.model} trains on two unpaired domains: --dataset A_FOLDER --dataset-b B_FOLDER, "
                         "a folder holding trainA and trainB (and testA, testB), or a tfds cycle_gan name "
                         f"({', '.join(data.CYCLE_GAN_NAMES)}); got --dataset {args.dataset!r}")
    images_a, images_b = _first_pairs(dataset)
    return dataset, tuple(images_b.shape[1:]), images_a.shape[-1], (images_a, None)


def _two_domain_data(args, hparams, batch_size):
    """CoGAN domains: digits and the edges/negatives of other digits, or two folders of images."""
    from zoo import data

    if args.dataset_b:
        size = args.image_size or 28
        domains = []
        for offset, folder in enumerate((args.dataset, args.dataset_b)):
            if not os.path.isdir(folder):
                raise ValueError(f"{args.model}: {folder!r} is not a folder of images")
            domains.append(data.image_folder(folder, image_size=size, batch_size=batch_size, seed=args.seed + offset,
                                             limit=args.limit))
        dataset = data.unpaired(*domains)
    else:
        sources = {"digits": ("digits", None), "mnist": ("mnist", None)}
        if args.dataset.startswith("mnist_idx:"):
            sources[args.dataset] = ("idx", args.dataset[len("mnist_idx:"):])
        if args.dataset not in sources:
            raise ValueError(f"{args.model} trains on two domains: --dataset digits, mnist or mnist_idx:DIR (domain B: "
                             f"--transform of other digits), or --dataset A_FOLDER --dataset-b B_FOLDER; got "
                             f"--dataset {args.dataset!r}")
        source, data_dir = sources[args.dataset]
        dataset = data.unpaired_digits(source, hparams["transform"], data_dir=data_dir, batch_size=batch_size,
                                       image_size=args.image_size or 28, seed=args.seed, limit=args.limit)
    images_a, images_b = _first_pairs(dataset)
    return dataset, tuple(images_b.shape[1:]), images_a.shape[-1], None


def _colour_data(args, hparams, batch_size):
    """(L, ab) pairs in Lab from any colour dataset or folder of photos."""
    from zoo import data

    images = _dataset(args.dataset, batch_size, args.image_size, args.seed, args.limit)
    channels = data.image_shape(images)[-1]
    if channels != 3:
        raise ValueError(f"{args.model} learns colour from colour photos; {args.dataset} has {channels} channel(s)")
    dataset = data.lab_pairs(images)
    lightness, ab = _first_pairs(dataset)
    return dataset, tuple(ab.shape[1:]), 1, (lightness, ab)


SAMPLERS = ("noise", "noise_and_labels", "codes", "codes_and_labels")
# What --best may name for a --metric that logs several values.
_BEST_NAMES = {"pr": ("precision", "recall"), "dc": ("density", "coverage")}


def _evaluation_callbacks(args, preset, image_shape, run_dir):
    """`--metric NAME --every N`: a `zoo.metrics.EvaluationCallback` scoring samples during training.

    The values join the epoch logs (history.csv, TensorBoard) and `RUN_DIR/metrics.jsonl`.
    """
    if not args.metric:
        return []
    from zoo import metrics
    from zoo.metrics import loading

    names = metrics.evaluate.check_metrics(args.metric)  # fails fast on an unknown metric
    extractor = _extractor(args)
    reference = args.reference or args.dataset
    split = "test" if loading.has_splits(reference) else "train"
    images, labels = loading.load_reference(reference, split, tuple(image_shape[:2]), args.reference_limit,
                                            with_labels=preset.conditional)
    print(f"scoring {', '.join(names)} every {args.every} epoch(s) against {len(images)} images of {reference} "
          f"({split}), extractor {extractor.name}")
    return [metrics.EvaluationCallback(
        extractor, images, every_n_epochs=args.every, metrics=names, reference_labels=labels,
        jsonl_path=os.path.join(run_dir, "metrics.jsonl"), seed=args.seed, reference_name=reference,
        full_reference=args.reference_limit is None,
    )]


def _translation_grid(preset, model, grid, run_dir):
    """A `TranslationGrid` of the first training sources for translation models, else nothing."""
    if preset.serves != "translation":
        return []
    from zoo import callbacks

    sources, targets = grid
    translate = getattr(model, "translate_ab", None)  # CycleGAN: A -> B; pix2pix: model.translate
    render = None
    if preset.data == "colour_images":
        from zoo import plotting

        render = plotting.lab_columns  # grey input, colourised output, truth, in RGB
    return [callbacks.TranslationGrid(os.path.join(run_dir, "samples"), sources, targets, translate=translate,
                                      render=render)]


def _few_labels_data(args, hparams, batch_size, unlabelled):
    """Semi-supervised batches: every image unlabelled, `labels_per_class` per class with labels.

    Returns `(dataset, image_shape, num_classes, images)`; only the kept labels enter the pipeline.
    """
    from zoo import data
    from zoo.metrics import loading

    images, labels = loading.load_reference(args.dataset, "train", args.image_size, args.limit, with_labels=True)
    if labels is None:
        raise unlabelled
    keep = data.labelled_subset(labels, hparams["labels_per_class"], seed=args.seed)
    dataset = data.semi_supervised_dataset(images, images[keep], labels[keep], batch_size=batch_size, seed=args.seed)
    print(f"{len(keep)} labelled images ({hparams['labels_per_class']} per class) and {len(images)} unlabelled")
    return dataset, tuple(images.shape[1:]), int(labels.max()) + 1, images


def _model_options(preset, args):
    """The preset's own options as given on the command line (None: the preset's default).

    The batch size goes to the builders too: some defaults depend on it (StyleGAN2's R1 gamma).
    """
    from zoo import presets

    options = presets.from_arguments(preset, args, skip=("epochs",))
    if any(o.name == "seed" for o in preset.options):
        options["seed"] = args.seed  # the common --seed: data order and the model's noise
    return options


def _load_generator(args):
    """A checkpointed zoo model or an export, with `generate`, `latent_dim`, `num_classes`."""
    if sum(map(bool, (args.checkpoint, args.export, args.preset))) != 1:
        raise ValueError("pass exactly one of --checkpoint DIR, --export PATH or --preset NAME_OR_PATH")
    from zoo.metrics import loading

    if args.preset:
        from zoo import pretrained

        model = pretrained.load(args.preset, compile=False)
        if not hasattr(model, "generate"):
            raise ValueError(f"pretrained preset {args.preset!r} is a {type(model).__name__}, which does not sample")
        return model

    if args.checkpoint:
        from zoo import checkpoint

        if not checkpoint.exists(args.checkpoint):
            raise ValueError(f"no zoo checkpoint in {args.checkpoint!r}")
        return loading.load_generator(args.checkpoint)
    from zoo import export

    return loading.ExportedGenerator(export.resolve_export(args.export))


def cmd_sample(args):
    import numpy as np

    from zoo.plotting import save_grid

    from zoo.models import conditional_classes

    generator = _load_generator(args)
    num_classes = conditional_classes(generator)
    labels, num_rows, num = None, None, args.num
    if num_classes:
        # One row per class, as in Mirza & Osindero's figure.
        per_class = max(1, args.num // num_classes)
        num, num_rows = per_class * num_classes, num_classes
        labels = np.repeat(np.arange(num_classes), per_class).astype("int32")
    z = np.random.default_rng(args.seed).standard_normal((num, generator.latent_dim)).astype("float32")
    images = generator.generate(z) if labels is None else generator.generate(z, labels=labels)
    path = save_grid(images, args.output, num_rows=num_rows)
    print(f"wrote {len(z)} samples to {path}")
    return 0


def cmd_export(args):
    from zoo import checkpoint, export

    model = checkpoint.load_model(args.checkpoint, compile=args.pretrained)
    paths = export.export_model(model, args.name, base_path=args.base_path, version=args.version,
                                direction=args.direction)
    for path in paths:
        print(f"exported: {path}")
    if args.pretrained:
        from zoo import pretrained

        facts = {"checkpoint": files.absolute(args.checkpoint), "command": ["zoo", *sys.argv[1:]], "exports": paths}
        print(f"pretrained preset: {pretrained.save(model, os.path.join(args.base_path, args.name), facts)}")
    return 0


def _version_label(text):
    """`NAME:LABEL=VERSION` -> (name, label, version)."""
    import re

    match = re.fullmatch(r"([A-Za-z0-9_.-]+):([A-Za-z_][A-Za-z0-9_-]*)=(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected NAME:LABEL=VERSION such as digits_dcgan:stable=1, got {text!r}")
    return match.group(1), match.group(2), int(match.group(3))


def cmd_serve_config(args):
    from zoo import serving

    labels = {}
    for name, label, version in args.label or []:
        labels.setdefault(name, {})[label] = version
    path = serving.write_model_config(args.base_path, path=args.output, root=args.root, labels=labels or None)
    models = serving.find_models(args.base_path)
    for name, found in models.items():
        print(f"  {name}: versions {', '.join(map(str, found))}")
    print(f"wrote {path}; serve with:")
    if args.root == "/models":
        print(f"  {serving.docker_command(args.base_path)}")
    else:
        print("  tensorflow_model_server --port=8500 --rest_api_port=8501 "
              f"--model_config_file={files.absolute(path)}")
    return 0


def cmd_evaluate(args):
    from zoo import metrics
    from zoo.metrics import loading

    names = metrics.evaluate.check_metrics(args.metric or ["fid"])  # fails fast on an unknown metric
    generator = loading.load_generator(args.model)
    extractor = _extractor(args)
    metrics.evaluate.check_metric_requirements(generator, extractor, names)
    conditional = metrics.evaluate.num_classes_of(generator) is not None
    if args.reference.endswith(".npz"):
        results, num_samples, reference = _evaluate_against_statistics(args, generator, extractor, names)
    else:
        height, width, _ = loading.image_shape_of(generator)
        images, labels = loading.load_reference(
            args.reference, args.reference_split, (height, width), args.limit, with_labels=conditional
        )
        num_samples = args.num_samples or len(images)
        print(
            f"evaluating {args.model}: {num_samples} samples against {args.reference} "
            f"({len(images)} images), extractor {extractor.name}"
        )
        results = metrics.evaluate_generator(
            generator, images, extractor, names, num_samples=num_samples, batch_size=args.batch_size,
            seed=args.seed, reference_labels=labels, full_reference=args.limit is None,
        )
        reference = {"reference": args.reference, "reference_images": len(images),
                     "reference_split": args.reference_split if loading.has_splits(args.reference) else None}
    records = metrics.append_results(
        args.output, results, num_samples=num_samples, extractor=extractor.name, model=args.model, seed=args.seed,
        **reference,
    )
    print(f"{'metric':28s} {'value':>12s} {'std':>10s}")
    for record in records:
        std = f"{record['std']:10.4g}" if "std" in record else ""
        print(f"{record['metric']:28s} {record['value']:12.6g} {std}")
    print(f"appended {len(records)} records to {args.output}")
    return 0


def _evaluate_against_statistics(args, generator, extractor, names):
    """`zoo evaluate --reference stats.npz`: FID (and the metrics without a reference) from a statistics file."""
    from zoo import metrics

    mu, sigma, metadata = metrics.load_statistics(args.reference)
    made_with = metadata.get("extractor")
    if made_with is not None and made_with != extractor.name:
        raise ValueError(f"{args.reference} holds statistics of {made_with} features; this evaluation uses "
                         f"{extractor.name} (pass the extractor and --protocol the file was made with)")
    if mu.shape[0] != extractor.feature_dim:
        raise ValueError(f"{args.reference} holds statistics of {mu.shape[0]}-d features; {extractor.name} gives "
                         f"{extractor.feature_dim}-d ones")
    if made_with is None:
        print(f"note: {args.reference} does not say how it was made (another tool's file): its protocol must be "
              f"--protocol's ({extractor.name}), and the result is not named _full")
    if args.limit is not None:
        raise ValueError("--limit does not apply to a statistics file (it holds the whole reference)")
    num_samples = args.num_samples or int(metadata.get("num_images", 0)) or 50_000
    print(f"evaluating {args.model}: {num_samples} samples against the statistics {args.reference} "
          f"({metadata.get('reference', 'reference of another tool')}), extractor {extractor.name}")
    results = metrics.evaluate.evaluate_with_reference(
        generator, None, None, extractor, names, num_samples=num_samples, batch_size=args.batch_size,
        seed=args.seed, reference_statistics=(mu, sigma), full_reference=metadata.get("full_reference") == "True",
    )
    reference = {"reference": args.reference, "reference_images": metadata.get("num_images"),
                 "reference_of_statistics": metadata.get("reference"),
                 "reference_extractor": made_with or "unknown (another tool's file)"}
    return results, num_samples, reference


def cmd_stats(args):
    from zoo import metrics
    from zoo.metrics import loading

    extractor = _extractor(args)
    size = None if args.image_size is None else tuple(args.image_size)
    images, _ = loading.load_reference(args.reference, args.reference_split, size, args.limit)
    print(f"{len(images)} images of {args.reference} ({images.shape[1]}x{images.shape[2]}), extractor {extractor.name}")
    mu, sigma = metrics.gaussian_statistics(extractor.features(images, batch_size=args.batch_size))
    split = args.reference_split if loading.has_splits(args.reference) else None
    reference = args.reference + (f":{split}" if split else "") + (f" (first {args.limit})" if args.limit else "")
    path = metrics.save_statistics(args.output, mu, sigma, extractor=extractor.name, reference=reference,
                                   num_images=len(images), full_reference=args.limit is None,
                                   image_size=f"{images.shape[1]}x{images.shape[2]}")
    print(f"wrote {path}: mu {mu.shape}, sigma {sigma.shape}; use it with "
          f"`zoo evaluate MODEL --reference {path}`")
    return 0


def _extractor(args):
    """`--extractor`: the FID Inception under `--protocol` (`--inception-weights`), or a classifier file."""
    from zoo import metrics

    spec = args.extractor
    if spec == "inception":
        try:
            return metrics.InceptionExtractor(weights=args.inception_weights or "pt_inception", protocol=args.protocol)
        except RuntimeError as error:
            raise ValueError(str(error)) from None
    if not os.path.isfile(spec):
        raise FileNotFoundError(f"--extractor must be 'inception' or a .keras classifier file; {spec!r} not found")
    return metrics.ClassifierExtractor.from_path(spec)


def _extractor_arguments(parser):
    from zoo.metrics.fid_protocol import PROTOCOLS

    parser.add_argument("--extractor", default="inception",
                        help="inception (the FID Inception of published FIDs, pytorch-fid's weights downloaded once) "
                        "or a .keras domain classifier (zoo classifier)")
    parser.add_argument("--protocol", default="clean", choices=list(PROTOCOLS),
                        help="how images reach the Inception: clean (clean-fid), pytorch_fid, or tf1 (TTUR, "
                        "StyleGAN, torch-fidelity); default clean")
    parser.add_argument("--inception-weights", metavar="PATH",
                        help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth on disk (offline machines)")


def cmd_classifier(args):
    from zoo import metrics
    from zoo.metrics import loading

    if not args.output.endswith(".keras"):
        raise ValueError(f"--output must be a .keras file, got {args.output!r}")
    images, labels = loading.load_reference(args.dataset, args.split, args.image_size, with_labels=True)
    if labels is None:
        raise ValueError(f"{args.dataset} has no class labels to train a classifier on")
    validation = None
    if args.validation_split:
        validation = loading.load_reference(args.dataset, args.validation_split, args.image_size, with_labels=True)
    print(f"training the domain classifier on {len(images)} images {images.shape[1:]} of {args.dataset}")
    model = metrics.train_domain_classifier(
        images, labels, epochs=args.epochs, validation=validation, seed=args.seed, save_path=args.output, verbose=2
    )
    if validation is not None:
        accuracy = model.evaluate(*validation, verbose=0, return_dict=True)["accuracy"]
        print(f"{args.validation_split} accuracy: {accuracy:.4f}")
    print(f"saved: {args.output}")
    return 0


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _save_freq(text):
    return text if text == "epoch" else _positive_int(text)


def _snapshot_every(text):
    """`5` (epochs), `20000img` or `20kimg` (images, as stylegan2-ada's --snap in kimg): ("epochs" | "images", n)."""
    match = re.fullmatch(r"(\d+)\s*(epochs?|img|kimg)?", text.strip().lower())
    if not match or int(match.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"expected epochs (5), images (20000img) or thousands of images (20kimg), "
                                         f"got {text!r}")
    count, unit = int(match.group(1)), match.group(2) or "epochs"
    return ("images", count * (1000 if unit == "kimg" else 1)) if "img" in unit else ("epochs", count)


def _snapshot_options(args, batch_size):
    """`save_freq`, `snapshot_every` and `keep` for `zoo.training.train` from the snapshot flags."""
    unit, count = args.snapshot_every or ("epochs", 1)
    if unit == "epochs":
        return {"save_freq": args.save_freq, "snapshot_every": count, "keep": args.keep_snapshots}
    if args.save_freq != "epoch":
        raise ValueError("--snapshot-every in images already sets how many batches there are between saves; "
                         "drop --save-freq")
    return {"save_freq": max(1, round(count / batch_size)), "snapshot_every": None, "keep": args.keep_snapshots}


def _train_common_parser():
    """The options every `zoo train NAME` takes: data, run directory, precision, devices, export."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("data and run")
    g.add_argument("--dataset", required=True,
                   help="dataset name (see `zoo list`), a folder of images, or mnist_idx:DIR (MNIST IDX files)")
    g.add_argument("--dataset-b", help="the second domain's folder, for models that train on two unpaired domains")
    g.add_argument("--image-size", type=_positive_int, help="resize images to this square size")
    g.add_argument("--limit", type=_positive_int, help="use only the first N images")
    g.add_argument("--steps-per-epoch", type=_positive_int, help="batches per epoch (default: one pass)")
    g.add_argument("--seed", type=int, default=0, help="seed for data order and noise (default 0)")
    g.add_argument("--run-dir", help="checkpoint/samples/log folder (default runs/MODEL-DATASET)")
    g.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"],
                   help="dtype policy; auto: float16 on GPUs, bfloat16 on CPUs with bf16 units, else float32")
    g.add_argument("--save-freq", type=_save_freq, default="epoch",
                   help="'epoch' or a number of batches: also snapshot after every that many batches")
    g.add_argument("--snapshot-every", type=_snapshot_every, metavar="N|Nimg|Nkimg",
                   help="snapshot the training state every N epochs (default 1), or every N (thousand) images")
    g.add_argument("--keep-snapshots", type=_positive_int, default=3, metavar="N",
                   help="snapshots kept in RUN_DIR/checkpoint, newest first (default 3); a resume reads the newest "
                   "that verifies")
    g.add_argument("--best", metavar="METRIC",
                   help="also keep RUN_DIR/checkpoint/best, the state with the best value of a --metric (fid, kid, "
                   "is, precision, ...)")
    g.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    g.add_argument("--tensorboard", action="store_true",
                   help="also log the losses, metrics and sample grids to RUN_DIR/tensorboard")
    g = p.add_argument_group("scoring during training (sampling models)")
    g.add_argument("--metric", action="append", metavar="NAME",
                   help="fid, kid, pr, dc, is, accuracy (conditional models), ppl_w, ppl_z (StyleGAN: LPIPS, or a "
                   ".keras --extractor's features), ls_w or ls_z (StyleGAN, with a .keras --extractor), scored every "
                   "--every epochs into the logs and RUN_DIR/metrics.jsonl; repeatable")
    g.add_argument("--every", type=_positive_int, default=1, help="epochs between scorings (default 1)")
    _extractor_arguments(g)
    g.add_argument("--reference", help="dataset to score against (default: --dataset; its test split if it has one)")
    g.add_argument("--reference-limit", type=_positive_int, help="use only the first N reference images")
    g.add_argument("--export", metavar="NAME", help="export the generator to BASE_PATH/NAME/<version> after training")
    g.add_argument("--base-path", default="saved_models", help="export root (default saved_models)")
    g.add_argument("--pretrained", action="store_true",
                   help="with --export: also save the trained model as a pretrained preset, BASE_PATH/NAME/"
                   "model.keras and metadata.json (zoo.from_preset, --init-from)")
    g.add_argument("--init-from", metavar="PRESET_OR_CHECKPOINT",
                   help="start from these weights (fine-tune): a pretrained preset (zoo list), its folder, a "
                   ".keras file, a URL, or a checkpoint directory; options not given take the preset's values")
    g.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")
    g.add_argument("--strategy", choices=["default", "mirrored", "multi_worker"], default="default",
                   help="default: one device; mirrored: all local GPUs (MirroredStrategy on TensorFlow, "
                   "keras.distribution.DataParallel on JAX); multi_worker: the machines in TF_CONFIG "
                   "(TensorFlow; run the same command on each). --batch-size is the global batch")
    g.add_argument("--cpu-replicas", type=_positive_int,
                   help="with --strategy mirrored: split the CPU into this many replicas (for testing)")
    return p


def _add_train_parser(sub):
    """`zoo train NAME ...`: one sub-command per registered preset, with that model's options only."""
    from zoo import presets

    train = sub.add_parser(
        "train", help="train a model (resumes from its run directory)",
        description="Train a registered model; `zoo train NAME --help` lists that model's options.",
    )
    models = train.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    common = _train_common_parser()
    for name in sorted(presets.PRESETS):
        preset = presets.PRESETS[name]
        p = models.add_parser(
            name, aliases=list(preset.aliases), parents=[common], help=preset.description,
            description=f"{name}: {preset.description}. Trains on {presets.DATA_KINDS[preset.data]}; "
            f"its export serves {presets.SERVES[preset.serves]}.",
        )
        presets.add_arguments(p, preset)  # all but the seed: the common --seed
        p.set_defaults(func=cmd_train, model=name)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="zoo", description=MAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("list", help="list the models and datasets")
    p.set_defaults(func=cmd_list)

    _add_train_parser(sub)

    p = sub.add_parser("sample", help="write a PNG grid of samples from a checkpoint or an export")
    p.add_argument("--checkpoint", help="checkpoint directory (RUN_DIR/checkpoint)")
    p.add_argument("--export", help="SavedModel folder, or a model base path (newest version)")
    p.add_argument("--preset", help="pretrained preset: a name (zoo list), its folder, a .keras file or a URL")
    p.add_argument("--num", type=_positive_int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--output", default="samples.png", help="PNG path (default samples.png)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("export", help="export a checkpoint's generator as a TF Serving SavedModel")
    p.add_argument("--checkpoint", required=True, help="checkpoint directory (RUN_DIR/checkpoint)")
    p.add_argument("--name", required=True, help="served model name: BASE_PATH/NAME/<version>")
    p.add_argument("--base-path", default="saved_models", help="export root (default saved_models)")
    p.add_argument("--version", type=_positive_int, help="version number (default: next free)")
    p.add_argument("--direction", choices=("ab", "ba"),
                   help="CycleGAN: export only this generator, A->B or B->A, to NAME (default: both, NAME_ab "
                   "and NAME_ba)")
    p.add_argument("--pretrained", action="store_true",
                   help="also save the model as a pretrained preset, BASE_PATH/NAME/model.keras and metadata.json")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "serve-config",
        help="write TF Serving's --model_config_file for every export under BASE_PATH",
        description="Scan BASE_PATH/NAME/<version>/saved_model.pb and write the model_config_list text "
        "protobuf that `tensorflow_model_server --model_config_file` reads (all versions of every model, "
        "optional version labels), atomically.",
    )
    p.add_argument("--base-path", default="saved_models", help="export root (default saved_models)")
    p.add_argument("--output", help="file to write (default BASE_PATH/models.config)")
    p.add_argument("--root", help="where the server sees BASE_PATH: /models for the tensorflow/serving "
                   "Docker image with -v \"$PWD/saved_models:/models\" (default: BASE_PATH's absolute path)")
    p.add_argument("--label", action="append", type=_version_label, metavar="NAME:LABEL=VERSION",
                   help="version label, e.g. digits_dcgan:stable=1 digits_dcgan:canary=2; repeatable")
    p.set_defaults(func=cmd_serve_config)

    p = sub.add_parser(
        "evaluate",
        help="score a checkpoint or an export against a dataset or statistics file (FID, KID, P/R, D/C, IS, "
        "accuracy, PPL, separability)",
        description="Generate images and score them against a reference dataset; results are printed "
        "and appended to a JSON-lines file, named by protocol (fid10k_full: 10,000 samples).",
    )
    p.add_argument("model", metavar="MODEL_OR_EXPORT",
                   help="checkpoint directory, SavedModel folder or export base path (newest version)")
    p.add_argument("--metric", action="append", metavar="NAME",
                   help="fid, kid, pr (precision/recall), dc (density/coverage), is, accuracy (conditional models), "
                   "ppl_w, ppl_z (StyleGAN checkpoints: perceptual path length at path ends, in LPIPS as the paper, "
                   "or in a .keras --extractor's features), ls_w or ls_z (StyleGAN checkpoints, with a .keras "
                   "--extractor: linear separability); repeat for several (default fid)")
    p.add_argument("--reference", required=True,
                   help="dataset name (see `zoo list`), a folder of images, mnist_idx:DIR, or a .npz of FID "
                   "statistics (`zoo stats`, pytorch-fid's --save-stats)")
    p.add_argument("--reference-split", default="test",
                   help="split of the reference: train, test or all (mnist_idx, tfds); default test")
    p.add_argument("--num-samples", type=_positive_int, help="images to generate (default: as many as the reference)")
    p.add_argument("--limit", type=_positive_int, help="use only the first N reference images")
    _extractor_arguments(p)
    p.add_argument("--output", default=os.path.join("runs", "evaluate.jsonl"),
                   help="JSON-lines file the results are appended to (default runs/evaluate.jsonl)")
    p.add_argument("--batch-size", type=_positive_int, default=256, help="images per call (default 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise, labels and KID subsets (default 0)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "stats",
        help="save the FID statistics (mean, covariance) of a dataset to a .npz for `zoo evaluate --reference`",
        description="Embed a dataset once and save its feature mean and covariance (arrays mu and sigma, as "
        "pytorch-fid's --save-stats, readable by pytorch-fid and clean-fid) with the extractor and reference "
        "that made them.",
    )
    p.add_argument("reference", help="dataset name (see `zoo list`), a folder of images, or mnist_idx:DIR")
    p.add_argument("--output", required=True, help="the .npz file to write")
    p.add_argument("--reference-split", default="train",
                   help="split where the dataset has splits (default train: StyleGAN's fid50k_full reference)")
    p.add_argument("--image-size", type=_positive_int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                   help="resize the images first (default: the dataset's own size)")
    p.add_argument("--limit", type=_positive_int, help="use only the first N images")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="images per extractor call (default 64)")
    _extractor_arguments(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "classifier",
        help="train the domain classifier that `zoo evaluate --extractor PATH` scores with",
        description="Train zoo's domain classifier (zoo.nets.domain_classifier) on a labelled dataset and "
        "save it as a .keras file: its features give FID/KID and its predictions the accuracy of "
        "conditional samples where InceptionV3's ImageNet weights are unavailable or unsuited.",
    )
    p.add_argument("--dataset", required=True, help="labelled dataset name, class-folder path, or mnist_idx:DIR")
    p.add_argument("--split", default="train", help="split to train on (default train)")
    p.add_argument("--validation-split", default=None,
                   help="split to report accuracy on (e.g. test); default none")
    p.add_argument("--image-size", type=_positive_int, help="resize images (default: the dataset's size)")
    p.add_argument("--epochs", type=_positive_int, default=10, help="epochs (default 10)")
    p.add_argument("--output", required=True, help="the .keras file to write (atomically)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_classifier)
    return parser


def main(argv=None):
    from zoo.files import DownloadError, WriteError
    from zoo.locks import RunDirectoryBusy

    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_tensorflow()
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, NotADirectoryError, ImportError, RunDirectoryBusy, WriteError,
            DownloadError) as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: no traceback; what was written is whole (written atomically)
        resume = " (run the same command to resume from the last snapshot)" if args.command == "train" else ""
        print(f"zoo {args.command}: stopped by Ctrl-C; checkpoints and exports already written are intact{resume}",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
