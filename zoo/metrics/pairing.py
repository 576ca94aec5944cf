"""Correspondence of generated image pairs, when the map between the domains is known."""

import numpy as np


def pairing_error(images_a, images_b, transform, *, seed=0):
    """How much `(G_a(z), G_b(z))` pairs correspond, against the chance level of shuffled pairs.

    For domains related by a known map `transform` (digits -> their edges or
    negatives), pair `i` corresponds when `images_b[i]` equals
    `transform(images_a[i])`. The error of the true pairs is the mean absolute
    pixel difference `|images_b[i] - transform(images_a[i])|`; the chance level
    is the same with `images_b` shuffled (a random cyclic shift, so no image
    keeps its partner), which scores two good generators that ignore each other.
    A CoGAN that learned the joint distribution has `ratio` well below 1; two
    independent GANs have `ratio` about 1. (Liu & Tuzel score the same with a
    pixel agreement ratio.)

    Args:
        images_a: array `(n, h, w, c)` in [-1, 1], domain A, `n >= 2`.
        images_b: array `(n, h, w, c_b)` in [-1, 1], domain B; pair `i` comes
            from the same noise as `images_a[i]`.
        transform: callable, a batch of A images -> what B should show (array or
            tensor of `images_b`'s shape), e.g.
            `lambda x: zoo.data.transform_digits(x, "edges")`.
        seed: int, seed of the shuffle. Default 0.

    Returns:
        dict: `pair_error` (mean absolute difference of the true pairs, 0 for a
        perfect correspondence; [-1, 1] images give at most 2), `shuffled_error`
        (the same for shuffled pairs), `ratio` (`pair_error / shuffled_error`)
        and `pairs_closer` (fraction of pairs whose own partner is closer than
        the shuffled one).

    Raises:
        ValueError: fewer than 2 pairs, or shapes that do not match.

    Example:
    ```python
    digits, edges = cogan.generate(1000)
    scores = zoo.metrics.pairing_error(digits, edges, lambda x: zoo.data.transform_digits(x, "edges"))
    ```

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks", NeurIPS
    2016, section 5.
    """
    images_a = np.asarray(images_a, dtype="float32")
    images_b = np.asarray(images_b, dtype="float32")
    if images_a.ndim != 4 or images_b.ndim != 4 or len(images_a) != len(images_b):
        raise ValueError(
            f"images_a and images_b must be batches (n, h, w, c) of the same n, got "
            f"{images_a.shape} and {images_b.shape}"
        )
    if len(images_a) < 2:
        raise ValueError(f"pairing_error needs at least 2 pairs to shuffle, got {len(images_a)}")
    expected = np.asarray(transform(images_a), dtype="float32")
    if expected.shape != images_b.shape:
        raise ValueError(f"transform(images_a) has shape {expected.shape}, images_b {images_b.shape}")
    n = len(images_a)
    shift = int(np.random.default_rng(seed).integers(1, n))
    shuffled = np.roll(images_b, shift, axis=0)
    pair = np.abs(images_b - expected).reshape(n, -1).mean(axis=1)
    chance = np.abs(shuffled - expected).reshape(n, -1).mean(axis=1)
    pair_error, shuffled_error = float(pair.mean()), float(chance.mean())
    return {
        "pair_error": pair_error,
        "shuffled_error": shuffled_error,
        "ratio": pair_error / shuffled_error if shuffled_error > 0 else float("nan"),
        "pairs_closer": float(np.mean(pair < chance)),
    }
