import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.layers import NoiseInjection
from zoo.nets import (
    noise_layers,
    style_mapping,
    stylegan2_discriminator,
    stylegan2_synthesis,
    stylegan_synthesis,
)

# One small configuration: channels 16 at 4x4, 8 at 8x8, 4 at 16x16.
SMALL = dict(w_dim=8, fmap_base=32, fmap_max=16)


def _synthesis(kind, resolution=16, **kwargs):
    if kind == "stylegan":
        return stylegan_synthesis(resolution, **{**SMALL, **kwargs})
    return stylegan2_synthesis(resolution, architecture=kind, **{**SMALL, **kwargs})


def _ws(batch, num_ws, w_dim=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, num_ws, w_dim)).astype("float32")


def _fix_noise(synthesis, strength=0.3):
    """Constant noise and non-zero strengths, so the noise path is exercised and deterministic."""
    for layer in noise_layers(synthesis):
        layer.strength.assign(np.full(layer.strength.shape, strength, "float32"))
        layer.noise_mode.assign(1.0)


def _count(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "kind,resolution",
    [("skip", 16), ("resnet", 16), ("stylegan", 16), ("skip", 32),
     pytest.param("resnet", 32, marks=SLOW), pytest.param("stylegan", 32, marks=SLOW)],
)
def test_shapes_num_ws_and_value_range(kind, resolution):
    synthesis = _synthesis(kind, resolution)
    num_ws = 2 * int(math.log2(resolution)) - 2
    assert synthesis.input_shape == (None, num_ws, 8)
    images = synthesis(_ws(2, num_ws))
    assert images.shape == (2, resolution, resolution, 3)
    assert keras.backend.standardize_dtype(images.dtype) == "float32"
    images = images.numpy()
    assert np.isfinite(images).all() and 0.05 < images.std() < 3.0
    assert np.abs(images[0] - images[1]).mean() > 0.01  # the two codes give two images
    expected_noise = num_ws - 1 if kind != "stylegan" else num_ws  # StyleGAN also noises the constant
    sizes = [layer.noise_const.shape[1] for layer in noise_layers(synthesis)]
    assert len(sizes) == expected_noise and sizes == sorted(sizes) and sizes[-1] == resolution


def test_parameter_counts_written_down_from_the_structure():
    # nf: 16 at 4x4, 8 at 8x8, 4 at 16x16; w_dim 8; 3 channels.
    def affine(c):  # EqualizedDense(w_dim -> c)
        return 8 * c + c

    def mod_layer(cin, cout):  # affine, 3x3 modulated conv + bias, scalar noise strength
        return affine(cin) + 9 * cin * cout + cout + 1

    def to_rgb(cin):
        return affine(cin) + cin * 3 + 3

    const = 16 * 16
    skip = (const + mod_layer(16, 16) + to_rgb(16)
            + mod_layer(16, 8) + mod_layer(8, 8) + to_rgb(8)
            + mod_layer(8, 4) + mod_layer(4, 4) + to_rgb(4))
    resnet = skip - to_rgb(16) - to_rgb(8) + 16 * 8 + 8 * 4  # bias-free 1x1 skips
    noise_buffers = (16 + 2 * 64 + 2 * 256) + 5  # noise_const maps + noise_mode scalars
    assert (skip, resnet) == (5578, 5444)
    for kind, trainable in (("skip", skip), ("resnet", resnet)):
        synthesis = _synthesis(kind)
        assert _count(synthesis.trainable_weights) == trainable
        assert _count(synthesis.non_trainable_weights) == noise_buffers

    def epilogue(c):  # per-channel noise strengths, AdaIN scale and bias affines
        return c + 2 * affine(c)

    def conv(cin, cout, k=3):
        return k * k * cin * cout + cout

    stylegan = (const + epilogue(16) + conv(16, 16) + epilogue(16)
                + conv(16, 8) + epilogue(8) + conv(8, 8) + epilogue(8)
                + conv(8, 4) + epilogue(4) + conv(4, 4) + epilogue(4) + conv(4, 3, k=1))
    assert stylegan == 5839
    synthesis = _synthesis("stylegan")
    assert _count(synthesis.trainable_weights) == stylegan
    assert _count(synthesis.non_trainable_weights) == (2 * 16 + 2 * 64 + 2 * 256) + 6

    discriminator = stylegan2_discriminator(16, fmap_base=32, fmap_max=16)
    expected = (conv(3, 4, k=1)  # fromRGB at 16x16
                + conv(4, 4) + conv(4, 8) + 4 * 8  # 16x16 block (+ skip)
                + conv(8, 8) + conv(8, 16) + 8 * 16  # 8x8 block
                + conv(16 + 1, 16) + (16 * 16 * 16 + 16) + (16 + 1))  # mbstd, conv, fc, logit
    assert expected == 8965
    assert _count(discriminator.trainable_weights) == expected
    assert _count(discriminator.non_trainable_weights) == 0

    mapping = style_mapping(latent_dim=6, w_dim=8, num_layers=3)
    assert _count(mapping.weights) == (6 * 8 + 8) + 2 * (8 * 8 + 8) == 200


