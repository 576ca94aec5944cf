"""CIE Lab colour space in TensorFlow ops, for colourisation models.

:func:`rgb_to_lab` and :func:`lab_to_rgb` follow scikit-image's ``rgb2lab`` / ``lab2rgb``
step for step (sRGB gamma, the sRGB -> XYZ matrix, the D65 2-degree white, the cube-root
``f(t)`` with its linear part below ``(6/29)^3``) and use scikit-image's constants, so the
two agree to rounding. Every function is a graph of plain TF ops: it runs on a single
image or on batches with any leading dimensions, inside ``tf.function`` and
``Dataset.map``, and is differentiable.

:func:`rgb_to_model_lab` and :func:`model_lab_to_rgb` convert between zoo's ``[-1, 1]``
RGB images and the ``(L, ab)`` pair a colourisation net sees, both scaled to ``[-1, 1]``
with :data:`L_SCALE` and :data:`AB_SCALE`.
"""

import numpy as np
import tensorflow as tf

# sRGB (linear) -> CIE XYZ, as in the sRGB specification and skimage.color.xyz_from_rgb.
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
# The exact inverse (skimage.color.rgb_from_xyz), not the rounded published matrix, so
# that lab -> rgb undoes rgb -> lab.
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
# XYZ of the D65 reference white for the 2-degree observer, Y normalised to 1.
D65_WHITE = (0.95047, 1.0, 1.08883)

# f(t) = t^(1/3) above (6/29)^3 and linear below; scikit-image's rounded values.
_LAB_EPSILON = 0.008856  # (6/29)^3
_LAB_KAPPA = 7.787  # (29/6)^2 / 3
_LAB_OFFSET = 16.0 / 116.0
_LAB_F_EPSILON = 0.2068966  # 6/29, the same threshold in f's output space
# sRGB transfer function.
_SRGB_LINEAR_MAX = 0.04045  # encoded values at or below this are linear
_SRGB_LINEAR_MAX_DECODED = 0.0031308

# Model ranges: L in [0, 100] maps to [-1, 1] as L / L_SCALE - 1.
L_SCALE = 50.0
# a and b map to [-1, 1] as ab / AB_SCALE. Every sRGB colour has a in about
# [-86.2, 98.2] and b in about [-107.9, 94.5] (D65), so 110 keeps the whole gamut
# inside [-1, 1] with a small margin; the usual choice in colourisation code
# (pix2pix's Lab mode, Zhang et al. 2016).
AB_SCALE = 110.0


