"""SemiSupervisedGAN's training step against its papers.

Salimans et al. 2016 ("Improved Techniques for Training GANs", sec. 3.1 and 5): the
discriminator is a K+1-class classifier written as K logits l with the fake class's logit
fixed at 0, so p(k | x) = exp(l_k) / (1 + sum_j exp(l_j)) and p(fake | x) = 1 / (1 + sum_j exp(l_j)).
It minimises

    L_supervised   = -E_(x, y) log p(y | x, y < K + 1)                        (labelled batch)
    L_unsupervised = -E_x log(1 - p(fake | x)) - E_z log p(fake | G(z))       (unlabelled, fakes)

as L_supervised + unlabelled_weight L_unsupervised (+ entropy_weight times the conditional
entropy of p(k | x, real) on the unlabelled batch, Dai et al. 2017, sec. 5). The generator
matches the batch means of the discriminator's intermediate features f (feature matching) or
minimises -E log(1 - p(fake | G(z))) (non-saturating). With `augment` (DiffAugment, Zhao et al.
2020) every batch the discriminator sees, in both updates, goes through the same
differentiable augmentation.

Each test runs `train_on_batch((unlabelled, labelled, labels))` with SGD at learning rate 1
on tiny nets and recomputes here, from those formulas, every logged value and weight change.
The discriminator carries a `Tap` on its input inside the net itself (not in a wrapper), so
that `feature_layer` is one of its layers and the model's feature extractor, which shares
the layers, is recorded too.
"""

import keras
import numpy as np
import pytest
from keras import layers, ops

from step_harness import (
    Tap,
    assert_sgd_update,
    assign,
    dense_generator,
    gradients,
    records,
    reset_taps,
    sgd,
    tapped,
    values,
)
from zoo.models import SemiSupervisedGAN

LATENT = 3
SHAPE = (4, 4, 1)
CLASSES = 3
HIDDEN = 5
UNLABELLED = 4
LABELLED = 3  # another size than the unlabelled batch: a batch mixed up shows


class Discriminator:
    """images -> Tap -> flatten -> tanh(dense) "features" -> K logits, and its parts.

    `features(x)` and `logits(x)` call the same layers (same weights) without the tap,
    for the test's own computations.
    """

    def __init__(self, seed=1):
        init = lambda s: keras.initializers.RandomNormal(stddev=0.5, seed=s)  # noqa: E731
        self.flatten = layers.Flatten()
        self.hidden = layers.Dense(
            HIDDEN, activation="tanh", kernel_initializer=init(seed), bias_initializer=init(seed + 10), name="features"
        )
        self.head = layers.Dense(CLASSES, kernel_initializer=init(seed + 20), bias_initializer=init(seed + 30), name="logits")
        images = keras.Input(SHAPE, name="images")
        self.net = keras.Model(images, self.head(self.hidden(self.flatten(Tap(name="tap_images")(images)))),
                               name="discriminator")

    def features(self, x):
        return self.hidden(self.flatten(ops.convert_to_tensor(x, "float32")))

    def logits(self, x):
        return self.head(self.features(x))


def augment(images):
    """A deterministic differentiable augmentation (shift by one column, rescale), so
    the test can recompute it; the model must treat it as it treats DiffAugment."""
    return 0.8 * ops.roll(images, 1, axis=2) + 0.1


def make(**kwargs):
    generator = dense_generator(LATENT, SHAPE)
    d = Discriminator()
    model = SemiSupervisedGAN(tapped(generator), d.net, num_classes=CLASSES, seed=3, **kwargs)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return model, generator, d


def batches(seed=0):
    rng = np.random.default_rng(seed)
    unlabelled = rng.uniform(-1, 1, (UNLABELLED, *SHAPE)).astype("float32")
    labelled = rng.uniform(-1, 1, (LABELLED, *SHAPE)).astype("float32")
    labels = np.array([2, 0, 1], "int32")
    return unlabelled, labelled, labels


def train_once(model, data):
    """One step through `train_on_batch`; its (x, y, sample_weight) is the model's 3-tuple."""
    model.reset_metrics()
    logs = model.train_on_batch(*data, return_dict=True)
    return {k: float(np.asarray(ops.convert_to_numpy(v))) for k, v in logs.items()}


