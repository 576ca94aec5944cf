"""LPIPS (VGG, v0.1): the learned perceptual distance of Zhang et al. 2018, in Keras.

What the `lpips` package's `lpips.LPIPS(net="vgg", version="0.1")` computes, for images
`x`, `y` in [-1, 1]:

1. LPIPS' `ScalingLayer`: `(x - shift) / scale` per RGB channel, shift
   (-0.030, -0.088, -0.188) and scale (0.458, 0.448, 0.450) (torchvision's ImageNet
   normalisation, written for [-1, 1]);
2. torchvision's VGG16 up to relu5_3 (`zoo.nets.lpips_vgg16`), tapped at relu1_2,
   relu2_2, relu3_3, relu4_3 and relu5_3;
3. each tap unit-normalised over the channels at every position,
   `f / (sqrt(sum_c f ** 2) + 1e-10)`;
4. `d(x, y) = sum_l mean_hw sum_c w_lc (n_l(x) - n_l(y)) ** 2`, with the learned,
   non-negative weights `w_l` of LPIPS' 1x1 linear layers (no bias).

Because the weights are non-negative, `d(x, y)` is the squared L2 distance between the
vectors `concat_l(sqrt(w_l) * n_l(.) / sqrt(H_l * W_l))` (`LPIPS.features`): what
StyleGAN2's PPL takes the difference of, and what `zoo.metrics.ppl_features_lpips`
hands to `perceptual_path_length`.

Two files hold the weights, both PyTorch state dicts that zoo reads without PyTorch:

- the linear weights, `lpips/weights/v0.1/vgg.pth` (about 7 KB), shipped inside the
  `lpips` package on PyPI. zoo finds the installed package's file without importing it
  (so without PyTorch: `pip install --no-deps lpips` is enough), or takes a path;
- the trunk, torchvision's `vgg16-397923af.pth` (528 MB), downloaded once into
  `~/.keras/models` and checked against its hash, or read from a path. Keras' own
  `keras.applications.VGG16` weights are a different network (the Oxford group's Caffe
  weights, BGR input): LPIPS' linear weights do not apply to them, so they are refused
  here; `zoo.metrics.ppl_features_vgg16` keeps using them.
"""

import importlib.util
import os

import numpy as np
from keras import ops

from zoo import files
from zoo.nets import vgg16 as trunk
from zoo.nets.torch_state_dict import read_state_dict

# LPIPS' ScalingLayer (lpips/lpips.py), applied to images in [-1, 1].
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)
# lpips.normalize_tensor's epsilon, added to the norm (not under the square root).
_NORM_EPSILON = 1e-10
LINEAR_WEIGHTS_FILE = os.path.join("weights", "v0.1", "vgg.pth")
LINEAR_WEIGHTS_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth"


class LPIPS:
    """LPIPS with the VGG16 trunk, version 0.1: the distance of the `lpips` package.

    Args:
        trunk_weights: "torchvision" (torchvision's VGG16, downloaded once to
            `~/.keras/models` and checked), a path to that file (`vgg16-397923af.pth`,
            or any torchvision VGG16 state dict), or None (random weights: for tests
            only). Default "torchvision".
        linear_weights: "lpips" (the installed `lpips` package's `weights/v0.1/vgg.pth`)
            or a path to that file. Default "lpips".

    Call `lpips(x, y)` on two batches of images `(batch, H, W, 1 or 3)` in [-1, 1], at least
    16x16 (grey images are repeated to RGB), for float32 distances `(batch,)`;
    `lpips.features(x)` gives the vectors whose squared L2 distance is LPIPS. `.model` is the trunk (`keras.Model`),
    `.layer_weights` the five linear weights, float32 `(64,)`, `(128,)`, `(256,)`,
    `(512,)`, `(512,)`; `.name` is "lpips_vgg16" ("lpips_vgg16_random" without trunk
    weights).

    Raises:
        zoo.files.DownloadError: if torchvision's weights cannot be downloaded; the
            message gives the URL to fetch by hand.
        FileNotFoundError: if a weights path does not exist, or the `lpips` package is
            not installed for `linear_weights="lpips"`.
        ValueError: for a file that is not the expected network's, or Keras' "imagenet".

    Example:
    ```python
    lpips = zoo.metrics.LPIPS()  # needs `pip install --no-deps lpips` and, once, the internet
    distances = lpips(images_a, images_b)
    ```

    Reference: Zhang et al., "The Unreasonable Effectiveness of Deep Features as a
    Perceptual Metric", CVPR 2018 (eq. 1; version 0.1 of their code).
    """

    def __init__(self, trunk_weights="torchvision", linear_weights="lpips"):
        if isinstance(trunk_weights, str) and trunk_weights == "imagenet":
            raise ValueError(
                "trunk_weights='imagenet' (Keras' Caffe VGG16) is not the network LPIPS' linear weights were "
                "fitted to; use 'torchvision' or a path to vgg16-397923af.pth, or "
                "zoo.metrics.ppl_features_vgg16 for a VGG16 distance on Keras' weights"
            )
        self.layer_weights = read_linear_weights(lpips_linear_weights(linear_weights))
        # The file first: offline, the error comes before the build.
        state = None if trunk_weights is None else read_state_dict(lpips_trunk_weights(trunk_weights))
        self.model = trunk.lpips_vgg16()
        if state is not None:
            trunk.load_lpips_vgg16_state_dict(self.model, state)
        self.name = "lpips_vgg16" if trunk_weights is not None else "lpips_vgg16_random"
        self._shift = np.asarray(LPIPS_SHIFT, "float32")
        self._scale = np.asarray(LPIPS_SCALE, "float32")

    def __call__(self, images0, images1):
        """LPIPS distances, float32 `(batch,)`, of two batches of images in [-1, 1]."""
        taps0, taps1 = self._taps(images0), self._taps(images1)
        total = 0.0
        for name, weight in zip(trunk.LPIPS_TAPS, self.layer_weights):
            difference = ops.square(_unit(taps0[name]) - _unit(taps1[name]))
            total = total + ops.mean(ops.sum(difference * weight, axis=-1), axis=(1, 2))
        return total

    def features(self, images):
        """float32 `(batch, D)`: `concat_l(sqrt(w_l) * n_l / sqrt(H_l * W_l))`, LPIPS = their squared distance."""
        taps = self._taps(images)
        parts = []
        for name, weight in zip(trunk.LPIPS_TAPS, self.layer_weights):
            unit = _unit(taps[name])
            positions = ops.cast(ops.shape(unit)[1] * ops.shape(unit)[2], "float32")
            scaled = unit * np.sqrt(weight) / ops.sqrt(positions)
            parts.append(ops.reshape(scaled, (ops.shape(unit)[0], -1)))
        return ops.concatenate(parts, axis=1)

    def _taps(self, images):
        images = ops.convert_to_tensor(images, "float32")
        if len(images.shape) != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"images must be (batch, H, W, 1 or 3) in [-1, 1]; got shape {tuple(images.shape)}")
        if any(side is not None and side < 16 for side in images.shape[1:3]):
            raise ValueError(f"LPIPS' VGG16 needs images of at least 16x16 (four 2x2 max pools come before relu5_3); "
                             f"got {images.shape[1]}x{images.shape[2]}")
        if images.shape[-1] == 1:
            images = ops.repeat(images, 3, axis=-1)
        return self.model((images - self._shift) / self._scale, training=False)

    def __repr__(self):
        return f"<LPIPS {self.name}>"


