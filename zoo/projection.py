"""Projection (GAN inversion): the codes whose generated images match given images.

One function, `project`, for every generator: in Z for any generator or decoder
(Zhu et al. 2016), and in StyleGAN's W or W+ with the synthesis net's noise maps
(StyleGAN2's projector, Karras et al. 2020, appendix D: from the mean W, Adam
optimises the code and the per-layer noise maps under a pixel or perceptual
distance, with a ramped learning rate, noise added to the code early on, and a
regulariser that keeps the noise maps free of image content).

For W and W+ the functions take the nets, or a StyleGAN model, with this contract:

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
"""

import collections
import math

import keras
import numpy as np
from keras import ops

from zoo import checks, engine, smoke
from zoo.nets.style_gan import noise_layers as find_noise_layers

SPACES = ("z", "w", "w+")

# The noise regulariser stops downsampling a noise map at this size (Karras et al.
# 2020, Appendix D: "until the resolution is 8x8").
_SMALLEST_NOISE = 8

Projection = collections.namedtuple("Projection", ["codes", "images", "history", "distances", "noise"])
Projection.__doc__ = """What `project` returns (numpy arrays).

Fields:
    codes: float32 `(n, *code_shape)`, the projected codes: Z codes for space
        "z"; `(n, num_ws, w_dim)` for "w" and "w+" (for "w" every layer holds
        the same w).
    images: float32 `(n, H, W, C)`, the images of `codes` (for "w"/"w+",
        `synthesize(synthesis, codes, noise)`).
    history: float32 `(steps, n)`, each image's distance before each update
        (for "w"/"w+" with that step's noise on the codes; regularisers in neither).
    distances: float32 `(n,)`, each image's distance to its projection.
    noise: list of float32 `(n, H, W, 1)`, the projected noise map of each
        noise layer, in `noise_layers(synthesis)` order (empty for "z" and
        without noise layers).
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
    result = zoo.projection.project((mapping, synthesis), images)
    again = zoo.projection.synthesize(synthesis, result.codes, result.noise)  # == result.images
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
    num_samples = checks.integer(num_samples, "w_avg_samples", at_least=2)
    batch_size = checks.integer(batch_size, "batch_size", at_least=1)
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
        self.num_steps = checks.integer(num_steps, "num_steps", at_least=1)
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


def _distance(distance, features, pixel_weight, target):
    """A function images -> per-image distance to `target` (float32 tensors)."""
    pixel_weight = _number(pixel_weight, "pixel_weight", allow_zero=True)
    if callable(distance):
        if features is not None:
            raise ValueError("pass a distance callable or features, not both")
        return lambda images: distance(target, images)
    if distance not in ("l2", "l1"):
        raise ValueError(f'distance must be "l2", "l1" or a callable (target, images) -> (n,); got {distance!r}')
    error = ops.square if distance == "l2" else ops.abs

    def pixels(images):
        return ops.mean(ops.reshape(error(images - target), (ops.shape(images)[0], -1)), axis=1)

    if features is None:
        if pixel_weight:
            raise ValueError("pixel_weight adds a pixel distance to a feature distance; without features leave it at 0")
        return pixels
    if not callable(features):
        raise ValueError(f"features must be a feature function images -> (n, D); got {type(features).__name__}")
    target_features = ops.convert_to_tensor(features(target), "float32")
    if len(target_features.shape) != 2 or target_features.shape[0] != target.shape[0]:
        raise ValueError(
            f"features must return features (n, D); got {tuple(target_features.shape)} for {target.shape[0]} images"
        )

    def feature_distance(images):
        value = ops.sum(ops.square(ops.cast(features(images), "float32") - target_features), axis=1)
        return value + pixel_weight * pixels(images) if pixel_weight else value

    return feature_distance


# -- projection ------------------------------------------------------------------------


def _generator_code_shape(generator):
    """The generator's input shape without the batch axis, or None if unknown."""
    try:
        shape = generator.input_shape
    except (AttributeError, ValueError, TypeError):
        return None
    if isinstance(shape, list):
        raise ValueError(
            f"generator has {len(shape)} inputs; wrap it in a callable that takes only the code, "
            "e.g. lambda z: generator([z, labels]), and pass latent_dim or initial"
        )
    shape = tuple(shape[1:])
    return shape if shape and all(isinstance(s, int) for s in shape) else None


