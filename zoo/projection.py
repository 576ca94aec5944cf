"""Projection of images into a StyleGAN's W or W+ space, and rendering with fixed noise.

StyleGAN2's projector (Karras et al. 2020, Appendix D): starting from the mean
W, Adam optimises the code and the synthesis net's per-layer noise maps so that
the generated image matches a target under a perceptual (or pixel) distance,
with a ramped learning rate, noise added to the code early on, and a
regulariser that keeps the noise maps free of image content.

The functions take the nets, not a model, so they work for anything with the
StyleGAN contract:

- `mapping`: `keras.Model` `z (batch, latent_dim) -> w (batch, w_dim)` (an
  output `(batch, num_ws, w_dim)` is read at its first layer);
- `synthesis`: `keras.Model` with one input `ws (batch, num_ws, w_dim)` and
  images `(batch, H, W, C)` in about [-1, 1];
- noise layers (`zoo.layers.NoiseInjection`, or any layer with a
  `noise_const` attribute; `noise_layers` finds them) hold non-trainable variables `noise_const`
  `(1, H, W, 1)` and `noise_mode` (float32 scalar, 0 random, 1 constant).

The nets are never modified: the projected noise maps are substituted for the
layers' `noise_const` (and `noise_mode` for 1) through `keras.StatelessScope`,
one synthesis call per target, so that each target has its own noise and the
variables keep their values even if the projection is interrupted.

`zoo.latent.project` is the generic GAN inversion (any generator, codes only);
this module is StyleGAN's, with the noise maps and the W statistics.
"""

import collections
import math

import keras
import numpy as np
from keras import ops

from zoo import engine
from zoo.nets.stylegan import noise_layers as find_noise_layers

SPACES = ("w", "w+")

# The noise regulariser stops downsampling a noise map at this size (Karras et al.
# 2020, Appendix D: "until the resolution is 8x8").
_SMALLEST_NOISE = 8

Projection = collections.namedtuple("Projection", ["ws", "images", "history", "noise", "distances"])
Projection.__doc__ = """What `project` returns (numpy arrays).

Fields:
    ws: float32 `(batch, num_ws, w_dim)`, the projected codes (for space "w"
        every layer holds the same w).
    images: float32 `(batch, H, W, C)`, `synthesize(synthesis, ws, noise)`.
    history: float32 `(num_steps, batch)`, each target's distance at each step,
        computed before that step's update, with that step's noise on w.
    noise: list of float32 `(batch, H, W, 1)`, the projected noise map of each
        noise layer, in `noise_layers(synthesis)` order (empty without noise layers).
    distances: float32 `(batch,)`, each target's distance to `images`.
"""


# -- the synthesis net's noise ---------------------------------------------------------


def noise_layers(synthesis):
    """The noise layers of a synthesis net, in the order the data flows through them.

    `zoo.nets.noise_layers` (every layer with `noise_mode` and `noise_const`,
    nested models searched too), with the shape of each `noise_const` checked.

    Args:
        synthesis: `keras.Model`.

    Returns:
        list of layers, each with `noise_const` `(1, H, W, 1)` and `noise_mode`.

    Raises:
        ValueError: if `synthesis` is not a `keras.Model`, or a layer's
            `noise_const` is not `(1, H, W, 1)`.
    """
    if not isinstance(synthesis, keras.Model):
        raise ValueError(f"synthesis must be a keras.Model; got {type(synthesis).__name__}")
    found = find_noise_layers(synthesis)
    for layer in found:
        shape = tuple(layer.noise_const.shape)
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 1:
            raise ValueError(
                f"noise layer {layer.name!r} must hold noise_const (1, H, W, 1) and noise_mode; "
                f"got noise_const {shape}"
            )
    return found


