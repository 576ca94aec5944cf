import keras
import numpy as np
import pytest

from zoo import nets


def test_mlp_shapes_range_and_round_trip():
    generator = nets.mlp_generator(8, (28, 28, 1), hidden_units=(16, 32))
    discriminator = nets.mlp_discriminator((28, 28, 1), hidden_units=(32, 16))
    images = keras.ops.convert_to_numpy(generator(np.random.normal(size=(4, 8)) * 100))
    assert images.shape == (4, 28, 28, 1)
    assert -1.0 <= images.min() and images.max() <= 1.0
    assert tuple(discriminator(images).shape) == (4, 1)
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(images), discriminator(images), atol=1e-6)


def test_mlp_parameter_count():
    # 100*256+256 + bn 4*256 + 256*512+512 + 4*512 + 512*1024+1024 + 4*1024 + 1024*784+784
    assert nets.mlp_generator().count_params() == 1_493_520


@pytest.mark.parametrize("units", [(), (0,), ("a",)])
def test_mlp_rejects_bad_hidden_units(units):
    with pytest.raises(ValueError, match="hidden_units"):
        nets.mlp_generator(hidden_units=units)


def test_mlp_discriminator_parameter_count_and_options():
    # dense 16*8 + 8, logit 8 + 1
    assert nets.mlp_discriminator((4, 4, 1), (8,)).count_params() == 145
    assert nets.mlp_discriminator((4, 4, 1), (8,), spectral_norm=False, pack=1).count_params() == 145
    # + vector u of each wrapper (8 and 1)
    spectral = nets.mlp_discriminator((4, 4, 1), (8,), spectral_norm=True)
    assert spectral.count_params() == 154
    wrapped = [l for l in spectral.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert [w.layer.name for w in wrapped][-1] == "logits_dense" and len(wrapped) == 2
    # The statistic is one more input of the logit.
    stddev = nets.mlp_discriminator((4, 4, 1), (8,), minibatch_stddev=2)
    assert stddev.count_params() == 146
    assert tuple(stddev.get_layer("minibatch_stddev").output.shape) == (None, 9)
    packed = nets.mlp_discriminator((4, 4, 1), (8,), pack=2)
    assert packed.input_shape == (None, 4, 4, 2) and packed.count_params() == 32 * 8 + 8 + 9


def test_mlp_discriminator_options_shapes_and_round_trip():
    discriminator = nets.mlp_discriminator(
        (8, 8, 1), hidden_units=(16, 8), spectral_norm=True, minibatch_stddev=True, pack=2
    )
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 2)).astype("float32")
    assert tuple(discriminator(images, training=True).shape) == (4, 1)
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(images), discriminator(images), atol=1e-6)
    with pytest.raises(ValueError, match="pack"):
        nets.mlp_discriminator(pack=-1)
