"""ReflectionPadding2D for sizes known only when called (an export for any image size), on TensorFlow.

tests/jax/test_reflection_padding_on_jax.py checks the symbolic sizes of jax2tf.
"""

import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import ReflectionPadding2D


@pytest.mark.parametrize("pad", [(1, 1), (2, 3), (0, 2)])
def test_reflection_padding_for_sizes_unknown_to_a_tf_function(pad):
    layer = ReflectionPadding2D(pad)
    fn = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, None, None, 2])])
    x = np.random.default_rng(1).normal(size=(2, 5, 7, 2)).astype("float32")
    want = np.pad(x, ((0, 0), (pad[0],) * 2, (pad[1],) * 2, (0, 0)), mode="reflect")
    np.testing.assert_array_equal(fn(tf.constant(x)).numpy(), want)
