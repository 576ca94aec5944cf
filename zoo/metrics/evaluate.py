"""Evaluate a generator against reference images under a named protocol; log to JSON lines.

Result names carry the protocol, as in stylegan2-ada: the metric, the number of
generated images, and `_full` when the reference was the whole split or statistics
file given (not a `--limit`ed part of it; which reference it was goes into each record
with the extractor). `fid2k_full` is FID between 2,000 generated images and the full
reference; `kid2k_full` and `kid2k_full_std`; `pr2k3_full_precision` and
`pr2k3_full_recall` (k = 3 neighbours; `pr1500_3_full_precision` for 1,500 images),
`dc2k5_full_density` and `dc2k5_full_coverage` (k = 5); without reference images: `is2k` and `is2k_std`, `accuracy2k` and
`worst_label_accuracy2k`, `ppl_w_end2k` and `ppl_z_end2k` (perceptual path length of
2,000 path ends in W or Z), `ls_w2k` and `ls_z2k` (linear separability of 2,000 codes),
the last four for style-based generators only.
"""

import datetime
import json
import numbers
import os

import numpy as np

from zoo import files
from zoo.metrics.conditional import accuracy_from_scores
from zoo.metrics.extractors import InceptionExtractor, features_and_probabilities
from zoo.metrics.frechet import frechet_distance, frechet_distance_from_statistics, gaussian_statistics
from zoo.metrics.inception_score import inception_score
from zoo.metrics.kid import kernel_inception_distance
from zoo.metrics.precision_recall import density_coverage, precision_recall

METRICS = ("fid", "kid", "pr", "dc", "is", "accuracy", "ppl_w", "ppl_z", "ls_w", "ls_z")
# Metrics computed from the extractor's features of both sets (the others need only
# the generated images' probabilities, or the style-based nets).
FEATURE_METRICS = ("fid", "kid", "pr", "dc")
IS_SPLITS = 10
PR_NEAREST_K = 3  # StyleGAN2-ADA's pr50k3
DC_NEAREST_K = 5  # Naeem et al.'s default
# Perceptual path length: the space of each name; the paths are sampled at their ends ("end").
_PPL_METRICS = {"ppl_w": "w", "ppl_z": "z"}
PPL_SAMPLING = "end"
PPL_BATCH_SIZE = 64
# Linear separability: the space of each name.
_LS_METRICS = {"ls_w": "w", "ls_z": "z"}
_STYLE_METRICS = (*_PPL_METRICS, *_LS_METRICS)


def metric_name(metric, num_samples, full_reference=None):
    """The protocol name of a result: `fid2k_full` for 2,000 samples against a whole reference.

    Args:
        metric: str, e.g. "fid", or "pr3" for precision/recall with k = 3.
        num_samples: int, generated images the value was computed from.
        full_reference: None for metrics without reference images, True when every
            image of the reference (or the whole statistics file) was used, False for a
            part of it. Default None.

    Returns:
        str, `metric + count + ("_full" if full_reference else "")`, the count being
        `f"{n // 1000}k"` when n is a multiple of 1000, else `str(n)`.

    Example:
        >>> metric_name("fid", 50_000, full_reference=True)
        'fid50k_full'
        >>> metric_name("is", 1500)
        'is1500'
    """
    count = f"{num_samples // 1000}k" if num_samples % 1000 == 0 else str(num_samples)
    return f"{metric}{count}{'_full' if full_reference else ''}"


