"""How a class label enters a generator or a discriminator.

Shared by every conditional net builder (`num_classes=None` keeps a net
unconditional). The label is always an int input named `labels` of shape
`(batch,)`, so exports and `ConditionalGAN` treat every net alike.

- Generator: the label joins the noise, one-hot or as a learned embedding
  (Mirza & Osindero 2014).
- Discriminator, three ways users pick between:
  "concat": one-hot label maps joined to the image channels (Mirza &
  Osindero 2014; the keras.io conditional GAN);
  "projection": logit = psi(h) + <embed(y), h> on the features h
  (Miyato & Koyama 2018);
  "auxiliary": no label input; `1 + num_classes` logits, real/fake then the
  class, trained with an extra classification loss (AC-GAN, Odena et al. 2017).
"""

import keras
from keras import layers

from zoo import checks

CONDITIONINGS = ("projection", "concat", "auxiliary")


def check_conditioning(num_classes, conditioning):
    if checks.integer(num_classes, "num_classes", at_least=2, none=True) is not None:
        checks.choice(conditioning, "conditioning", CONDITIONINGS)


def label_input():
    return keras.Input((), dtype="int32", name="labels")


def condition_on_labels(noise, num_classes, label_dim=None):
    """Joins int labels to the noise input of a generator.

    Args:
        noise: the generator's noise `keras.Input`.
        num_classes: int or None (None: unconditional, returns `noise` as is).
        label_dim: None for a one-hot label, an int for a learned embedding.

    Returns:
        `(inputs, x)`: the model inputs (`noise` or `[noise, labels]`) and the
        tensor to build on.
    """
    if num_classes is None:
        if label_dim is not None:
            raise ValueError("label_dim needs num_classes")
        return noise, noise
    check_conditioning(num_classes, "concat")
    labels = label_input()
    if label_dim is None:
        code = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(labels)
    else:
        checks.positive_int(label_dim, "label_dim")
        code = layers.Embedding(num_classes, label_dim, name="label_embedding")(labels)
    return [noise, labels], layers.Concatenate(name="noise_and_label")([noise, code])


def concat_label_maps(images, labels, num_classes):
    """Images with `num_classes` one-hot label planes appended as channels."""
    height, width = images.shape[1], images.shape[2]
    maps = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(labels)
    maps = layers.Reshape((1, 1, num_classes))(maps)
    maps = layers.UpSampling2D((height, width), name="label_maps")(maps)
    return layers.Concatenate(name="image_and_label")([images, maps])


def conditional_logits(features, inputs, num_classes, conditioning, kernel_initializer="glorot_uniform",
                       spectral_norm=False):
    """The discriminator's head on flat `features`.

    With `spectral_norm`, its dense layers are spectrally normalised (Miyato et al. 2018);
    the projection's label embedding stays unnormalised (Keras' wrapper casts its output to
    the dtype of its int input).

    Returns float32 logits: `(batch, 1)`, or `(batch, 1 + num_classes)` for
    "auxiliary".
    """

    def dense(units, name):
        # float32 head: the projection's inner product sums thousands of terms, too many
        # for bfloat16/float16 under a mixed-precision policy.
        if not spectral_norm:
            return layers.Dense(units, dtype="float32", kernel_initializer=kernel_initializer, name=name)
        inner = layers.Dense(units, dtype="float32", kernel_initializer=kernel_initializer, name=f"{name}_dense")
        return layers.SpectralNormalization(inner, dtype="float32", name=name)

    if num_classes is None or conditioning != "projection":
        return dense(1 + num_classes if num_classes is not None and conditioning == "auxiliary" else 1, "logits")(features)
    unconditional = dense(1, "psi")(features)
    embedded = layers.Embedding(
        num_classes,
        features.shape[-1],
        embeddings_initializer=kernel_initializer,
        dtype="float32",
        name="label_projection",
    )(inputs[1])
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    return layers.Add(dtype="float32", name="logits")([unconditional, projection])
