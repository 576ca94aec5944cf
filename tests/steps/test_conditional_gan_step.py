"""ConditionalGAN's training step against its papers, in its three forms.

- concat (Mirza & Osindero 2014): D(x, y) with the label as one-hot maps joined to the image;
- projection (Miyato & Koyama 2018): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>;
- AC-GAN (Odena et al. 2017): D(x) gives a source logit and K class logits; D minimises the
  adversarial loss plus w (CE(class | real) + CE(class | fake)), G its adversarial loss plus
  w CE(class | fake), w = `auxiliary_weight`.

Both players are conditioned on the labels of the real batch (each fake is drawn for the label
of a real image of the same batch). Each test runs `train_on_batch` once with SGD at learning
rate 1 on tiny tapped nets (every input tapped, labels included) and recomputes here, from the
papers' formulas, every logged value and every weight change.
"""

import keras
import numpy as np
import pytest
from keras import layers, ops

from step_harness import (
    assert_sgd_update,
    assign,
    bce_with_logits,
    gradients,
    records,
    sgd,
    tapped,
    train_once,
    values,
)
from zoo.models import ConditionalGAN

LATENT = 3
SHAPE = (4, 4, 1)
CLASSES = 3
BATCH = 4
HIDDEN = 6


def init(seed):
    return keras.initializers.RandomNormal(stddev=0.5, seed=seed)


def conditional_generator(seed=0):
    """[noise, labels] -> tanh(dense([noise, one_hot(labels)])) -> dense -> tanh image."""
    z = keras.Input((LATENT,), name="noise")
    labels = keras.Input((), dtype="int32", name="labels")
    code = layers.CategoryEncoding(CLASSES, output_mode="one_hot")(labels)
    x = layers.Concatenate()([z, code])
    x = layers.Dense(HIDDEN, activation="tanh", kernel_initializer=init(seed), bias_initializer=init(seed + 10))(x)
    x = layers.Dense(int(np.prod(SHAPE)), kernel_initializer=init(seed + 20), bias_initializer=init(seed + 30))(x)
    x = layers.Activation("tanh")(layers.Reshape(SHAPE)(x))
    return keras.Model([z, labels], x, name="generator")


