import keras
import numpy as np
import pytest

from zoo import layers, nets


def test_sgan_shapes_range_features_and_round_trip():
    generator = nets.sgan_generator(8, (8, 8, 1), hidden_units=(16,))
    discriminator = nets.sgan_discriminator((8, 8, 1), num_classes=3, hidden_units=(16, 8))
    images = keras.ops.convert_to_numpy(generator(np.random.normal(size=(4, 8)) * 100))
    assert images.shape == (4, 8, 8, 1)
    assert -1.0 <= images.min() and images.max() <= 1.0
    assert tuple(discriminator(images).shape) == (4, 3)
    assert discriminator.get_layer("features").output.shape == (None, 8)
    for net in (generator, discriminator):
        clone = keras.Model.from_config(net.get_config())
        clone.set_weights(net.get_weights())
        np.testing.assert_allclose(clone(images if net is discriminator else np.ones((2, 8))),
                                   net(images if net is discriminator else np.ones((2, 8))), atol=1e-6)


def test_noise_is_on_in_training_only():
    discriminator = nets.sgan_discriminator((8, 8, 1), num_classes=3, hidden_units=(16,))
    x = np.zeros((2, 8, 8, 1), "float32")
    np.testing.assert_array_equal(discriminator(x), discriminator(x))
    assert not np.array_equal(discriminator(x, training=True), discriminator(x, training=True))


def test_sgan_parameter_counts():
    # G: 100*500 + bn 3*500 + 500*500 + bn 3*500 + 500*784 + 2*784 (scale, bias)
    assert nets.sgan_generator().count_params() == 696_568
    # D: weight-normed 784-1000-500-250-250-250-10, each with a scale and a bias
    assert nets.sgan_discriminator().count_params() == 1_541_020
    plain = nets.sgan_discriminator(weight_norm=False)
    assert not any(isinstance(layer, layers.WeightNormDense) for layer in plain.layers)
    assert plain.count_params() == 1_541_020 - (1000 + 500 + 250 * 3 + 10)


def test_only_the_output_layer_learns_its_weight_norm_scale():
    discriminator = nets.sgan_discriminator((8, 8, 1), num_classes=3, hidden_units=(16, 8))
    scales = {v.path: v.trainable for v in discriminator.weights if v.path.endswith("scale")}
    assert scales.pop("logits/scale") is True
    assert scales and not any(scales.values())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"hidden_units": ()}, "hidden_units"),
        ({"num_classes": 0}, "num_classes"),
        ({"input_noise": -0.1}, "input_noise"),
        ({"hidden_noise": "a"}, "hidden_noise"),
        ({"weight_norm": 1}, "weight_norm"),
        ({"image_shape": (8, 8)}, "image_shape"),
    ],
)
def test_sgan_discriminator_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.sgan_discriminator(**kwargs)


def test_generator_output_is_the_reference_sigmoid_mapped_to_minus_one_one():
    generator = nets.sgan_generator(8, (8, 8, 1), hidden_units=(16,))
    z = np.random.default_rng(0).uniform(size=(4, 8)).astype("float32")
    hidden = keras.Model(generator.input, generator.layers[-3].input)(z)  # before the output layer
    output_layer = generator.layers[-3]
    assert output_layer.activation is keras.activations.sigmoid
    pixels = keras.ops.convert_to_numpy(output_layer(hidden)).reshape(4, 8, 8, 1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(generator(z)), 2 * pixels - 1, atol=1e-6)
