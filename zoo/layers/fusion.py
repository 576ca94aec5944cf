"""The fusion layer of Deep Koalarization: a global image embedding joined to every position."""

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
