"""Perceptual path length (PPL) of a style-based generator, and its feature functions.

PPL (Karras et al. 2019, sec. 4.2) is the mean squared perceptual distance
between the images of two codes `epsilon` apart on an interpolation path,
divided by `epsilon ** 2`: small when the image changes smoothly along the
path. The protocol follows StyleGAN2's `metrics/perceptual_path_length.py`:

- "z" space: spherical interpolation between two N(0, I) codes, on the unit
  sphere (`unit_slerp`), then the mapping; "w" space: linear interpolation
  between their mapped codes;
- `t ~ U(0, 1)` ("full") or `t = 0` ("end": the path's end points; by symmetry
  the start of a path from z0 to z1 is the end of the path from z1 to z0);
- both images of a pair share one constant noise map per noise layer, drawn
  afresh for every batch;
- the distances below the 1st and above the 99th percentile are dropped before
  the mean (`filtered_mean`).

The perceptual distance is the squared L2 distance between the outputs of an
injected `feature_fn(images) -> (batch, D)`, which should normalise them as
LPIPS does:

- `ppl_features_lpips`: the paper's distance, LPIPS (VGG16, v0.1) with its
  learned linear weights on torchvision's VGG16, after StyleGAN's downsampling to
  256 px; the only one whose numbers sit beside a paper's;
- `ppl_features_vgg16`: Keras' VGG16 (ImageNet weights, Caffe's) with equal
  weights over LPIPS' layers, a close stand-in that needs only Keras' download;
- `ppl_features_classifier` on zoo's domain classifier, for data far from
  ImageNet such as digits, offline.

Results are named by protocol, `ppl_w_end`, `ppl_z_full` (stylegan2-ada's
`ppl_wend`, `ppl_zfull`); numbers from different feature functions do not compare.
"""


import keras
import numpy as np
from keras import ops

from zoo import checks, engine, files, smoke

SPACES = ("w", "z")
SAMPLINGS = ("end", "full")
# LPIPS' VGG16 taps (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3): Keras' VGG16
# convolutions carry their ReLU, so these layers output the rectified maps.
VGG16_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
# Caffe preprocessing of keras.applications.vgg16: BGR, ImageNet means subtracted.
_VGG16_BGR_MEAN = (103.939, 116.779, 123.68)
_NORM_EPSILON = 1e-10


def ppl_name(space, sampling):
    """The protocol name of a PPL result: `ppl_w_end`, `ppl_z_full`, ...

    Args:
        space: "w" or "z".
        sampling: "end" or "full".

    Returns:
        str, `f"ppl_{space}_{sampling}"`.
    """
    checks.choice(space, "space", SPACES)
    checks.choice(sampling, "sampling", SAMPLINGS)
    return f"ppl_{space}_{sampling}"


# -- interpolation and distances ---------------------------------------------------------