def const_noise(layers, buffers):
    """A `keras.StatelessScope` in which the noise layers use `buffers` as constant noise.

    Inside the scope each layer reads `noise_mode` as 1 and `noise_const` as its
    buffer; the variables themselves are not changed, and gradients flow to the
    buffers. Every other variable keeps the value it has where the scope is made
    (`zoo.engine.stateless_scope`: inside a compiled JAX function, the traced one).

    Args:
        layers: the noise layers (`noise_layers(synthesis)`).
        buffers: one tensor `(1, H, W, 1)` per layer.

    Returns:
        `keras.StatelessScope`, to use in a `with` statement around synthesis calls.
    """
    if len(buffers) != len(layers):
        raise ValueError(f"buffers must hold one noise map per noise layer ({len(layers)}); got {len(buffers)}")
    mapping = []
    for layer, buffer in zip(layers, buffers):
        mapping.append((layer.noise_const, buffer))
        mapping.append((layer.noise_mode, ops.ones((), dtype=layer.noise_mode.dtype)))
    return engine.stateless_scope(mapping)


def _render(synthesis, layers, ws, noise):
    """Images of `ws`; with noise maps `(batch, H, W, 1)`, one synthesis call per target (`engine.map_examples`)."""
    if not layers or noise is None:
        return synthesis(ws, training=False)

    def one(ws, *buffers):
        with const_noise(layers, buffers):
            return synthesis(ws, training=False)

    return engine.map_examples(one, [ws] + list(noise))


def synthesize(synthesis, ws, noise=None):
    """Renders codes with given noise maps, e.g. a projection's `ws` and `noise`.

    Args:
        synthesis: `keras.Model`, `ws (batch, num_ws, w_dim)` -> images.
        ws: array-like `(batch, num_ws, w_dim)`, or `(batch, w_dim)` repeated over
            the layers.
        noise: None (default: the net's own noise, by its `noise_mode`) or one
            array `(batch, H, W, 1)` per noise layer, in `noise_layers` order.

    Returns:
        float32 numpy array `(batch, H, W, C)`.

    Raises:
        ValueError: if `ws` or `noise` do not fit the synthesis net.

    Example:
    ```python
    result = zoo.projection.project(mapping, synthesis, images)
    again = zoo.projection.synthesize(synthesis, result.ws, result.noise)  # == result.images
    ```
    """
    num_ws, w_dim = synthesis_shape(synthesis)
    ws = _ws(ws, num_ws, w_dim)
    layers = noise_layers(synthesis)
    buffers = None
    if noise is not None:
        buffers = _noise_buffers(noise, layers, len(ws))
    ws = ops.convert_to_tensor(ws)
    images = engine.run_once(lambda: _render(synthesis, layers, ws, buffers), synthesis.variables)
    return np.asarray(ops.convert_to_numpy(images), "float32")


def _ws(ws, num_ws, w_dim):
    ws = np.asarray(ws, dtype="float32")
    if ws.ndim == 2:
        ws = np.repeat(ws[:, None], num_ws, axis=1)
    if ws.ndim != 3 or ws.shape[1:] != (num_ws, w_dim) or len(ws) == 0:
        raise ValueError(f"ws must be (batch, {num_ws}, {w_dim}) or (batch, {w_dim}); got {ws.shape}")
    return ws


def _noise_buffers(noise, layers, batch):
    if len(noise) != len(layers):
        raise ValueError(f"noise must hold one map per noise layer ({len(layers)}); got {len(noise)}")
    buffers = []
    for layer, buffer in zip(layers, noise):
        buffer = np.asarray(buffer, dtype="float32")
        expected = (batch,) + tuple(layer.noise_const.shape[1:])
        if buffer.shape != expected:
            raise ValueError(f"noise for layer {layer.name!r} must be {expected}; got {buffer.shape}")
        buffers.append(ops.convert_to_tensor(buffer))
    return buffers


