"""Accuracy of a held-out classifier on a conditional generator's samples, per label."""

import keras
import numpy as np


def conditional_accuracy(extractor_or_classifier, images, labels, batch_size=256):
    """How often a held-out classifier recognises the label each sample was asked for.

    A conditional generator that ignores its label scores chance (1/K); one that
    collapses some classes shows it in `worst_label_accuracy`. Use a classifier that
    did not see the generator's training images (e.g. `train_domain_classifier` on a
    held-out split).

    Args:
        extractor_or_classifier: an extractor with `probabilities(images, batch_size)`
            (e.g. `ClassifierExtractor`), or a `keras.Model` classifier (logits or
            probabilities; only the argmax is used).
        images: array-like `(N, H, W, C)` generated with the requested `labels`.
        labels: int array-like `(N,)`, the requested labels.
        batch_size: int, images per classifier call. Default 256.

    Returns:
        dict: `"accuracy"` (float, over all samples), `"worst_label_accuracy"` (float,
        the lowest per-label accuracy), `"worst_label"` (int; the smallest label on a
        tie) and `"per_label"` (`{label: accuracy}` for every requested label).

    Raises:
        ValueError: if images and labels differ in number, or there are none.

    Example:
    ```python
    labels = np.arange(1000) % 10
    images = cgan.generate(1000, labels=labels)
    zoo.metrics.conditional_accuracy(extractor, images, labels)["accuracy"]
    ```

    Reference: Odena, Olah & Shlens, "Conditional Image Synthesis with Auxiliary
    Classifier GANs", ICML 2017 (accuracy of a pre-trained classifier on samples).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D int array; got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"images and labels must have the same length; got {len(images)} and {len(labels)}")
    if hasattr(extractor_or_classifier, "probabilities"):
        scores = extractor_or_classifier.probabilities(images, batch_size=batch_size)
    elif isinstance(extractor_or_classifier, keras.Model):
        scores = extractor_or_classifier.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    else:
        raise ValueError(
            "extractor_or_classifier must have a probabilities(images, batch_size) method "
            f"or be a keras.Model; got {type(extractor_or_classifier).__name__}"
        )
    return accuracy_from_scores(scores, labels)


def accuracy_from_scores(scores, labels):
    """`conditional_accuracy` from class scores already computed, `(N, K)` and `(N,)`."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or scores.shape[0] != len(labels):
        raise ValueError(f"scores must be ({len(labels)}, num_classes) to match labels; got {scores.shape}")
    correct = np.argmax(scores, axis=1) == labels
    per_label = {int(label): float(correct[labels == label].mean()) for label in np.unique(labels)}
    worst = min(per_label, key=lambda label: (per_label[label], label))
    return {
        "accuracy": float(correct.mean()),
        "worst_label_accuracy": per_label[worst],
        "worst_label": worst,
        "per_label": per_label,
    }