def check_metrics(metrics):
    """`metrics` as a tuple of known names, in order, without repeats."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(dict.fromkeys(metrics))
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty list of {', '.join(METRICS)}; got {list(metrics)!r}")
    return metrics


def num_classes_of(model):
    """K for a conditional generator (`conditional` true and an int `num_classes`), else None."""
    from zoo.models.conditional_gan import conditional_classes

    return conditional_classes(model)


def generate_samples(model, num_samples, labels=None, seed=0, batch_size=256):
    """Images from a zoo model or a callable, with reproducible noise where possible.

    Zoo models (a `generate` method and an int `latent_dim`) get standard normal noise
    drawn from `seed`, so calls with one seed give the same images; other objects with
    `generate` are called as `generate(n)`. A plain callable is called in chunks of
    `batch_size` as `fn(n)`, or `fn(n, labels)` when conditional.

    Args:
        model: object with `generate(num_or_z[, labels=...])`, or a callable. A
            conditional one has `conditional = True` and an int `num_classes`.
        num_samples: int >= 1.
        labels: None, or an int array `(num_samples,)` for a conditional model.
        seed: int, noise seed. Default 0.
        batch_size: int, images per call of a plain callable. Default 256.

    Returns:
        float32 array `(num_samples, H, W, C)`.
    """
    generate = getattr(model, "generate", None)
    extra = {} if labels is None else {"labels": labels}
    latent_dim = getattr(model, "latent_dim", None)
    if generate is not None and isinstance(latent_dim, numbers.Integral):
        z = np.random.default_rng(seed).standard_normal((num_samples, int(latent_dim))).astype(np.float32)
        images = generate(z, **extra)
    elif generate is not None:
        images = generate(num_samples, **extra)
    elif callable(model):
        parts = []
        for start in range(0, num_samples, batch_size):
            n = min(batch_size, num_samples - start)
            parts.append(np.asarray(model(n) if labels is None else model(n, labels[start : start + n])))
        images = np.concatenate(parts)
    else:
        raise ValueError(f"model must have a generate method or be callable; got {type(model).__name__}")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or len(images) != num_samples:
        raise ValueError(f"the generator returned shape {images.shape}; expected ({num_samples}, H, W, C)")
    return images


def evaluate_generator(
    model,
    reference_images,
    extractor,
    metrics=("fid",),
    num_samples=None,
    batch_size=256,
    seed=0,
    reference_labels=None,
    full_reference=True,
):
    """Generates `num_samples` images and scores them against `reference_images`.

    Metrics: `"fid"` (Frechet distance of features), `"kid"` (KID mean and std),
    `"pr"` (precision and recall, k = 3), `"dc"` (density and coverage, k = 5),
    `"is"` (Inception Score, or classifier score with a domain classifier; mean and
    std over 10 splits) and `"accuracy"` (conditional models only: the extractor's
    classifier accuracy on the requested labels, overall and for the worst label),
    `"ppl_w"` and `"ppl_z"` (style-based models only, with a `ClassifierExtractor`:
    perceptual path length of `num_samples` path ends in W or Z, from the EMA mapping
    and synthesis nets and the classifier's normalised features, see `ppl_of`),
    `"ls_w"` and `"ls_z"` (style-based models only, with a `ClassifierExtractor`:
    linear separability in W or Z of its classes, each class against the rest, from
    `num_samples` codes, see `separability_of`).

    For a conditional model the requested labels follow the frequencies of
    `reference_labels` when given (so FID compares like with like), else they are
    balanced over the classes.

    Args:
        model: a zoo model (`generate`; conditional ones have `conditional = True`, an
            int `num_classes` and `generate(num_or_z, labels=...)`), or a callable
            `fn(n) -> images` (for a conditional one, `fn(n, labels)` with attributes
            `conditional = True` and `num_classes`).
        reference_images: float array `(N, H, W, C)` in [-1, 1], the same shape as the
            generated images.
        extractor: a feature extractor (`InceptionExtractor`, `ClassifierExtractor` or
            any object with `features`, `probabilities`, `name`, `num_classes`).
        metrics: names from `METRICS`. Default ("fid",).
        num_samples: int >= 2, images to generate. Default None: `len(reference_images)`.
        batch_size: int, images per generator/extractor call. Default 256.
        seed: int, seed of the noise, labels and KID subsets. Default 0.
        reference_labels: None or int array `(N,)`, labels of the reference images.
        full_reference: bool, whether `reference_images` is the whole reference set
            (the names get `_full`) rather than a part of it. Default True.

    Returns:
        dict `{protocol name: float}`, e.g. `{"fid2k_full": 3.1, "kid2k_full": 0.001,
        "kid2k_full_std": 0.0002}` (see `metric_name`).

    Raises:
        ValueError: on an unknown metric, "accuracy" for an unconditional model or an
            extractor whose classes are not the model's, "ppl_*"/"ls_*" for a model
            without a mapping and synthesis or an extractor that is not a domain
            classifier, or images of another shape.

    Example:
    ```python
    extractor = zoo.metrics.ClassifierExtractor.from_path("mnist.keras")
    results = zoo.metrics.evaluate_generator(gan, real_images, extractor, ("fid", "kid"))
    zoo.metrics.append_results("runs/evaluate.jsonl", results, num_samples=len(real_images),
                               reference="mnist_idx:test", extractor=extractor.name, model="gan")
    ```

    Reference: Heusel et al. 2017 (FID), Binkowski et al. 2018 (KID), Salimans et al.
    2016 (IS); Karras et al., "Training Generative Adversarial Networks with Limited
    Data", NeurIPS 2020 (protocol names, JSON-lines results).
    """
    metrics = check_metric_requirements(model, extractor, metrics)  # before the slow part
    reference_images = _reference(reference_images)
    if reference_labels is not None and len(reference_labels) != len(reference_images):
        raise ValueError(
            f"reference_labels must have one label per reference image ({len(reference_images)}); "
            f"got {len(reference_labels)}"
        )
    reference_features = None
    if any(m in FEATURE_METRICS for m in metrics):
        reference_features = extractor.features(reference_images, batch_size=batch_size)
    return evaluate_with_reference(
        model,
        reference_images.shape[1:],
        reference_features,
        extractor,
        metrics,
        num_samples=len(reference_images) if num_samples is None else num_samples,
        batch_size=batch_size,
        seed=seed,
        reference_labels=reference_labels,
        full_reference=full_reference,
    )


def evaluate_with_reference(
    model,
    image_shape,
    reference_features,
    extractor,
    metrics,
    num_samples,
    batch_size=256,
    seed=0,
    reference_labels=None,
    full_reference=True,
    reference_statistics=None,
):
    """`evaluate_generator` with the reference features computed once beforehand.

    Used by `EvaluationCallback` to evaluate every few epochs without re-embedding the
    reference set, and by `zoo evaluate --reference stats.npz`. `image_shape` is
    `(H, W, C)` of the reference images, or None to take any generated shape (the
    Inception resizes; a statistics file has no images). `reference_features` may be
    None when no metric in `metrics` needs it, or when `reference_statistics`
    (`(mu, sigma)`, e.g. from `load_statistics`) gives FID its reference.
    """
    metrics = check_metrics(metrics)
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples < 2:
        raise ValueError(f"num_samples must be an int >= 2; got {num_samples!r}")
    num_samples = int(num_samples)
    needs_features = [m for m in metrics if m in FEATURE_METRICS and not (m == "fid" and reference_statistics)]
    if reference_features is None and needs_features:
        raise ValueError(
            f"metrics {', '.join(needs_features)} need the reference images' features"
            + (" (a statistics file holds only the mean and covariance that FID needs)" if reference_statistics
               else "")
        )
    check_metric_requirements(model, extractor, metrics)
    num_classes = num_classes_of(model)
    style_metrics = [m for m in metrics if m in _STYLE_METRICS]
    results = {}
    image_metrics = [m for m in metrics if m not in _STYLE_METRICS]
    if image_metrics:
        results.update(_image_metrics(
            model, image_shape, reference_features, extractor, image_metrics, num_samples, num_classes,
            batch_size, seed, reference_labels, full_reference, reference_statistics,
        ))
    for metric in style_metrics:
        if metric in _PPL_METRICS:
            results.update(ppl_of(model, extractor, _PPL_METRICS[metric], num_samples, batch_size=batch_size,
                                  seed=seed))
        else:
            results.update(ls_of(model, extractor, _LS_METRICS[metric], num_samples, seed=seed))
    return results


def _image_metrics(
    model, image_shape, reference_features, extractor, metrics, num_samples, num_classes, batch_size, seed,
    reference_labels, full_reference, reference_statistics,
):
    labels = None
    if num_classes is not None:
        # A stream of its own: drawn from the noise's stream, labels would correlate with z.
        rng = np.random.default_rng(None if seed is None else [seed, 1])
        labels = _sample_labels(rng, num_samples, num_classes, reference_labels)
    images = generate_samples(model, num_samples, labels=labels, seed=seed, batch_size=batch_size)
    if image_shape is not None and tuple(images.shape[1:]) != tuple(image_shape):
        raise ValueError(
            f"generated images are {tuple(images.shape[1:])} but the reference images are "
            f"{tuple(image_shape)}; load the reference at the generator's size"
        )
    if not np.all(np.isfinite(images)):
        raise ValueError("the generator returned NaN or infinite values")

    features, probabilities = features_and_probabilities(extractor, images, batch_size)
    full = bool(full_reference)
    results = {}
    for metric in metrics:
        if metric == "fid":
            name = metric_name(metric, num_samples, full)
            if reference_statistics is not None:
                results[name] = frechet_distance_from_statistics(*reference_statistics, *gaussian_statistics(features))
            else:
                results[name] = frechet_distance(reference_features, features)
        elif metric == "kid":
            name = metric_name(metric, num_samples, full)
            results[name], results[f"{name}_std"] = kernel_inception_distance(reference_features, features, seed=seed)
        elif metric == "pr":
            name = _neighbours_name("pr", num_samples, PR_NEAREST_K, full)
            results[f"{name}_precision"], results[f"{name}_recall"] = precision_recall(
                reference_features, features, nearest_k=PR_NEAREST_K)
        elif metric == "dc":
            name = _neighbours_name("dc", num_samples, DC_NEAREST_K, full)
            results[f"{name}_density"], results[f"{name}_coverage"] = density_coverage(
                reference_features, features, nearest_k=DC_NEAREST_K)
        elif metric == "is":
            name = metric_name(metric, num_samples)
            results[name], results[f"{name}_std"] = inception_score(probabilities, splits=min(IS_SPLITS, num_samples))
        else:
            accuracy = accuracy_from_scores(probabilities, labels)
            results[metric_name(metric, num_samples)] = accuracy["accuracy"]
            results[metric_name("worst_label_accuracy", num_samples)] = accuracy["worst_label_accuracy"]
    return results


def _neighbours_name(metric, num_samples, nearest_k, full_reference):
    """StyleGAN2-ADA's `pr50k3_full`: the count, then k (after "_" when the count is a plain number)."""
    count = metric_name("", num_samples)
    return f"{metric}{count}{'' if count.endswith('k') else '_'}{nearest_k}{'_full' if full_reference else ''}"


def check_metric_requirements(model, extractor, metrics):
    """`metrics` checked (`check_metrics`), after checking each can be measured for `model` with `extractor`.

    Raises ValueError before anything is generated: "accuracy" needs a conditional model
    and a classifier of its classes (`check_accuracy`), PPL and separability a style-based
    model and a domain classifier (`check_style_metric`).
    """
    metrics = check_metrics(metrics)
    if "accuracy" in metrics:
        check_accuracy(num_classes_of(model), extractor)
    for metric in metrics:
        if metric in _STYLE_METRICS:
            check_style_metric(model, extractor, metric)
    return metrics


def check_style_metric(model, extractor, metric):
    """Raises ValueError unless `metric` (ppl_* or ls_*) can be measured: a style-based model (and a classifier).

    PPL and linear separability need the model's mapping and synthesis nets apart
    (`ema_mapping` and `ema_synthesis`, as a `zoo.models.StyleGAN` checkpoint has).
    Separability also needs a `ClassifierExtractor` (`--extractor model.keras`), whose
    classes (each against the rest) are its attributes; PPL measures its distances with
    a classifier's normalised features when given one, else with LPIPS as the paper.
    """
    from zoo.metrics.extractors import ClassifierExtractor

    missing = [a for a in ("ema_mapping", "ema_synthesis") if getattr(model, a, None) is None]
    if missing:
        raise ValueError(
            f"metric {metric!r} needs a style-based generator with a mapping and a synthesis net "
            f"(a zoo.models.StyleGAN checkpoint, with ema_mapping and ema_synthesis); "
            f"{type(model).__name__} has no {', '.join(missing)} (exports are not supported: evaluate "
            "the training checkpoint)"
        )
    if metric.startswith("ls_") and not isinstance(extractor, ClassifierExtractor):
        raise ValueError(
            f"metric {metric!r} needs a domain classifier as extractor (a ClassifierExtractor, "
            f"--extractor model.keras); got {getattr(extractor, 'name', type(extractor).__name__)!r}"
        )


def ppl_of(model, extractor, space, num_samples, batch_size=PPL_BATCH_SIZE, seed=0):
    """Perceptual path length of a StyleGAN's EMA nets, named by protocol (`ppl_w_end2k`).

    Args:
        model: `zoo.models.StyleGAN` (`ema_mapping`, `ema_synthesis`).
        extractor: a `ClassifierExtractor`, whose normalised features measure the distance
            (`zoo.metrics.ppl_features_classifier`: for data far from photos, such as digits),
            or any other extractor: then LPIPS measures it, as in the paper
            (`zoo.metrics.ppl_features_lpips`: torchvision's VGG16 weights, downloaded once).
        space: "w" or "z".
        num_samples: int >= 1, path ends measured.
        batch_size: int, at most this many pairs (capped at 64) per synthesis call.
        seed: int, seed of the codes and noise.

    Returns:
        dict `{"ppl_<space>_end<n>": float}`.

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2.
    """
    from zoo.metrics.extractors import ClassifierExtractor
    from zoo.metrics.ppl import perceptual_path_length, ppl_features_classifier, ppl_features_lpips, ppl_name

    check_style_metric(model, extractor, f"ppl_{space}")
    classifier = isinstance(extractor, ClassifierExtractor)
    features = ppl_features_classifier(extractor) if classifier else ppl_features_lpips()
    result = perceptual_path_length(
        model.ema_mapping, model.ema_synthesis, features, space=space,
        num_samples=num_samples, sampling=PPL_SAMPLING, batch_size=min(int(batch_size), PPL_BATCH_SIZE),
        seed=0 if seed is None else seed,
    )
    return {metric_name(ppl_name(space, PPL_SAMPLING), num_samples): float(result[ppl_name(space, PPL_SAMPLING)])}


def ls_of(model, extractor, space, num_samples, seed=0):
    """Linear separability of a StyleGAN's EMA nets, named by protocol (`ls_w2k`).

    The attributes are the classifier's classes, each against the rest ("digit k or
    not" with an MNIST classifier), scored on `num_samples` codes of which the more
    confident half is kept per attribute (`zoo.metrics.separability_of`).

    Args:
        model: `zoo.models.StyleGAN` (`ema_mapping`, `ema_synthesis`).
        extractor: `ClassifierExtractor`.
        space: "w" or "z".
        num_samples: int >= 2, codes sampled.
        seed: int, seed of the codes and noise.

    Returns:
        dict `{"ls_<space><n>": float}`.

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2.
    """
    from zoo.metrics.separability import separability_name, separability_of

    check_style_metric(model, extractor, f"ls_{space}")
    result = separability_of(model.ema_mapping, model.ema_synthesis, extractor, space=space, num_samples=num_samples,
                             seed=0 if seed is None else seed)
    return {metric_name(separability_name(space), num_samples): float(result[separability_name(space)])}


def append_jsonl(path, record):
    """Appends `record` as one JSON line to `path` (parent folders are created).

    Args:
        path: str or `Path` of the `.jsonl` file.
        record: JSON-serialisable dict (numpy scalars are converted). A `"time"` key
            (ISO 8601 UTC) is added first unless present.

    Returns:
        dict, the record as written.

    Example:
        >>> append_jsonl("runs/evaluate.jsonl", {"metric": "fid2k_full", "value": 3.1})
    """
    if "time" not in record:
        now = datetime.datetime.now(datetime.timezone.utc)
        record = {"time": now.isoformat(timespec="seconds"), **record}
    line = json.dumps(record, default=_jsonable)
    if files.is_remote(path):  # object stores cannot append: the file is rewritten with the line added
        before = ""
        if files.exists(path):
            with files.open_file(path) as f:
                before = f.read()
        files.write_text(path, before + line + "\n")
        return record
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "a") as f:
        f.write(line + "\n")
    return record


