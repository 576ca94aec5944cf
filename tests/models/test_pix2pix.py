"""pix2pix: paired translation with a conditional PatchGAN and an L1 term."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets
from zoo.models import Pix2Pix

SIZE = 16


def make(net_kwargs=None, **kwargs):
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4,
                                    **(net_kwargs or {}))
    discriminator = nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=4, num_layers=1)
    return Pix2Pix(generator, discriminator, seed=1, **kwargs)


def pairs(n=8, seed=0, tensors=False):
    rng = np.random.default_rng(seed)
    source = rng.uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32")
    # A paired target that depends on the source pixel by pixel.
    target = np.concatenate([0.8 * source, -0.5 * source], axis=-1).astype("float32")
    return (tf.constant(source), tf.constant(target)) if tensors else (source, target)


def dataset(n=8, batch=2):
    return tf.data.Dataset.from_tensor_slices(pairs(n)).batch(batch)


def snapshot(variables):
    return [np.array(v) for v in variables]


def test_generator_step_leaves_the_discriminator_and_vice_versa():
    model = make()
    model.compile(run_eagerly=True)
    model.build_optimizers()
    source, target = pairs(2, tensors=True)
    d_before = snapshot(model.discriminator.trainable_weights)
    fake, _, _ = model.generator_step(source, target)
    assert all(np.array_equal(b, np.array(v)) for b, v in zip(d_before, model.discriminator.trainable_weights))
    g_before = snapshot(model.generator.trainable_weights)
    model.discriminator_step(source, target, fake)
    assert all(np.array_equal(b, np.array(v)) for b, v in zip(g_before, model.generator.trainable_weights))


def test_losses_are_the_papers():
    # With an identity-like setting the logged values can be recomputed by hand.
    model = make(reconstruction_weight=100.0)
    model.compile(run_eagerly=True)
    model.build_optimizers()
    source, target = pairs(2, tensors=True)
    fake = model.generator(source, training=False)
    real_logits = model.discriminator([source, target])
    fake_logits = model.discriminator([source, fake])
    bce = lambda y, logits: np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))  # noqa: E731
    expected_d = 0.5 * (bce(1.0, np.array(real_logits)) + bce(0.0, np.array(fake_logits)))
    np.testing.assert_allclose(float(model._d_loss(real_logits, fake_logits)), expected_d, rtol=1e-5)
    scores = model.evaluate(tf.data.Dataset.from_tensors((source, target)), verbose=0, return_dict=True)
    np.testing.assert_allclose(scores["recon_loss"], np.mean(np.abs(np.array(fake) - target)), rtol=1e-5)
    np.testing.assert_allclose(scores["g_loss"], bce(1.0, np.array(fake_logits)), rtol=1e-5)


def test_regression_only_model_needs_no_discriminator_and_learns():
    keras.utils.set_random_seed(0)
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=8)
    model = Pix2Pix(generator, None, adversarial_weight=0.0, reconstruction="l2", reconstruction_weight=1.0)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-3))
    history = model.fit(dataset(8, 4).repeat(10), epochs=4, verbose=0)
    assert set(history.history) == {"g_loss", "recon_loss"}
    losses = history.history["recon_loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.array(history.history["g_loss"]) == 0.0)


def test_shared_generator_carries_pretraining_into_the_adversarial_phase():
    pretrain = Pix2Pix(make().generator, None, adversarial_weight=0.0)
    pretrain.compile(run_eagerly=True)
    pretrain.fit(dataset(4), epochs=1, verbose=0)
    weights = snapshot(pretrain.generator.weights)
    discriminator = nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=4, num_layers=1)
    gan = Pix2Pix(pretrain.generator, discriminator)
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(weights, gan.generator.weights))


def test_translate_checks_shapes_and_runs_on_larger_images():
    model = make()
    assert model.translate(np.zeros((1, 40, 24, 1))).shape == (1, 40, 24, 2)
    with pytest.raises(ValueError, match="divisible by 8"):
        model.translate(np.zeros((1, 20, 16, 1)))
    with pytest.raises(ValueError, match=r"\(batch, height, width, 1\)"):
        model.translate(np.zeros((1, 16, 16, 3)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reconstruction_weight": -1}, "reconstruction_weight"),
        ({"adversarial_weight": "1"}, "adversarial_weight"),
        ({"reconstruction": "l3"}, "reconstruction"),
        ({"loss": "nope"}, "loss"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_train_on_batch_takes_source_and_target_as_x_and_y():
    model = make()
    model.compile()
    source, target = pairs(2)
    logs = model.train_on_batch(source, target, return_dict=True)
    assert np.isfinite(logs["g_loss"]) and np.isfinite(logs["d_loss"])
    assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 1


def test_discriminator_must_judge_pairs_of_the_right_channels():
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4)
    with pytest.raises(ValueError, match="two inputs"):
        Pix2Pix(generator, nets.patch_discriminator(input_channels=2, base_filters=4))
    with pytest.raises(ValueError, match="3 channels to 3|1 channels to 2"):
        Pix2Pix(generator, nets.patch_discriminator(input_channels=3, source_channels=3, base_filters=4))
    with pytest.raises(ValueError, match="discriminator is needed"):
        Pix2Pix(generator, None)
    with pytest.raises(ValueError, match="source, target"):
        model = make()
        model.compile(run_eagerly=True)
        model.fit(tf.data.Dataset.from_tensor_slices(pairs(2)[0]).batch(2), verbose=0)


# -- inference: the paper's test mode (dropout on, each image's own statistics) or deterministic ---------


def images(n=3, seed=5):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32")


def statistics(net):
    return snapshot(net.non_trainable_variables)


def test_paper_twin_shares_every_weight_and_follows_training():
    model = make(net_kwargs={"dropout": 0.0})
    twin = model.inference_net("paper")
    assert twin is model.inference_net() and twin.name == "unet_generator_paper"
    assert {id(v) for v in model.generator.trainable_variables} <= {id(v) for v in twin.trainable_variables}
    assert model.inference_net("deterministic") is model.generator
    x = images()
    before = model.translate(x)
    model.compile()
    model.fit(dataset(4, 2), epochs=1, verbose=0)  # trains the generator, not the twin
    after = model.translate(x)
    assert np.abs(after - before).mean() > 1e-4
    # Without dropout the paper mode is a function of the weights: a fresh twin gives the same output.
    from zoo.nets import paper_inference_net

    np.testing.assert_allclose(after, paper_inference_net(model.generator)(x), atol=1e-6)


def test_paper_mode_uses_each_images_own_statistics_and_leaves_the_moving_averages():
    model = make(net_kwargs={"dropout": 0.0})
    model.compile()
    model.fit(dataset(4, 2), epochs=1, verbose=0)  # moving averages away from their initial values
    x = images(4)
    moving = statistics(model.generator)
    paper = model.translate(x)
    model.predict(x, verbose=0)
    model(x)
    model.inference_net()(x, training=True)
    assert all(np.array_equal(a, b) for a, b in zip(moving, statistics(model.generator)))
    # Each image alone gives the same output: nothing depends on the rest of the batch...
    alone = np.concatenate([model.translate(x[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(paper, alone, atol=1e-5)
    np.testing.assert_allclose(paper, model.translate(x, batch_size=3), atol=1e-5)
    # ...and it is the reference's test mode: the generator in training mode on a batch of one image.
    reference = np.concatenate([np.array(model.generator(x[i : i + 1], training=True)) for i in range(4)])
    for variable, value in zip(model.generator.non_trainable_variables, moving):
        variable.assign(value)  # what training=True changed, put back
    np.testing.assert_allclose(paper, reference, atol=1e-5)
    # The deterministic mode normalises with the moving averages instead.
    deterministic = model.translate(x, inference="deterministic")
    assert np.abs(paper - deterministic).mean() > 1e-3


def test_deterministic_batch_norm_does_not_depend_on_the_batch_either_but_training_mode_would():
    model = make(net_kwargs={"dropout": 0.0})
    x = images(4)
    fixed = model.translate(x, inference="deterministic")
    np.testing.assert_allclose(fixed[:1], model.translate(x[:1], inference="deterministic"), atol=1e-6)
    moving = statistics(model.generator)
    batch_stats = np.array(model.generator(x, training=True))  # Keras' batch statistics over all four
    for variable, value in zip(model.generator.non_trainable_variables, moving):
        variable.assign(value)
    assert np.abs(batch_stats - model.translate(x)).mean() > 1e-3


def test_paper_mode_draws_dropout_noise_and_deterministic_mode_equals_keras_inference():
    model = make()
    x = images()
    first, second = model.translate(x), model.translate(x)
    assert np.abs(first - second).mean() > 1e-3
    assert np.abs(np.array(model(x)) - np.array(model(x))).mean() > 1e-3
    fixed = model.translate(x, inference="deterministic")
    np.testing.assert_allclose(fixed, model.generator(x, training=False), atol=1e-6)
    np.testing.assert_allclose(fixed, model.translate(x, inference="deterministic"), atol=1e-6)
    deterministic = make(inference="deterministic")
    deterministic.generator.set_weights(model.generator.get_weights())
    for run in (deterministic.translate, lambda v: deterministic.predict(v, verbose=0), deterministic):
        np.testing.assert_allclose(np.array(run(x)), fixed, atol=1e-5)
    # The paper mode's noise is seeded by the model's seed: the same seed draws the same sequence.
    again = make()
    again.generator.set_weights(model.generator.get_weights())
    np.testing.assert_allclose(again.translate(x), first, atol=1e-6)
    with pytest.raises(ValueError, match="inference"):
        model.translate(x, inference="eval")


def test_inference_is_in_the_config_and_old_configs_load_in_the_paper_mode(tmp_path):
    model = make(inference="deterministic")
    config = model.get_config()
    assert config["inference"] == "deterministic"
    assert Pix2Pix.from_config(config).inference == "deterministic"
    del config["inference"]  # a model saved before the option existed
    assert Pix2Pix.from_config(config).inference == "paper"
    with pytest.raises(ValueError, match="inference"):
        make(inference="eval")
    # A .keras file holds the model's state, not the twin's: the reloaded model draws the same noise.
    paper = make()
    x = images()
    expected = paper.translate(x)
    path = str(tmp_path / "pix2pix.keras")
    paper.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.inference == "paper" and len(loaded.weights) == len(paper.weights)
    np.testing.assert_allclose(loaded.translate(x), expected, atol=1e-6)


def test_paper_twin_of_other_nets():
    from zoo.layers import ImageStatisticsNormalization, NoiseDropout
    from zoo.nets import paper_inference_net

    # Instance norm already uses each image's statistics: only the dropout changes.
    unet = nets.unet_generator(1, 2, num_downsamples=3, base_filters=4, norm="instance")
    twin = paper_inference_net(unet, seed=0)
    assert [type(l) for l in twin.layers if isinstance(l, (NoiseDropout, keras.layers.Dropout))] == [NoiseDropout] * 2
    assert not any(isinstance(l, ImageStatisticsNormalization) for l in twin.layers)
    # Nothing to change: the net itself (CycleGAN's generator, the Deep Koalarization colouriser).
    assert paper_inference_net(nets.unet_generator(1, 2, num_downsamples=3, base_filters=4, norm="instance",
                                                   dropout=0.0)).name == "unet_generator"
    colouriser = nets.colourisation_net(base_filters=4)
    assert paper_inference_net(colouriser) is colouriser
    # A nested model (a frozen feature extractor) is shared as it is, its batch norm on the moving averages.
    inner_in = keras.Input((4, 4, 2))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization(name="inner_bn")(inner_in), name="inner")
    outer_in = keras.Input((4, 4, 2))
    outer = keras.Model(outer_in, keras.layers.BatchNormalization(name="outer_bn")(inner(outer_in, training=False)))
    twin = paper_inference_net(outer)
    assert twin.get_layer("inner") is inner and isinstance(twin.get_layer("outer_bn"), ImageStatisticsNormalization)
    with pytest.raises(ValueError, match="functional"):
        paper_inference_net(keras.layers.Dense(2))


def test_image_statistics_normalization_under_mixed_precision_and_from_its_config():
    from zoo.layers import ImageStatisticsNormalization

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        bn = keras.layers.BatchNormalization(epsilon=1e-5)
        x = images(2)
        bn(x)
        layer = ImageStatisticsNormalization.sharing(bn)
        out = layer(x)
        assert out.dtype == "bfloat16" and layer.gamma is bn.gamma and layer.epsilon == 1e-5
    finally:
        keras.mixed_precision.set_global_policy("float32")
    x = images(2)
    expected = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(np.array(out, "float32"), expected, atol=0.05)
    fresh = ImageStatisticsNormalization.from_config({**layer.get_config(), "dtype": "float32"})
    np.testing.assert_allclose(np.array(fresh(x)), expected, atol=1e-4)  # its own gamma 1, beta 0
    with pytest.raises(ValueError, match="epsilon"):
        ImageStatisticsNormalization(epsilon=0)
    with pytest.raises(ValueError, match="BatchNormalization"):
        ImageStatisticsNormalization.sharing(keras.layers.BatchNormalization())


def test_presets_pass_the_inference_mode():
    from zoo import presets

    tiny = {"base_filters": 4, "num_downsamples": 3, "patch_layers": 1}
    assert presets.get("pix2pix").build((16, 16, 3), **tiny).inference == "paper"
    assert presets.get("pix2pix").build((16, 16, 3), inference="deterministic", **tiny).inference == "deterministic"
    for variant in ("gan", "regression"):
        phases = presets.get("colourisation").build_phases((16, 16, 2), variant=variant, inference="deterministic",
                                                            pretrain_epochs=1, **tiny)
        assert all(phase.model.inference == "deterministic" for phase in phases)