def unit_slerp(a, b, t):
    """Spherical interpolation between the directions of `a` and `b`, on the unit sphere.

    Both codes are normalised first, and the result has norm 1, as in StyleGAN's
    PPL (whose mapping normalises z, so only the direction matters): `t = 0` gives
    `a / |a|`, `t = 1` gives `b / |b|`, and the angle to `a` grows linearly in `t`.
    Parallel codes give `a / |a|` for every `t`.

    Args:
        a: tensor `(batch, d)`.
        b: tensor `(batch, d)`.
        t: tensor `(batch, 1)` or `(batch,)` or a number; values outside [0, 1]
            continue along the great circle.

    Returns:
        float32 tensor `(batch, d)` of unit vectors.

    Example:
    ```python
    z = zoo.metrics.ppl.unit_slerp(z0, z1, np.full((n, 1), 0.5, "float32"))
    ```

    Reference: Shoemake, "Animating rotation with quaternion curves", SIGGRAPH
    1985; Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2.
    """
    a = ops.convert_to_tensor(a, "float32")
    b = ops.convert_to_tensor(b, "float32")
    t = ops.convert_to_tensor(t, "float32")
    if len(t.shape) == 1:
        t = t[:, None]
    a = a / ops.norm(a, axis=-1, keepdims=True)
    b = b / ops.norm(b, axis=-1, keepdims=True)
    cosine = ops.clip(ops.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
    angle = t * ops.arccos(cosine)
    # The unit tangent towards b at a; b parallel to a leaves no direction to go.
    towards = b - cosine * a
    length = ops.norm(towards, axis=-1, keepdims=True)
    towards = ops.where(length > 1e-7, towards / ops.maximum(length, 1e-7), 0.0)
    point = a * ops.cos(angle) + towards * ops.sin(angle)
    return point / ops.norm(point, axis=-1, keepdims=True)


def _center_crop(images, crop):
    if crop is None:
        return images
    height, width = images.shape[1], images.shape[2]
    if crop == "face":
        # StyleGAN's FFHQ crop: rows 3/8 to 7/8, columns 2/8 to 6/8.
        eighth = height // 8
        return images[:, 3 * eighth : 7 * eighth, 2 * eighth : 6 * eighth]
    top, left, crop_height, crop_width = crop
    if top + crop_height > height or left + crop_width > width:
        raise ValueError(f"crop {crop} does not fit images of {height}x{width}")
    return images[:, top : top + crop_height, left : left + crop_width]


def _check_crop(crop):
    if crop is None or crop == "face":
        return crop
    if (
        isinstance(crop, (tuple, list))
        and len(crop) == 4
        and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in crop)
        and min(crop[:2]) >= 0
        and min(crop[2:]) >= 1
    ):
        return tuple(int(c) for c in crop)
    raise ValueError(f'crop must be None, "face" or (top, left, height, width) in pixels; got {crop!r}')


def _noise_scope(layers, buffers):
    from zoo.projection import const_noise

    return const_noise(layers, buffers)


def path_distances(mapping, synthesis, feature_fn, z0, z1, t, space="w", epsilon=1e-4, crop=None, noise=None):
    """Unfiltered PPL distances of given pairs of codes at given path positions.

    For each pair: the codes at `t` and `t + epsilon` on the path from `z0` to
    `z1` (`unit_slerp` in z, then the mapping, for "z"; the mapping, then linear
    interpolation, for "w"), their images (cropped), and
    `sum((feature_fn(a) - feature_fn(b)) ** 2) / epsilon ** 2`.

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim) -> w (batch, w_dim)` (or
            `(batch, num_ws, w_dim)`).
        synthesis: `keras.Model`, `ws (batch, num_ws, w_dim) -> images`.
        feature_fn: callable, images -> features `(batch, D)`, differentiable or not.
        z0: array-like `(batch, latent_dim)`.
        z1: array-like `(batch, latent_dim)`.
        t: array-like `(batch,)`, path positions.
        space: "w" (default) or "z".
        epsilon: float > 0, the step along the path. Default 1e-4.
        crop: None (default), "face" or `(top, left, height, width)`.
        noise: None (the synthesis net's own noise) or one array `(1, H, W, 1)`
            per noise layer (`zoo.projection.noise_layers`), used as constant
            noise for both images of every pair. Default None.

    Returns:
        float64 numpy array `(batch,)`.

    Example:
    ```python
    d = zoo.metrics.ppl.path_distances(mapping, synthesis, features, z0, z1, np.zeros(n))
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 4.2.
    """
    from zoo.projection import noise_layers, synthesis_shape

    checks.choice(space, "space", SPACES)
    epsilon = checks.number(epsilon, "epsilon", above=0)
    crop = _check_crop(crop)
    num_ws, _ = synthesis_shape(synthesis)
    z0 = np.asarray(z0, "float32")
    z1 = np.asarray(z1, "float32")
    t = np.asarray(t, "float32")
    if z0.ndim != 2 or z0.shape != z1.shape or t.shape != z0.shape[:1]:
        raise ValueError(f"z0 and z1 must be (batch, latent_dim) and t (batch,); got {z0.shape}, {z1.shape}, {t.shape}")
    layers = noise_layers(synthesis)
    buffers = None
    if noise is not None and layers:
        if len(noise) != len(layers):
            raise ValueError(f"noise must hold one map per noise layer ({len(layers)}); got {len(noise)}")
        buffers = [_tensor(b) for b in noise]
    step = _pair_distances(mapping, synthesis, feature_fn, layers, space, epsilon, crop, num_ws)
    return np.asarray(ops.convert_to_numpy(step(_tensor(z0), _tensor(z1), _tensor(t), buffers)), "float64")


