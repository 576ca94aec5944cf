"""The semi-supervised GAN: losses, updates, label isolation, classifier, config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import data, layers, nets
from zoo.models import SemiSupervisedGAN
from zoo.models import semi_supervised_gan as sgan_module

SHAPE = (8, 8, 1)
LATENT = 4
CLASSES = 3


def make_sgan(**kwargs):
    generator = nets.sgan_generator(LATENT, SHAPE, hidden_units=(8,))
    discriminator = nets.sgan_discriminator(SHAPE, num_classes=CLASSES, hidden_units=(16, 8))
    return SemiSupervisedGAN(generator, discriminator, num_classes=CLASSES, seed=3, **kwargs)


def arrays(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, *SHAPE)).astype("float32")
    labels = rng.integers(0, CLASSES, n)
    return images, labels


def dataset(images, labels, keep, batch=8):
    return data.semi_supervised_dataset(images, images[keep], labels[keep], batch_size=batch, seed=0)


def snapshot(variables):
    return [np.array(v) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, np.array(v)) for b, v in zip(before, variables)]


def test_losses_match_hand_computed_values():
    real = np.array([[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)]], "float32")  # Z = 4, 4
    fake = np.array([[np.log(0.5), np.log(0.5)]], "float32")  # Z = 1
    # D(x) = Z / (Z + 1): -log(4/5) on real, -log(1 - 1/2) on fake.
    expected = -np.log(0.8) - np.log(0.5)
    assert float(sgan_module.unsupervised_loss(real, fake)) == pytest.approx(expected, rel=1e-5)
    assert float(sgan_module.non_saturating_generator_loss(fake)) == pytest.approx(np.log(2.0), rel=1e-5)
    labels = np.array([1, 0])
    expected = (-np.log(3.0 / 4.0) - np.log(2.0 / 4.0)) / 2
    assert float(sgan_module.supervised_loss(labels, real)) == pytest.approx(expected, rel=1e-5)
    a = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")  # means (2, 3)
    b = np.zeros((3, 2), "float32")
    assert float(sgan_module.feature_matching_loss(a, b)) == pytest.approx((4 + 9) / 2)


# feature_matching=True (the default) is in tests/steps/test_every_model.py.
@pytest.mark.parametrize("feature_matching", [False])
def test_fit_logs_finite_values_and_moves_both_players(feature_matching):
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    sgan = make_sgan(feature_matching=feature_matching)
    sgan.compile()
    g_before = snapshot(sgan.generator.trainable_variables)
    d_before = snapshot(sgan.discriminator.trainable_variables)
    history = sgan.fit(dataset(images, labels, keep), epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "supervised_loss", "unsupervised_loss", "accuracy"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    assert all(changed(g_before, sgan.generator.trainable_variables))
    assert all(changed(d_before, sgan.discriminator.trainable_variables))
    assert int(sgan.d_optimizer.iterations) == 12 and int(sgan.g_optimizer.iterations) == 12


def test_discriminator_step_leaves_generator_unchanged_and_vice_versa():
    images, labels = arrays(8)
    sgan = make_sgan()
    sgan.compile()
    sgan.build_optimizers()
    g_before = snapshot(sgan.generator.trainable_variables)
    d_before = snapshot(sgan.discriminator.trainable_variables)
    tf.function(sgan.discriminator_step)(images, images[:4], labels[:4])
    assert not any(changed(g_before, sgan.generator.trainable_variables))
    assert all(changed(d_before, sgan.discriminator.trainable_variables))
    d_before = snapshot(sgan.discriminator.trainable_variables)
    tf.function(sgan.generator_step)(images)
    assert not any(changed(d_before, sgan.discriminator.trainable_variables))
    assert all(changed(g_before, sgan.generator.trainable_variables))


def test_labels_outside_the_subset_never_change_training():
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=5)
    scrambled = labels.copy()
    outside = np.setdiff1d(np.arange(len(labels)), keep)
    scrambled[outside] = np.random.default_rng(9).permutation(scrambled[outside])
    scrambled[outside[:5]] = 99  # not even a valid class
    weights = []
    for these_labels in (labels, scrambled):
        keras.utils.set_random_seed(7)
        sgan = make_sgan()
        sgan.compile(run_eagerly=True)  # eager: the same steps, without tracing them twice
        sgan.fit(dataset(images, these_labels, keep), epochs=1, verbose=0)
        weights.append(sgan.discriminator.get_weights() + sgan.generator.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_evaluate_reports_accuracy_and_error_and_classifier_predicts():
    images, labels = arrays(10)
    sgan = make_sgan()
    sgan.compile()
    result = sgan.evaluate(images, labels, batch_size=4, verbose=0, return_dict=True)
    predicted = sgan.predict_labels(images)
    assert predicted.shape == (10,) and predicted.dtype == np.int64
    accuracy = float(np.mean(predicted == labels))
    assert result["accuracy"] == pytest.approx(accuracy)
    assert result["error"] == pytest.approx(1.0 - accuracy)

    classifier = sgan.classifier
    assert classifier is sgan.classifier
    assert classifier.predict(images, verbose=0).shape == (10, CLASSES)
    classifier.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    scores = classifier.evaluate(images, labels, verbose=0, return_dict=True)
    assert scores["sparse_categorical_accuracy"] == pytest.approx(accuracy)
    # Shares the discriminator's weights and adds none to the model.
    assert {id(v) for v in classifier.weights} <= {id(v) for v in sgan.discriminator.weights}
    assert len(sgan.weights) == len(sgan.generator.weights) + len(sgan.discriminator.weights)


def test_generate_gives_images_in_range():
    out = make_sgan().generate(3)
    assert out.shape == (3, *SHAPE) and out.min() >= -1 and out.max() <= 1


def test_fit_under_two_replicas_gives_finite_losses(two_replicas):
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    with two_replicas.scope():
        sgan = make_sgan()
        sgan.compile()
        sgan.build_optimizers()
    history = sgan.fit(dataset(images, labels, keep), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_classes": 1}, "num_classes must be"),
        ({"num_classes": 4}, "num_classes=4 does not match"),
        ({"latent_dim": 9}, "latent_dim=9 does not match"),
        ({"feature_layer": "nope"}, "feature_layer='nope'"),
        ({"unlabelled_weight": -1.0}, "unlabelled_weight"),
        ({"feature_matching": "yes"}, "feature_matching"),
        ({"noise": "gaussian"}, "noise must be"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    generator = nets.sgan_generator(LATENT, SHAPE, hidden_units=(8,))
    discriminator = nets.sgan_discriminator(SHAPE, num_classes=CLASSES, hidden_units=(8,))
    kwargs = {"num_classes": CLASSES, **kwargs}
    with pytest.raises(ValueError, match=match):
        SemiSupervisedGAN(generator, discriminator, **kwargs)


def test_noise_is_uniform_by_default_as_in_the_reference_code():
    uniform = np.array(make_sgan().sample_noise(2000))
    assert uniform.min() >= 0.0 and uniform.max() < 1.0 and abs(uniform.mean() - 0.5) < 0.02
    normal = np.array(make_sgan(noise="normal").sample_noise(2000))
    assert normal.min() < 0.0 and abs(normal.mean()) < 0.05


def test_default_discriminator_optimizer_averages_weights_into_the_model():
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    sgan = make_sgan()
    sgan.compile(run_eagerly=True)  # fit's end copies the average in either way
    assert sgan.d_optimizer.use_ema and not sgan.g_optimizer.use_ema
    sgan.fit(dataset(images, labels, keep), epochs=1, verbose=0)
    averages = sgan.d_optimizer._model_variables_moving_average
    for variable, average in zip(sgan.discriminator.trainable_variables, averages):
        np.testing.assert_array_equal(np.array(variable), np.array(average))


def test_fit_without_labelled_batches_is_a_clear_error():
    images, _ = arrays(8)
    sgan = make_sgan()
    sgan.compile()
    with pytest.raises(ValueError, match="semi_supervised_dataset"):
        sgan.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1, verbose=0)


def test_conditional_entropy_values():
    uniform = np.zeros((2, 4), "float32")
    assert float(sgan_module.conditional_entropy(uniform)) == pytest.approx(np.log(4.0), rel=1e-6)
    p = np.array([0.7, 0.2, 0.1])
    logits = np.log(p)[None].astype("float32") + 5.0  # shift-invariant
    assert float(sgan_module.conditional_entropy(logits)) == pytest.approx(-(p * np.log(p)).sum(), rel=1e-5)
    assert float(sgan_module.conditional_entropy(np.array([[50.0, 0.0, 0.0]], "float32"))) < 1e-12 + 1e-18


def test_entropy_weight_adds_the_entropy_of_the_unlabelled_batch_to_d_loss():
    images, labels = arrays(8)
    keep = np.arange(4)
    losses = {}
    for weight in (0.0, 2.0):
        keras.utils.set_random_seed(0)
        generator = nets.sgan_generator(LATENT, SHAPE, hidden_units=(8,))
        discriminator = nets.sgan_discriminator(
            SHAPE, num_classes=CLASSES, hidden_units=(16, 8), input_noise=0.0, hidden_noise=0.0
        )
        sgan = SemiSupervisedGAN(generator, discriminator, num_classes=CLASSES, seed=3, entropy_weight=weight)
        sgan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
        d_loss, supervised, unsupervised, _ = sgan.discriminator_step(images, images[keep], labels[keep])
        losses[weight] = float(d_loss)
        entropy = float(sgan_module.conditional_entropy(discriminator(images)))
        assert float(d_loss) == pytest.approx(float(supervised) + float(unsupervised) + weight * entropy, rel=1e-5)
    assert losses[2.0] > losses[0.0]
    assert SemiSupervisedGAN.from_config(sgan.get_config()).entropy_weight == 2.0
    with pytest.raises(ValueError, match="entropy_weight"):
        make_sgan(entropy_weight=-1.0)


@keras.saving.register_keras_serializable(package="zoo_tests")
class CountingAugment(keras.layers.Layer):
    """Counts the batches it is applied to (a variable, so graph calls count too)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

    def call(self, images):
        self.calls.assign_add(1.0)
        return images


