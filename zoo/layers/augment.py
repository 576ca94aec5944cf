"""Differentiable augmentations for the images a discriminator sees."""

import keras
from keras import ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class RandomShift(keras.layers.Layer):
    """Moves each image of a batch by its own random whole-pixel offset, every call.

    A wrapper of `zoo.data.random_shift` (pad, then gather) as a layer, so a
    model can keep it in its config. The shift is a gather, so gradients flow
    through it to the images: applied to real *and* generated images inside a
    training step, it is the translation of DiffAugment (Zhao et al. 2020), and
    the generator is trained through it. Unlike a Keras preprocessing layer it
    shifts whenever it is called, training or not: the model decides where.

    Args:
        max_shift: int >= 1, largest offset in pixels along each axis.
        fill_value: float, the value of pixels moved in from outside. Default -1
            (the background of images in [-1, 1]).

    Reference: Zhao et al., "Differentiable Augmentation for Data-Efficient GAN
    Training", NeurIPS 2020 (translation).
    """

    def __init__(self, max_shift, fill_value=-1.0, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(max_shift, "max_shift")
        self.max_shift = max_shift
        self.fill_value = float(fill_value)
        if keras.backend.backend() != "tensorflow":
            # Traced steps (JAX) need seeded draws; the state is a layer variable
            # (not saved with the weights) that the model threads through its step.
            self.seed_generator = keras.random.SeedGenerator()

    def call(self, images):
        if keras.backend.backend() == "tensorflow":
            from zoo.data.pipeline import random_shift  # the tf.data helper, same draws as before

            return random_shift(images, self.max_shift, fill_value=self.fill_value)
        return self._shift(images)

    def _shift(self, images):
        """`random_shift` in `keras.ops`: pad, then pick rows and columns by a gather per image."""
        x = ops.cast(images, "float32")
        m = self.max_shift
        n, height, width, channels = ops.shape(x)
        offsets = keras.random.randint((n, 2), 0, 2 * m + 1, dtype="int32", seed=self.seed_generator)
        padded = ops.pad(x, [[0, 0], [m, m], [m, m], [0, 0]], constant_values=self.fill_value)
        rows = offsets[:, :1] + ops.arange(height, dtype="int32")[None, :]  # (n, height)
        cols = offsets[:, 1:] + ops.arange(width, dtype="int32")[None, :]  # (n, width)
        rows = ops.broadcast_to(rows[:, :, None, None], (n, height, width + 2 * m, channels))
        x = ops.take_along_axis(padded, rows, axis=1)
        cols = ops.broadcast_to(cols[:, None, :, None], (n, height, width, channels))
        return ops.take_along_axis(x, cols, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_shift": self.max_shift, "fill_value": self.fill_value})
        return config