def _tensor(x):
    return ops.convert_to_tensor(np.asarray(x, "float32"))


def _pair_distances(mapping, synthesis, feature_fn, layers, space, epsilon, crop, num_ws):
    from zoo.projection import _variables

    def ws_of(w):
        if len(w.shape) == 2:
            w = ops.repeat(w[:, None], num_ws, axis=1)
        return w

    def distances(z0, z1, t, buffers):
        if space == "w":
            w0, w1 = ops.split(_call(mapping, ops.concatenate([z0, z1])), 2)
            shape = (-1,) + (1,) * (len(w0.shape) - 1)
            ta = ops.reshape(t, shape)
            wa = w0 + ta * (w1 - w0)
            wb = w0 + (ta + epsilon) * (w1 - w0)
            ws = ops.concatenate([ws_of(wa), ws_of(wb)])
        else:
            za = unit_slerp(z0, z1, t[:, None])
            zb = unit_slerp(z0, z1, t[:, None] + epsilon)
            ws = ws_of(_call(mapping, ops.concatenate([za, zb])))
        if buffers is None:
            images = _call(synthesis, ws)
        else:
            with _noise_scope(layers, buffers):
                images = _call(synthesis, ws)
        features = ops.cast(feature_fn(_center_crop(images, crop)), "float32")
        if len(features.shape) != 2:
            raise ValueError(f"feature_fn must return features (batch, D); got shape {tuple(features.shape)}")
        fa, fb = ops.split(features, 2)
        return ops.sum(ops.square(fb - fa), axis=1) / (epsilon**2)

    # On JAX the nets' weights go in as arguments at every call.
    return engine.function(distances, _variables(mapping, synthesis, feature_fn))


def _call(net, x):
    return net(x, training=False) if isinstance(net, keras.Layer) else net(x)


def filtered_mean(distances, low=1.0, high=99.0):
    """Mean of the distances between two percentiles, StyleGAN's outlier filter.

    Keeps `lo <= d <= hi` where `lo` is the `low` percentile rounded down to a
    sample ("lower") and `hi` the `high` percentile rounded up ("higher"), so
    the bounds are values of the sample and few distances are dropped on ties.

    Args:
        distances: array-like `(N,)`, finite.
        low: float percentile in [0, 100). Default 1.
        high: float percentile in (low, 100]. Default 99.

    Returns:
        `(mean, kept)`: float, and the float64 array of the distances kept.

    Raises:
        ValueError: on an empty or non-finite sample or bad percentiles.

    Example:
        >>> filtered_mean(np.r_[np.arange(100.0), 1e6])[0]
        50.0

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 4.2 ("we discard the 1%
    and 99% percentiles").
    """
    distances = np.asarray(distances, dtype="float64").reshape(-1)
    if distances.size == 0 or not np.all(np.isfinite(distances)):
        raise ValueError(f"distances must be a non-empty array of finite values; got {distances.size} values")
    if not 0 <= low < high <= 100:
        raise ValueError(f"low and high must be percentiles with 0 <= low < high <= 100; got {low!r}, {high!r}")
    lo = np.percentile(distances, low, method="lower")
    hi = np.percentile(distances, high, method="higher")
    kept = distances[(distances >= lo) & (distances <= hi)]
    return float(kept.mean()), kept


