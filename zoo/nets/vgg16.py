"""LPIPS' VGG16 trunk: torchvision's `vgg16().features` up to relu5_3, in Keras.

LPIPS (Zhang et al. 2018) compares images through five ReLU outputs of torchvision's
VGG16 (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3). The architecture is the usual
VGG16 (13 3x3 convolutions with ReLU, 2x2 max pools that drop an odd last row or
column), the same as `keras.applications.VGG16`'s; the weights are not: torchvision's
VGG16 was trained anew in PyTorch, on inputs normalised with ImageNet's RGB mean and
standard deviation, while Keras ships the Oxford group's Caffe weights (BGR, mean
subtracted). LPIPS' linear weights were fitted to torchvision's channels, so this net
loads torchvision's state dict (`load_lpips_vgg16_state_dict`, the file
`vgg16-397923af.pth`, read without PyTorch by `zoo.nets.read_state_dict`).

The net maps images already normalised as torchvision expects (LPIPS' `ScalingLayer`
does that from [-1, 1]; see `zoo.metrics.lpips`) to the five taps.
"""

import keras
import numpy as np

from zoo.nets.torch_state_dict import StateDictWeights

# torchvision's published VGG16 (`torchvision.models.VGG16_Weights.IMAGENET1K_V1`); the
# 8 hex digits in its name start its SHA-256.
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
VGG16_FILE = "vgg16-397923af.pth"
VGG16_SHA256_PREFIX = "397923af"
# (block, convolutions, filters); a 2x2 max pool between blocks.
_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
LPIPS_TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
LPIPS_CHANNELS = (64, 128, 256, 512, 512)
# float32 whatever the global policy (`zoo train --precision auto`): 16-bit features
# would not be LPIPS'.
_DTYPE = "float32"


def _torch_indices():
    """`{"conv1_1": 0, "conv1_2": 2, ...}`: each convolution's index in torchvision's `features`."""
    indices, index = {}, 0
    for block, convs, _ in _BLOCKS:
        for i in range(1, convs + 1):
            indices[f"conv{block}_{i}"] = index
            index += 2  # the convolution, then its ReLU
        index += 1  # the max pool
    return indices


def lpips_vgg16(name="lpips_vgg16"):
    """Builds LPIPS' VGG16 trunk (random weights; load torchvision's after).

    Args:
        name: str, the model's name. Default "lpips_vgg16".

    Returns:
        functional `keras.Model` from float32 images `(batch, H, W, 3)` of any size,
        normalised as torchvision expects, to `{"relu1_2": (batch, H, W, 64), ...,
        "relu5_3": (batch, H // 16, W // 16, 512)}` (`LPIPS_TAPS`); layers `conv1_1` ...
        `conv5_3`, `relu1_1` ..., `pool1` ... `pool4`, all float32 whatever the global
        dtype policy.

    Example:
    ```python
    net = zoo.nets.lpips_vgg16()
    zoo.nets.load_lpips_vgg16_state_dict(net, zoo.nets.read_state_dict("vgg16-397923af.pth"))
    ```

    Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale
    Image Recognition", ICLR 2015; Zhang et al., "The Unreasonable Effectiveness of Deep
    Features as a Perceptual Metric", CVPR 2018.
    """
    images = keras.Input((None, None, 3), name="images", dtype="float32")
    x, taps = images, {}
    for block, convs, filters in _BLOCKS:
        if block > 1:
            x = keras.layers.MaxPooling2D(2, name=f"pool{block - 1}", dtype=_DTYPE)(x)
        for i in range(1, convs + 1):
            x = keras.layers.Conv2D(filters, 3, padding="same", name=f"conv{block}_{i}", dtype=_DTYPE)(x)
            x = keras.layers.ReLU(name=f"relu{block}_{i}", dtype=_DTYPE)(x)
        taps[f"relu{block}_{convs}"] = x
    return keras.Model(images, taps, name=name)


def load_lpips_vgg16_state_dict(model, state_dict):
    """Sets `model`'s weights from torchvision's VGG16 state dict.

    Args:
        model: the `keras.Model` from `lpips_vgg16`.
        state_dict: dict `{name: array}` with torchvision's names (`features.0.weight`,
            `features.0.bias`, ..., `features.28.bias`); the classifier's weights
            (`classifier.*`) are ignored. Numpy arrays (`read_state_dict`) or CPU tensors.

    Returns:
        `model`.

    Raises:
        ValueError: if a weight the trunk needs is missing or has another shape, or the
            state dict has other weights than VGG16's (another network's file).
    """
    weights = StateDictWeights(state_dict, "torchvision's VGG16", ignore=lambda k: k.startswith("classifier."))
    take = weights.take
    for conv, index in _torch_indices().items():
        layer = model.get_layer(conv)
        height, width, inputs, outputs = layer.kernel.shape  # torch keeps (out, in, h, w)
        weight = take(f"features.{index}.weight", (outputs, inputs, height, width))
        layer.kernel.assign(np.transpose(weight, (2, 3, 1, 0)))
        layer.bias.assign(take(f"features.{index}.bias", (outputs,)))
    weights.check_all_taken()
    return model
