"""Layers of the image-to-image nets: Deep Koalarization's global fusion, pix2pix's test-time dropout."""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class GlobalFusion(layers.Layer):
    """Concatenates a vector to every spatial position of a feature map.

    Called on `[features (batch, h, w, c), embedding (batch, d)]`, returns
    `(batch, h, w, c + d)`: each position's local features beside the
    embedding of the whole image, which lets a colouriser use the scene's
    class ("a beach", "a forest") when it picks colours.

    Example:
        >>> GlobalFusion()([keras.ops.zeros((2, 4, 4, 8)), keras.ops.ones((2, 3))]).shape
        TensorShape([2, 4, 4, 11])

    Reference: Baldassarre, Gonzalez Morin & Rodes-Guirao, "Deep Koalarization:
    Image Colorization using CNNs and Inception-ResNet-v2", 2017; Iizuka et al.,
    "Let there be Color!", SIGGRAPH 2016.
    """

    def compute_output_shape(self, input_shapes):
        features, embedding = input_shapes
        return (*features[:-1], features[-1] + embedding[-1])

    def build(self, input_shapes):
        features, embedding = input_shapes
        if len(features) != 4 or len(embedding) != 2:
            raise ValueError(
                "GlobalFusion takes [features (batch, h, w, c), embedding (batch, d)], "
                f"got shapes {tuple(features)} and {tuple(embedding)}"
            )

    def call(self, inputs):
        features, embedding = inputs
        embedding = ops.cast(embedding, features.dtype)
        shape = ops.shape(features)
        tiled = ops.broadcast_to(embedding[:, None, None, :], (shape[0], shape[1], shape[2], embedding.shape[-1]))
        return ops.concatenate([features, tiled], axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class NoiseDropout(layers.Layer):
    """Dropout that stays on at inference: pix2pix's source of noise.

    pix2pix's generator has no noise input (the net learned to ignore it);
    its only stochasticity is dropout, "applied at both training and test
    time" (Isola et al. 2017, section 3.1). This layer drops with rate `rate`
    whatever the `training` flag, so `predict` and a SavedModel give varied
    outputs for one input.

    Args:
        rate: float in (0, 1), the fraction dropped.
        seed: int or None.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be a float in (0, 1), got {rate!r}")
        self.rate, self.seed = float(rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
