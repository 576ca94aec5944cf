import keras
import numpy as np
import pytest

from zoo import nets


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3)])
def test_dcgan_shapes_and_range(size, channels):
    generator = nets.dcgan_generator(8, (size, size, channels), base_filters=4)
    discriminator = nets.dcgan_discriminator((size, size, channels), base_filters=4)
    z = np.random.default_rng(0).normal(size=(3, 8)).astype("float32") * 50
    images = keras.ops.convert_to_numpy(generator(z))
    assert images.shape == (3, size, size, channels)
    assert images.min() >= -1.0 and images.max() <= 1.0
    logits = discriminator(images)
    assert tuple(logits.shape) == (3, 1)


def test_dcgan_64_follows_the_paper_layout():
    # 4x4x512 projection, then 256, 128, 64 filters, then the image (Radford et al. fig. 1).
    generator = nets.dcgan_generator(100, (64, 64, 3))
    shapes = [tuple(l.output.shape[1:]) for l in generator.layers if "conv2d_transpose" in l.name]
    assert shapes == [(8, 8, 256), (16, 16, 128), (32, 32, 64), (64, 64, 3)]
    # dense 100*8192 + bn 2048 + convT 2,097,152 + 1024 + 524,288 + 512 + 131,072 + 256 + 3,075
    assert generator.count_params() == 3_578_627


def test_dcgan_discriminator_parameter_count():
    # conv 3,136 + 131,072 + bn 512 + 524,288 + 1,024 + 2,097,152 + 2,048 + dense 8,193
    assert nets.dcgan_discriminator((64, 64, 3)).count_params() == 2_767_425


def test_keras_dcgan_matches_the_lecture_example():
    generator = nets.keras_dcgan_generator()
    discriminator = nets.keras_dcgan_discriminator()
    assert generator.input_shape == (None, 128)
    assert generator.output_shape == (None, 64, 64, 3)
    # The totals printed by the keras.io CelebA DCGAN example's summaries.
    assert generator.count_params() == 3_979_651
    assert discriminator.count_params() == 404_801


@pytest.mark.parametrize(
    "builder", [nets.dcgan_generator, nets.keras_dcgan_generator, nets.mlp_generator]
)
def test_generator_config_round_trip(builder):
    generator = builder(latent_dim=8, image_shape=(32, 32, 1))
    clone = keras.Model.from_config(generator.get_config())
    clone.set_weights(generator.get_weights())
    z = np.ones((2, 8), "float32")
    np.testing.assert_allclose(clone(z), generator(z), atol=1e-6)


def test_outputs_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    generator = nets.dcgan_generator(8, (32, 32, 1), base_filters=4)
    discriminator = nets.dcgan_discriminator((32, 32, 1), base_filters=4)
    images = generator(np.ones((2, 8), "float32"))
    assert keras.backend.standardize_dtype(images.dtype) == "float32"
    assert keras.backend.standardize_dtype(discriminator(images).dtype) == "float32"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"image_shape": (30, 30, 1)}, "power of two"),
        ({"image_shape": (32, 16, 1)}, "square"),
        ({"image_shape": (32, 32)}, "image_shape"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"base_filters": -1}, "base_filters"),
    ],
)
def test_dcgan_generator_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.dcgan_generator(**kwargs)