def rgb_to_lab(rgb):
    """Convert sRGB images in ``[0, 1]`` to CIE Lab (D65 white, 2-degree observer).

    The same maths as ``skimage.color.rgb2lab``: undo the sRGB gamma, multiply by the
    sRGB -> XYZ matrix (:data:`XYZ_FROM_RGB`), divide by the D65 white
    (:data:`D65_WHITE`), apply ``f(t) = t^(1/3)`` above ``(6/29)^3`` (linear below),
    then ``L = 116 f(Y) - 16``, ``a = 500 (f(X) - f(Y))``, ``b = 200 (f(Y) - f(Z))``.

    Args:
        rgb: float tensor or array ``(..., 3)`` with values in ``[0, 1]``; any leading
            dimensions (one image, a batch, ...). float64 stays float64; integer input
            is read as a full-range image (uint8 255 -> 1) and gives float32.

    Returns:
        tensor ``(..., 3)`` of ``(L, a, b)``: L in ``[0, 100]``, a and b roughly within
        ``[-128, 127]`` (about ``[-108, 98]`` for sRGB colours).

    Raises:
        ValueError: if the last dimension is not 3.

    Example:
        >>> rgb_to_lab(tf.ones((2, 2, 3))).numpy()[0, 0].round(2)  # white
        array([100., -0., 0.], dtype=float32)
    """
    rgb = _as_float(rgb, "rgb")
    dtype = rgb.dtype
    linear = tf.where(
        rgb > _SRGB_LINEAR_MAX,
        # max() keeps the unused branch finite, so gradients stay finite too.
        tf.pow((tf.maximum(rgb, _SRGB_LINEAR_MAX) + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    xyz = _matmul_last(linear, XYZ_FROM_RGB, dtype)
    t = xyz / tf.constant(D65_WHITE, dtype)
    f = tf.where(
        t > _LAB_EPSILON,
        tf.pow(tf.maximum(t, _LAB_EPSILON), 1.0 / 3.0),
        _LAB_KAPPA * t + _LAB_OFFSET,
    )
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab):
    """Convert CIE Lab (D65 white, 2-degree observer) to sRGB in ``[0, 1]``.

    The inverse of :func:`rgb_to_lab` and the same maths as ``skimage.color.lab2rgb``:
    negative Z (from Lab values outside every real colour) is set to 0, and the result
    is clipped to ``[0, 1]``, so any Lab input gives a valid image (scikit-image also
    warns; this graph op does not).

    Args:
        lab: float tensor or array ``(..., 3)`` of ``(L, a, b)``, L in ``[0, 100]``;
            any leading dimensions.

    Returns:
        tensor ``(..., 3)`` of sRGB values in ``[0, 1]``, the dtype of ``lab`` (float32
        for integer input).

    Raises:
        ValueError: if the last dimension is not 3.

    Example:
        >>> lab_to_rgb(tf.constant([[50.0, 0.0, 0.0]])).numpy().round(3)  # mid grey
        array([[0.466, 0.466, 0.466]], dtype=float32)
    """
    lab = _as_float(lab, "lab", integers="cast")
    dtype = lab.dtype
    lightness, a, b = tf.unstack(lab, axis=-1)
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = tf.maximum(fy - b / 200.0, 0.0)
    f = tf.stack([fx, fy, fz], axis=-1)
    t = tf.where(f > _LAB_F_EPSILON, f * f * f, (f - _LAB_OFFSET) / _LAB_KAPPA)
    xyz = t * tf.constant(D65_WHITE, dtype)
    linear = _matmul_last(xyz, RGB_FROM_XYZ, dtype)
    rgb = tf.where(
        linear > _SRGB_LINEAR_MAX_DECODED,
        1.055 * tf.pow(tf.maximum(linear, _SRGB_LINEAR_MAX_DECODED), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )
    return tf.clip_by_value(rgb, 0.0, 1.0)


def rgb_to_model_lab(images):
    """Split zoo RGB images into the ``(L, ab)`` inputs and targets of a colouriser.

    ``L`` is scaled as ``L / L_SCALE - 1`` (``[0, 100]`` -> ``[-1, 1]``) and ``ab`` as
    ``ab / AB_SCALE`` (:data:`AB_SCALE` = 110), both clipped to ``[-1, 1]``; the clip
    only removes rounding error, since every sRGB colour lies inside these ranges.

    Args:
        images: float tensor or array ``(..., 3)`` of RGB in ``[-1, 1]`` (zoo's image
            range); any leading dimensions.

    Returns:
        tuple ``(L, ab)`` of tensors ``(..., 1)`` and ``(..., 2)`` in ``[-1, 1]``.

    Raises:
        ValueError: if the last dimension is not 3.

    Example:
        >>> L, ab = rgb_to_model_lab(tf.zeros((4, 32, 32, 3)))
        >>> L.shape, ab.shape
        (TensorShape([4, 32, 32, 1]), TensorShape([4, 32, 32, 2]))
    """
    images = _as_float(images, "images", integers="reject")
    lab = rgb_to_lab((images + 1.0) / 2.0)
    lightness = tf.clip_by_value(lab[..., :1] / L_SCALE - 1.0, -1.0, 1.0)
    ab = tf.clip_by_value(lab[..., 1:] / AB_SCALE, -1.0, 1.0)
    return lightness, ab


def model_lab_to_rgb(lightness, ab):
    """Join model-range ``(L, ab)`` back into zoo RGB images in ``[-1, 1]``.

    The inverse of :func:`rgb_to_model_lab`: ``L`` and ``ab`` are clipped to
    ``[-1, 1]`` (a net's raw output may overshoot), unscaled with :data:`L_SCALE` and
    :data:`AB_SCALE`, and converted with :func:`lab_to_rgb`. Colours outside the sRGB
    gamut are clipped per channel.

    Args:
        lightness: float tensor ``(..., 1)``, L in ``[-1, 1]``.
        ab: float tensor ``(..., 2)``, a and b in ``[-1, 1]``, with the leading
            dimensions of ``lightness``.

    Returns:
        tensor ``(..., 3)`` of RGB in ``[-1, 1]``.

    Raises:
        ValueError: if ``lightness`` does not end in 1 channel or ``ab`` in 2.

    Example:
        >>> rgb = model_lab_to_rgb(tf.ones((1, 8, 8, 1)), tf.zeros((1, 8, 8, 2)))
        >>> round(float(rgb.numpy().min()), 3)  # L = 100, a = b = 0: white
        1.0
    """
    lightness = _as_float(lightness, "lightness", channels=1, integers="reject")
    ab = tf.cast(_as_float(ab, "ab", channels=2, integers="reject"), lightness.dtype)
    lightness = (tf.clip_by_value(lightness, -1.0, 1.0) + 1.0) * L_SCALE
    ab = tf.clip_by_value(ab, -1.0, 1.0) * AB_SCALE
    return lab_to_rgb(tf.concat([lightness, ab], axis=-1)) * 2.0 - 1.0


def rotate_hue(images, angles):
    """Turn the hue of zoo RGB images in the Lab ab plane, keeping their lightness.

    Each image's ``(a, b)`` is rotated by its angle (radians): lightness ``L`` and
    chroma ``sqrt(a^2 + b^2)`` are unchanged, so the grey version of the image is
    the same for every angle. Colours the rotation takes outside the sRGB gamut are
    clipped per channel (which can move ``L`` slightly for very saturated pixels).
    Random angles make colour ambiguous given lightness, the situation in which an
    L2 colouriser averages to grey (Zhang et al., "Colorful Image Colorization",
    ECCV 2016, sec. 2.1).

    Args:
        images: float tensor ``(batch, ..., 3)`` of RGB in ``[-1, 1]``.
        angles: float tensor ``(batch,)`` of angles in radians, or a scalar.

    Returns:
        tensor of the shape of ``images``, RGB in ``[-1, 1]``.

    Raises:
        ValueError: if the last dimension is not 3.

    Example:
        >>> turned = rotate_hue(images, tf.random.uniform((16,), 0.0, 2 * np.pi))
    """
    images = _as_float(images, "images", integers="reject")
    lab = rgb_to_lab((images + 1.0) / 2.0)
    angles = tf.cast(tf.convert_to_tensor(angles), lab.dtype)
    if angles.shape.rank:
        # (batch,) -> (batch, 1, ..., 1), to broadcast over one channel of lab.
        angles = tf.reshape(angles, tf.concat([tf.shape(angles), tf.ones([tf.rank(lab) - 2], tf.int32)], 0))
    cos, sin = tf.cos(angles), tf.sin(angles)
    a, b = lab[..., 1], lab[..., 2]
    turned = tf.stack([lab[..., 0], cos * a - sin * b, sin * a + cos * b], axis=-1)
    return lab_to_rgb(turned) * 2.0 - 1.0


def _as_float(x, name, channels=3, integers="image"):
    """``x`` as a float tensor with ``channels`` in its last dimension.

    ``integers``: ``"image"`` scales full-range integers to ``[0, 1]``, ``"cast"``
    casts them to float32 unchanged, ``"reject"`` raises.
    """
    x = tf.convert_to_tensor(x)
    if x.shape.rank == 0 or x.shape[-1] != channels:
        raise ValueError(
            f"{name} must have {channels} channel{'s' if channels > 1 else ''} in its last "
            f"dimension; got shape {tuple(x.shape)}"
        )
    if x.dtype.is_floating:
        return x if x.dtype in (tf.float32, tf.float64) else tf.cast(x, tf.float32)
    if not x.dtype.is_integer or integers == "reject":
        raise ValueError(f"{name} must be a float tensor; got dtype {x.dtype.name}")
    if integers == "image":
        return tf.image.convert_image_dtype(x, tf.float32)
    return tf.cast(x, tf.float32)


def _matmul_last(x, matrix, dtype):
    """``x @ matrix.T`` over the last axis (3 channels), for any leading dimensions."""
    return tf.einsum("...i,ji->...j", x, tf.constant(matrix, dtype))
