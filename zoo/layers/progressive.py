"""Level of detail for progressive growing (ProGAN): one fixed graph, a variable says which resolution is live."""

import keras
from keras import layers, ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class LevelOfDetail(layers.Layer):
    """Holds a net's level of detail `lod` as a non-trainable variable and outputs it.

    `lod = 0` is the full resolution, `lod = k` the resolution `2^k` times
    smaller; a fractional `lod` is a fade between two resolutions. The layer
    is called on the net's input (only its batch size is read) and returns
    `(batch, 1)` filled with `lod`, which `FadeIn` layers read. Changing
    the level is `layer.assign(value)` (a variable assignment), so a traced
    training step picks it up without retracing. The variable is saved with
    the net's weights (an EMA copy of a generator copies it with them).

    Args:
        max_lod: int >= 0, the coarsest level: `log2(resolution) - 2` for a
            net that starts at 4x4.
        initial_lod: float in [0, max_lod], the starting value. Default 0.0
            (the full resolution, as the reference code initialises it).

    Example:
    ```python
    lod = zoo.layers.LevelOfDetail(max_lod=3)
    t = lod(noise)            # (batch, 1), all 0.0
    lod.assign(1.5)           # halfway between 16x16 and 8x8 of a 32x32 net
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 2 and the `lod`
    variable of the reference TensorFlow code.
    """

    def __init__(self, max_lod, initial_lod=0.0, **kwargs):
        super().__init__(**kwargs)
        checks.integer(max_lod, "max_lod", at_least=0)
        self.max_lod = max_lod
        self.initial_lod = checks.number(initial_lod, "initial_lod", at_least=0, at_most=max_lod)
        self.lod = self.add_weight(
            name="lod",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_lod),
            trainable=False,
            dtype="float32",
        )

    def assign(self, value):
        """Sets the level of detail (a float in [0, max_lod])."""
        self.lod.assign(checks.number(value, "lod", at_least=0, at_most=self.max_lod))

    def value(self):
        """The current level of detail as a Python float."""
        return float(ops.convert_to_numpy(self.lod))

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        return ops.ones((batch, 1), "float32") * ops.cast(self.lod, "float32")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor((inputs.shape[0], 1), dtype="float32")

    def get_config(self):
        config = super().get_config()
        config.update({"max_lod": self.max_lod, "initial_lod": self.initial_lod})
        return config


