"""Feature extractors for the metrics: the FID Inception and zoo's domain classifiers.

Every extractor has the same small interface, so metrics take one as an argument and
tests can pass a tiny one:

- `features(images, batch_size=...)` -> float64 `(N, D)` embedding (FID, KID, P/R);
- `probabilities(images, batch_size=...)` -> float64 `(N, K)` class probabilities
  (Inception Score, conditional accuracy);
- `name`: str recorded with every result, e.g. `"fid_inception:clean"` or
  `"classifier:mnist"` (numbers from different extractors do not compare);
- `num_classes`: int K; `feature_dim`: int D.

Images are zoo images: float32 `(N, H, W, C)` in [-1, 1] (the Inception also takes
uint8 images, as datasets store them).
"""

import os

import keras
import numpy as np

from zoo import checks, files
from zoo.metrics import fid_protocol
from zoo.nets import fid_inception
from zoo.nets.torch_state_dict import read_state_dict


class InceptionExtractor:
    """The FID Inception's pool features (2048-d) and class probabilities, under a protocol.

    The network is the 2015-12-05 TensorFlow Inception graph that published FIDs use
    (`zoo.nets.fid_inception_v3`) with pytorch-fid's converted weights, and the images
    reach it as a named reference implementation feeds them (`zoo.metrics.fid_protocol`:
    `"clean"`, `"pytorch_fid"`, `"tf1"`), so a zoo FID compares with the numbers made the
    same way. Probabilities are the softmax of the unbiased logits (pool features times
    the classifier's weights, without its bias) over its 1008 classes: the Inception
    Score as Salimans et al.'s code and torch-fidelity compute it.

    Args:
        weights: "pt_inception" (pytorch-fid's file, downloaded once to
            `~/.keras/models`), a path to that file (or torch-fidelity's copy of it), or
            None (random weights: for tests only). Default "pt_inception".
        protocol: "clean", "pytorch_fid" or "tf1". Default "clean" (clean-fid's).

    Raises:
        zoo.files.DownloadError: if the weights cannot be downloaded; the message gives
            the URL to fetch by hand.
        FileNotFoundError: if `weights` is a path that does not exist.
        ValueError: on an unknown protocol, or a file that is not the FID Inception's.

    Example:
    ```python
    extractor = zoo.metrics.InceptionExtractor(protocol="clean")  # name "fid_inception:clean"
    fid = zoo.metrics.frechet_distance(extractor.features(real), extractor.features(fake))
    ```

    Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
    to a Local Nash Equilibrium", NeurIPS 2017; Parmar et al., "On Aliased Resizing
    and Surprising Subtleties in GAN Evaluation", CVPR 2022; Salimans et al.,
    "Improved Techniques for Training GANs", NeurIPS 2016.
    """

    num_classes = fid_inception.FID_INCEPTION_CLASSES
    feature_dim = 2048

    def __init__(self, weights="pt_inception", protocol="clean"):
        self.protocol = fid_protocol.check_protocol(protocol)
        self.weights = weights
        self.name = f"fid_inception{'_random' if weights is None else ''}:{protocol}"
        # The file first: offline, the error comes before the 24M-parameter build.
        state = None if weights is None else read_state_dict(fid_inception_weights(weights))
        self.net = fid_inception.fid_inception_v3()
        if state is not None:
            fid_inception.load_fid_inception_state_dict(self.net, state)
        self._classifier = np.asarray(keras.ops.convert_to_numpy(self.net.get_layer("fc").kernel), np.float64)

    def features(self, images, batch_size=64):
        """Pool features, float64 `(N, 2048)`."""
        return self.features_and_probabilities(images, batch_size)[0]

    def probabilities(self, images, batch_size=64):
        """Class probabilities (softmax of the unbiased logits), float64 `(N, 1008)`."""
        return self.features_and_probabilities(images, batch_size)[1]

    def features_and_probabilities(self, images, batch_size=64):
        """Both outputs from one pass over `images`: `(features, probabilities)`."""
        images = _images(images, keep_uint8=True)
        if images.shape[-1] not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels for Inception; got {images.shape[-1]}")
        batch_size = _batch(batch_size)
        pools = []
        for start in range(0, len(images), batch_size):
            batch = fid_protocol.inception_input(images[start : start + batch_size], self.protocol)
            pools.append(keras.ops.convert_to_numpy(self.net.predict_on_batch(batch)["pool"]))
        features = np.concatenate(pools).astype(np.float64)
        logits = features @ self._classifier
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return features, probabilities


def fid_inception_weights(weights="pt_inception"):
    """The path of the FID Inception's PyTorch weights: downloaded and checked, or given.

    Args:
        weights: "pt_inception" (download pytorch-fid's file once into
            `~/.keras/models` and check its SHA-256 prefix) or a path to the file.

    Returns:
        str, a path to read with `zoo.nets.torch_state_dict.read_state_dict`.
    """
    if weights != "pt_inception":
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"no FID Inception weights file at {path!r}; download {fid_inception.FID_INCEPTION_URL} "
                "or pass weights='pt_inception'"
            )
        return path

    return files.fetch_checked(
        fid_inception.FID_INCEPTION_FILE, fid_inception.FID_INCEPTION_URL, fid_inception.FID_INCEPTION_SHA256_PREFIX,
        "the FID Inception weights (pytorch-fid's pt_inception-2015-12-05)",
        f"download {fid_inception.FID_INCEPTION_URL} on a machine with internet and pass its path "
        "(InceptionExtractor(weights=PATH), `zoo evaluate --inception-weights PATH`), or use a domain "
        "classifier (`zoo evaluate --extractor model.keras`)",
    )


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
        self.feature_dim = int(np.prod(embedding.shape[1:]))
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


def _images(images, keep_uint8=False):
    images = np.asarray(images)
    if not (keep_uint8 and images.dtype == np.uint8):
        images = np.asarray(images, dtype=np.float32)  # no copy of float32 arrays
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, H, W, C); got shape {images.shape}")
    return images


def _batch(batch_size):
    checks.positive_int(batch_size, "batch_size")
    return batch_size