def noise_regularization(noise):
    """StyleGAN2's noise regulariser: squared autocorrelations over a pyramid.

    For each map, the squared mean of the map times itself shifted by one pixel
    (cyclically) along the height and along the width, summed over the map and
    its 2x2-average-pooled versions down to 8x8 (a map of 8 px or less counts
    once). White noise scores about 0; a map that has absorbed image structure
    scores high.

    Args:
        noise: a tensor `(batch, H, W, 1)`, or a list of them.

    Returns:
        float32 tensor `(batch,)`, summed over the maps.

    Example:
    ```python
    zoo.projection.noise_regularization(np.ones((1, 16, 16, 1), "float32"))  # [4.]
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, Appendix D.
    """
    maps = noise if isinstance(noise, (list, tuple)) else [noise]
    total = None
    for buffer in maps:
        buffer = ops.convert_to_tensor(buffer, "float32")
        while True:
            for axis in (1, 2):
                shifted = ops.roll(buffer, 1, axis=axis)
                term = ops.square(ops.mean(buffer * shifted, axis=(1, 2, 3)))
                total = term if total is None else total + term
            if buffer.shape[1] <= _SMALLEST_NOISE:
                break
            buffer = ops.average_pool(buffer, 2, strides=2, padding="valid")
    if total is None:
        raise ValueError("noise must hold at least one noise map")
    return total


def _normalize_noise(buffer):
    """Zero mean, unit mean square per target (the projector's step after each update)."""
    centred = buffer - ops.mean(buffer, axis=(1, 2, 3), keepdims=True)
    return centred * ops.rsqrt(ops.mean(ops.square(centred), axis=(1, 2, 3), keepdims=True))


# -- W statistics and the schedule -----------------------------------------------------


def synthesis_shape(synthesis):
    """`(num_ws, w_dim)` of a synthesis net's one input `(batch, num_ws, w_dim)`."""
    try:
        shape = synthesis.input_shape
    except (AttributeError, ValueError) as error:
        raise ValueError(f"synthesis must be a built keras.Model with one input; {error}") from None
    if isinstance(shape, list) or len(shape) != 3 or not all(isinstance(s, int) for s in shape[1:]):
        raise ValueError(f"synthesis must take one input ws (batch, num_ws, w_dim); got input shape {shape}")
    return int(shape[1]), int(shape[2])


def _call(net, x):
    return net(x, training=False) if isinstance(net, keras.Layer) else net(x)


def _variables(*functions):
    """The variables of the nets behind `functions`: a Keras layer's, or a feature function's `model`'s.

    What `zoo.engine.function` and `zoo.engine.loop` pass in afresh at every call on JAX.
    """
    found = []
    for fn in functions:
        net = fn if isinstance(fn, keras.Layer) else getattr(fn, "model", None)
        if isinstance(net, keras.Layer):
            found.extend(net.variables)
    return found


def w_statistics(mapping, num_samples=10_000, seed=0, w_avg=None, batch_size=2_048):
    """The mean W and the spread of W around it, from mapped N(0, I) codes.

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim) -> w (batch, w_dim)`
            (or `(batch, num_ws, w_dim)`, whose first layer is used).
        num_samples: int >= 2, codes mapped. Default 10,000.
        seed: int, seed of the codes. Default 0.
        w_avg: None (default: the samples' mean) or array-like `(w_dim,)`, e.g. a
            trained StyleGAN's tracked `w_avg`.
        batch_size: int, codes per mapping call. Default 2,048.

    Returns:
        `(w_avg, w_std)`: float32 `(w_dim,)` and a float, the root mean squared
        distance of the samples to `w_avg` (the projector's scale of w noise).

    Example:
    ```python
    w_avg, w_std = zoo.projection.w_statistics(mapping)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, Appendix D.
    """
    num_samples = _int(num_samples, "w_avg_samples", 2)
    batch_size = _int(batch_size, "batch_size", 1)
    latent_dim = _latent_dim(mapping)
    z = np.random.default_rng(seed).standard_normal((num_samples, latent_dim)).astype("float32")
    parts = []
    for start in range(0, num_samples, batch_size):
        w = np.asarray(ops.convert_to_numpy(_call(mapping, ops.convert_to_tensor(z[start : start + batch_size]))))
        if w.ndim == 3:
            w = w[:, 0]
        if w.ndim != 2:
            raise ValueError(f"mapping must return w (batch, w_dim) or (batch, num_ws, w_dim); got {w.shape}")
        parts.append(w.astype("float64"))
    samples = np.concatenate(parts)
    if w_avg is None:
        mean = samples.mean(axis=0)
    else:
        mean = np.asarray(ops.convert_to_numpy(w_avg), "float64").reshape(-1)
        if mean.shape != samples.shape[1:]:
            raise ValueError(f"w_avg must have shape ({samples.shape[1]},); got {np.shape(w_avg)}")
    spread = math.sqrt(np.sum(np.square(samples - mean)) / num_samples)
    return mean.astype("float32"), spread


