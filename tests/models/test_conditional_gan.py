"""ConditionalGAN: label-input (concat, projection) and AC-GAN discriminators."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import losses, nets
from zoo.models import ConditionalGAN

SHAPE = (16, 16, 1)
LATENT = 8
CLASSES = 4


def make(conditioning="projection", **kwargs):
    generator = nets.dcgan_generator(LATENT, SHAPE, 4, num_classes=CLASSES)
    discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning=conditioning)
    return ConditionalGAN(generator, discriminator, num_classes=CLASSES, seed=3, **kwargs)


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, *SHAPE)).astype("float32"), (np.arange(n) % CLASSES).astype("int32")


def dataset(n=16, size=4, one_hot=False):
    images, labels = batch(n)
    if one_hot:
        labels = np.eye(CLASSES, dtype="float32")[labels]
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(size)


def snapshot(variables):
    return [np.array(v) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, np.array(v)) for b, v in zip(before, variables)]


# Projection (the default) is in tests/steps/test_every_model.py.
@pytest.mark.parametrize("conditioning", ["concat", "auxiliary"])
def test_fit_moves_both_players_with_finite_logs(conditioning):
    gan = make(conditioning)
    # Projection and auxiliary fits are traced in test_mirrored_fit and test_mixed_bfloat16_fit.
    gan.compile(run_eagerly=conditioning != "concat")
    g_before = snapshot(gan.generator.trainable_variables)
    d_before = snapshot(gan.discriminator.trainable_variables)
    history = gan.fit(dataset(), epochs=2, verbose=0)
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    if conditioning == "auxiliary":
        expected |= {"aux_loss", "aux_accuracy"}
    assert set(history.history) == expected
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    assert all(changed(g_before, gan.generator.trainable_variables))
    assert all(changed(d_before, gan.discriminator.trainable_variables))
    assert gan.conditioning == ("auxiliary" if conditioning == "auxiliary" else "input")


def test_one_hot_and_column_labels_train_like_int_labels():
    images, labels = batch(16)
    forms = [labels, np.eye(CLASSES, dtype="float32")[labels], labels[:, None]]
    histories = []
    for form in forms:
        keras.utils.set_random_seed(7)
        gan = make()
        gan.compile(run_eagerly=True)  # eager: three traced train_steps would take most of the time
        data = tf.data.Dataset.from_tensor_slices((images, form)).batch(4)
        histories.append(gan.fit(data, epochs=1, verbose=0).history)
    for history in histories[1:]:
        np.testing.assert_allclose(history["d_loss"], histories[0]["d_loss"], rtol=1e-5)


def test_labels_of_another_shape_are_refused():
    gan = make()
    gan.compile()
    images, _ = batch(4)
    data = tf.data.Dataset.from_tensors((images, np.zeros((4, CLASSES + 1), "float32")))
    with pytest.raises(ValueError, match="one-hot"):
        gan.fit(data, epochs=1, verbose=0)


def test_acgan_discriminator_minimises_adversarial_plus_both_class_losses():
    # One SGD step moves the weights by -lr * gradient of the total the step
    # minimises; recompute that total here, with the same (fixed) noise.
    weight, lr = 0.7, 0.1
    gan = make("auxiliary", auxiliary_weight=weight)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr))
    gan.build_optimizers()
    z = np.random.default_rng(1).normal(size=(4, LATENT)).astype("float32")
    gan.sample_noise = lambda n: keras.ops.convert_to_tensor(z)
    images, labels = batch()
    variables = gan.discriminator.trainable_variables
    before = snapshot(variables)
    fakes = gan.generator([z, labels], training=True)
    with tf.GradientTape() as tape:
        real = gan.discriminator(images, training=True)
        fake = gan.discriminator(fakes, training=True)
        total = losses.non_saturating_d_loss(real[:, :1], fake[:, :1]) + weight * (
            losses.auxiliary_classifier_loss(real[:, 1:], labels)
            + losses.auxiliary_classifier_loss(fake[:, 1:], labels)
        )
    grads = tape.gradient(total, variables)
    gan.discriminator_step(keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(labels))
    for b, g, v in zip(before, grads, variables):
        np.testing.assert_allclose(np.array(v), b - lr * np.array(g), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("conditioning", ["projection", "auxiliary"])
def test_generator_step_leaves_discriminator_unchanged(conditioning):
    gan = make(conditioning)
    gan.compile()
    gan.build_optimizers()
    d_before = snapshot(gan.discriminator.trainable_variables)
    tf.function(gan.generator_step)(batch()[1])
    assert not any(changed(d_before, gan.discriminator.trainable_variables))


@pytest.mark.parametrize("conditioning", ["projection", "auxiliary"])
def test_discriminator_step_leaves_generator_unchanged(conditioning):
    gan = make(conditioning)
    gan.compile()
    gan.build_optimizers()
    g_before = snapshot(gan.generator.trainable_variables)
    tf.function(gan.discriminator_step)(*batch())
    assert not any(changed(g_before, gan.generator.trainable_variables))


def test_auxiliary_loss_is_the_class_cross_entropy_on_real_images():
    gan = make("auxiliary", auxiliary_weight=0.0)
    gan.compile()
    images, labels = batch()
    logs = gan.evaluate(tf.data.Dataset.from_tensors((images, labels)), verbose=0, return_dict=True)
    class_logits = keras.ops.convert_to_numpy(gan.discriminator(images))[:, 1:]
    log_probs = class_logits - np.log(np.exp(class_logits).sum(-1, keepdims=True))
    expected = -log_probs[np.arange(len(labels)), labels].mean()
    np.testing.assert_allclose(logs["aux_loss"], expected, rtol=1e-5)
    assert logs["aux_accuracy"] == pytest.approx(np.mean(class_logits.argmax(-1) == labels))


def _class_loss_after_generator_steps(auxiliary_weight, steps=60):
    keras.utils.set_random_seed(5)
    gan = make("auxiliary", auxiliary_weight=auxiliary_weight)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2))
    gan.build_optimizers()
    step = tf.function(gan.generator_step)
    labels = keras.ops.convert_to_tensor(np.arange(16, dtype="int32") % CLASSES)

    def class_loss():
        z = gan.sample_noise(16)
        # training=True: the batch statistics the step itself used.
        fakes = gan.generator([z, labels], training=True)
        logits = gan.discriminator(fakes, training=True)[:, 1:]
        return float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)))

    before = class_loss()
    for _ in range(steps):
        step(labels)
    return before, class_loss()


def test_auxiliary_weight_steers_the_generator_towards_the_class():
    # Same start (seeded), only the weight differs: the class term makes the
    # discriminator's classifier read the requested label in the fakes.
    before, steered = _class_loss_after_generator_steps(1.0)
    same_before, unsteered = _class_loss_after_generator_steps(0.0)
    assert before == pytest.approx(same_before)
    assert steered < before - 0.1
    assert steered < unsteered - 0.1


def test_generate_by_label():
    gan = make()
    cycled = gan.generate(6)
    assert cycled.shape == (6, *SHAPE)
    z = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    a = gan.generate(z, labels=[0, 1, 2])
    b = gan.generate(z, labels=np.array([0, 1, 3]))
    np.testing.assert_allclose(a[:2], b[:2], rtol=1e-5)
    assert not np.allclose(a[2], b[2])
    np.testing.assert_allclose(gan.generate(z, labels=2), gan.generate(z, labels=[2, 2, 2]), rtol=1e-5)
    with pytest.raises(ValueError, match="labels must be in"):
        gan.generate(z, labels=[0, 1, CLASSES])
    with pytest.raises(ValueError, match="labels must be"):
        gan.generate(z, labels=[0, 1])


def test_unlabelled_data_gets_a_clear_error():
    gan = make()
    gan.compile()
    images, _ = batch()
    with pytest.raises(ValueError, match="with_labels=True"):
        gan.fit(tf.data.Dataset.from_tensors(images), epochs=1, verbose=0)


def test_mismatched_nets_are_refused():
    generator = nets.dcgan_generator(LATENT, SHAPE, 4, num_classes=CLASSES)
    plain_g = nets.dcgan_generator(LATENT, SHAPE, 4)
    plain_d = nets.dcgan_discriminator(SHAPE, 4)
    aux_d = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES + 1, conditioning="auxiliary")
    with pytest.raises(ValueError, match="generator must take"):
        ConditionalGAN(plain_g, nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES), num_classes=CLASSES)
    with pytest.raises(ValueError, match="discriminator must"):
        ConditionalGAN(generator, plain_d, num_classes=CLASSES)
    with pytest.raises(ValueError, match="discriminator must"):
        ConditionalGAN(generator, aux_d, num_classes=CLASSES)
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalGAN(generator, plain_d, num_classes=1)


def test_mixed_bfloat16_fit():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    gan = make("auxiliary")
    gan.compile()
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))


def test_mirrored_fit(two_replicas):
    with two_replicas.scope():
        gan = make()
        gan.compile()
        gan.build_optimizers()
    g_before = snapshot(gan.generator.trainable_variables)
    history = gan.fit(dataset(), epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["g_loss"]))
    assert all(changed(g_before, gan.generator.trainable_variables))