def perceptual_path_length(
    mapping,
    synthesis,
    feature_fn,
    space="w",
    num_samples=50_000,
    epsilon=1e-4,
    sampling="end",
    crop=None,
    batch_size=64,
    seed=0,
    return_distances=False,
):
    """Perceptual path length of a mapping and synthesis net (Karras et al. 2019).

    `num_samples` pairs of N(0, I) codes and positions `t` (0 for "end",
    U(0, 1) for "full") are drawn from `seed`; each batch shares one fresh
    constant noise map per noise layer (N(0, 1)), the net's own noise variables
    are left as they were. See the module docstring for the protocol.

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim) -> w (batch, w_dim)` (or
            `(batch, num_ws, w_dim)`), e.g. an EMA mapping net.
        synthesis: `keras.Model`, `ws (batch, num_ws, w_dim) -> images (batch,
            H, W, C)` in about [-1, 1].
        feature_fn: callable, images -> normalised features `(batch, D)`, e.g.
            `ppl_features_lpips()` (the paper's), `ppl_features_vgg16()` or
            `ppl_features_classifier(classifier)`; a
            `zoo.metrics.ClassifierExtractor` is wrapped by
            `ppl_features_classifier`.
        space: "w" (default) or "z".
        num_samples: int >= 1, pairs. Default 50,000 (stylegan2-ada's protocol).
        epsilon: float > 0, the step along the path. Default 1e-4.
        sampling: "end" (default) or "full".
        crop: None (default), "face" (StyleGAN's FFHQ centre crop) or
            `(top, left, height, width)` in pixels, applied before `feature_fn`.
        batch_size: int >= 1, pairs per synthesis call (two images each).
            Default 64.
        seed: int, seeds codes, positions and noise. Default 0.
        return_distances: bool; also return the filtered distances. Default False.

    Returns:
        dict `{ppl_name(space, sampling): mean}`, e.g. `{"ppl_w_end": 41.2}`; with
        `return_distances`, `(dict, kept_distances)`.

    Raises:
        ValueError: for a bad argument or nets that do not fit each other.

    Example:
    ```python
    features = zoo.metrics.ppl_features_classifier(classifier)
    zoo.metrics.perceptual_path_length(gan.ema_mapping, gan.ema_synthesis, features,
                                       num_samples=10_000)  # {"ppl_w_end": ...}
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 4.2; Karras et al.,
    "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020, sec. 3.
    """
    from zoo.metrics.extractors import ClassifierExtractor
    from zoo.projection import _latent_dim, noise_layers, synthesis_shape

    name = ppl_name(space, sampling)
    if isinstance(feature_fn, ClassifierExtractor):
        feature_fn = ppl_features_classifier(feature_fn)
    if not callable(feature_fn):
        raise ValueError(f"feature_fn must be a callable images -> (batch, D); got {type(feature_fn).__name__}")
    num_samples = smoke.samples(checks.integer(num_samples, "num_samples", at_least=1))
    batch_size = checks.integer(batch_size, "batch_size", at_least=1)
    epsilon = checks.number(epsilon, "epsilon", above=0)
    crop = _check_crop(crop)
    seed = checks.integer(seed, "seed", at_least=0)
    num_ws, _ = synthesis_shape(synthesis)
    latent_dim = _latent_dim(mapping)
    layers = noise_layers(synthesis)
    step = _pair_distances(mapping, synthesis, feature_fn, layers, space, epsilon, crop, num_ws)
    rng = np.random.default_rng(seed)
    distances = []
    for start in range(0, num_samples, batch_size):
        n = min(batch_size, num_samples - start)
        z0, z1 = rng.standard_normal((2, n, latent_dim)).astype("float32")
        t = rng.uniform(size=n).astype("float32") if sampling == "full" else np.zeros(n, "float32")
        buffers = [_tensor(rng.standard_normal(layer.noise_const.shape)) for layer in layers]
        batch = step(_tensor(z0), _tensor(z1), _tensor(t), buffers or None)
        distances.append(np.asarray(ops.convert_to_numpy(batch), "float64"))
    distances = np.concatenate(distances)
    if not np.all(np.isfinite(distances)):
        raise ValueError("the path distances are not finite: the nets or feature_fn returned NaN or infinity")
    mean, kept = filtered_mean(distances)
    result = {name: mean}
    return (result, kept) if return_distances else result


