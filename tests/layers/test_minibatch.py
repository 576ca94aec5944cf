import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import MinibatchDiscrimination, MinibatchStdDev


def appended(outputs, count=1):
    return keras.ops.convert_to_numpy(outputs)[..., -count:]


def test_identical_images_have_zero_deviation():
    image = np.random.default_rng(0).normal(size=(1, 3, 3, 2)).astype("float32")
    outputs = MinibatchStdDev(group_size=2, epsilon=1e-8)(np.concatenate([image, image]))
    assert tuple(outputs.shape) == (2, 3, 3, 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs)[..., :2], np.concatenate([image, image]))
    np.testing.assert_allclose(appended(outputs), 1e-4, rtol=1e-5)  # sqrt(0 + epsilon)


def test_known_batch_gives_the_known_deviation():
    # Two images, 0 and 2 everywhere: every feature's std over the group is 1.
    x = np.stack([np.zeros((2, 2, 2)), np.full((2, 2, 2), 2.0)]).astype("float32")
    np.testing.assert_allclose(appended(MinibatchStdDev(group_size=2)(x)), 1.0, rtol=1e-6)
    # Channel 0 differs by 2 (std 1), channel 1 by 6 (std 3): averaged, 2.
    x[1, ..., 1] = 6.0
    np.testing.assert_allclose(appended(MinibatchStdDev(group_size=2)(x)), 2.0, rtol=1e-6)
    # num_features=2 keeps the channels apart.
    np.testing.assert_allclose(
        appended(MinibatchStdDev(group_size=2, num_features=2)(x), 2)[0, 0, 0], [1.0, 3.0], rtol=1e-6
    )


def test_features_are_shared_within_a_group_and_differ_between_groups():
    # Batch 4, groups of 2 strided as in the reference: {0, 2} and {1, 3}.
    x = np.zeros((4, 2, 2, 1), "float32")
    x[2] = 2.0  # group {0, 2}: std 1
    x[3] = 8.0  # group {1, 3}: std 4
    maps = appended(MinibatchStdDev(group_size=2)(x))[..., 0]
    np.testing.assert_allclose(maps[0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(maps[2], 1.0, rtol=1e-6)
    np.testing.assert_allclose(maps[1], 4.0, rtol=1e-6)
    np.testing.assert_allclose(maps[3], 4.0, rtol=1e-6)
    # The group size is capped at the batch: one group of 4.
    whole = appended(MinibatchStdDev(group_size=8)(x))
    np.testing.assert_allclose(whole, np.std([0.0, 0.0, 2.0, 8.0]), rtol=1e-6)


def test_flat_inputs():
    x = np.array([[0.0, 0.0, 1.0], [2.0, 4.0, 1.0]], "float32")
    outputs = keras.ops.convert_to_numpy(MinibatchStdDev(group_size=2)(x))
    assert outputs.shape == (2, 4)
    np.testing.assert_allclose(outputs[:, -1], (1.0 + 2.0 + 0.0) / 3, atol=1e-4)
    layer = MinibatchStdDev(num_features=3)
    assert layer.compute_output_shape((None, 3)) == (None, 6)
    assert tuple(layer(keras.Input((3,))).shape) == (None, 6)


def test_batch_not_divisible_by_the_group_size():
    x = np.zeros((6, 2, 2, 1), "float32")
    with pytest.raises(ValueError, match="batch divisible by 4, got a batch of 6"):
        MinibatchStdDev(group_size=4)(x)
    layer = MinibatchStdDev(group_size=4)
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, 2, 2, 1))])
    assert tuple(traced(np.zeros((8, 2, 2, 1), "float32")).shape) == (8, 2, 2, 2)
    assert tuple(traced(np.zeros((3, 2, 2, 1), "float32")).shape) == (3, 2, 2, 2)  # one group of 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="needs a batch divisible"):
        traced(x)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"group_size": 0}, "group_size"), ({"num_features": True}, "num_features"), ({"epsilon": 0}, "epsilon")],
)
def test_stddev_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MinibatchStdDev(**kwargs)


def test_num_features_must_divide_the_channels():
    with pytest.raises(ValueError, match="num_features"):
        MinibatchStdDev(num_features=2)(keras.Input((4, 4, 3)))


def test_stddev_config_round_trip():
    layer = MinibatchStdDev(group_size=2, num_features=3, epsilon=1e-6, name="mbstd")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(clone, MinibatchStdDev)
    assert clone.get_config() == layer.get_config()


def test_minibatch_discrimination_hand_computed():
    layer = MinibatchDiscrimination(num_kernels=2, kernel_dim=1)
    layer.build((None, 2))
    layer.kernel.assign(np.array([[1.0, 0.0], [0.0, 1.0]], "float32"))  # M = x
    x = np.array([[0.0, 0.0], [1.0, 2.0], [1.0, 0.0]], "float32")
    outputs = keras.ops.convert_to_numpy(layer(x))
    assert outputs.shape == (3, 4)
    np.testing.assert_allclose(outputs[:, :2], x)
    e = np.exp
    expected = [
        [e(-1) + e(-1), e(-2) + e(0)],  # sample 0 to samples 1 and 2
        [e(-1) + e(0), e(-2) + e(-2)],
        [e(-1) + e(0), e(0) + e(-2)],
    ]
    np.testing.assert_allclose(outputs[:, 2:], expected, rtol=1e-6)


def test_minibatch_discrimination_of_identical_samples_and_a_single_one():
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    image = np.random.default_rng(0).normal(size=(1, 2, 2, 1)).astype("float32")
    closeness = keras.ops.convert_to_numpy(layer(np.repeat(image, 4, axis=0)))[:, 4:]
    np.testing.assert_allclose(closeness, 3.0, rtol=1e-6)  # three others at distance 0
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(image))[:, 4:], 0.0, atol=1e-7)
    assert tuple(layer(keras.Input((2, 2, 1))).shape) == (None, 7)


def test_minibatch_discrimination_config_round_trip():
    layer = MinibatchDiscrimination(7, 3, kernel_initializer="zeros", name="mbd")
    clone = MinibatchDiscrimination.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.num_kernels == 7 and clone.kernel_dim == 3
    with pytest.raises(ValueError, match="num_kernels"):
        MinibatchDiscrimination(0)


def test_both_layers_under_mixed_bfloat16():
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        x = np.stack([np.zeros((2, 2, 2)), np.full((2, 2, 2), 2.0)]).astype("float32")
        stddev = MinibatchStdDev(group_size=2)(x)
        assert keras.backend.standardize_dtype(stddev.dtype) == "bfloat16"
        np.testing.assert_allclose(appended(stddev).astype("float32"), 1.0)
        layer = MinibatchDiscrimination(4, 2)
        outputs = layer(np.repeat(x[:1], 3, axis=0))
        assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
        assert keras.backend.standardize_dtype(layer.kernel.dtype) == "float32"
        np.testing.assert_allclose(keras.ops.convert_to_numpy(outputs)[:, 8:].astype("float32"), 2.0)
    finally:
        keras.mixed_precision.set_global_policy(previous)