def concat_discriminator(seed=1):
    """[images, labels] -> images with K one-hot label planes -> tanh(dense) -> 1 logit."""
    images = keras.Input(SHAPE, name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    maps = layers.CategoryEncoding(CLASSES, output_mode="one_hot")(labels)
    maps = layers.UpSampling2D(SHAPE[:2])(layers.Reshape((1, 1, CLASSES))(maps))
    x = layers.Flatten()(layers.Concatenate()([images, maps]))
    x = layers.Dense(HIDDEN, activation="tanh", kernel_initializer=init(seed), bias_initializer=init(seed + 10))(x)
    logit = layers.Dense(1, kernel_initializer=init(seed + 20), bias_initializer=init(seed + 30))(x)
    return keras.Model([images, labels], logit, name="discriminator")


def projection_discriminator(seed=1):
    """[images, labels] -> h = phi(x); logit = psi(h) + <V y, h> (Miyato & Koyama 2018, eq. 3)."""
    images = keras.Input(SHAPE, name="images")
    labels = keras.Input((), dtype="int32", name="labels")
    h = layers.Flatten()(images)
    h = layers.Dense(HIDDEN, activation="tanh", kernel_initializer=init(seed), bias_initializer=init(seed + 10))(h)
    psi = layers.Dense(1, kernel_initializer=init(seed + 20), bias_initializer=init(seed + 30))(h)
    embedded = layers.Embedding(CLASSES, HIDDEN, embeddings_initializer=init(seed + 40))(labels)
    logit = layers.Add()([psi, layers.Dot(axes=1)([embedded, h])])
    return keras.Model([images, labels], logit, name="discriminator")


def auxiliary_discriminator(seed=1):
    """images -> tanh(dense) -> 1 source logit + K class logits (Odena et al. 2017)."""
    images = keras.Input(SHAPE, name="images")
    x = layers.Flatten()(images)
    x = layers.Dense(HIDDEN, activation="tanh", kernel_initializer=init(seed), bias_initializer=init(seed + 10))(x)
    logits = layers.Dense(1 + CLASSES, kernel_initializer=init(seed + 20), bias_initializer=init(seed + 30))(x)
    return keras.Model(images, logits, name="discriminator")


DISCRIMINATORS = {
    "concat": concat_discriminator,
    "projection": projection_discriminator,
    "auxiliary": auxiliary_discriminator,
}


def make(form, **kwargs):
    generator = conditional_generator()
    discriminator = DISCRIMINATORS[form]()
    model = ConditionalGAN(tapped(generator), tapped(discriminator), num_classes=CLASSES, seed=5, **kwargs)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return model, generator, discriminator


def real_batch(seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (BATCH, *SHAPE)).astype("float32")
    labels = np.array([2, 0, 1, 2], "int32")  # not arange: a label not read from the batch shows
    return images, labels


# -- the papers' losses (logits l; D = sigmoid(l)) ---------------------------------


def d_adversarial(loss, real, fake, smoothing):
    t = 1.0 - smoothing
    if loss == "non_saturating":  # Goodfellow 2014; one-sided smoothing (Salimans 2016)
        return ops.mean(bce_with_logits(t, real)) + ops.mean(bce_with_logits(0.0, fake))
    if loss == "hinge":  # Lim & Ye 2017, as Miyato & Koyama 2018 train the projection discriminator
        return ops.mean(ops.relu(t - real)) + ops.mean(ops.relu(1.0 + fake))
    raise AssertionError(loss)


def g_adversarial(loss, fake):
    if loss == "non_saturating":
        return -ops.mean(ops.log(ops.sigmoid(fake)))
    if loss == "hinge":
        return -ops.mean(fake)
    raise AssertionError(loss)


def class_nll(class_logits, labels):
    """AC-GAN's -log P(C = c | X): softmax cross-entropy of the true class, batch mean."""
    log_p = ops.log_softmax(class_logits, axis=-1)
    return -ops.mean(ops.sum(ops.one_hot(labels, CLASSES) * log_p, axis=-1))


def judge(form, discriminator, images, labels):
    """(source logits (n, 1), class logits or None) of the test's own (untapped) net."""
    if form == "auxiliary":
        logits = discriminator(images, training=True)
        return logits[:, :1], logits[:, 1:]
    images = ops.convert_to_tensor(images, "float32")
    return discriminator([images, ops.convert_to_tensor(labels, "int32")], training=True), None


CASES = {
    # form: ConditionalGAN options, every one away from its default
    "concat": dict(loss="non_saturating", label_smoothing=0.2, d_steps=2, instance_noise=0.4),
    "projection": dict(loss="hinge", label_smoothing=0.1, d_steps=2),
    "auxiliary": dict(loss="non_saturating", label_smoothing=0.2, d_steps=2, auxiliary_weight=0.3),
}


@pytest.mark.parametrize(
    "form, one_hot", [("concat", False), ("projection", True), ("auxiliary", False)],
    ids=["concat", "projection_one_hot_labels", "auxiliary"],
)
def test_each_form_updates_both_players_by_its_papers_gradient(form, one_hot):
    options = CASES[form]
    loss, smoothing, d_steps = options["loss"], options["label_smoothing"], options["d_steps"]
    weight = options.get("auxiliary_weight", 0.0)
    model, generator, discriminator = make(form, **options)
    assert model.conditioning == ("auxiliary" if form == "auxiliary" else "input")
    x, y = real_batch()
    y_in = np.eye(CLASSES, dtype="float32")[y] if one_hot else y
    g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    logs = train_once(model, x, y_in)
    g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)

    # What each net was given: noise and labels for G, images (and labels) for D.
    zs, g_labels = records(model.generator, 0), records(model.generator, 1)
    seen = records(model.discriminator, 0)
    assert len(zs) == d_steps + 1, "one noise batch per critic update, one for the generator's"
    assert len(seen) == 2 * d_steps + 1, "real and fake per critic update, then the generator's fakes"
    assert not np.allclose(zs[0], zs[1]), "every critic update draws fresh noise"
    # Each critic update takes its own real images and labels (the step's batch holds d_steps of them),
    # and its fakes are drawn for those labels; the generator's, for the last critic batch's.
    per = len(y) // d_steps
    xs = [x[k * per:(k + 1) * per] for k in range(d_steps)]
    ys = [y[k * per:(k + 1) * per] for k in range(d_steps)]
    for labels, expected in zip(g_labels, [*ys, ys[-1]]):
        np.testing.assert_array_equal(labels, expected)
    if form != "auxiliary":
        d_labels = records(model.discriminator, 1)
        assert len(d_labels) == len(seen)
        for labels, expected in zip(d_labels, [a for k in range(d_steps) for a in (ys[k], ys[k])] + [ys[-1]]):
            np.testing.assert_array_equal(labels, expected)  # real and fake judged with the critic batch's labels

    def offset(observed, clean):
        """Instance noise (Sonderby 2017) where the case has it; none otherwise."""
        noise = observed - clean
        if options.get("instance_noise"):
            assert np.std(noise) == pytest.approx(options["instance_noise"], rel=0.4)
        else:
            np.testing.assert_allclose(noise, 0.0, atol=1e-5)
        return noise

    # The critic updates, chained from D's pre-step weights, with G at its pre-step weights.
    assign(generator.trainable_variables, g0)
    weights = d0
    for k in range(d_steps):
        real_in, fake_in, yk = seen[2 * k], seen[2 * k + 1], ys[k]
        offset(real_in, xs[k])
        offset(fake_in, ops.convert_to_numpy(generator([zs[k], yk])))
        assign(discriminator.trainable_variables, weights)

        def d_loss_fn():
            real, real_classes = judge(form, discriminator, real_in, yk)
            fake, fake_classes = judge(form, discriminator, fake_in, yk)
            total = d_adversarial(loss, real, fake, smoothing)
            if form == "auxiliary":  # Odena 2017, eq. 2-3: D maximises L_S + L_C (L_C on real and fake)
                total = total + weight * (class_nll(real_classes, yk) + class_nll(fake_classes, yk))
            return total

        real, real_classes = judge(form, discriminator, real_in, yk)
        fake, _ = judge(form, discriminator, fake_in, yk)
        last = dict(
            real=ops.convert_to_numpy(real),
            fake=ops.convert_to_numpy(fake),
            d_loss=float(ops.convert_to_numpy(d_adversarial(loss, real, fake, smoothing))),
            classes=None if real_classes is None else ops.convert_to_numpy(real_classes),
        )
        grads = gradients(d_loss_fn, discriminator.trainable_variables)
        weights = [w - g for w, g in zip(weights, grads)]
    assert_sgd_update(d0, d1, [a - b for a, b in zip(d0, weights)], what="discriminator")

    # G's update on D at its new weights: the adversarial loss (+ w CE(class | fake) for AC-GAN).
    assign(discriminator.trainable_variables, d1)
    y = ys[-1]  # the generator's labels, and the last critic batch's (the logs' aux values)
    g_noise = offset(seen[-1], ops.convert_to_numpy(generator([zs[-1], y])))

    def g_loss_fn(adversarial_only=False):
        fake, fake_classes = judge(form, discriminator, generator([zs[-1], y], training=True) + g_noise, y)
        total = g_adversarial(loss, fake)
        if form == "auxiliary" and not adversarial_only:  # Odena 2017: G maximises L_C - L_S
            total = total + weight * class_nll(fake_classes, y)
        return total

    assert_sgd_update(g0, g1, gradients(g_loss_fn, generator.trainable_variables), what="generator")

    # Logs: the last critic update's adversarial loss, G's adversarial loss, D's mean scores.
    assert logs["d_loss"] == pytest.approx(last["d_loss"], rel=1e-4, abs=1e-5)
    assert logs["g_loss"] == pytest.approx(float(ops.convert_to_numpy(g_loss_fn(True))), rel=1e-4, abs=1e-5)
    score = (lambda l: 1 / (1 + np.exp(-l))) if loss == "non_saturating" else (lambda l: l)
    assert logs["d_real"] == pytest.approx(float(np.mean(score(last["real"]))), rel=1e-4, abs=1e-5)
    assert logs["d_fake"] == pytest.approx(float(np.mean(score(last["fake"]))), rel=1e-4, abs=1e-5)
    if form == "auxiliary":  # the class cross-entropy on the real images, and the accuracy of its argmax
        assert logs["aux_loss"] == pytest.approx(
            float(ops.convert_to_numpy(class_nll(last["classes"], y))), rel=1e-4, abs=1e-5
        )
        assert logs["aux_accuracy"] == pytest.approx(float(np.mean(np.argmax(last["classes"], -1) == y)))
    else:
        assert "aux_loss" not in logs and "aux_accuracy" not in logs