# -- feature functions -------------------------------------------------------------------


def normalize_features(outputs):
    """LPIPS-style normalisation of feature maps, flattened into one vector per image.

    A map `(batch, H, W, C)` is normalised to unit length over the channels at
    every position and scaled by `1 / sqrt(H * W)`; a vector `(batch, D)` is
    normalised to unit length. The squared L2 distance between two images'
    results is then the sum over the layers of the mean squared distance of
    their unit-normalised activations: LPIPS with unit layer weights.

    Args:
        outputs: a tensor or a list of tensors, each `(batch, H, W, C)` or `(batch, D)`.

    Returns:
        float32 tensor `(batch, sum of H * W * C and D)`.

    Reference: Zhang et al., "The Unreasonable Effectiveness of Deep Features as
    a Perceptual Metric", CVPR 2018, eq. 1.
    """
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    parts = []
    for output in outputs:
        output = ops.cast(output, "float32")
        unit = output * ops.rsqrt(ops.sum(ops.square(output), axis=-1, keepdims=True) + _NORM_EPSILON)
        if len(output.shape) == 4:
            if output.shape[1] is None or output.shape[2] is None:
                positions = ops.cast(ops.shape(output)[1] * ops.shape(output)[2], "float32")
            else:
                positions = float(output.shape[1] * output.shape[2])
            unit = ops.reshape(unit / ops.sqrt(positions), (ops.shape(unit)[0], -1))
        elif len(output.shape) != 2:
            raise ValueError(f"feature outputs must be (batch, H, W, C) or (batch, D); got {tuple(output.shape)}")
        parts.append(unit)
    return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=1)


class _FeatureFunction:
    """images in [-1, 1] -> `features(prepare(images))`, with a name.

    `features` defaults to `normalize_features(model(...))`; `model` holds the
    variables (`zoo.projection` passes them in afresh on JAX).
    """

    def __init__(self, model, prepare, name, features=None):
        self.model = model
        self.prepare = prepare
        self.name = name
        self.features = features or (lambda images: normalize_features(self.model(images, training=False)))

    def __call__(self, images):
        return self.features(self.prepare(ops.convert_to_tensor(images, "float32")))

    def __repr__(self):
        return f"<feature function {self.name}>"


def ppl_features_vgg16(weights="imagenet", image_size=None, layers=VGG16_LAYERS):
    """An LPIPS-like VGG16 feature function on Keras' VGG16: equal weights, not the published PPL's.

    Images in [-1, 1] are resized to `image_size` (if given), repeated to RGB
    when greyscale, and preprocessed as `keras.applications.vgg16` expects; the
    rectified maps of `layers` are normalised by `normalize_features`. This is
    LPIPS' VGG16 with unit layer weights on Keras' (Caffe's) VGG16 weights, so
    numbers differ from the published ones: `ppl_features_lpips` is LPIPS itself.

    Args:
        weights: "imagenet" (default, downloaded once by Keras), a weights file,
            or None (random weights: for tests only).
        image_size: None (default: the images' own size) or an int, the side the
            images are resized to (bilinear with antialiasing); the paper
            downsamples to 256.
        layers: names of VGG16 layers. Default `VGG16_LAYERS` (LPIPS' taps).

    Returns:
        callable, images `(batch, H, W, 1 or 3)` -> float32 `(batch, D)`,
        differentiable (usable as `zoo.projection.project(..., features=...)`);
        `.name` is "vgg16".

    Raises:
        RuntimeError: if the weights cannot be loaded (e.g. offline); the message
            says what to use instead.
        ValueError: for a bad `image_size` or layer name.

    Example:
    ```python
    zoo.metrics.perceptual_path_length(mapping, synthesis, zoo.metrics.ppl_features_vgg16())
    ```

    Reference: Simonyan & Zisserman, "Very Deep Convolutional Networks for
    Large-Scale Image Recognition", ICLR 2015; Zhang et al., "The Unreasonable
    Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018.
    """
    if image_size is not None:
        image_size = checks.integer(image_size, "image_size", at_least=32)
    def load():
        return keras.applications.VGG16(include_top=False, weights=weights, input_shape=(None, None, 3))

    vgg = load() if weights is None else files.fetch(
        load, f"VGG16 weights {weights!r}", "use a domain classifier's features instead: "
        'zoo.metrics.ppl_features_classifier(zoo.metrics.train_domain_classifier(...)) (or loss="mse" for projection)')
    try:
        taps = [vgg.get_layer(name).output for name in layers]
    except ValueError as error:
        raise ValueError(f"layers must name VGG16 layers such as {VGG16_LAYERS}; {error}") from None
    model = keras.Model(vgg.input, taps, name="vgg16_lpips")
    mean = ops.convert_to_tensor(_VGG16_BGR_MEAN, "float32")

    def prepare(images):
        if images.shape[-1] == 1:
            images = ops.repeat(images, 3, axis=-1)
        elif images.shape[-1] != 3:
            raise ValueError(f"images must have 1 or 3 channels for VGG16; got {images.shape[-1]}")
        if image_size is not None:
            images = ops.image.resize(images, (image_size, image_size), interpolation="bilinear", antialias=True)
        return (images[..., ::-1] + 1.0) * 127.5 - mean

    return _FeatureFunction(model, prepare, "vgg16")


