"""Linear separability of a style-based generator's latent spaces (Karras et al. 2019).

If a latent space is disentangled, the directions that turn a binary attribute
of the image on or off should be linear: a hyperplane in Z or W should split the
codes of images that have the attribute from those that do not. The metric
(sec. 4.2 of the paper, `metrics/linear_separability.py` of NVlabs/stylegan):

1. sample codes, generate images, and score each with an attribute classifier:
   `p`, the probability that the image has attribute `a`; its label is `p > 0.5`;
2. keep the `keep_fraction` most confident samples (largest `max(p, 1 - p)`;
   the paper keeps 100,000 of 200,000);
3. fit a linear SVM on the kept codes to the labels and predict the same codes;
4. the conditional entropy `H(Y | X)` of the classifier's label `Y` given the
   SVM's side `X`, in bits: how much more one must know to get the label
   from the side of the hyperplane. 0 when the hyperplane splits the labels
   exactly, at most `H(Y) <= 1` bit;
5. the score is `2 ** sum_a H(Y_a | X_a)` over the attributes (the paper's
   `exp(sum H)`, with entropies in bits as in the reference code; with natural
   logarithms `exp` gives the same number). Lower is better: 1 when every
   attribute is linearly separable, `2 ** A` at worst.

Results are named `ls_z` and `ls_w`, as in the reference. The attribute
classifier is injected (`attribute_fn`): the paper's 40 CelebA-HQ classifiers,
or one-vs-rest classes of a domain classifier (`attributes_from_classifier`:
"digit k or not" on MNIST); numbers from different attribute sets do not compare.
"""

import numpy as np
from keras import ops

from zoo import checks, engine
from zoo.metrics.ppl import SPACES, _call, _tensor


def separability_name(space):
    """The protocol name of a linear separability result: `ls_w` or `ls_z`.

    Args:
        space: "w" or "z".

    Returns:
        str, `f"ls_{space}"`.
    """
    checks.choice(space, "space", SPACES)
    return f"ls_{space}"


