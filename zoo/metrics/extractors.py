"""Feature extractors for the metrics: InceptionV3 and zoo's domain classifiers.

Every extractor has the same small interface, so metrics take one as an argument and
tests can pass a tiny one:

- `features(images, batch_size=...)` -> float64 `(N, D)` embedding (FID, KID);
- `probabilities(images, batch_size=...)` -> float64 `(N, K)` class probabilities
  (Inception Score, conditional accuracy);
- `name`: str recorded with every result, e.g. `"inception_v3"` or
  `"classifier:mnist"` (numbers from different extractors do not compare);
- `num_classes`: int K.

Images are zoo images: float32 `(N, H, W, C)` in [-1, 1].
"""

import os

import keras
import numpy as np

from zoo import checks, files

INCEPTION_SIZE = 299


class InceptionExtractor:
    """InceptionV3 pool features (2048-d) and ImageNet class probabilities.

    Images are resized to 299x299 (bilinear) and greyscale is repeated to three
    channels; zoo's [-1, 1] range is already Inception's preprocessing. Features are
    the `avg_pool` layer of `keras.applications.InceptionV3(include_top=True)`,
    probabilities its `predictions`. FID computed with these is the usual FID, though
    not bit-identical to the TF1 graph of Heusel et al. (other resize and weights).

    Args:
        weights: "imagenet" (downloaded once by Keras to `~/.keras/models`), a path to
            a weights file, or None (random weights: for tests only). Default "imagenet".

    Raises:
        RuntimeError: if the weights cannot be loaded (e.g. offline); the message says
            to pass a domain classifier instead.

    Example:
    ```python
    extractor = zoo.metrics.InceptionExtractor()
    fid = zoo.metrics.frechet_distance(extractor.features(real), extractor.features(fake))
    ```

    Reference: Szegedy et al., "Rethinking the Inception Architecture for Computer
    Vision", CVPR 2016; Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium", NeurIPS 2017.
    """

    name = "inception_v3"
    num_classes = 1000

    def __init__(self, weights="imagenet"):
        self.weights = weights
        def load():
            return keras.applications.InceptionV3(include_top=True, weights=weights)

        inception = load() if weights is None else files.fetch(
            load, f"InceptionV3 weights {weights!r}", "pass a domain classifier instead: train one with "
            "zoo.metrics.train_domain_classifier(..., save_path=P), then use ClassifierExtractor.from_path(P) "
            "(`zoo evaluate --extractor P`)")
        images = keras.Input((None, None, 3), name="images")
        resized = keras.layers.Resizing(INCEPTION_SIZE, INCEPTION_SIZE, interpolation="bilinear")(images)
        two_heads = keras.Model(
            inception.inputs,
            [inception.get_layer("avg_pool").output, inception.get_layer("predictions").output],
        )
        self._model = keras.Model(images, two_heads(resized), name="inception_extractor")

    def features(self, images, batch_size=64):
        """Pool features, float64 `(N, 2048)`."""
        return self.features_and_probabilities(images, batch_size)[0]

    def probabilities(self, images, batch_size=64):
        """ImageNet class probabilities, float64 `(N, 1000)`."""
        return self.features_and_probabilities(images, batch_size)[1]

    def features_and_probabilities(self, images, batch_size=64):
        """Both outputs from one pass over `images`: `(features, probabilities)`."""
        images = _images(images)
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        if images.shape[-1] != 3:
            raise ValueError(f"images must have 1 or 3 channels for Inception; got {images.shape[-1]}")
        features, probabilities = self._model.predict(images, batch_size=_batch(batch_size), verbose=0)
        return features.astype(np.float64), probabilities.astype(np.float64)


class ClassifierExtractor:
    """A trained classifier's `features` layer and softmax, e.g. zoo's domain classifier.

    Args:
        model: a `keras.Model` mapping images in [-1, 1] to logits `(batch, K)`, with a
            layer named `feature_layer` (see `zoo.nets.domain_classifier`).
        feature_layer: str, the layer whose output is the embedding. Default "features".
        name: str or None, the extractor's name in results. Default None:
            `"classifier:<model name>"` (`from_path` uses the file name).

    Raises:
        ValueError: if `model` has no such layer or its output is not `(batch, K)`.

    Example:
    ```python
    classifier = zoo.metrics.train_domain_classifier(images, labels, save_path="mnist.keras")
    extractor = zoo.metrics.ClassifierExtractor.from_path("mnist.keras")  # "classifier:mnist"
    ```

    Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
    to a Local Nash Equilibrium", NeurIPS 2017 (any network's activations can stand in
    for Inception's when the data is far from ImageNet).
    """

    def __init__(self, model, feature_layer="features", name=None):
        if not isinstance(model, keras.Model):
            raise ValueError(f"model must be a keras.Model classifier; got {type(model).__name__}")
        try:
            embedding = model.get_layer(feature_layer).output
        except ValueError:
            raise ValueError(
                f"model {model.name!r} has no layer named {feature_layer!r} (feature_layer)"
            ) from None
        if len(model.outputs) != 1 or len(model.output_shape) != 2:
            raise ValueError(f"model must output logits (batch, num_classes); got {model.output_shape}")
        self.model = model
        self.feature_layer = feature_layer
        self.name = name or f"classifier:{model.name}"
        self.num_classes = int(model.output_shape[-1])
        self.image_shape = tuple(int(s) for s in model.input_shape[1:])
        self._model = keras.Model(model.inputs, [embedding, model.outputs[0]])

    @classmethod
    def from_path(cls, path, feature_layer="features"):
        """Loads a `.keras` classifier; the name is `"classifier:<file stem>"`."""
        from zoo.metrics.classifier import load_domain_classifier

        stem = os.path.splitext(os.path.basename(os.fspath(path)))[0]
        return cls(load_domain_classifier(path), feature_layer=feature_layer, name=f"classifier:{stem}")

    def features(self, images, batch_size=256):
        """Embedding of the `features` layer, float64 `(N, D)`."""
        return self.features_and_probabilities(images, batch_size)[0]

    def probabilities(self, images, batch_size=256):
        """Softmax of the logits, float64 `(N, num_classes)`."""
        return self.features_and_probabilities(images, batch_size)[1]

    def features_and_probabilities(self, images, batch_size=256):
        """Both outputs from one pass over `images`: `(features, probabilities)`."""
        images = _images(images)
        if images.shape[1:] != self.image_shape:
            raise ValueError(
                f"images are {images.shape[1:]} but the classifier {self.name!r} expects "
                f"{self.image_shape}; generate or load the data at its size"
            )
        features, logits = self._model.predict(images, batch_size=_batch(batch_size), verbose=0)
        logits = logits.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return features.reshape(len(features), -1).astype(np.float64), probabilities


def features_and_probabilities(extractor, images, batch_size):
    """Both outputs of any extractor, in one pass when it offers one."""
    both = getattr(extractor, "features_and_probabilities", None)
    if both is not None:
        return both(images, batch_size=batch_size)
    return extractor.features(images, batch_size=batch_size), extractor.probabilities(images, batch_size=batch_size)


def _images(images):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, H, W, C); got shape {images.shape}")
    return images


def _batch(batch_size):
    checks.positive_int(batch_size, "batch_size")
    return batch_size