def as_numpy(t):
    return np.asarray(ops.convert_to_numpy(t))


# -- the papers' losses, from the K+1-class classifier ------------------------------


def log_probs_k_plus_one(logits):
    """log p(k | x) for k = 1..K and, last, the fake class (its logit fixed at 0)."""
    zeros = ops.zeros((ops.shape(logits)[0], 1))
    return ops.log_softmax(ops.concatenate([logits, zeros], axis=-1), axis=-1)


def supervised(logits, labels):
    """-E log p(y | x, y < K + 1): the fake class conditioned away."""
    log_p = ops.log_softmax(logits, axis=-1)
    return -ops.mean(ops.sum(ops.one_hot(labels, CLASSES) * log_p, axis=-1))


def unsupervised(real_logits, fake_logits):
    """-E_x log(1 - p(fake | x)) - E_z log p(fake | G(z))."""
    p_fake_real = ops.exp(log_probs_k_plus_one(real_logits)[:, CLASSES])
    return -ops.mean(ops.log(1.0 - p_fake_real)) - ops.mean(log_probs_k_plus_one(fake_logits)[:, CLASSES])


def entropy(logits):
    """Dai et al. 2017: mean entropy of p(k | x, real) = softmax over the K classes."""
    p = ops.softmax(logits, axis=-1)
    return -ops.mean(ops.sum(p * ops.log(p), axis=-1))