def stylegan_downsample(images, size=256):
    """StyleGAN's PPL downsampling: the mean over `factor x factor` blocks, `factor = height // size`.

    As `metrics/perceptual_path_length.py` of StyleGAN and StyleGAN2 does after its
    crop: images at least twice `size` high are box-filtered by that integer factor in
    both directions (1024 -> 256, 512 -> 256, 600 -> 300); smaller ones are left as
    they are, never upsampled (a 128 px image stays 128 px).

    Args:
        images: tensor `(batch, H, W, C)`.
        size: int >= 1, the target side. Default 256.

    Returns:
        float32 tensor `(batch, H // factor, W // factor, C)`.

    Raises:
        ValueError: if the factor does not divide the height and the width (StyleGAN's
            reshape fails there too).

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2 and its code.
    """
    images = ops.convert_to_tensor(images, "float32")
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    factor = height // size
    if factor <= 1:
        return images
    if height % factor or width % factor:
        raise ValueError(f"images of {height}x{width} do not split into {factor}x{factor} blocks (StyleGAN's "
                         f"downsampling to {size}): crop them to a multiple of {factor} first")
    blocks = ops.reshape(images, (-1, height // factor, factor, width // factor, factor, channels))
    return ops.mean(blocks, axis=(2, 4))


def ppl_features_lpips(trunk_weights="torchvision", linear_weights="lpips", downsample_to=256):
    """The feature function of StyleGAN's PPL: LPIPS (VGG16, v0.1), after downsampling to 256.

    Images in [-1, 1] (after `perceptual_path_length`'s crop) are box-downsampled by
    StyleGAN's integer factor (`stylegan_downsample`), repeated to RGB when grey, and
    mapped to `zoo.metrics.LPIPS.features`, whose squared L2 distance is the LPIPS
    distance: the published PPL's perceptual distance, with LPIPS' learned weights on
    torchvision's VGG16 (as stylegan2-ada's `vgg16.pt` with `return_lpips=True`).

    Args:
        trunk_weights: "torchvision" (default: `vgg16-397923af.pth`, downloaded once to
            `~/.keras/models`), a path to that file, or None (random: tests only).
        linear_weights: "lpips" (default: the installed `lpips` package's file) or a path
            to its `weights/v0.1/vgg.pth`.
        downsample_to: int >= 1 or None. Default 256 (the paper's): images at least
            twice as high are averaged over `factor x factor` blocks, `factor = height //
            downsample_to`; smaller images are not resized. None: never resized.

    Returns:
        callable, images `(batch, H, W, 1 or 3)` -> float32 `(batch, D)`,
        differentiable (usable as `zoo.projection.project(..., features=...)`);
        `.name` is "lpips_vgg16" ("lpips_vgg16_random" without trunk weights),
        `.lpips` the `zoo.metrics.LPIPS` behind it.

    Raises:
        zoo.files.DownloadError, FileNotFoundError, ValueError: as `zoo.metrics.LPIPS`.

    Example:
    ```python
    features = zoo.metrics.ppl_features_lpips()  # offline: trunk_weights="vgg16-397923af.pth"
    zoo.metrics.perceptual_path_length(gan.ema_mapping, gan.ema_synthesis, features, crop="face")
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", CVPR 2019, sec. 4.2; Zhang et al., "The Unreasonable
    Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018.
    """
    from zoo.metrics.lpips import LPIPS

    if downsample_to is not None:
        downsample_to = checks.integer(downsample_to, "downsample_to", at_least=1)
    lpips = LPIPS(trunk_weights=trunk_weights, linear_weights=linear_weights)

    def prepare(images):
        return images if downsample_to is None else stylegan_downsample(images, downsample_to)

    features = _FeatureFunction(lpips.model, prepare, lpips.name, features=lpips.features)
    features.lpips = lpips
    return features


def ppl_features_classifier(classifier, layers=None):
    """A feature function from a trained classifier, for PPL or projection offline.

    The outputs of `layers` (dense or convolutional) are normalised by
    `normalize_features`. Images whose size differs from the classifier's input
    are resized to it (bilinear with antialiasing); the channels must match.

    Args:
        classifier: a `zoo.metrics.ClassifierExtractor`, or a `keras.Model` such as
            `zoo.metrics.train_domain_classifier`'s.
        layers: None (default: the extractor's `feature_layer`, or "features") or
            a layer name or list of names.

    Returns:
        callable, images `(batch, H, W, C)` in [-1, 1] -> float32 `(batch, D)`,
        differentiable; `.name` is `"classifier:<model name>"` (or the extractor's).

    Raises:
        ValueError: if `classifier` is neither, or lacks a layer.

    Example:
    ```python
    classifier = zoo.metrics.load_domain_classifier("mnist.keras")
    features = zoo.metrics.ppl_features_classifier(classifier)
    zoo.metrics.perceptual_path_length(mapping, synthesis, features)
    ```

    Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
    Converge to a Local Nash Equilibrium", NeurIPS 2017 (a domain network's
    features in place of ImageNet's); Zhang et al., "The Unreasonable
    Effectiveness of Deep Features as a Perceptual Metric", CVPR 2018.
    """
    from zoo.metrics.extractors import ClassifierExtractor

    if isinstance(classifier, ClassifierExtractor):
        model, name = classifier.model, classifier.name
        default = classifier.feature_layer
    elif isinstance(classifier, keras.Model):
        model, name, default = classifier, f"classifier:{classifier.name}", "features"
    else:
        raise ValueError(
            f"classifier must be a zoo.metrics.ClassifierExtractor or a keras.Model; got {type(classifier).__name__}"
        )
    names = [default] if layers is None else [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("layers must name at least one layer")
    try:
        taps = [model.get_layer(layer).output for layer in names]
    except ValueError:
        raise ValueError(f"classifier {model.name!r} lacks a layer of {names} (layers)") from None
    if len(model.inputs) != 1:
        raise ValueError(f"classifier must take one input, images; {model.name!r} takes {len(model.inputs)}")
    tapped = keras.Model(model.input, taps, name=f"{model.name}_features")
    height, width, channels = (int(s) for s in model.input_shape[1:])

    def prepare(images):
        if images.shape[-1] != channels:
            raise ValueError(f"images have {images.shape[-1]} channels but the classifier takes {channels}")
        if tuple(images.shape[1:3]) != (height, width):
            images = ops.image.resize(images, (height, width), interpolation="bilinear", antialias=True)
        return images

    return _FeatureFunction(tapped, prepare, name)


# -- argument checks ---------------------------------------------------------------------


