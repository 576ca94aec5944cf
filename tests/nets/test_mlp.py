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
