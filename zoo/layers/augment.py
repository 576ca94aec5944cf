"""Differentiable augmentations for the images a discriminator sees."""

import keras

from zoo.data.pipeline import random_shift


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
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 1:
            raise ValueError(f"max_shift must be an int >= 1 (pixels), got {max_shift!r}")
        self.max_shift = max_shift
        self.fill_value = float(fill_value)

    def call(self, images):
        return random_shift(images, self.max_shift, fill_value=self.fill_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_shift": self.max_shift, "fill_value": self.fill_value})
        return config