def test_augment_sees_every_discriminator_batch_of_both_updates():
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    counter = CountingAugment()
    sgan = make_sgan(augment=counter)
    sgan.compile()
    sgan.fit(dataset(images, labels, keep), epochs=1, verbose=0)  # 48 / 8 = 6 steps
    # D: labelled, unlabelled and fake batches; G (feature matching): fake and real.
    assert float(counter.calls.numpy()) == 6 * 5


def test_generator_learns_through_a_shift_augmentation():
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    sgan = make_sgan(augment=layers.RandomShift(1))
    sgan.compile()
    before = snapshot(sgan.generator.trainable_variables)
    history = sgan.fit(dataset(images, labels, keep), epochs=1, verbose=0)
    assert all(changed(before, sgan.generator.trainable_variables))
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_augment_that_erases_the_images_cuts_the_generator_off():
    """The fake batch of the generator's update passes through `augment`."""
    images, labels = arrays()
    keep = data.labelled_subset(labels, per_class=2, seed=0)
    sgan = make_sgan(augment=lambda x: x * 0.0)
    sgan.compile()
    before = snapshot(sgan.generator.trainable_variables)
    sgan.fit(dataset(images, labels, keep), epochs=1, verbose=0)
    assert not any(changed(before, sgan.generator.trainable_variables))