def feature_matching(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 over the batch means, averaged over the features as in the
    reference code (the paper writes the sum; current behaviour, a constant factor)."""
    return ops.mean((ops.mean(real_features, axis=0) - ops.mean(fake_features, axis=0)) ** 2)


def non_saturating(fake_logits):
    """-E_z log D(G(z)) with D = 1 - p(fake | .)."""
    return -ops.mean(ops.log(1.0 - ops.exp(log_probs_k_plus_one(fake_logits)[:, CLASSES])))


UNLABELLED_WEIGHT = 0.4
ENTROPY_WEIGHT = 0.7


@pytest.mark.parametrize("feature_matching_on, noise", [(True, "uniform"), (False, "normal")],
                         ids=["feature_matching", "non_saturating"])
def test_both_updates_follow_the_papers_gradients(feature_matching_on, noise):
    model, generator, d = make(
        feature_matching=feature_matching_on, unlabelled_weight=UNLABELLED_WEIGHT,
        entropy_weight=ENTROPY_WEIGHT, augment=augment, noise=noise,
    )
    unlabelled, labelled, labels = data = batches()
    g0, d0 = values(generator.trainable_variables), values(d.net.trainable_variables)
    logs = train_once(model, data)
    g1, d1 = values(generator.trainable_variables), values(d.net.trainable_variables)

    zs = records(model.generator)
    seen = records(d.net)
    assert len(zs) == 2, "one noise batch for D's fakes, a fresh one for G's update"
    for z in zs:
        assert z.shape == (UNLABELLED, LATENT), "as many fakes as unlabelled images"
        if noise == "uniform":  # the reference code's U[0, 1) noise
            assert z.min() >= 0.0 and z.max() < 1.0
        else:
            assert z.min() < 0.0
    assert not np.allclose(zs[0], zs[1])
    # D's update: labelled, unlabelled, fake; G's: (real features), fake; all augmented.
    assert len(seen) == (5 if feature_matching_on else 4)
    lab_in, unl_in, fake_in = seen[:3]
    np.testing.assert_allclose(lab_in, as_numpy(augment(labelled)), atol=1e-6)
    np.testing.assert_allclose(unl_in, as_numpy(augment(unlabelled)), atol=1e-6)
    assign(generator.trainable_variables, g0)
    np.testing.assert_allclose(fake_in, as_numpy(augment(generator(zs[0]))), atol=1e-5)

    # D's update, from the pre-step weights.
    assign(d.net.trainable_variables, d0)

    def d_loss_fn():
        real_logits = d.logits(unl_in)
        return (
            supervised(d.logits(lab_in), labels)
            + UNLABELLED_WEIGHT * unsupervised(real_logits, d.logits(fake_in))
            + ENTROPY_WEIGHT * entropy(real_logits)
        )

    expected = dict(
        d_loss=float(as_numpy(d_loss_fn())),
        supervised_loss=float(as_numpy(supervised(d.logits(lab_in), labels))),
        unsupervised_loss=float(as_numpy(unsupervised(d.logits(unl_in), d.logits(fake_in)))),
        accuracy=float(np.mean(np.argmax(as_numpy(d.logits(lab_in)), -1) == labels)),
    )
    assert_sgd_update(d0, d1, gradients(d_loss_fn, d.net.trainable_variables), what="discriminator")

    # G's update, on D at its new weights, through the augmentation.
    assign(d.net.trainable_variables, d1)
    if feature_matching_on:
        real_in = seen[3]
        np.testing.assert_allclose(real_in, as_numpy(augment(unlabelled)), atol=1e-6)  # the unlabelled batch
        real_features = d.features(real_in)

        def g_loss_fn():
            return feature_matching(real_features, d.features(augment(generator(zs[1], training=True))))
    else:

        def g_loss_fn():
            return non_saturating(d.logits(augment(generator(zs[1], training=True))))

    np.testing.assert_allclose(seen[-1], as_numpy(augment(generator(zs[1]))), atol=1e-5)
    assert_sgd_update(g0, g1, gradients(g_loss_fn, generator.trainable_variables), what="generator")
    expected["g_loss"] = float(as_numpy(g_loss_fn()))

    assert set(logs) == set(expected)
    for key, value in expected.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key


def test_feature_matching_reads_the_named_layer():
    """The matched features are the output of `feature_layer`, here the hidden layer
    (not the logits): with feature_layer="logits" the generator's update differs."""
    model, generator, d = make(feature_layer="logits")
    unlabelled, labelled, labels = data = batches(seed=1)
    g0 = values(generator.trainable_variables)
    logs = train_once(model, data)
    g1 = values(generator.trainable_variables)
    zs = records(model.generator)
    real_in = records(d.net)[3]
    np.testing.assert_allclose(real_in, unlabelled, atol=1e-6)  # no augmentation by default
    assign(generator.trainable_variables, g0)
    real = d.logits(real_in)
    loss_fn = lambda: feature_matching(real, d.logits(generator(zs[1], training=True)))  # noqa: E731
    assert_sgd_update(g0, g1, gradients(loss_fn, generator.trainable_variables), what="generator")
    assert logs["g_loss"] == pytest.approx(float(as_numpy(loss_fn())), rel=1e-4, abs=1e-6)


def test_defaults_and_the_discriminators_weight_average():
    """Salimans et al.'s code tests with an exponential moving average of D's weights; zoo
    keeps it in D's optimizer and copies it into D when `fit` ends. Defaults:
    unlabelled_weight 1, entropy 0, feature matching on "features", U[0, 1) noise,
    Adam(1e-3, beta_1 0.5) for both players, D's with the average (momentum 0.999)."""
    model = SemiSupervisedGAN(dense_generator(LATENT, SHAPE), Discriminator().net, num_classes=CLASSES)
    assert (model.unlabelled_weight, model.entropy_weight, model.feature_matching, model.feature_layer, model.noise,
            model.augment) == (1.0, 0.0, True, "features", "uniform", None)
    model.compile()
    for optimizer, ema in ((model.d_optimizer, True), (model.g_optimizer, False)):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(as_numpy(optimizer.learning_rate)) == pytest.approx(1e-3)
        assert optimizer.beta_1 == 0.5 and optimizer.use_ema is ema
    assert model.d_optimizer.ema_momentum == 0.999

    # The average through `fit`: a_1 = w_1, a_t = m a_(t-1) + (1 - m) w_t (Keras's EMA,
    # started at the first update's weights), copied into D when fit ends; G keeps its own.
    momentum = 0.6
    generator = dense_generator(LATENT, SHAPE)
    d = Discriminator()
    model = SemiSupervisedGAN(generator, d.net, num_classes=CLASSES, seed=3)
    model.compile(d_optimizer=keras.optimizers.SGD(0.5, use_ema=True, ema_momentum=momentum),
                  g_optimizer=keras.optimizers.SGD(0.5))
    rng = np.random.default_rng(2)
    n = 3 * UNLABELLED
    unlabelled = rng.uniform(-1, 1, (n, *SHAPE)).astype("float32")
    labelled = rng.uniform(-1, 1, (n, *SHAPE)).astype("float32")
    labels = (np.arange(n) % CLASSES).astype("int32")
    after_each = []

    def after_batch(batch, logs):
        if hasattr(model, "jax_state_sync"):  # JAX's fit hands the weights back to the variables only on request
            model.jax_state_sync()
        after_each.append((values(d.net.trainable_variables), values(generator.trainable_variables)))

    keep = keras.callbacks.LambdaCallback(on_train_batch_end=after_batch)
    model.fit(unlabelled, labelled, sample_weight=labels, batch_size=UNLABELLED, shuffle=False, epochs=1,
              verbose=0, callbacks=[keep])
    assert len(after_each) == 3
    average = after_each[0][0]
    for weights, _ in after_each[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights)]
    for expected, got in zip(average, values(d.net.trainable_variables)):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert not np.allclose(average[0], after_each[-1][0][0])
    for expected, got in zip(after_each[-1][1], values(generator.trainable_variables)):
        np.testing.assert_array_equal(got, expected)


