"""The FID Inception network: the 2015-12-05 TensorFlow Inception graph of TTUR's FID, in Keras.

This is the network behind published FIDs (TTUR, StyleGAN's `fid50k_full`, pytorch-fid,
clean-fid, torch-fidelity), not `keras.applications.InceptionV3`: the graph differs from
torchvision's and Keras' InceptionV3 in its pooling (average pools that do not count
padding, a max pool in the last block's pool branch) and has 1008 classes. Layers are
named after the PyTorch ports (`Mixed_6b_branch7x7_1_conv` for pytorch-fid's
`Mixed_6b.branch7x7_1.conv`), so their published state dict loads by name
(`load_fid_inception_state_dict`).

The net maps images already resized to 299x299 and normalised (see
`zoo.metrics.fid_protocol`) to the 2048-d pool features (the FID features) and the
1008 logits of its classifier.
"""

import keras
import numpy as np

from zoo.nets.torch_state_dict import StateDictWeights

FID_INCEPTION_SIZE = 299
FID_INCEPTION_CLASSES = 1008
# pytorch-fid's release of the converted TF graph weights; torch-fidelity's file
# (`weights-inception-2015-12-05-6726825d.pth`) holds the same state dict.
FID_INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
FID_INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_INCEPTION_SHA256_PREFIX = "6726825d"
_BN_EPSILON = 0.001
# float32 whatever the global policy: `zoo train --precision auto` sets mixed_bfloat16 or
# mixed_float16, and 16-bit features would not be the published network's.
_DTYPE = "float32"


def fid_inception_v3(name="fid_inception_v3"):
    """Builds the FID Inception network (random weights; load the published ones after).

    Args:
        name: str, the model's name. Default "fid_inception_v3".

    Returns:
        functional `keras.Model` from float32 images `(batch, 299, 299, 3)`, normalised
        as the protocol says (about [-1, 1]), to `{"pool": (batch, 2048), "logits":
        (batch, 1008)}`; every layer computes in float32 whatever the global dtype policy.

    Example:
    ```python
    net = zoo.nets.fid_inception_v3()
    zoo.nets.load_fid_inception_state_dict(net, zoo.nets.read_state_dict("pt_inception-2015-12-05-6726825d.pth"))
    ```

    Reference: Szegedy et al., "Rethinking the Inception Architecture for Computer
    Vision", CVPR 2016; Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium", NeurIPS 2017 (the graph their FID uses).
    """
    images = keras.Input((FID_INCEPTION_SIZE, FID_INCEPTION_SIZE, 3), name="images", dtype="float32")
    x = _conv(images, "Conv2d_1a_3x3", 32, 3, strides=2, padding="valid")
    x = _conv(x, "Conv2d_2a_3x3", 32, 3, padding="valid")
    x = _conv(x, "Conv2d_2b_3x3", 64, 3)
    x = keras.layers.MaxPooling2D(3, strides=2, name="MaxPool_1", dtype=_DTYPE)(x)
    x = _conv(x, "Conv2d_3b_1x1", 80, 1)
    x = _conv(x, "Conv2d_4a_3x3", 192, 3, padding="valid")
    x = keras.layers.MaxPooling2D(3, strides=2, name="MaxPool_2", dtype=_DTYPE)(x)
    x = _block_a(x, "Mixed_5b", pool_features=32)
    x = _block_a(x, "Mixed_5c", pool_features=64)
    x = _block_a(x, "Mixed_5d", pool_features=64)
    x = _block_b(x, "Mixed_6a")
    for block, channels in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _block_c(x, block, channels)
    x = _block_d(x, "Mixed_7a")
    x = _block_e(x, "Mixed_7b", max_pool=False)
    x = _block_e(x, "Mixed_7c", max_pool=True)
    pool = keras.layers.GlobalAveragePooling2D(name="pool", dtype=_DTYPE)(x)
    logits = keras.layers.Dense(FID_INCEPTION_CLASSES, name="fc", dtype=_DTYPE)(pool)
    return keras.Model(images, {"pool": pool, "logits": logits}, name=name)


def load_fid_inception_state_dict(model, state_dict):
    """Sets `model`'s weights from the PyTorch FID Inception's state dict.

    Args:
        model: the `keras.Model` from `fid_inception_v3`.
        state_dict: dict `{name: array}` with pytorch-fid's / torch-fidelity's names
            (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.running_mean`, ...,
            `fc.weight`); numpy arrays (`read_state_dict`) or CPU torch tensors.

    Returns:
        `model`.

    Raises:
        ValueError: if a weight the model needs is missing or has another shape, or the
            state dict has weights the model does not use (another network's file).
    """
    weights = StateDictWeights(state_dict, "the FID Inception", ignore=lambda k: k.endswith("num_batches_tracked"))
    take = weights.take
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            prefix = _torch_prefix(layer.name, "_conv")
            kernel = layer.kernel.shape  # (h, w, in, out); torch keeps (out, in, h, w)
            weight = take(f"{prefix}.conv.weight", (kernel[3], kernel[2], kernel[0], kernel[1]))
            layer.kernel.assign(np.transpose(weight, (2, 3, 1, 0)))
        elif isinstance(layer, keras.layers.BatchNormalization):
            prefix, n = _torch_prefix(layer.name, "_bn"), layer.gamma.shape[0]
            layer.gamma.assign(take(f"{prefix}.bn.weight", (n,)))
            layer.beta.assign(take(f"{prefix}.bn.bias", (n,)))
            layer.moving_mean.assign(take(f"{prefix}.bn.running_mean", (n,)))
            layer.moving_variance.assign(take(f"{prefix}.bn.running_var", (n,)))
        elif isinstance(layer, keras.layers.Dense):
            units, inputs = layer.kernel.shape[1], layer.kernel.shape[0]
            layer.kernel.assign(take(f"{layer.name}.weight", (units, inputs)).T)
            layer.bias.assign(take(f"{layer.name}.bias", (units,)))
    weights.check_all_taken()
    return model