def _code_shape(generator, latent_dim, initial):
    from_generator = _generator_code_shape(generator)
    if latent_dim is not None:
        dims = (latent_dim,) if isinstance(latent_dim, (int, np.integer)) else tuple(latent_dim)
        if not dims or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
            raise ValueError(f"latent_dim must be a positive int or a tuple of them (a code shape), got {latent_dim!r}")
        dims = tuple(int(d) for d in dims)
        if from_generator is not None and dims != from_generator:
            raise ValueError(f"latent_dim={latent_dim!r} does not match the generator's input shape {from_generator}")
        return dims
    if from_generator is not None:
        return from_generator
    if initial is not None and not isinstance(initial, str) and np.ndim(initial) >= 2:
        return tuple(np.shape(initial)[1:])
    raise ValueError(
        "cannot tell the code shape: the generator has no input_shape; pass latent_dim "
        "or initial codes (n, *code_shape)"
    )


def _initial_codes(initial, num_images, code_shape, seed):
    full = (num_images,) + code_shape
    if initial is None:
        return np.zeros(full, "float32")
    if isinstance(initial, str):
        if initial != "random":
            raise ValueError(f'initial must be None, "random" or an array of codes, got {initial!r}')
        return np.random.default_rng(seed).standard_normal(full).astype("float32")
    initial = np.asarray(initial, dtype="float32")
    if initial.shape == code_shape:
        return np.broadcast_to(initial, full).copy()
    if initial.shape != full:
        raise ValueError(f"initial must have shape {full} or {code_shape}, got {initial.shape}")
    if not np.isfinite(initial).all():
        raise ValueError("initial codes must be finite")
    return initial


def _project_codes(generator, target, steps, learning_rate, distance, measure, seed, latent_dim=None, initial=None,
                   regularization=0.0):
    """Code optimisation through any generator (see `project`); `distance`: images -> (n,)."""
    regularization = _number(regularization, "regularization", allow_zero=True)
    code_shape = _code_shape(generator, latent_dim, initial)
    num_images = target.shape[0]
    start = _initial_codes(initial, num_images, code_shape, seed)

    if isinstance(generator, keras.Layer):
        def generate(z):
            return generator(z, training=False)
    else:
        generate = generator
    images = generate(ops.convert_to_tensor(start))
    if tuple(images.shape[1:]) != tuple(target.shape[1:]):
        raise ValueError(
            f"the generator makes images of shape {tuple(images.shape[1:])}, but target_images "
            f"have shape {tuple(target.shape[1:])}"
        )
    first = distance(ops.cast(images, "float32"))
    if tuple(first.shape) != (num_images,):
        raise ValueError(f"distance must return one value per image, shape ({num_images},), got {tuple(first.shape)}")

    codes = keras.Variable(start, dtype="float32", trainable=True, name="projected_codes")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build([codes])
    code_axes = tuple(range(1, 1 + len(code_shape)))

    def loss():
        per_image = distance(ops.cast(generate(codes), "float32"))
        total = ops.sum(per_image)
        if regularization:
            total += regularization * ops.sum(ops.mean(ops.square(codes), axis=code_axes))
        return total, per_image

    def step():
        return engine.update(optimizer, [codes], loss)[1]

    # On JAX the generator's weights go in as arguments (those of a plain callable are read once).
    weights = _variables(generator, *measure)
    history = engine.loop(step, [codes] + optimizer.variables + weights)(steps)

    def final():
        images = ops.cast(generate(codes), "float32")
        return images, distance(images)

    images, distances = engine.run_once(final, [codes] + weights)
    return Projection(
        codes=np.asarray(ops.convert_to_numpy(codes.value), "float32"),
        images=np.asarray(ops.convert_to_numpy(images), "float32"),
        history=np.asarray(ops.convert_to_numpy(history), "float32"),
        noise=[],
        distances=np.asarray(ops.convert_to_numpy(distances), "float32"),
    )