def test_auxiliary_weight_zero_leaves_the_class_head_alone():
    """AC-GAN with auxiliary_weight 0: only the source logit is trained, so the output
    layer's class columns do not move (the class loss is still logged)."""
    model, generator, discriminator = make("auxiliary", auxiliary_weight=0.0)
    x, y = real_batch()
    d0 = values(discriminator.trainable_variables)
    logs = train_once(model, x, y)
    d1 = values(discriminator.trainable_variables)
    kernel, bias = d0[-2], d0[-1]  # the output layer: column 0 is the source logit, 1.. the classes
    np.testing.assert_array_equal(d1[-2][:, 1:], kernel[:, 1:])
    np.testing.assert_array_equal(d1[-1][1:], bias[1:])
    assert not np.allclose(d1[-2][:, 0], kernel[:, 0])
    assert logs["aux_loss"] > 0  # still logged


# One-line changes a reader of the papers would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/conditional_gan.py",
     "total = d_loss + self.auxiliary_weight * (",
     "total = d_loss + 1.0 * (",
     "AC-GAN: auxiliary_weight dropped from the discriminator's class loss"),
    ("zoo/models/conditional_gan.py",
     "total = g_loss + self.auxiliary_weight * losses.auxiliary_classifier_loss(fake_classes, labels)",
     "total = g_loss - self.auxiliary_weight * losses.auxiliary_classifier_loss(fake_classes, labels)",
     "AC-GAN: generator pushes its fakes away from their class (sign)"),
    ("zoo/models/conditional_gan.py",
     "aux_loss + losses.auxiliary_classifier_loss(fake_classes, labels)",
     "aux_loss + 0.0 * losses.auxiliary_classifier_loss(fake_classes, labels)",
     "AC-GAN: discriminator not trained to classify the fakes"),
    ("zoo/models/conditional_gan.py",
     "fake_images = self.generator([self.sample_noise(batch_size), labels], training=True)\n\n        def loss():",
     "fake_images = self.generator([self.sample_noise(batch_size), ops.flip(labels, 0)], training=True)\n\n        def loss():",
     "fakes of the critic update drawn for labels other than the ones D judges them with"),
    ("zoo/models/conditional_gan.py",
     "fake_logits, fake_classes = self._discriminate(fake_inputs, labels, True)",
     "fake_logits, fake_classes = self._discriminate(fake_inputs, ops.flip(labels, 0), True)",
     "D judges the fakes with the wrong labels"),
    ("zoo/models/conditional_gan.py",
     "d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0 - self.label_smoothing)",
     "d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0)",
     "label smoothing ignored by the conditional step"),
    ("zoo/models/conditional_gan.py",
     "fake_logits, fake_classes = self._discriminate(self._noisy(fake_images), labels, True)",
     "fake_logits, fake_classes = self._discriminate(fake_images, labels, True)",
     "instance noise missing from the generator's update"),
    ("zoo/models/conditional_gan.py",
     "labels = ops.argmax(labels, axis=-1)  # one-hot",
     "labels = ops.argmin(labels, axis=-1)  # one-hot",
     "one-hot labels decoded wrongly"),
    ("zoo/models/conditional_gan.py",
     "return total, g_loss",
     "return g_loss, g_loss",
     "AC-GAN: the generator ignores the class loss"),
]
