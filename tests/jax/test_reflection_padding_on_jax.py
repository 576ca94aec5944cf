"""ReflectionPadding2D for sizes known only when called, on JAX (the JAX pass).

JAX's reflect padding needs to prove that the axis is longer than the padding,
which a symbolic size (jax2tf shape polymorphism, as zoo.export converts a
translator for any size divisible by its stride) never shows, so the layer
gathers at reflected indices there. tests/layers/test_padding_for_unknown_sizes.py
runs the same path on TensorFlow, for sizes unknown to a tf.function.
"""

import keras
import numpy as np
import tensorflow as tf
from jax.experimental import jax2tf

from zoo.layers import ReflectionPadding2D

assert keras.backend.backend() == "jax"


def test_reflection_padding_converts_for_symbolic_sizes():
    for pad, shapes in (((1, 1), "(b, h, w, 2)"), ((2, 3), "(b, 4*h, 4*w, 2)")):
        layer = ReflectionPadding2D(pad)
        # Cropped back and added to its input, as a residual block does: the size must be exact.
        def residual(x):
            return layer(x)[:, pad[0]:-pad[0], pad[1]:-pad[1]] + x
        for fn in (layer, residual):
            converted = jax2tf.convert(lambda x: fn(x), polymorphic_shapes=[shapes])
            fn_tf = tf.function(converted, autograph=False, input_signature=[tf.TensorSpec([None, None, None, 2])])
            for size in ((4, 8), (8, 12)):
                x = np.random.default_rng(0).normal(size=(3, *size, 2)).astype("float32")
                want = np.pad(x, ((0, 0), (pad[0],) * 2, (pad[1],) * 2, (0, 0)), mode="reflect")
                want = want if fn is layer else 2 * x
                got = fn_tf(tf.constant(x)).numpy()
                assert got.shape == want.shape and np.array_equal(got, want), (pad, size, fn)
