"""Encoder and decoder builders of the autoencoder family."""

import keras
import numpy as np
import pytest

from zoo import nets


@pytest.mark.parametrize("variational", [True, False])
def test_conv_encoder_outputs_the_code(variational):
    encoder = nets.conv_encoder((16, 16, 3), latent_dim=5, filters=(4, 8), hidden_units=16, variational=variational)
    outputs = encoder(np.zeros((2, 16, 16, 3), "float32"))
    if variational:
        assert [tuple(o.shape) for o in outputs] == [(2, 5), (2, 5)]
        assert [o.dtype for o in outputs] == ["float32", "float32"]
    else:
        assert tuple(outputs.shape) == (2, 5)


def test_conv_decoder_gives_logits_of_the_image_shape():
    decoder = nets.conv_decoder(5, (16, 12, 3), filters=(8, 4))
    logits = decoder(np.zeros((2, 5), "float32"))
    assert tuple(logits.shape) == (2, 16, 12, 3) and logits.dtype == "float32"
    with pytest.raises(ValueError, match="divisible by 2 \\*\\* len\\(filters\\) = 4"):
        nets.conv_decoder(5, (14, 14, 1), filters=(8, 4))


def test_subpixel_decoder_computes_nothing_at_full_resolution():
    decoder = nets.conv_decoder(5, (16, 12, 3), filters=(8, 6), upsampling="subpixel")
    logits = decoder(np.zeros((2, 5), "float32"))
    assert tuple(logits.shape) == (2, 16, 12, 3) and logits.dtype == "float32"
    # Dense to 4x3x8, one transposed convolution to 8x6x8, then 8x6 maps only: 6 and 4 * 3 channels.
    shapes = [tuple(layer.output.shape[1:]) for layer in decoder.layers[3:]]
    assert shapes == [(8, 6, 8), (8, 6, 6), (8, 6, 12), (16, 12, 3)]
    transpose = nets.conv_decoder(5, (16, 12, 3), filters=(8, 6))
    assert decoder.count_params() != transpose.count_params()
    with pytest.raises(ValueError, match='upsampling must be "transpose" or "subpixel"'):
        nets.conv_decoder(5, (16, 12, 3), upsampling="nearest")


def test_mlp_nets_are_burda_et_al_sizes():
    encoder, decoder = nets.mlp_encoder(), nets.mlp_decoder()
    # 784-200-200-(50, 50) and 50-200-200-784, with biases.
    assert encoder.count_params() == 784 * 200 + 200 + 200 * 200 + 200 + 2 * (200 * 50 + 50)
    assert decoder.count_params() == 50 * 200 + 200 + 200 * 200 + 200 + 200 * 784 + 784
    assert tuple(decoder(np.zeros((3, 50), "float32")).shape) == (3, 28, 28, 1)


def test_conditional_nets_take_int_labels():
    encoder = nets.conv_encoder((16, 16, 1), 3, filters=(4,), hidden_units=8, num_classes=4)
    decoder = nets.mlp_decoder(3, (16, 16, 1), hidden_units=(8,), num_classes=4)
    z_mean, _ = encoder([np.zeros((2, 16, 16, 1), "float32"), np.array([0, 3])])
    assert tuple(decoder([np.asarray(z_mean), np.array([1, 2])]).shape) == (2, 16, 16, 1)
    assert [i.name for i in decoder.inputs] == ["code", "labels"]


def test_config_round_trip_rebuilds_the_same_architecture():
    encoder = nets.conv_encoder((16, 16, 1), 3, filters=(4,), hidden_units=8)
    clone = keras.Model.from_config(encoder.get_config())
    assert clone.count_params() == encoder.count_params()


@pytest.mark.parametrize(
    "builder, kwargs, match",
    [
        (nets.conv_encoder, {"latent_dim": 0}, "latent_dim must be a positive int"),
        (nets.conv_encoder, {"filters": ()}, "filters must be a non-empty sequence"),
        (nets.conv_encoder, {"variational": "yes"}, "variational must be True or False"),
        (nets.mlp_decoder, {"hidden_units": (0,)}, "hidden_units must be a non-empty sequence"),
        (nets.mlp_encoder, {"num_classes": 1}, "num_classes must be an int >= 2 or None"),
    ],
)
def test_bad_arguments_are_named(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