def test_config_round_trip_keeps_the_augmentation():
    sgan = make_sgan(augment=layers.RandomShift(2, fill_value=0.0))
    clone = SemiSupervisedGAN.from_config(sgan.get_config())
    assert isinstance(clone.augment, layers.RandomShift)
    assert (clone.augment.max_shift, clone.augment.fill_value) == (2, 0.0)
    assert make_sgan().get_config()["augment"] is None
    assert SemiSupervisedGAN.from_config(make_sgan().get_config()).augment is None


def test_augment_that_is_not_callable_is_named():
    with pytest.raises(ValueError, match="augment must be None or a callable"):
        make_sgan(augment=2)


def test_generate_draws_the_prior_or_checks_the_noise_given():
    model = make_sgan(noise="uniform")
    z = model.noise_for(200)
    assert z.shape == (200, LATENT) and float(np.min(z)) >= 0.0 and float(np.max(z)) < 1.0  # the uniform prior
    assert model.generate(np.zeros((2, LATENT), "float32")).shape == (2, *SHAPE)
    with pytest.raises(ValueError, match=r"noise must have shape \(n, 4\)"):
        model.generate(np.zeros((2, LATENT + 1), "float32"))
    with pytest.raises(ValueError, match="number of samples must be positive"):
        model.generate(0)
