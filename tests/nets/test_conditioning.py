"""Conditional nets: how the label enters the generator and the discriminator."""

import keras
import numpy as np
import pytest

from zoo import nets

SHAPE = (16, 16, 1)
CLASSES = 5


def inputs(n=3):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (n, *SHAPE)).astype("float32"), np.arange(n, dtype="int32") % CLASSES


@pytest.mark.parametrize("label_dim", [None, 4])
def test_conditional_generator_takes_noise_and_labels(label_dim):
    generator = nets.dcgan_generator(8, SHAPE, base_filters=4, num_classes=CLASSES, label_dim=label_dim)
    assert generator.input_shape == [(None, 8), (None,)]
    z = np.zeros((2, 8), "float32")
    a = keras.ops.convert_to_numpy(generator([z, np.array([0, 0])]))
    b = keras.ops.convert_to_numpy(generator([z, np.array([0, 1])]))
    assert a.shape == (2, *SHAPE)
    # Same noise: only the label changes the image.
    np.testing.assert_allclose(a[0], b[0])
    assert not np.allclose(a[1], b[1])


def test_one_hot_generator_adds_exactly_the_label_weights():
    plain = nets.dcgan_generator(8, SHAPE, base_filters=4)
    conditional = nets.dcgan_generator(8, SHAPE, base_filters=4, num_classes=CLASSES)
    dense_units = 4 * 4 * 4  # 16 px: 4x4 start, filters base * 2^(steps-1) = 4 * 2
    assert conditional.count_params() - plain.count_params() == CLASSES * dense_units * 2


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_label_input_discriminators_depend_on_the_label(conditioning):
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning=conditioning)
    assert discriminator.input_shape == [(None, *SHAPE), (None,)]
    images, labels = inputs()
    a = keras.ops.convert_to_numpy(discriminator([images, labels]))
    b = keras.ops.convert_to_numpy(discriminator([images, (labels + 1) % CLASSES]))
    assert a.shape == (3, 1) and not np.allclose(a, b)


def test_projection_adds_an_embedding_per_class_of_the_feature_size():
    plain = nets.dcgan_discriminator(SHAPE, 4)
    projection = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES)
    features = 4 * 4 * 8  # two stride-2 convs: 4x4 maps with 8 filters
    assert projection.count_params() - plain.count_params() == CLASSES * features


def test_concat_adds_one_hot_label_planes():
    plain = nets.dcgan_discriminator(SHAPE, 4)
    concat = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning="concat")
    # The first conv (4x4 kernel, 4 filters) sees CLASSES more input channels.
    assert concat.count_params() - plain.count_params() == 4 * 4 * CLASSES * 4
    maps = concat.get_layer("label_maps").output.shape
    assert tuple(maps[1:]) == (16, 16, CLASSES)


def test_auxiliary_discriminator_outputs_one_plus_class_logits():
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning="auxiliary")
    images, _ = inputs()
    assert len(discriminator.inputs) == 1
    assert tuple(discriminator(images).shape) == (3, 1 + CLASSES)
    assert discriminator.output.dtype == "float32"


@pytest.mark.parametrize("conditioning", ["projection", "concat", "auxiliary"])
def test_conditional_nets_round_trip_their_config(conditioning):
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning=conditioning)
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    images, labels = inputs()
    x = images if conditioning == "auxiliary" else [images, labels]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(x)), keras.ops.convert_to_numpy(discriminator(x)), rtol=1e-5)


def test_logits_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES)
    assert discriminator.output.dtype == "float32"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 3, "conditioning": "film"}, "conditioning"),
    ],
)
def test_bad_conditioning_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.dcgan_discriminator(SHAPE, 4, **kwargs)


def test_label_dim_without_classes_is_refused():
    with pytest.raises(ValueError, match="label_dim"):
        nets.dcgan_generator(8, SHAPE, 4, label_dim=3)


def test_projection_logit_is_psi_plus_the_label_embedding_dot_features():
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES)
    images, labels = inputs()
    features = keras.Model(discriminator.inputs, discriminator.get_layer("psi").input)([images, labels])
    features = keras.ops.convert_to_numpy(features)
    psi = discriminator.get_layer("psi")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in psi.weights)
    embeddings = keras.ops.convert_to_numpy(discriminator.get_layer("label_projection").embeddings)
    expected = features @ kernel + bias + np.sum(embeddings[labels] * features, axis=1, keepdims=True)
    actual = keras.ops.convert_to_numpy(discriminator([images, labels]))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_projection_head_computes_in_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES)
    for name in ("psi", "label_projection", "projection", "logits"):
        assert discriminator.get_layer(name).compute_dtype == "float32", name