def _project_style(mapping, synthesis, target, space, steps, learning_rate, distance, measure, seed, w_avg=None,
                   initial_noise_factor=0.05, noise_ramp_length=0.75, lr_rampdown_length=0.25,
                   lr_rampup_length=0.05, regularize_noise_weight=1e5, w_avg_samples=10_000, callback=None):
    """StyleGAN2's projector (see `project`); `distance`: images -> (batch,), `measure`: its nets."""
    num_ws, w_dim = synthesis_shape(synthesis)
    expected = tuple(synthesis.output_shape[1:])
    if tuple(target.shape[1:]) != expected:
        raise ValueError(f"target_images must be (batch, {', '.join(map(str, expected))}); got {target.shape}")
    schedule = ProjectionSchedule(learning_rate, steps, lr_rampup_length, lr_rampdown_length)
    initial_noise_factor = _number(initial_noise_factor, "initial_noise_factor", allow_zero=True)
    noise_ramp_length = _fraction(noise_ramp_length, "noise_ramp_length")
    regularize_noise_weight = _number(regularize_noise_weight, "regularize_noise_weight", allow_zero=True)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be None or callable; got {type(callback).__name__}")
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
        t = ops.cast(index, "float32") / float(steps)
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

    run = engine.loop(step, variables + optimizer.variables + _variables(synthesis, *measure))
    if callback is None:
        history = ops.convert_to_numpy(run(steps))
    else:
        parts = []
        for done in range(1, steps + 1):
            part = ops.convert_to_numpy(run(1))
            parts.append(part)
            callback(done, np.asarray(ops.convert_to_numpy(all_ws(codes))), part[0])
        history = np.concatenate(parts)

    def final():
        images = _render(synthesis, layers, all_ws(codes), noise)
        return images, distance(images)

    images, distances = engine.run_once(final, variables + _variables(synthesis, *measure))
    return Projection(
        codes=np.asarray(ops.convert_to_numpy(all_ws(codes)), "float32"),
        images=np.asarray(ops.convert_to_numpy(images), "float32"),
        history=np.asarray(history, "float32"),
        noise=[np.asarray(ops.convert_to_numpy(buffer), "float32") for buffer in noise],
        distances=np.asarray(ops.convert_to_numpy(distances), "float32"),
    )


# The options each space takes besides the common ones.
_OPTIONS = {
    "z": ("latent_dim", "initial", "regularization"),
    "w": ("w_avg", "initial_noise_factor", "noise_ramp_length", "lr_rampdown_length", "lr_rampup_length",
          "regularize_noise_weight", "w_avg_samples", "callback"),
}
_DEFAULTS = {"z": {"steps": 500, "learning_rate": 0.05}, "w": {"steps": 1000, "learning_rate": 0.1}}


def _nets(generator):
    """`(mapping, synthesis, w_avg)` of a StyleGAN model or pair of nets, else `(None, generator, None)`."""
    if isinstance(generator, (tuple, list)):
        if len(generator) != 2:
            raise ValueError(f"a pair of nets is (mapping, synthesis); got {len(generator)} items")
        return generator[0], generator[1], None
    if hasattr(generator, "ema_synthesis") and hasattr(generator, "ema_mapping"):  # zoo.models.StyleGAN
        return generator.ema_mapping, generator.ema_synthesis, ops.convert_to_numpy(generator.w_avg)
    if isinstance(getattr(generator, "sampling_generator", None), keras.Layer):  # a GAN's (EMA) generator
        return None, generator.sampling_generator, None
    if hasattr(generator, "logits_to_images") and isinstance(getattr(generator, "decoder", None), keras.Layer):
        autoencoder, decoder = generator, generator.decoder  # its images, as `decode` makes them

        def decode(codes):
            return autoencoder.logits_to_images(decoder(codes, training=False))

        decode.model, decode.input_shape = decoder, decoder.input_shape  # its weights; the code shape
        return None, decode, None
    if not callable(generator):
        raise ValueError(f"generator must be a zoo model, a keras.Model, a callable or (mapping, synthesis); "
                         f"got {type(generator).__name__}")
    return None, generator, None