@keras.saving.register_keras_serializable(package="zoo")
class FadeIn(layers.Layer):
    """Blends a stage's own path with the coarser path by the level of detail.

    `FadeIn(stage_lod)([fine, coarse, lod])` returns `(1 - t) * fine + t * coarse`
    with `t = clip(lod - stage_lod, 0, 1)`: the stage's path alone while
    `lod <= stage_lod`, the coarser path alone once `lod >= stage_lod + 1`,
    a linear fade in between (the new block is faded in as `lod` falls). The
    form `(1 - t) a + t b` is exact at `t = 0` and `t = 1`, so at an integer
    level the unused path contributes exactly nothing (nor any gradient).

    Args:
        stage_lod: int >= 0, the level of detail at which this stage's path
            is fully live (0 for the full resolution).

    Inputs: `fine` and `coarse` of the same shape `(batch, ...)`, and `lod`
    `(batch, 1)` from `LevelOfDetail`.

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, fig. 2 (the reference
    code's `lerp_clip`).
    """

    def __init__(self, stage_lod, **kwargs):
        super().__init__(**kwargs)
        checks.integer(stage_lod, "stage_lod", at_least=0)
        self.stage_lod = stage_lod

    def call(self, inputs):
        fine, coarse, lod = inputs
        t = ops.clip(ops.cast(lod, "float32") - float(self.stage_lod), 0.0, 1.0)
        t = ops.reshape(t, (-1,) + (1,) * (len(fine.shape) - 1))
        t = ops.cast(t, fine.dtype)
        return (1.0 - t) * fine + t * ops.cast(coarse, fine.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config["stage_lod"] = self.stage_lod
        return config


@keras.saving.register_keras_serializable(package="zoo")
class LodGate(layers.Layer):
    """Runs a block only while the level of detail needs it; outputs zeros otherwise.

    `LodGate(block, live_below=b, live_above=a)([x, lod])` is `block(x)` when
    `a < lod < b` (either bound may be None) and zeros of the block's output
    shape otherwise, chosen by a conditional inside the graph: a traced step
    skips the block's computation (and its gradient, which is zero there)
    without retracing when `lod` changes. Use it where a `FadeIn` gives the
    block's output a weight of exactly 0 outside that range, so skipping it
    changes nothing but the time spent (the reference code's "recursive"
    structure).

    Args:
        block: a built `keras.layers.Layer` or `keras.Model` with one input
            (one or several outputs).
        live_below: float or None, the block runs while `lod < live_below`.
        live_above: float or None, the block runs while `lod > live_above`.

    Inputs: `x`, the block's input, and `lod` `(batch, 1)` from `LevelOfDetail`
    (its first row is read).

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018 (the reference code's
    recursive structure).
    """

    def __init__(self, block, live_below=None, live_above=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(block, dict):
            block = keras.saving.deserialize_keras_object(block)
        if not isinstance(block, layers.Layer):
            raise ValueError(f"block must be a keras Layer or Model, got {block!r}")
        for name, value in (("live_below", live_below), ("live_above", live_above)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"{name} must be a float or None, got {value!r}")
        if live_below is None and live_above is None:
            raise ValueError("LodGate needs live_below, live_above or both")
        self.block = block
        self.live_below = None if live_below is None else float(live_below)
        self.live_above = None if live_above is None else float(live_above)

    def build(self, input_shape):
        if not self.block.built:
            self.block.build(input_shape[0])
        self.built = True

    def _live(self, lod):
        level = ops.cast(lod[0, 0], "float32")
        live = None
        if self.live_below is not None:
            live = ops.less(level, self.live_below)
        if self.live_above is not None:
            above = ops.greater(level, self.live_above)
            live = above if live is None else ops.logical_and(live, above)
        return live

    def call(self, inputs, training=None):
        x, lod = inputs
        if getattr(self, "_spec", None) is None:
            spec = self.block.compute_output_spec(keras.KerasTensor((None, *x.shape[1:]), dtype=x.dtype))
            # Kept out of Keras' attribute tracking: a tracked list is no JAX type,
            # and both branches must return the same plain structure.
            object.__setattr__(self, "_spec", keras.tree.map_structure(lambda s: s, spec))
        batch = ops.shape(x)[0]

        def skip():
            return keras.tree.map_structure(lambda s: ops.zeros((batch, *s.shape[1:]), s.dtype), self._spec)

        def run():
            outputs = self.block(x, training=training)
            return keras.tree.pack_sequence_as(self._spec, keras.tree.flatten(outputs))

        live = self._live(lod)
        if keras.backend.backend() == "jax":
            # Called eagerly, JAX would compile both branches on every call (and round
            # differently from the ungated net); a concrete level picks one in Python.
            try:
                concrete = bool(live)
            except TypeError:  # traced: the level is known only when the step runs
                concrete = None
            if concrete is not None:
                return run() if concrete else skip()
        return ops.cond(live, run, skip)

    def compute_output_spec(self, inputs, training=None):
        return self.block.compute_output_spec(inputs[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "block": keras.saving.serialize_keras_object(self.block),
                "live_below": self.live_below,
                "live_above": self.live_above,
            }
        )
        return config


def images_at_lod(images, lod, max_lod):
    """Real images as the networks see them at level of detail `lod`.

    Each level `k` is the image averaged over `2^k x 2^k` blocks and repeated
    back to full size; a fractional `lod = k + f` blends levels `k` and `k + 1`
    by `f`, as the generator's output fades. The reference code does the same
    (`process_reals`), reading the lower resolutions from a pyramid of files.

    Args:
        images: `(batch, height, width, channels)` with sides divisible by
            `2^max_lod`.
        lod: scalar tensor or float in [0, max_lod].
        max_lod: int, the coarsest level.

    Returns:
        float32 images of the input's shape.

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 2.
    """
    images = ops.cast(images, "float32")
    lod = ops.clip(ops.cast(lod, "float32"), 0.0, float(max_lod))
    result = None
    level = images
    for k in range(max_lod + 1):
        if k:
            level = ops.average_pool(level, 2, strides=2, padding="valid")
        factor = 2**k
        upsampled = ops.repeat(ops.repeat(level, factor, axis=1), factor, axis=2) if k else level
        # Hat weights: 1 at lod == k, falling linearly to 0 at k - 1 and k + 1.
        weight = ops.maximum(0.0, 1.0 - ops.abs(lod - float(k)))
        term = weight * upsampled
        result = term if result is None else result + term
    return result
