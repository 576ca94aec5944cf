"""pix2pix's U-Net and PatchGAN, CycleGAN's ResNet generator and the encoder-decoder colouriser."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets


def zeros(size, channels=3, batch=1):
    return np.zeros((batch, size, size, channels), "float32")


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def test_unet_runs_convolutionally_on_any_multiple_of_its_stride():
    g = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4)
    assert nets.net_stride(g) == 8
    for size in (16, 24, 40):
        out = g(zeros(size, 1))
        assert tuple(out.shape) == (1, size, size, 2) and out.dtype == "float32"
    out = keras.ops.convert_to_numpy(g(np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")))
    assert np.all(np.abs(out) <= 1.0)


def test_unet_skip_connections_reach_the_output():
    # A skip connection from the first encoder layer gives the output a direct path to
    # the input, so changing one input pixel changes output pixels next to it.
    g = nets.unet_generator(num_downsamples=3, base_filters=4, dropout=0.0)
    x = tf.Variable(np.random.default_rng(1).normal(size=(1, 16, 16, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        y = g(x, training=False)[0, 8, 8, 0]
    grad = tape.gradient(y, x).numpy()
    assert np.abs(grad[0, 7:10, 7:10]).sum() > 0
    assert [layer.name for layer in g.layers if "skip" in layer.name] == ["up1_skip", "up0_skip"]


def test_unet_256_has_the_reference_size():
    # pytorch-CycleGAN-and-pix2pix prints 54.414 M parameters for unet_256 (ngf 64,
    # batch norm). Here the first and the innermost convolution, which no
    # normalisation follows, also keep their biases (576 more).
    g = nets.unet_generator()
    assert round(trainable_count(g) / 1e6, 3) == 54.415
    assert nets.net_stride(g) == 256


def test_patchgan_is_70x70_and_gives_30x30_logits_at_256():
    d = nets.patch_discriminator(source_channels=3)
    assert tuple(d([zeros(256), zeros(256)]).shape) == (1, 30, 30, 1)
    # The reference's basic discriminator on 6 input channels: 2.769 M parameters.
    assert round(trainable_count(d) / 1e6, 3) == 2.769


def test_patchgan_receptive_field_is_70_pixels():
    d = nets.patch_discriminator(base_filters=4, norm=None)
    x = tf.Variable(np.random.default_rng(2).normal(size=(1, 128, 128, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        logits = d(x)
        centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
    seen = np.abs(tape.gradient(centre, x).numpy()[0]).sum(axis=-1) > 0
    rows, cols = np.nonzero(seen)
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_conditional_patchgan_takes_source_and_image():
    d = nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=4, num_layers=2)
    assert [tuple(i.shape[1:]) for i in d.inputs] == [(None, None, 1), (None, None, 2)]
    assert tuple(d([zeros(32, 1), zeros(32, 2)]).shape) == (1, 6, 6, 1)  # 32 -> 16 -> 8 -> 7 -> 6


def test_resnet_generator_sizes_and_reference_parameter_count():
    g = nets.resnet_generator(num_blocks=2, base_filters=4, image_size=None)
    assert nets.net_stride(g) == 4
    assert tuple(g(zeros(20)).shape) == (1, 20, 20, 3)
    # The reference's resnet_9blocks (ngf 64) has 11.378 M parameters, with a bias
    # per normalised convolution; instance norm here has gamma and beta instead
    # (1 more per normalised channel: 64 + 128 + 256 + 18 * 256 + 128 + 64 = 5,248).
    assert round((trainable_count(nets.resnet_generator()) - 5_248) / 1e6, 3) == 11.378


def test_resnet_generator_uses_instance_normalisation_and_reflection():
    g = nets.resnet_generator(num_blocks=1, base_filters=4)
    norms = [layer for layer in g.layers if isinstance(layer, keras.layers.GroupNormalization)]
    assert norms and all(layer.groups == layer.input.shape[-1] for layer in norms)  # one per channel
    assert any(type(layer).__name__ == "ReflectionPadding2D" for layer in g.layers)


def test_colourisation_net_maps_l_to_ab_at_the_input_size():
    c = nets.colourisation_net(base_filters=4)
    out = c(np.random.default_rng(3).uniform(-1, 1, (2, 24, 32, 1)).astype("float32"))
    assert tuple(out.shape) == (2, 24, 32, 2) and np.all(np.abs(out) <= 1)


def test_colourisation_fusion_uses_a_frozen_extractor():
    inputs = keras.Input((16, 16, 3))
    vector = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(inputs))
    extractor = keras.Model(inputs, vector)
    c = nets.colourisation_net(base_filters=4, fusion_extractor=extractor)
    assert "fusion" in [layer.name for layer in c.layers]
    assert not extractor.trainable
    assert len(c.trainable_weights) == len(nets.colourisation_net(base_filters=4).trainable_weights) + 2
    assert tuple(c(zeros(32, 1)).shape) == (1, 32, 32, 2)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: nets.unet_generator(num_downsamples=1), "num_downsamples"),
        (lambda: nets.unet_generator(norm="layer"), "norm"),
        (lambda: nets.unet_generator(num_downsamples=3, image_size=20), "divisible by 8"),
        (lambda: nets.unet_generator(dropout=1.0), "dropout"),
        (lambda: nets.patch_discriminator(num_layers=0), "num_layers"),
        (lambda: nets.resnet_generator(num_blocks=0), "num_blocks"),
        (lambda: nets.colourisation_net(fusion_extractor="inception"), "fusion_extractor"),
    ],
)
def test_bad_arguments_name_the_problem(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: nets.unet_generator(num_downsamples=3, base_filters=4),
        lambda: nets.patch_discriminator(source_channels=1, base_filters=4),
        lambda: nets.resnet_generator(num_blocks=1, base_filters=4),
        lambda: nets.colourisation_net(base_filters=4),
    ],
)
def test_nets_survive_a_save_and_load(build, tmp_path):
    net = build()
    path = tmp_path / "net.keras"
    net.save(path)
    again = keras.saving.load_model(path)
    inputs = [zeros(64, i.shape[-1]) for i in net.inputs]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    np.testing.assert_allclose(net(inputs), again(inputs), atol=1e-6)
    assert nets.net_stride(again) == nets.net_stride(net)


def test_unet_dropout_at_inference_makes_predictions_vary():
    x = np.random.default_rng(4).normal(size=(1, 16, 16, 3)).astype("float32")
    noisy = nets.unet_generator(num_downsamples=3, base_filters=4, dropout_at_inference=True)
    first, second = (noisy.predict(x, verbose=0) for _ in range(2))
    assert not np.allclose(first, second)
    plain = nets.unet_generator(num_downsamples=3, base_filters=4)
    np.testing.assert_array_equal(plain.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_inception_resnet_fusion_falls_back_with_a_reason_when_weights_are_missing(monkeypatch):
    def offline(weights):
        raise Exception(f"URL fetch failure for {weights}: no network")

    monkeypatch.setattr(keras.applications, "InceptionResNetV2", offline)
    extractor, message = nets.inception_resnet_fusion("auto")
    assert extractor is None
    assert message.startswith("fusion off") and "URL fetch failure for imagenet" in message
    assert nets.inception_resnet_fusion("off") == (None, "fusion off (--fusion off)")
