"""ReflectionPadding2D for sizes known only when called (an export for any image size).

JAX's reflect padding needs to prove that the axis is longer than the padding,
which a symbolic size (jax2tf shape polymorphism, as zoo.export converts a
translator for any size divisible by its stride) never shows, so the layer
gathers at reflected indices there. The JAX check runs in a fresh process with
KERAS_BACKEND=jax; the default suite is on TensorFlow, where the same path runs
for sizes unknown to a tf.function.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import ReflectionPadding2D

SCRIPT = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    from jax.experimental import jax2tf
    from zoo.layers import ReflectionPadding2D

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
    print("ok")
    """
)


def test_reflection_padding_converts_for_symbolic_sizes_on_jax(tmp_path):
    pytest.importorskip("jax")
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


@pytest.mark.parametrize("pad", [(1, 1), (2, 3), (0, 2)])
def test_reflection_padding_for_sizes_unknown_to_a_tf_function(pad):
    layer = ReflectionPadding2D(pad)
    fn = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec([None, None, None, 2])])
    x = np.random.default_rng(1).normal(size=(2, 5, 7, 2)).astype("float32")
    want = np.pad(x, ((0, 0), (pad[0],) * 2, (pad[1],) * 2, (0, 0)), mode="reflect")
    np.testing.assert_array_equal(fn(tf.constant(x)).numpy(), want)
