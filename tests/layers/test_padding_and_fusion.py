import keras
import numpy as np
import pytest

from zoo.layers import GlobalFusion, ReflectionPadding2D


def test_reflection_padding_matches_numpy_reflect():
    x = np.arange(2 * 4 * 5 * 3, dtype="float32").reshape(2, 4, 5, 3)
    out = keras.ops.convert_to_numpy(ReflectionPadding2D((2, 3))(x))
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (2, 2), (3, 3), (0, 0)), mode="reflect"))


def test_reflection_padding_leaves_unknown_sizes_open_and_round_trips():
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, ReflectionPadding2D(1)(inputs))
    assert model(np.zeros((1, 6, 7, 2), "float32")).shape == (1, 8, 9, 2)
    again = ReflectionPadding2D.from_config(ReflectionPadding2D(3).get_config())
    assert again.padding == (3, 3)


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), 1.5, True])
def test_reflection_padding_rejects_bad_padding(padding):
    with pytest.raises(ValueError, match="padding"):
        ReflectionPadding2D(padding)


def test_reflection_padding_needs_a_larger_image():
    with pytest.raises(ValueError, match="height above 3"):
        ReflectionPadding2D(3)(np.zeros((1, 3, 8, 1), "float32"))


def test_global_fusion_joins_the_vector_to_every_position():
    features = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
    embedding = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    out = keras.ops.convert_to_numpy(GlobalFusion()([features, embedding]))
    assert out.shape == (2, 3, 4, 7)
    np.testing.assert_array_equal(out[..., :5], features)
    np.testing.assert_array_equal(out[1, 2, 3, 5:], [3.0, 4.0])
    np.testing.assert_array_equal(out[0, :, :, 5], np.ones((3, 4)))


def test_global_fusion_rejects_a_map_as_embedding():
    with pytest.raises(ValueError, match="embedding"):
        GlobalFusion()([np.zeros((1, 2, 2, 3), "float32"), np.zeros((1, 2, 2, 3), "float32")])


def test_noise_dropout_drops_at_inference_and_keeps_the_mean():
    from zoo.layers import NoiseDropout

    layer = NoiseDropout(0.5, seed=1)
    out = keras.ops.convert_to_numpy(layer(np.ones((1, 64, 64, 8), "float32"), training=False))
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.05
    assert NoiseDropout.from_config(layer.get_config()).rate == 0.5
    with pytest.raises(ValueError, match="rate"):
        NoiseDropout(1.0)