# One-line changes a reader of the papers would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/semi_supervised_gan.py",
     "d_loss = supervised + self.unlabelled_weight * unsupervised",
     "d_loss = supervised + unsupervised",
     "unlabelled_weight dropped"),
    ("zoo/models/semi_supervised_gan.py",
     "d_loss = d_loss + self.entropy_weight * conditional_entropy(real_logits)",
     "d_loss = d_loss + self.entropy_weight * conditional_entropy(labelled_logits)",
     "conditional entropy on the labelled batch instead of the unlabelled one"),
    ("zoo/losses.py",  # the paper's losses live there
     "return -ops.mean(ops.sum(ops.exp(log_p) * log_p, axis=-1))",
     "return ops.mean(ops.sum(ops.exp(log_p) * log_p, axis=-1))",
     "entropy maximised instead of minimised"),
    ("zoo/losses.py",  # the paper's losses live there
     "return -ops.mean(real) + ops.mean(ops.softplus(real)) + ops.mean(ops.softplus(fake))",
     "return ops.mean(ops.softplus(real)) + ops.mean(ops.softplus(fake))",
     "unsupervised loss: -log D(x) written as -log(1 - D(x))"),
    ("zoo/losses.py",  # the paper's losses live there
     'real = ops.mean(ops.cast(real_features, "float32"), axis=0)',
     'real = ops.cast(real_features, "float32")',
     "feature matching per example instead of on the batch means"),
    ("zoo/losses.py",  # the paper's losses live there
     "return ops.mean(ops.softplus(-ops.logsumexp(ops.cast(fake_logits, \"float32\"), axis=-1)))",
     "return ops.mean(ops.softplus(ops.logsumexp(ops.cast(fake_logits, \"float32\"), axis=-1)))",
     "non-saturating generator loss with the wrong sign"),
    ("zoo/models/semi_supervised_gan.py",
     "labelled_logits = self.discriminator(self._augment(labelled_images), training=True)",
     "labelled_logits = self.discriminator(labelled_images, training=True)",
     "DiffAugment: labelled batch not augmented"),
    ("zoo/models/semi_supervised_gan.py",
     "fake_images = self._augment(self.generator(self.sample_noise(batch_size), training=True))",
     "fake_images = self.generator(self.sample_noise(batch_size), training=True)",
     "DiffAugment: generator's update does not go through the augmentation"),
    ("zoo/models/semi_supervised_gan.py",
     "self.feature_extractor(self._augment(real_images), training=True)",
     "self.feature_extractor(real_images, training=True)",
     "DiffAugment: real features of feature matching not augmented"),
    ("zoo/models/semi_supervised_gan.py",
     "g_loss = self.generator_step(unlabelled_images)",
     "g_loss = self.generator_step(labelled_images)",
     "feature matching against the labelled batch"),
    ("zoo/models/semi_supervised_gan.py",
     "return self.uniform((batch_size, self.latent_dim))",
     "return self.normal((batch_size, self.latent_dim))",
     "normal noise where the reference code draws U[0, 1)"),
    ("zoo/models/base.py",
     "getattr(self, name).finalize_variable_values(variables)",
     "pass",
     "D's weight average never copied in at the end of fit"),
]
