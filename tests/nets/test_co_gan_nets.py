import keras
import numpy as np
import pytest

from zoo import nets

SHAPE = (16, 16, 1)


def small_generators(**kwargs):
    return nets.cogan_generators(8, SHAPE, base_filters=4, **kwargs)


def small_discriminators(**kwargs):
    return nets.cogan_discriminators(SHAPE, filters=(4, 6), hidden_units=8, **kwargs)


def variable_ids(net):
    return {id(v) for v in net.weights}


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_generators_share_all_but_the_output_layer():
    g_a, g_b = small_generators()
    assert g_a.inputs[0] is g_b.inputs[0]  # one noise input: the shared part is one graph
    shared = [layer for layer in g_a.layers if layer.name.startswith("cogan_generator_shared")]
    # projection (dense, reshape, bn, prelu) + 2 upsamplings (deconv, bn, prelu): 16 = 4 * 2^2
    assert len(shared) == 10
    for layer in shared:
        assert g_b.get_layer(layer.name) is layer
    assert g_a.get_layer("cogan_generator_a_output") is not g_b.get_layer("cogan_generator_b_output")
    common = variable_ids(g_a) & variable_ids(g_b)
    own = variable_ids(g_a) - common
    assert len(own) == 2  # output kernel and bias
    assert {v.path for v in g_a.weights if id(v) in own} == {
        "cogan_generator_a_output/kernel", "cogan_generator_a_output/bias"
    }


def test_discriminators_share_all_but_the_first_block():
    d_a, d_b = small_discriminators()
    assert d_a.get_layer("cogan_discriminator_a_conv1") is not d_b.get_layer("cogan_discriminator_b_conv1")
    for name in ("conv2", "dense", "prelu", "logits"):
        layer = d_a.get_layer(f"cogan_discriminator_shared_{name}")
        assert d_b.get_layer(f"cogan_discriminator_shared_{name}") is layer
    common = variable_ids(d_a) & variable_ids(d_b)
    assert len(common) == 7  # conv2 (2), dense (2), prelu (1), logits (2)
    assert len(variable_ids(d_a) - common) == 2  # conv1 kernel and bias


def test_parameter_counts():
    g_a, g_b = small_generators()
    # dense 8 -> 4*4*16 (no bias) + bn 4*16 + prelu 16; deconv 3x3 16->8 + bn + prelu; 8->4; output 6x6 4->1
    trunk = 8 * 256 + 4 * 16 + 16 + 9 * 16 * 8 + 4 * 8 + 8 + 9 * 8 * 4 + 4 * 4 + 4
    output = 36 * 4 + 1
    assert g_a.count_params() == g_b.count_params() == trunk + output
    # the paper's MNIST sizes: one 28 px generator, and the two together
    paper_a, paper_b = nets.cogan_generators()
    assert paper_a.count_params() == 3_992_449
    assert len(keras.Model(paper_a.inputs, paper_a.outputs + paper_b.outputs).weights) == 22  # 20 + 2 own
    d_a, _ = small_discriminators()
    # conv1 5x5 1->4, conv2 5x5 4->6, 16 -> 12 -> 6 -> 2 -> 1: dense 6 -> 8, prelu 8, logit
    assert d_a.count_params() == (25 * 4 + 4) + (25 * 4 * 6 + 6) + (6 * 8 + 8) + 8 + (8 + 1)
    assert nets.cogan_discriminators()[0].count_params() == 520 + 25_050 + 400_500 + 500 + 501


def test_shared_trunk_gives_both_generators_the_same_features():
    g_a, g_b = small_generators()
    z = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    trunk_a = keras.Model(g_a.inputs[0], g_a.get_layer("cogan_generator_a_output").input)
    trunk_b = keras.Model(g_b.inputs[0], g_b.get_layer("cogan_generator_b_output").input)
    np.testing.assert_array_equal(numpy(trunk_a(z)), numpy(trunk_b(z)))
    images_a, images_b = numpy(g_a(z)), numpy(g_b(z))
    assert images_a.shape == images_b.shape == (3, *SHAPE)
    assert -1.0 <= images_a.min() and images_a.max() <= 1.0
    assert not np.allclose(images_a, images_b)  # separate output layers