@pytest.mark.parametrize("kind", ["skip", "resnet", "stylegan"])
def test_each_layer_reads_its_own_w(kind):
    synthesis = _synthesis(kind)
    _fix_noise(synthesis)
    num_ws = synthesis.input_shape[1]
    ws = _ws(2, num_ws, seed=1)
    # One batch: the two codes, then the two codes with entry i replaced, for every i.
    variants = np.repeat(ws[None], num_ws + 1, axis=0)
    for i in range(num_ws):
        variants[i + 1, :, i] = _ws(2, 1, seed=10 + i)[:, 0]
    images = synthesis(variants.reshape(-1, num_ws, 8)).numpy().reshape(num_ws + 1, 2, 16, 16, 3)
    for i in range(num_ws):
        assert np.abs(images[i + 1] - images[0]).mean() > 1e-3, i
    # Features at 8x8 depend on the first entries only, exactly.
    last_8x8 = {"skip": 2, "resnet": 2, "stylegan": 3}[kind]
    name = "b8_merge" if kind == "resnet" else ("b8_conv1_gain" if kind == "skip" else "b8_conv1_adain")
    features = keras.Model(synthesis.input, synthesis.get_layer(name).output)
    later, earlier = ws.copy(), ws.copy()
    later[:, last_8x8 + 1 :] = 5.0
    earlier[:, last_8x8] = 5.0
    np.testing.assert_array_equal(features(later).numpy(), features(ws).numpy())
    assert np.abs(features(earlier).numpy() - features(ws).numpy()).mean() > 1e-2