def _latent_dim(mapping):
    try:
        shape = mapping.input_shape
    except (AttributeError, ValueError):
        shape = None
    if not isinstance(shape, tuple) or len(shape) != 2 or not isinstance(shape[1], int):
        raise ValueError(f"mapping must be a keras.Model with one input z (batch, latent_dim); got {shape}")
    return shape[1]


@keras.saving.register_keras_serializable(package="zoo")
class ProjectionSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The projector's learning rate: linear ramp-up, then cosine ramp-down to 0.

    At `t = step / num_steps`: `initial_learning_rate * min(1, t / rampup_length)
    * (1 - cos(pi * min(1, (1 - t) / rampdown_length))) / 2`; the first step has
    rate 0.

    Args:
        initial_learning_rate: float > 0, the plateau. Default 0.1.
        num_steps: int >= 1, steps of the projection. Default 1000.
        rampup_length: float in (0, 1], fraction of the steps ramping up. Default 0.05.
        rampdown_length: float in (0, 1], fraction ramping down. Default 0.25.

    Example:
    ```python
    optimizer = keras.optimizers.Adam(zoo.projection.ProjectionSchedule(0.1, 1000))
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, Appendix D.
    """

    def __init__(self, initial_learning_rate=0.1, num_steps=1000, rampup_length=0.05, rampdown_length=0.25):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.num_steps = _int(num_steps, "num_steps", 1)
        self.rampup_length = _fraction(rampup_length, "lr_rampup_length")
        self.rampdown_length = _fraction(rampdown_length, "lr_rampdown_length")

    def __call__(self, step):
        t = ops.cast(step, "float32") / float(self.num_steps)
        down = ops.minimum(1.0, (1.0 - t) / self.rampdown_length)
        down = 0.5 - 0.5 * ops.cos(down * math.pi)
        up = ops.minimum(1.0, t / self.rampup_length)
        return self.initial_learning_rate * down * up

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "num_steps": self.num_steps,
            "rampup_length": self.rampup_length,
            "rampdown_length": self.rampdown_length,
        }


# -- argument checks -------------------------------------------------------------------


def _int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def _number(value, name, allow_zero=False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        expected = "a finite number >= 0" if allow_zero else "a positive finite number"
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return number


def _fraction(value, name):
    number = _number(value, name)
    if number > 1:
        raise ValueError(f"{name} must be in (0, 1]; got {value!r}")
    return number


def _distance(loss, pixel_weight, target):
    """A function images -> per-target distance to `target` (float32 tensors)."""
    pixel_weight = _number(pixel_weight, "pixel_weight", allow_zero=True)

    def mse(images):
        return ops.mean(ops.square(images - target), axis=(1, 2, 3))

    if isinstance(loss, str):
        if loss != "mse":
            raise ValueError(f'loss must be "mse" or a feature function images -> (batch, D); got {loss!r}')
        if pixel_weight:
            raise ValueError('pixel_weight adds pixel MSE to a feature loss; with loss="mse" leave it at 0')
        return mse
    if not callable(loss):
        raise ValueError(f'loss must be "mse" or a feature function images -> (batch, D); got {type(loss).__name__}')
    target_features = ops.convert_to_tensor(loss(target), "float32")
    if len(target_features.shape) != 2 or target_features.shape[0] != target.shape[0]:
        raise ValueError(
            f"loss (a feature function) must return features (batch, D); got {tuple(target_features.shape)} "
            f"for {target.shape[0]} images"
        )

    def features(images):
        distance = ops.sum(ops.square(ops.cast(loss(images), "float32") - target_features), axis=1)
        return distance + pixel_weight * mse(images) if pixel_weight else distance

    return features


# -- projection ------------------------------------------------------------------------


def project(
    mapping,
    synthesis,
    target_images,
    w_avg=None,
    space="w",
    num_steps=1000,
    initial_learning_rate=0.1,
    initial_noise_factor=0.05,
    noise_ramp_length=0.75,
    lr_rampdown_length=0.25,
    lr_rampup_length=0.05,
    regularize_noise_weight=1e5,
    loss="mse",
    pixel_weight=0.0,
    w_avg_samples=10_000,
    seed=0,
    callback=None,
):
    """Finds the W (or W+) codes and noise maps whose images match `target_images`.

    StyleGAN2's projector, for a batch of targets optimised independently (the
    loss is a sum of per-target terms and Adam is per coordinate, so each
    target follows its own gradient): the codes start at `w_avg`, the noise
    maps at N(0, 1); each step adds Gaussian noise of scale
    `w_std * initial_noise_factor * max(0, 1 - t / noise_ramp_length) ** 2` to
    the codes (t the fraction of steps done), renders with the noise maps as
    constant noise, and takes an Adam step (betas 0.9, 0.999, epsilon 1e-8; the
    rate follows `ProjectionSchedule`) on `distance + regularize_noise_weight *
    noise_regularization`; the noise maps are then renormalised to zero mean
    and unit variance. The nets are not changed (see the module docstring).

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim) -> w (batch, w_dim)`.
        synthesis: `keras.Model`, `ws (batch, num_ws, w_dim)` -> images
            `(batch, H, W, C)` in about [-1, 1].
        target_images: array-like `(batch, H, W, C)` in [-1, 1], the synthesis
            net's image shape.
        w_avg: None (default: estimated from `w_avg_samples` mapped codes) or
            array-like `(w_dim,)`, e.g. `style_gan.w_avg`.
        space: "w" (default: one w per target, repeated over the layers) or "w+"
            (one w per layer, Abdal et al.'s extended space).
        num_steps: int >= 1. Default 1000.
        initial_learning_rate: float > 0. Default 0.1.
        initial_noise_factor: float >= 0, code noise at the start relative to
            `w_std`. Default 0.05.
        noise_ramp_length: float in (0, 1], fraction of the steps over which the
            code noise decays to 0. Default 0.75.
        lr_rampdown_length: float in (0, 1]. Default 0.25.
        lr_rampup_length: float in (0, 1]. Default 0.05.
        regularize_noise_weight: float >= 0, weight of `noise_regularization`.
            Default 1e5.
        loss: "mse" (default: mean squared pixel error) or a feature function
            `images -> (batch, D)` whose squared L2 distance to the target's
            features is the loss, e.g. `zoo.metrics.ppl_features_vgg16()` (the
            paper's LPIPS-like VGG16 distance) or
            `zoo.metrics.ppl_features_classifier(classifier)` for greyscale data.
        pixel_weight: float >= 0, weight of the pixel MSE added to a feature
            loss. Default 0.
        w_avg_samples: int >= 2, mapped codes for `w_avg` and `w_std`. Default 10,000.
        seed: int, seeds the codes for the W statistics, the initial noise maps
            and the code noise. Default 0.
        callback: None or a callable `callback(step, ws, distances)` called after
            every step with the steps done, the codes `(batch, num_ws, w_dim)` and
            that step's distances `(batch,)` (numpy); it may raise to stop.
            Without it the whole loop runs in one compiled call (`zoo.engine.loop`:
            a `tf.function` on TensorFlow, a `jax.lax.scan` on JAX). Default None.

    Returns:
        `Projection(ws, images, history, noise, distances)` of numpy arrays (see
        `Projection`).

    Raises:
        ValueError: for a bad argument or images that do not fit the nets.

    Example:
    ```python
    result = zoo.projection.project(gan.ema_mapping, gan.ema_synthesis, digits,
                                    w_avg=gan.w_avg, space="w+", num_steps=500)
    zoo.metrics.ssim(result.images, digits)
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, Appendix D; Abdal et al., "Image2StyleGAN: How to
    Embed Images Into the StyleGAN Latent Space?", ICCV 2019 (W+).
    """
    if space not in SPACES:
        raise ValueError(f'space must be "w" or "w+"; got {space!r}')
    num_ws, w_dim = synthesis_shape(synthesis)
    target = np.asarray(target_images, dtype="float32")
    expected = tuple(synthesis.output_shape[1:])
    if target.ndim != 4 or len(target) == 0 or tuple(target.shape[1:]) != expected:
        raise ValueError(f"target_images must be (batch, {', '.join(map(str, expected))}); got {target.shape}")
    if not np.all(np.isfinite(target)):
        raise ValueError("target_images must be finite")
    num_steps = _int(num_steps, "num_steps", 1)
    schedule = ProjectionSchedule(initial_learning_rate, num_steps, lr_rampup_length, lr_rampdown_length)
    initial_noise_factor = _number(initial_noise_factor, "initial_noise_factor", allow_zero=True)
    noise_ramp_length = _fraction(noise_ramp_length, "noise_ramp_length")
    regularize_noise_weight = _number(regularize_noise_weight, "regularize_noise_weight", allow_zero=True)
    seed = _int(seed, "seed", 0)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be None or callable; got {type(callback).__name__}")
    target = ops.convert_to_tensor(target)
    distance = _distance(loss, pixel_weight, target)
    w_avg, w_std = w_statistics(mapping, w_avg_samples, seed, w_avg)
    if w_avg.shape != (w_dim,):
        raise ValueError(f"mapping gives w of size {w_avg.shape[0]} but synthesis takes w_dim={w_dim}")

    batch = target.shape[0]
    layers = noise_layers(synthesis)
    rng = np.random.default_rng([seed, 1])
    code_shape = (batch, 1 if space == "w" else num_ws, w_dim)
    codes = keras.Variable(np.broadcast_to(w_avg, code_shape), dtype="float32", name="projected_w")
    noise = [
        keras.Variable(
            rng.standard_normal((batch,) + tuple(layer.noise_const.shape[1:])), dtype="float32", name=f"noise_{i}"
        )
        for i, layer in enumerate(layers)
    ]
    variables = [codes] + noise
    optimizer = keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    optimizer.build(variables)
    noise_scale = w_std * initial_noise_factor

    def all_ws(w):
        return ops.broadcast_to(w, (batch, num_ws, w_dim))

    def step():
        index = optimizer.iterations
        t = ops.cast(index, "float32") / float(num_steps)
        scale = noise_scale * ops.square(ops.maximum(0.0, 1.0 - t / noise_ramp_length))
        draw = engine.stateless_normal(code_shape, seed, index)

        def objective():
            per_target = distance(_render(synthesis, layers, all_ws(codes + scale * draw), noise))
            total = ops.sum(per_target)
            if noise and regularize_noise_weight:
                total += regularize_noise_weight * ops.sum(noise_regularization(noise))
            return total, per_target

        _, per_target = engine.update(optimizer, variables, objective)
        for buffer in noise:
            buffer.assign(_normalize_noise(buffer))
        return per_target

    run = engine.loop(step, variables + optimizer.variables + _variables(synthesis, loss))
    if callback is None:
        history = ops.convert_to_numpy(run(num_steps))
    else:
        parts = []
        for done in range(1, num_steps + 1):
            part = ops.convert_to_numpy(run(1))
            parts.append(part)
            callback(done, np.asarray(ops.convert_to_numpy(all_ws(codes))), part[0])
        history = np.concatenate(parts)

    def final():
        images = _render(synthesis, layers, all_ws(codes), noise)
        return images, distance(images)

    images, distances = engine.run_once(final, variables + _variables(synthesis, loss))
    return Projection(
        ws=np.asarray(ops.convert_to_numpy(all_ws(codes)), "float32"),
        images=np.asarray(ops.convert_to_numpy(images), "float32"),
        history=np.asarray(history, "float32"),
        noise=[np.asarray(ops.convert_to_numpy(buffer), "float32") for buffer in noise],
        distances=np.asarray(ops.convert_to_numpy(distances), "float32"),
    )
