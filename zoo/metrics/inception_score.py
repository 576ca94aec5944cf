"""Inception Score (and, with a domain classifier, the classifier score)."""

import numpy as np


def inception_score(probabilities, splits=10):
    """Inception Score: `exp(E_x KL(p(y|x) || p(y)))`, averaged over splits.

    The samples are cut into `splits` consecutive parts (as equal as possible); in each
    part `p(y)` is the mean of the rows and the score `exp(mean KL)` is computed. High
    when every sample is classified confidently (low entropy rows) and the classes are
    covered evenly (high entropy marginal); it ranges from 1 to the number of classes.

    Args:
        probabilities: array-like `(N, K)`, class probabilities of generated samples
            (rows of non-negative numbers summing to 1), e.g.
            `extractor.probabilities(images)`.
        splits: int in [1, N], number of parts. Default 10 (Salimans et al.).

    Returns:
        `(mean, std)`: floats, the mean and standard deviation of the per-split scores.

    Raises:
        ValueError: if `probabilities` is not `(N, K)` rows of probabilities, or
            `splits` is not an int in [1, N].

    Example:
        >>> inception_score(np.eye(10)[np.arange(100) % 10], splits=10)
        (10.0, 0.0)

    Reference: Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"probabilities must be a 2-D array (samples, classes); got shape {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probabilities must be finite, non-negative rows summing to 1 (apply a softmax to logits)")
    if isinstance(splits, bool) or not isinstance(splits, (int, np.integer)) or not 1 <= splits <= len(p):
        raise ValueError(f"splits must be an int in [1, {len(p)}] (the number of samples); got {splits!r}")
    tiny = np.finfo(np.float64).tiny
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # 0 * log(0) terms are 0: the clip only keeps the log finite.
        kl = np.sum(part * (np.log(np.clip(part, tiny, None)) - np.log(np.clip(marginal, tiny, None))), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