def append_results(path, results, *, num_samples, reference, extractor, model, **extras):
    """Appends one JSON line per metric of an `evaluate_generator` result.

    A `*_std` value goes into its metric's record as `"std"`.

    Args:
        path: str, the `.jsonl` file.
        results: dict from `evaluate_generator`.
        num_samples: int, generated images.
        reference: str, what the reference set was (e.g. "mnist_idx:test").
        extractor: str, the extractor's `name`.
        model: str, what was evaluated (a path or a model name).
        **extras: further JSON-serialisable fields for every record (e.g. epoch).

    Returns:
        list of the records written.
    """
    written = []
    for key, value in results.items():
        if key.endswith("_std") and key[: -len("_std")] in results:
            continue
        record = {"metric": key, "value": value}
        if f"{key}_std" in results:
            record["std"] = results[f"{key}_std"]
        record.update(
            num_samples=num_samples, reference=reference, extractor=extractor, model=model, **extras
        )
        written.append(append_jsonl(path, record))
    return written


def check_accuracy(num_classes, extractor):
    """Raises ValueError unless "accuracy" makes sense: a conditional model, its classifier."""
    if num_classes is None:
        raise ValueError(
            "metric 'accuracy' needs a conditional model (one with an int num_classes "
            "whose generate takes labels)"
        )
    if isinstance(extractor, InceptionExtractor) or getattr(extractor, "num_classes", None) != num_classes:
        raise ValueError(
            f"metric 'accuracy' needs a classifier of the model's {num_classes} classes as "
            f"extractor; got {getattr(extractor, 'name', type(extractor).__name__)!r} with "
            f"{getattr(extractor, 'num_classes', '?')} classes"
        )