def linear_separability(latents, attribute_probabilities, keep_fraction=0.5, seed=0):
    """Linear separability of binary attributes in a set of latent codes.

    For each attribute (column) `a`: the labels are `p > 0.5`; the `keep_fraction`
    most confident samples (largest `max(p, 1 - p)`, ties in sample order) are kept;
    a linear SVM is fitted to their labels and predicts the same codes; the
    attribute's entropy is the conditional entropy `H(Y | X)` in bits of the label
    `Y` given the SVM's prediction `X`, from their 2x2 joint frequencies. A kept set
    with one label only has entropy 0 (nothing to separate; the reference code
    counts it as perfectly predicted too).

    The SVM is scikit-learn's `LinearSVC` with its default objective, as in the
    reference: squared hinge loss, L2 penalty, `C=1`, an intercept, tolerance 1e-4,
    at most 1,000 iterations, on the codes as given (not standardised). The primal
    solver is used when there are more kept samples than dimensions (the dual one
    otherwise), which solves the same problem and is deterministic.

    Args:
        latents: array-like `(N, D)`, N >= 2: the codes (Z or W) of the samples.
        attribute_probabilities: array-like `(N, A)` in [0, 1]: the probability
            that sample n has attribute a, one column per binary attribute (e.g.
            `attributes_from_classifier(extractor)(images)`).
        keep_fraction: float in (0, 1]: the share of most confident samples kept
            per attribute, `keep_fraction * N` rounded half up (at least 1). Default 0.5
            (the paper's 100,000 of 200,000).
        seed: int >= 0, `random_state` of the SVM (used by the dual solver only).
            Default 0.

    Returns:
        dict with
        - `"separability"`: float in [1, 2 ** A], `2 ** sum(conditional_entropies)`.
          1 means every attribute is exactly linearly separable (all entropies 0);
          lower is better;
        - `"conditional_entropies"`: float64 array `(A,)`, `H(Y_a | X_a)` in bits,
          each in [0, 1]; near 0 means the hyperplane splits the attribute almost
          exactly, near 1 that knowing the side tells nothing about a balanced label;
        - `"num_kept"`: int, samples kept per attribute.

    Raises:
        ValueError: if `latents` is not a finite `(N, D)` array with N >= 2,
            `attribute_probabilities` not `(N, A)` with values in [0, 1], or
            `keep_fraction` not in (0, 1].

    Example:
        >>> z = np.random.default_rng(0).standard_normal((2000, 8))
        >>> p = 1 / (1 + np.exp(-4 * z[:, :1]))  # a linear attribute
        >>> linear_separability(z, p)["separability"]
        1.0

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2 (and NVlabs/stylegan,
    `metrics/linear_separability.py`).
    """
    latents = np.asarray(latents, dtype=np.float64)
    if latents.ndim != 2 or latents.shape[0] < 2:
        raise ValueError(f"latents must be (N, D) with N >= 2; got shape {latents.shape}")
    if not np.all(np.isfinite(latents)):
        raise ValueError("latents has NaN or infinite values")
    probabilities = np.asarray(attribute_probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[0] != latents.shape[0] or probabilities.shape[1] < 1:
        raise ValueError(
            f"attribute_probabilities must be (N, A) with N = {latents.shape[0]} (the latents' rows) "
            f"and A >= 1; got shape {probabilities.shape}"
        )
    if not np.all((probabilities >= 0) & (probabilities <= 1)):
        raise ValueError("attribute_probabilities must hold probabilities in [0, 1] (no NaN)")
    keep_fraction = checks.number(keep_fraction, "keep_fraction", above=0, at_most=1)
    seed = checks.integer(seed, "seed", at_least=0)

    num_kept = max(1, int(keep_fraction * len(latents) + 0.5))
    entropies = np.zeros(probabilities.shape[1])
    for a, p in enumerate(probabilities.T):
        kept = np.argsort(-np.maximum(p, 1.0 - p), kind="stable")[:num_kept]
        labels = p[kept] > 0.5
        if labels.all() or not labels.any():
            continue
        sides = _svm_sides(latents[kept], labels, seed)
        entropies[a] = conditional_entropy(sides, labels)
    return {
        "separability": float(2.0 ** entropies.sum()),
        "conditional_entropies": entropies,
        "num_kept": num_kept,
    }


def _svm_sides(codes, labels, seed):
    """The side of a linear SVM fitted to `labels` on which each of `codes` falls."""
    from sklearn.svm import LinearSVC

    svm = LinearSVC(
        penalty="l2", loss="squared_hinge", C=1.0, fit_intercept=True, tol=1e-4, max_iter=1000,
        dual=len(codes) <= codes.shape[1], random_state=seed,
    )
    return svm.fit(codes, labels).predict(codes)


def conditional_entropy(x, y):
    """`H(Y | X)` in bits of two binary (or discrete) variables, from paired samples.

    `H(Y | X) = H(X, Y) - H(X)` with the empirical joint frequencies, clipped at 0
    against round-off.

    Args:
        x: array-like `(N,)`, the conditioning variable (the SVM's side).
        y: array-like `(N,)`, the variable whose remaining uncertainty is measured
            (the classifier's label).

    Returns:
        float >= 0, in bits.

    Raises:
        ValueError: if `x` and `y` are not non-empty vectors of one length.

    Example:
        >>> conditional_entropy([0, 0, 1, 1], [0, 1, 1, 1])  # X = 0 leaves a fair coin
        0.5
    """
    x, y = np.asarray(x).reshape(-1), np.asarray(y).reshape(-1)
    if x.size == 0 or x.shape != y.shape:
        raise ValueError(f"x and y must be non-empty vectors of one length; got {x.shape} and {y.shape}")
    _, joint = np.unique(np.stack([x, y], axis=1), axis=0, return_counts=True)
    _, marginal = np.unique(x, return_counts=True)
    return max(0.0, _entropy_bits(joint / x.size) - _entropy_bits(marginal / x.size))


def _entropy_bits(frequencies):
    return float(-np.sum(frequencies * np.log2(frequencies)))


# -- generators ------------------------------------------------------------------------------


def separability_of(
    mapping,
    synthesis,
    attribute_fn,
    space="w",
    num_samples=200_000,
    keep_fraction=0.5,
    batch_size=64,
    seed=0,
    return_entropies=False,
):
    """Linear separability of a mapping and synthesis net's Z or W (Karras et al. 2019).

    `num_samples` N(0, I) codes `z` are drawn from `seed` and mapped to `w`; the
    images of `w` are scored by `attribute_fn`, and `linear_separability` is
    measured on `z` (the raw codes) or on `w` (the last layer's, for a mapping that
    outputs one `w` per layer, as the reference does). The synthesis runs with
    one fresh N(0, 1) noise map per noise layer for each batch, drawn from `seed`
    and shared by the batch's images, as `perceptual_path_length` does (the
    reference draws noise per image; either way noise only moves fine detail);
    the net's own noise variables are left as they were. No truncation.

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim) -> w (batch, w_dim)` (or
            `(batch, num_ws, w_dim)`), e.g. an EMA mapping net.
        synthesis: `keras.Model`, `ws (batch, num_ws, w_dim) -> images (batch,
            H, W, C)` in about [-1, 1].
        attribute_fn: callable, images (a float32 numpy array `(batch, H, W, C)`)
            -> probabilities `(batch, A)` in [0, 1], one column per binary
            attribute, e.g. `attributes_from_classifier(extractor)`; a
            `zoo.metrics.ClassifierExtractor` is wrapped by it.
        space: "w" (default) or "z".
        num_samples: int >= 2, images generated. Default 200,000 (the paper's).
        keep_fraction: float in (0, 1], the share of most confident samples kept
            per attribute. Default 0.5 (the paper's).
        batch_size: int >= 1, codes per synthesis and `attribute_fn` call. Default 64.
        seed: int >= 0, seeds the codes, the noise and the SVM (one stream, drawn
            batch by batch as `perceptual_path_length` does: the same seed and
            `batch_size` give the same result). Default 0.
        return_entropies: bool; also return the per-attribute conditional
            entropies (float64 `(A,)`, bits). Default False.

    Returns:
        dict `{separability_name(space): score}`, e.g. `{"ls_w": 1.8}`: a float in
        [1, 2 ** A], 1 when every attribute is exactly linearly separable (lower is
        better); with `return_entropies`, `(dict, entropies)`.

    Raises:
        ValueError: for a bad argument, nets that do not fit each other, or an
            `attribute_fn` that does not return `(batch, A)` probabilities.

    Example:
    ```python
    attributes = zoo.metrics.attributes_from_classifier(extractor)  # digit k or not
    zoo.metrics.separability_of(gan.ema_mapping, gan.ema_synthesis, attributes,
                                num_samples=20_000)  # {"ls_w": ...}
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2.
    """
    from zoo.metrics.extractors import ClassifierExtractor
    from zoo.projection import _latent_dim, noise_layers, synthesis_shape

    name = separability_name(space)
    if isinstance(attribute_fn, ClassifierExtractor):
        attribute_fn = attributes_from_classifier(attribute_fn)
    if not callable(attribute_fn):
        raise ValueError(
            f"attribute_fn must be a callable images -> (batch, A) probabilities; got {type(attribute_fn).__name__}"
        )
    num_samples = checks.integer(num_samples, "num_samples", at_least=2)
    keep_fraction = checks.number(keep_fraction, "keep_fraction", above=0, at_most=1)
    batch_size = checks.integer(batch_size, "batch_size", at_least=1)
    seed = checks.integer(seed, "seed", at_least=0)
    return_entropies = checks.boolean(return_entropies, "return_entropies")
    num_ws, _ = synthesis_shape(synthesis)
    latent_dim = _latent_dim(mapping)
    layers = noise_layers(synthesis)
    render = _renderer(mapping, synthesis, layers, num_ws)
    rng = np.random.default_rng(seed)
    codes, probabilities = [], []
    for start in range(0, num_samples, batch_size):
        n = min(batch_size, num_samples - start)
        z = rng.standard_normal((n, latent_dim)).astype("float32")
        buffers = [_tensor(rng.standard_normal(layer.noise_const.shape)) for layer in layers]
        w, images = render(_tensor(z), buffers or None)
        p = np.asarray(attribute_fn(np.asarray(ops.convert_to_numpy(images), "float32")), "float64")
        if p.ndim != 2 or p.shape[0] != n or (probabilities and p.shape[1] != probabilities[0].shape[1]):
            raise ValueError(
                f"attribute_fn must return probabilities (batch, A) with one A for every batch; got shape {p.shape} "
                f"for a batch of {n}"
            )
        codes.append(z if space == "z" else np.asarray(ops.convert_to_numpy(w), "float64"))
        probabilities.append(p)
    result = linear_separability(np.concatenate(codes), np.concatenate(probabilities), keep_fraction, seed)
    scores = {name: result["separability"]}
    return (scores, result["conditional_entropies"]) if return_entropies else scores


def _renderer(mapping, synthesis, layers, num_ws):
    """Compiled `(z, noise buffers or None) -> (w of the last layer, images)`."""
    from zoo.projection import _variables, const_noise

    def render(z, buffers):
        w = _call(mapping, z)
        ws = ops.repeat(w[:, None], num_ws, axis=1) if len(w.shape) == 2 else w
        if buffers is None:
            images = _call(synthesis, ws)
        else:
            with const_noise(layers, buffers):
                images = _call(synthesis, ws)
        return ws[:, -1], images

    # On JAX the nets' weights go in as arguments at every call.
    return engine.function(render, _variables(mapping, synthesis))


def attributes_from_classifier(extractor, batch_size=256):
    """One-vs-rest binary attributes from a classifier: class k or not, for every k.

    The attribute function returns `extractor.probabilities(images)`: column k is
    the probability of class k, so its attribute is "the image is of class k"
    against all the others (on MNIST: digit k or not). With two classes the two
    columns are complements and count the same attribute twice.

    Args:
        extractor: an object with `probabilities(images, batch_size=...)` -> `(N, K)`,
            e.g. a `zoo.metrics.ClassifierExtractor` (zoo's domain classifier).
        batch_size: int >= 1, images per classifier call. Default 256.

    Returns:
        callable, images `(N, H, W, C)` in [-1, 1] -> float64 `(N, K)`
        probabilities; `.name` is the extractor's.

    Raises:
        ValueError: if `extractor` has no `probabilities` method.

    Example:
    ```python
    attributes = zoo.metrics.attributes_from_classifier(
        zoo.metrics.ClassifierExtractor.from_path("mnist.keras"))
    zoo.metrics.separability_of(mapping, synthesis, attributes, space="z")
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2 (one binary classifier per attribute).
    """
    if not callable(getattr(extractor, "probabilities", None)):
        raise ValueError(
            f"extractor must have a probabilities(images) method, e.g. a ClassifierExtractor; "
            f"got {type(extractor).__name__}"
        )
    return _ClassifierAttributes(extractor, checks.integer(batch_size, "batch_size", at_least=1))


class _ClassifierAttributes:
    """images -> `extractor.probabilities(images)`, with the extractor's name."""

    def __init__(self, extractor, batch_size):
        self.extractor = extractor
        self.batch_size = batch_size
        self.name = getattr(extractor, "name", type(extractor).__name__)

    def __call__(self, images):
        return self.extractor.probabilities(images, batch_size=self.batch_size)

    def __repr__(self):
        return f"<one-vs-rest attributes of {self.name}>"