def _torch_prefix(layer_name, suffix):
    # "Mixed_5b_branch1x1_conv" -> "Mixed_5b.branch1x1"; "Conv2d_1a_3x3_conv" -> "Conv2d_1a_3x3"
    stem = layer_name[: -len(suffix)]
    if stem.startswith("Mixed_"):
        return stem[: len("Mixed_5b")] + "." + stem[len("Mixed_5b_"):]
    return stem


def _conv(x, name, filters, kernel_size, strides=1, padding="same"):
    """TF-slim's conv: convolution without bias, batch norm (epsilon 0.001), ReLU."""
    x = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                            name=f"{name}_conv", dtype=_DTYPE)(x)
    x = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn", dtype=_DTYPE)(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=_DTYPE)(x)


def _average_pool(x, name):
    # Keras' "same" average pool divides by the unpadded count: the graph's (and
    # pytorch-fid's count_include_pad=False) pool, unlike torchvision's InceptionV3.
    return keras.layers.AveragePooling2D(3, strides=1, padding="same", name=f"{name}_pool", dtype=_DTYPE)(x)


def _block_a(x, name, pool_features):
    b1 = _conv(x, f"{name}_branch1x1", 64, 1)
    b5 = _conv(_conv(x, f"{name}_branch5x5_1", 48, 1), f"{name}_branch5x5_2", 64, 5)
    b3 = _conv(x, f"{name}_branch3x3dbl_1", 64, 1)
    b3 = _conv(_conv(b3, f"{name}_branch3x3dbl_2", 96, 3), f"{name}_branch3x3dbl_3", 96, 3)
    bp = _conv(_average_pool(x, name), f"{name}_branch_pool", pool_features, 1)
    return keras.layers.Concatenate(name=name, dtype=_DTYPE)([b1, b5, b3, bp])


def _block_b(x, name):
    b3 = _conv(x, f"{name}_branch3x3", 384, 3, strides=2, padding="valid")
    bd = _conv(x, f"{name}_branch3x3dbl_1", 64, 1)
    bd = _conv(bd, f"{name}_branch3x3dbl_2", 96, 3)
    bd = _conv(bd, f"{name}_branch3x3dbl_3", 96, 3, strides=2, padding="valid")
    bp = keras.layers.MaxPooling2D(3, strides=2, name=f"{name}_pool", dtype=_DTYPE)(x)
    return keras.layers.Concatenate(name=name, dtype=_DTYPE)([b3, bd, bp])


def _block_c(x, name, channels):
    b1 = _conv(x, f"{name}_branch1x1", 192, 1)
    b7 = _conv(x, f"{name}_branch7x7_1", channels, 1)
    b7 = _conv(b7, f"{name}_branch7x7_2", channels, (1, 7))
    b7 = _conv(b7, f"{name}_branch7x7_3", 192, (7, 1))
    bd = _conv(x, f"{name}_branch7x7dbl_1", channels, 1)
    for i, (filters, kernel) in enumerate(
        ((channels, (7, 1)), (channels, (1, 7)), (channels, (7, 1)), (192, (1, 7))), start=2
    ):
        bd = _conv(bd, f"{name}_branch7x7dbl_{i}", filters, kernel)
    bp = _conv(_average_pool(x, name), f"{name}_branch_pool", 192, 1)
    return keras.layers.Concatenate(name=name, dtype=_DTYPE)([b1, b7, bd, bp])


def _block_d(x, name):
    b3 = _conv(_conv(x, f"{name}_branch3x3_1", 192, 1), f"{name}_branch3x3_2", 320, 3, strides=2, padding="valid")
    b7 = _conv(x, f"{name}_branch7x7x3_1", 192, 1)
    b7 = _conv(b7, f"{name}_branch7x7x3_2", 192, (1, 7))
    b7 = _conv(b7, f"{name}_branch7x7x3_3", 192, (7, 1))
    b7 = _conv(b7, f"{name}_branch7x7x3_4", 192, 3, strides=2, padding="valid")
    bp = keras.layers.MaxPooling2D(3, strides=2, name=f"{name}_pool", dtype=_DTYPE)(x)
    return keras.layers.Concatenate(name=name, dtype=_DTYPE)([b3, b7, bp])


def _block_e(x, name, max_pool):
    b1 = _conv(x, f"{name}_branch1x1", 320, 1)
    b3 = _conv(x, f"{name}_branch3x3_1", 384, 1)
    b3 = keras.layers.Concatenate(name=f"{name}_branch3x3", dtype=_DTYPE)(
        [_conv(b3, f"{name}_branch3x3_2a", 384, (1, 3)), _conv(b3, f"{name}_branch3x3_2b", 384, (3, 1))]
    )
    bd = _conv(_conv(x, f"{name}_branch3x3dbl_1", 448, 1), f"{name}_branch3x3dbl_2", 384, 3)
    bd = keras.layers.Concatenate(name=f"{name}_branch3x3dbl", dtype=_DTYPE)(
        [_conv(bd, f"{name}_branch3x3dbl_3a", 384, (1, 3)), _conv(bd, f"{name}_branch3x3dbl_3b", 384, (3, 1))]
    )
    if max_pool:  # the graph's last block (pytorch-fid's FIDInceptionE_2) max-pools here
        pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool", dtype=_DTYPE)(x)
    else:
        pooled = _average_pool(x, name)
    bp = _conv(pooled, f"{name}_branch_pool", 192, 1)
    return keras.layers.Concatenate(name=name, dtype=_DTYPE)([b1, b3, bd, bp])
