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


def _layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_discriminator_options_keep_the_defaults():
    # conv 16*1*4 + 4, conv 16*4*8, bn 4*8, dense 128 + 1
    plain = nets.dcgan_discriminator((16, 16, 1), 4)
    same = nets.dcgan_discriminator((16, 16, 1), 4, spectral_norm=False, minibatch_stddev=False, pack=1)
    assert plain.count_params() == same.count_params() == 741
    assert not _layers_of(plain, keras.layers.SpectralNormalization)
    assert nets.keras_dcgan_discriminator(spectral_norm=False, pack=1).count_params() == 404_801


def test_spectral_norm_wraps_every_conv_and_the_logit_and_drops_batch_norm():
    discriminator = nets.dcgan_discriminator((16, 16, 1), 4, spectral_norm=True)
    wrapped = _layers_of(discriminator, keras.layers.SpectralNormalization)
    assert [type(w.layer).__name__ for w in wrapped] == ["Conv2D", "Conv2D", "Dense"]
    assert wrapped[-1].name == "logits"
    assert not _layers_of(discriminator, keras.layers.BatchNormalization)
    # Both convs get a bias once batch norm is gone; each wrapper adds its vector u.
    # conv 68 + u 4, conv 512 + 8 + u 8, dense 129 + u 1
    assert discriminator.count_params() == 730
    images = np.random.default_rng(0).normal(size=(4, 16, 16, 1)).astype("float32")

    def sigma():
        kernel = keras.ops.convert_to_numpy(wrapped[1].layer.kernel).reshape(-1, 8)
        return np.linalg.svd(kernel, compute_uv=False)[0]

    before = sigma()  # RandomNormal(0.02) on 64 x 8 weights: about 0.02 * (8 + sqrt(8))
    assert before < 0.5
    discriminator(images, training=False)
    assert sigma() == before  # inference leaves the kernel alone
    for _ in range(30):  # one power iteration per training call
        logits = discriminator(images, training=True)
    assert tuple(logits.shape) == (4, 1)
    np.testing.assert_allclose(sigma(), 1.0, rtol=0.02)


def test_minibatch_stddev_enters_before_the_last_conv_block():
    discriminator = nets.dcgan_discriminator((16, 16, 1), 4, minibatch_stddev=2)
    layer = discriminator.get_layer("minibatch_stddev")
    assert layer.group_size == 2
    assert tuple(layer.output.shape) == (None, 8, 8, 5)
    assert discriminator.count_params() == 741 + 16 * 8  # the extra input channel of the last conv
    assert tuple(discriminator(np.zeros((4, 16, 16, 1), "float32")).shape) == (4, 1)
    assert nets.dcgan_discriminator((16, 16, 1), 4, minibatch_stddev=True).get_layer("minibatch_stddev").group_size == 4


def test_pack_multiplies_the_input_channels():
    discriminator = nets.dcgan_discriminator((16, 16, 3), 4, pack=3)
    assert discriminator.input_shape == (None, 16, 16, 9)
    assert tuple(discriminator(np.zeros((2, 16, 16, 9), "float32")).shape) == (2, 1)
    keras_d = nets.keras_dcgan_discriminator((16, 16, 3), pack=2)
    assert keras_d.input_shape == (None, 16, 16, 6)


@pytest.mark.parametrize("conditioning", ["projection", "concat", "auxiliary"])
def test_options_compose_with_conditioning(conditioning):
    discriminator = nets.dcgan_discriminator(
        (16, 16, 1), 4, num_classes=3, conditioning=conditioning, spectral_norm=True, minibatch_stddev=2
    )
    images = np.random.default_rng(1).normal(size=(4, 16, 16, 1)).astype("float32")
    inputs = images if conditioning == "auxiliary" else [images, np.array([0, 1, 2, 0], "int32")]
    logits = discriminator(inputs, training=True)
    assert tuple(logits.shape) == (4, 4 if conditioning == "auxiliary" else 1)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    wrapped = [w.layer.name for w in _layers_of(discriminator, keras.layers.SpectralNormalization)]
    assert wrapped[-1] == ("psi_dense" if conditioning == "projection" else "logits_dense")
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    np.testing.assert_allclose(clone(inputs), discriminator(inputs), atol=1e-6)


def test_pack_with_conditioning_is_refused():
    with pytest.raises(ValueError, match="pack=2 needs num_classes=None"):
        nets.dcgan_discriminator((16, 16, 1), 4, num_classes=3, pack=2)


@pytest.mark.parametrize(
    "builder", [nets.dcgan_discriminator, nets.keras_dcgan_discriminator, nets.mlp_discriminator]
)
def test_discriminator_options_config_round_trip(builder):
    discriminator = builder(image_shape=(16, 16, 1), spectral_norm=True, minibatch_stddev=2, pack=2)
    clone = keras.Model.from_config(discriminator.get_config())
    clone.set_weights(discriminator.get_weights())
    images = np.random.default_rng(2).normal(size=(4, 16, 16, 2)).astype("float32")
    np.testing.assert_allclose(clone(images), discriminator(images), atol=1e-6)
    assert len(_layers_of(clone, keras.layers.SpectralNormalization)) == len(
        _layers_of(discriminator, keras.layers.SpectralNormalization)
    )


def test_spectral_norm_keeps_float32_weights_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    discriminator = nets.dcgan_discriminator((16, 16, 1), 4, spectral_norm=True, minibatch_stddev=2)
    images = np.random.default_rng(3).normal(size=(4, 16, 16, 1)).astype("float32")
    logits = discriminator(images, training=True)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    conv = _layers_of(discriminator, keras.layers.SpectralNormalization)[0].layer
    assert conv.compute_dtype == "bfloat16"
    kernel = keras.ops.convert_to_numpy(conv.kernel)
    as_bfloat16 = keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.cast(kernel, "bfloat16"), "float32"))
    assert not np.array_equal(kernel, as_bfloat16)  # the normalised kernel was not rounded


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"spectral_norm": 1}, "spectral_norm"),
        ({"minibatch_stddev": 0}, "minibatch_stddev"),
        ({"minibatch_stddev": "yes"}, "minibatch_stddev"),
        ({"pack": 0}, "pack"),
        ({"pack": 2.0}, "pack"),
    ],
)
def test_discriminator_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.dcgan_discriminator((16, 16, 1), 4, **kwargs)


@pytest.mark.parametrize("normalization,layer", [("batch", "BatchNormalization"), ("layer", "LayerNormalization"), (None, None)])
def test_discriminator_normalization_option(normalization, layer):
    net = nets.dcgan_discriminator((16, 16, 1), base_filters=4, normalization=normalization)
    kinds = {type(l).__name__ for l in net.layers}
    norms = {k for k in kinds if k in ("BatchNormalization", "LayerNormalization")}
    assert norms == ({layer} if layer else set())
    out = net(np.zeros((2, 16, 16, 1), "float32"))
    assert out.shape == (2, 1)
    with pytest.raises(ValueError, match="normalization"):
        nets.dcgan_discriminator((16, 16, 1), normalization="instance")