def _sample_labels(rng, num_samples, num_classes, reference_labels):
    if reference_labels is None:
        return rng.permutation(np.arange(num_samples) % num_classes).astype(np.int32)
    reference_labels = np.asarray(reference_labels)
    integer = np.issubdtype(reference_labels.dtype, np.integer)
    if reference_labels.ndim != 1 or len(reference_labels) == 0 or not integer:
        raise ValueError(f"reference_labels must be a non-empty 1-D int array; got shape {reference_labels.shape}")
    if reference_labels.min() < 0 or reference_labels.max() >= num_classes:
        raise ValueError(f"reference_labels must be in [0, {num_classes}) for this model")
    replace = num_samples > len(reference_labels)
    return rng.choice(reference_labels, size=num_samples, replace=replace).astype(np.int32)


def _reference(reference_images):
    reference_images = np.asarray(reference_images, dtype=np.float32)
    if reference_images.ndim != 4 or len(reference_images) < 2:
        raise ValueError(
            f"reference_images must be at least 2 images (N, H, W, C); got shape {reference_images.shape}"
        )
    return reference_images


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def judged_scores(model, train_images, train_labels, test_images, test_labels=None, metrics=("fid",),
                  num_classes=10, epochs=10, seed=0, save_path=None):
    """Scores `model` in a domain classifier's feature space, beside the floor of real images.

    The offline protocol of the digit recipes (mnist_cgan, fashion_mnist_wgan_gp): a classifier (the
    judge, `train_domain_classifier`) trains on `train_images` but their first
    `min(len(test_images), len(train_images) // 2)`, which are kept back as the
    floor set, held out from the judge like the test images. `evaluate_generator`
    then scores the samples against `test_images` in the judge's features, and
    `fid_floor` is the floor set's FID against the same test images.

    Args:
        model: a zoo model (or callable) as `evaluate_generator` takes.
        train_images, train_labels: arrays of the labelled training data.
        test_images: array, the held-out reference images.
        test_labels: None or array, their labels (for "accuracy", and to request
            labels in their frequencies from a conditional model).
        metrics: names from `METRICS`. Default ("fid",).
        num_classes: int, the judge's classes. Default 10.
        epochs: int, the judge's training epochs. Default 10.
        seed: int. Default 0.
        save_path: None or a `.keras` path for the judge.

    Returns:
        dict of `evaluate_generator`'s scores plus "fid_floor".
    """
    from zoo.metrics.classifier import train_domain_classifier
    from zoo.metrics.extractors import ClassifierExtractor

    floor = min(len(test_images), len(train_images) // 2)
    judge = train_domain_classifier(train_images[floor:], train_labels[floor:], num_classes=num_classes,
                                    epochs=epochs, seed=seed, save_path=save_path)
    extractor = ClassifierExtractor(judge)
    scores = evaluate_generator(model, test_images, extractor, metrics=metrics, reference_labels=test_labels,
                                seed=seed)
    scores["fid_floor"] = frechet_distance(extractor.features(train_images[:floor]), extractor.features(test_images))
    return scores