def project(generator, target_images, space=None, steps=None, learning_rate=None, distance="l2", features=None,
            pixel_weight=0.0, seed=0, **options):
    """Finds the codes whose generated images match `target_images` (GAN inversion), for any generator.

    Each image is fitted on its own (the loss is a sum of per-image terms and Adam
    is per coordinate), so a batch gives the codes of projecting its images one by
    one. The nets are never changed; they run with `training=False`. The loop is
    compiled once (`zoo.engine.loop`: a `tf.function` on TensorFlow, a `jax.lax.scan`
    on JAX).

    Spaces:
    - "z" (any generator; the default but for StyleGAN): Adam on the input codes,
      from zeros (the prior's mean), minimising `distance + regularization *
      mean(z ** 2)` (Zhu et al. 2016, sec. 3.1). A code shape `(num_ws, w_dim)`
      through a synthesis net is W+ without the noise maps.
    - "w" and "w+" (a StyleGAN; "w" is its default): StyleGAN2's projector
      (Karras et al. 2020, appendix D): the codes start at the mean W and get
      Gaussian noise that ramps down, the synthesis net's noise maps are fitted
      too and regularised, the learning rate ramps up then down
      (`ProjectionSchedule`). "w" fits one w per image repeated over the layers,
      "w+" one per layer (Abdal et al. 2019).

    Args:
        generator: a zoo model (a `StyleGAN` projects through its EMA nets and
            `w_avg`; a GAN through its sampling generator; an autoencoder
            through its decoder), `(mapping, synthesis)` nets, a `keras.Model`
            mapping codes to images, or any differentiable callable. Wrap a
            conditional generator so that it takes the code only.
        target_images: array-like `(n, h, w, c)` in the generator's range ([-1, 1]).
        space: "z", "w" or "w+"; default "w" for StyleGAN nets, else "z".
        steps: int >= 1, Adam updates. Default 500 ("z"), 1000 ("w", "w+").
        learning_rate: float > 0. Default 0.05 ("z"), 0.1 (the peak of the ramp, "w").
        distance: "l2" (default: mean squared error per image), "l1", or a callable
            `(target, images) -> (n,)` on float32 tensors, differentiable in `images`.
        features: None, or a feature function `images -> (n, D)` (e.g.
            `zoo.metrics.ppl_features_lpips()`, the paper's perceptual distance, or
            `zoo.metrics.ppl_features_classifier(judge)`): the distance is then the
            squared L2 between features, the target's computed once.
        pixel_weight: float >= 0, with `features`: weight of an added "l2" term. Default 0.
        seed: int, seeds every random draw. Default 0.
        **options: for "z": `latent_dim` (the code shape, default the generator's
            input), `initial` (None: zeros; "random"; or codes, one shared or one per
            image), `regularization` (float >= 0, default 0). For "w"/"w+": `w_avg`
            (default: the model's, else estimated from `w_avg_samples`=10,000 mapped
            codes), `initial_noise_factor` (0.05), `noise_ramp_length` (0.75),
            `lr_rampdown_length` (0.25), `lr_rampup_length` (0.05),
            `regularize_noise_weight` (1e5), `callback` (None, or `callback(step,
            codes, distances)` after every step, which may raise to stop).

    Returns:
        `Projection(codes, images, history, distances, noise)` of numpy arrays.

    Raises:
        ValueError: for a bad argument, an option the space does not take, or
            images that do not fit the generator.

    Example:
    ```python
    fit = zoo.projection.project(gan, images, steps=1000)          # Z
    fit = zoo.projection.project(stylegan, images, space="w+")     # W+, noise maps too
    zoo.metrics.ssim(fit.images, images)
    ```
    """
    mapping, net, w_avg = _nets(generator)
    space = space or ("w" if mapping is not None else "z")
    if space not in SPACES:
        raise ValueError(f'space must be one of {", ".join(map(repr, SPACES))}; got {space!r}')
    family = "z" if space == "z" else "w"
    if family == "w" and mapping is None:
        raise ValueError(f'space "{space}" needs a StyleGAN (or its (mapping, synthesis) nets); '
                         f'project other generators in "z"')
    unknown = sorted(set(options) - set(_OPTIONS[family]))
    if unknown:
        raise ValueError(f'space "{space}" takes no {", ".join(unknown)}; its options: {", ".join(_OPTIONS[family])}')
    steps = smoke.steps(checks.integer(_DEFAULTS[family]["steps"] if steps is None else steps, "steps", at_least=1))
    learning_rate = _number(_DEFAULTS[family]["learning_rate"] if learning_rate is None else learning_rate,
                            "learning_rate")
    seed = checks.integer(seed, "seed", at_least=0)
    target = np.asarray(target_images, dtype="float32")
    if target.ndim != 4 or len(target) == 0:
        raise ValueError(f"target_images must be a non-empty batch (n, height, width, channels); got {target.shape}")
    if not np.all(np.isfinite(target)):
        raise ValueError("target_images must be finite")
    target = ops.convert_to_tensor(target)
    measure = [fn for fn in (features, distance) if callable(fn)]
    distance = _distance(distance, features, pixel_weight, target)
    if family == "z":
        return _project_codes(net, target, steps, learning_rate, distance, measure, seed, **options)
    options.setdefault("w_avg", w_avg)
    return _project_style(mapping, net, target, space, steps, learning_rate, distance, measure, seed, **options)
