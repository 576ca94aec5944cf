"""In-memory loaders on JAX resize as the tf.data loaders do (the JAX pass).

`zoo.data.in_memory` resizes with `keras.ops` on the backend in use; here JAX's
antialiased bilinear resize is compared with TensorFlow's in `zoo.data.load`.
Training from in-memory data without TensorFlow is tested by tests/backends/test_jax_cli.py.
"""

import keras
import numpy as np

import zoo

assert keras.backend.backend() == "jax"


def test_in_memory_digits_on_jax_equal_the_tf_data_loader():
    in_memory = zoo.data.in_memory("digits", batch_size=100, shuffle=False, image_size=28)
    expected = next(iter(zoo.data.load("digits", batch_size=100, shuffle=False, image_size=28))).numpy()
    np.testing.assert_allclose(np.asarray(in_memory[0]), expected, atol=1e-5)
