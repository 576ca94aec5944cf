"""pix2pix: paired translation with a conditional PatchGAN and an L1 term."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import nets
from zoo.models import Pix2Pix

SIZE = 16


def make(**kwargs):
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4)
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