def _unit(taps):
    return taps / (ops.sqrt(ops.sum(ops.square(taps), axis=-1, keepdims=True)) + _NORM_EPSILON)


def read_linear_weights(path):
    """LPIPS' five linear weights from its `vgg.pth` (`lin0.model.1.weight`, ...).

    Args:
        path: str, the file (`lpips_linear_weights()` finds the `lpips` package's).

    Returns:
        list of five float32 arrays `(64,)`, `(128,)`, `(256,)`, `(512,)`, `(512,)`.

    Raises:
        ValueError: if the file does not hold LPIPS' VGG linear layers, or a weight is
            negative (LPIPS clamps them at 0 while training: the distance needs it).
    """
    state = read_state_dict(path)
    weights = []
    for index, channels in enumerate(trunk.LPIPS_CHANNELS):
        key = f"lin{index}.model.1.weight"
        value = state.get(key)
        if value is None or value.shape != (1, channels, 1, 1):
            got = "none" if value is None else f"shape {value.shape}"
            raise ValueError(f"{path} is not LPIPS' VGG linear weights: {key!r} must be (1, {channels}, 1, 1), "
                             f"got {got}")
        if np.any(value < 0):
            raise ValueError(f"{path}: {key!r} has negative weights; LPIPS' are non-negative")
        weights.append(np.asarray(value, "float32").reshape(channels))
    return weights


def lpips_linear_weights(weights="lpips"):
    """The path of LPIPS' VGG linear weights (v0.1): the installed `lpips` package's, or given.

    The package is located, not imported: it imports PyTorch, which zoo does not need.

    Args:
        weights: "lpips" (the `lpips` package's `weights/v0.1/vgg.pth`) or a path.

    Returns:
        str, a path to read with `read_linear_weights`.

    Raises:
        FileNotFoundError: if the path or the package is missing; the message says how
            to get the file.
    """
    how = (f"`pip install --no-deps lpips` (the package ships the 7 KB file; zoo does not import it or "
           f"PyTorch) or download {LINEAR_WEIGHTS_URL} and pass its path")
    if not (isinstance(weights, str) and weights == "lpips"):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no LPIPS linear weights file at {path!r}; {how}")
        return path
    spec = importlib.util.find_spec("lpips")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = os.path.join(folder, LINEAR_WEIGHTS_FILE)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"LPIPS' linear weights come with the `lpips` package, which is not installed "
                            f"(or lacks {LINEAR_WEIGHTS_FILE}); {how}")


def lpips_trunk_weights(weights="torchvision"):
    """The path of torchvision's VGG16 weights: downloaded and checked, or given.

    Args:
        weights: "torchvision" (download `vgg16-397923af.pth` once into
            `~/.keras/models` and check its SHA-256 prefix) or a path to the file.

    Returns:
        str, a path to read with `zoo.nets.read_state_dict`.

    Raises:
        zoo.files.DownloadError: offline; the message gives the URL.
        FileNotFoundError: if `weights` is a path that does not exist.
        ValueError: if the downloaded file is not torchvision's VGG16.
    """
    if not (isinstance(weights, str) and weights == "torchvision"):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no VGG16 weights file at {path!r}; download {trunk.VGG16_URL} "
                                    "or pass trunk_weights='torchvision'")
        return path

    return files.fetch_checked(
        trunk.VGG16_FILE, trunk.VGG16_URL, trunk.VGG16_SHA256_PREFIX,
        "torchvision's VGG16 weights for LPIPS (vgg16-397923af.pth, 528 MB)",
        f"download {trunk.VGG16_URL} on a machine with internet and put it in ~/.keras/models/, or pass its path "
        "(zoo.metrics.LPIPS(trunk_weights=PATH), zoo.metrics.ppl_features_lpips(trunk_weights=PATH)), or "
        "use a domain classifier's features (zoo.metrics.ppl_features_classifier)",
    )