def test_a_shared_weight_moves_both_nets_an_own_weight_one():
    g_a, g_b = small_generators()
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    before_a, before_b = numpy(g_a(z)), numpy(g_b(z))
    own = g_a.get_layer("cogan_generator_a_output")
    own.kernel.assign(own.kernel * 2.0)
    assert not np.allclose(numpy(g_a(z)), before_a)
    np.testing.assert_array_equal(numpy(g_b(z)), before_b)
    before_a = numpy(g_a(z))
    dense = g_b.get_layer("cogan_generator_shared_dense")
    dense.kernel.assign(dense.kernel * 3.0)
    assert not np.allclose(numpy(g_a(z)), before_a) and not np.allclose(numpy(g_b(z)), before_b)


def test_num_shared_moves_the_boundary():
    # generator blocks: projection (dense kernel, 4 batch-norm variables, prelu alpha), two
    # upsamplings (the same six each), output; discriminator blocks: conv1, conv2, dense + prelu, logit
    for num_shared, weights in ((0, 0), (1, 6), (2, 12), (3, 18)):
        g_a, g_b = small_generators(num_shared=num_shared)
        assert len(variable_ids(g_a) & variable_ids(g_b)) == weights, num_shared
        assert g_a.inputs[0] is g_b.inputs[0]  # one noise input however much is shared
    for num_shared, weights in ((0, 0), (1, 2), (2, 5), (3, 7)):
        d_a, d_b = small_discriminators(num_shared=num_shared)
        assert len(variable_ids(d_a) & variable_ids(d_b)) == weights, num_shared


def test_domain_b_may_have_other_channels():
    g_a, g_b = nets.cogan_generators(8, SHAPE, base_filters=4, channels_b=3)
    d_a, d_b = nets.cogan_discriminators(SHAPE, filters=(4, 6), hidden_units=8, channels_b=3)
    z = np.zeros((2, 8), "float32")
    assert tuple(g_a(z).shape) == (2, 16, 16, 1) and tuple(g_b(z).shape) == (2, 16, 16, 3)
    assert tuple(d_b(g_b(z)).shape) == (2, 1) and d_b.inputs[0].shape[-1] == 3


def test_each_net_round_trips_through_its_config():
    g_a, _ = small_generators()
    d_a, _ = small_discriminators()
    z = np.random.default_rng(2).normal(size=(2, 8)).astype("float32")
    for net, x in ((g_a, z), (d_a, numpy(g_a(z)))):
        clone = keras.Model.from_config(net.get_config())
        clone.set_weights(net.get_weights())
        np.testing.assert_allclose(numpy(clone(x)), numpy(net(x)), atol=1e-6)


@pytest.mark.parametrize(
    "builder,kwargs,match",
    [
        ("g", {"num_shared": 4}, "num_shared"),
        ("g", {"num_shared": -1}, "num_shared"),
        ("g", {"latent_dim": 0}, "latent_dim"),
        ("g", {"image_shape": (15, 15, 1)}, "image_shape"),
        ("g", {"channels_b": 0}, "channels_b"),
        ("d", {"num_shared": 4}, "num_shared"),
        ("d", {"filters": ()}, "filters"),
        ("d", {"hidden_units": 0}, "hidden_units"),
        ("d", {"image_shape": (15, 15, 1)}, "at least 16"),
    ],
)
def test_bad_arguments_are_named(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        if builder == "g":
            nets.cogan_generators(**{"latent_dim": 8, "image_shape": SHAPE, "base_filters": 4, **kwargs})
        else:
            nets.cogan_discriminators(**{"image_shape": SHAPE, "filters": (4, 6), **kwargs})