def _lowpass(images, size=4):
    """Average pooling down to `size` x `size`."""
    b, h, w, c = images.shape
    return images.reshape(b, size, h // size, size, w // size, c).mean(axis=(2, 4))


def test_late_ws_change_fine_detail_and_early_ws_the_coarse_image():
    # With the skip generator each resolution adds its own RGB image, so even
    # untrained the last two entries (32x32 layer and toRGB) move the 4x4
    # average of the image much less than the first two (the 4x4 layers).
    # (After training this holds for every style-based generator; at random
    # initialisation the AdaIN and resnet generators do not show it.)
    keras.utils.set_random_seed(0)
    synthesis = stylegan2_synthesis(32, w_dim=16, fmap_base=64, fmap_max=32)
    mapping = style_mapping(16, 16)
    num_ws = synthesis.input_shape[1]
    rng = np.random.default_rng(0)
    w, other = (mapping(rng.normal(size=(8, 16)).astype("float32")).numpy() for _ in range(2))
    ws = np.repeat(w[:, None], num_ws, axis=1)
    base = synthesis(ws).numpy()

    def lowpass_change(entries):
        changed = ws.copy()
        changed[:, entries] = other[:, None]
        delta = synthesis(changed).numpy() - base
        return np.abs(_lowpass(delta)).mean() / np.abs(_lowpass(base)).mean(), np.abs(delta).mean()

    coarse, coarse_all = lowpass_change(slice(0, 2))
    fine, fine_all = lowpass_change(slice(num_ws - 2, num_ws))
    assert coarse > 0.3 and fine_all > 0.05 * np.abs(base).mean()  # both really change the image
    assert fine < 0.3 * coarse, (fine, coarse)


@pytest.mark.parametrize("kind", ["skip", "stylegan"])
def test_noise_modes_of_the_whole_synthesis(kind):
    synthesis = _synthesis(kind)
    ws = np.repeat(_ws(1, synthesis.input_shape[1], seed=2), 2, axis=0)  # one code twice
    images = synthesis(ws).numpy()
    np.testing.assert_array_equal(images[0], images[1])  # strengths start at 0
    for layer in noise_layers(synthesis):
        layer.strength.assign(np.full(layer.strength.shape, 0.5, "float32"))
    images = synthesis(ws).numpy()
    assert np.abs(images[0] - images[1]).mean() > 1e-3  # fresh noise per sample
    _fix_noise(synthesis, strength=0.5)
    fixed = synthesis(ws).numpy()
    np.testing.assert_array_equal(fixed[0], fixed[1])
    first = noise_layers(synthesis)[0]
    first.noise_const.assign(np.random.default_rng(3).normal(size=first.noise_const.shape))
    assert np.abs(synthesis(ws).numpy() - fixed).mean() > 1e-3


def test_noise_layers_finds_nested_models_and_checks_its_argument():
    synthesis = _synthesis("skip")
    ws = keras.Input(synthesis.input_shape[1:])
    wrapper = keras.Model(ws, synthesis(ws))
    assert noise_layers(wrapper) == noise_layers(synthesis)
    assert all(isinstance(layer, NoiseInjection) for layer in noise_layers(synthesis))
    with pytest.raises(ValueError, match="synthesis"):
        noise_layers("synthesis")


def test_mapping_normalises_z_and_slows_its_layers():
    mapping = style_mapping(latent_dim=6, w_dim=8, num_layers=3)
    z = np.random.default_rng(3).normal(size=(4, 6)).astype("float32")
    w = mapping(z).numpy()
    assert w.shape == (4, 8) and np.abs(w[0] - w[1]).mean() > 1e-3
    np.testing.assert_allclose(mapping(7.0 * z).numpy(), w, rtol=1e-4, atol=1e-5)
    dense = [layer for layer in mapping.layers if isinstance(layer, zoo.layers.EqualizedDense)]
    assert len(dense) == 3
    assert all(layer.lr_multiplier == 0.01 and layer.gain == pytest.approx(math.sqrt(2)) for layer in dense)
    raw = style_mapping(latent_dim=6, w_dim=8, num_layers=3, normalize_latent=False)
    raw.set_weights(mapping.get_weights())
    assert np.abs(raw(7.0 * z).numpy() - w).mean() > 1e-2


def test_discriminator_logits_and_minibatch_stddev():
    discriminator = stylegan2_discriminator(16, fmap_base=32, fmap_max=16, mbstd_group_size=2)
    images = np.random.default_rng(4).normal(size=(4, 16, 16, 3)).astype("float32")
    logits = discriminator(images)
    assert logits.shape == (4, 1) and keras.backend.standardize_dtype(logits.dtype) == "float32"
    # Groups are strided (sample n in group n mod 2): sample 2 shares sample 0's group.
    changed = images.copy()
    changed[2] *= 3.0
    moved = np.abs(discriminator(changed).numpy() - logits.numpy())[:, 0]
    assert moved[0] > 1e-4 and moved[1] == 0.0
    plain = stylegan2_discriminator(16, fmap_base=32, fmap_max=16, mbstd_group_size=None)
    assert not any(isinstance(layer, zoo.layers.MinibatchStdDev) for layer in plain.layers)
    np.testing.assert_allclose(plain(changed).numpy()[[0, 1, 3]], plain(images).numpy()[[0, 1, 3]], atol=1e-6)
    orig = stylegan2_discriminator(16, fmap_base=32, fmap_max=16, architecture="orig")
    assert _count(orig.trainable_weights) == 8965 - 4 * 8 - 8 * 16


@pytest.mark.parametrize("kind", ["skip", "stylegan", "discriminator"])
def test_every_trainable_variable_gets_a_gradient(kind):
    if kind == "discriminator":
        net = stylegan2_discriminator(16, fmap_base=32, fmap_max=16)
        inputs = np.random.default_rng(5).normal(size=(4, 16, 16, 3)).astype("float32")
    else:
        net = _synthesis(kind)
        inputs = _ws(2, net.input_shape[1], seed=5)
        if kind == "stylegan":
            # StyleGAN's constant starts at ones: until the noise strengths
            # move, the first AdaIN normalises a constant map to zero and its
            # scale gets no gradient (the reference code behaves the same).
            for layer in noise_layers(net):
                layer.strength.assign(np.full(layer.strength.shape, 0.1, "float32"))
    with tf.GradientTape() as tape:
        out = net(inputs, training=True)
        loss = tf.reduce_sum(out * tf.random.stateless_normal(out.shape, seed=(1, 2)))
    grads = tape.gradient(loss, net.trainable_weights)
    for variable, grad in zip(net.trainable_weights, grads):
        assert grad is not None and np.abs(grad.numpy()).max() > 0, variable.path


@pytest.mark.parametrize(
    "kind", ["skip", pytest.param("resnet", marks=SLOW), "stylegan", "discriminator", "mapping"]
)
def test_save_and_load_give_identical_outputs(kind, tmp_path):
    rng = np.random.default_rng(6)
    if kind == "discriminator":
        net = stylegan2_discriminator(16, fmap_base=32, fmap_max=16, mbstd_group_size=2)
        inputs = rng.normal(size=(4, 16, 16, 3)).astype("float32")
    elif kind == "mapping":
        net = style_mapping(latent_dim=6, w_dim=8, num_layers=2, lr_multiplier=0.1, name="m")
        inputs = rng.normal(size=(2, 6)).astype("float32")
    else:
        net = _synthesis(kind)
        _fix_noise(net)
        inputs = _ws(2, net.input_shape[1], seed=6)
    path = tmp_path / "net.keras"
    net.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(again(inputs).numpy(), net(inputs).numpy())
    assert json.dumps(again.get_config(), sort_keys=True) == json.dumps(net.get_config(), sort_keys=True)
    assert [v.path for v in again.weights] == [v.path for v in net.weights]


@pytest.mark.parametrize(
    "kind", ["skip", pytest.param("resnet", marks=SLOW), "stylegan", "discriminator", "mapping"]
)
def test_mixed_bfloat16_forward_pass_is_finite(kind):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    if kind == "discriminator":
        net = stylegan2_discriminator(16, fmap_base=32, fmap_max=16)
        inputs = np.random.default_rng(7).normal(size=(4, 16, 16, 3)).astype("float32")
    elif kind == "mapping":
        net = style_mapping(latent_dim=8, w_dim=8)
        inputs = np.random.default_rng(7).normal(size=(4, 8)).astype("float32")
    else:
        net = _synthesis(kind)
        for layer in noise_layers(net):
            layer.strength.assign(np.full(layer.strength.shape, 0.5, "float32"))
        inputs = _ws(2, net.input_shape[1], seed=7)
    out = net(inputs)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    out = out.numpy()
    assert np.isfinite(out).all() and out.std() > 1e-3
    if kind not in ("discriminator", "mapping"):
        convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Layer) and "conv1" in layer.name]
        assert any(layer.compute_dtype == "bfloat16" for layer in convs)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="resolution"):
        stylegan2_synthesis(24)
    with pytest.raises(ValueError, match="resolution"):
        stylegan_synthesis(2)
    with pytest.raises(ValueError, match="architecture"):
        stylegan2_synthesis(16, architecture="orig")
    with pytest.raises(ValueError, match="architecture"):
        stylegan2_discriminator(16, architecture="skip")
    with pytest.raises(ValueError, match="fmap_base"):
        stylegan2_discriminator(16, fmap_base=0)
    with pytest.raises(ValueError, match="mbstd_group_size"):
        stylegan2_discriminator(16, mbstd_group_size=0)
    with pytest.raises(ValueError, match="num_layers"):
        style_mapping(num_layers=0)
    with pytest.raises(ValueError, match="upsample_interpolation"):
        stylegan_synthesis(16, upsample_interpolation="bicubic")
