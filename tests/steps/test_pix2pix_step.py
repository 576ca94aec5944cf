"""Pix2Pix's training step against Isola et al. 2017, and colourisation as pix2pix on L -> ab.

Each test runs `Pix2Pix.train_step` (through `train_on_batch`) with SGD on tiny
tapped nets (zoo's own U-Net and PatchGAN, dropout off: batch norm in training
mode is deterministic), then recomputes here what the paper prescribes:

- D judges (source, image) pairs: `L_D = 1/2 [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)]`
  (the paper's reference code halves D's objective);
- G minimises `L_GAN = BCE(D(x, G(x)), 1)` (the non-saturating form) plus
  `lambda * |y - G(x)|_1`, lambda = 100.

zoo runs the generator's update first (on D at its pre-step weights) and then
the discriminator's (on the generator's pre-step fake); the paper's code does D
first and then G on the updated D. Both alternate one step each; this file pins
zoo's order (see `test_step_updates_both_players_by_the_papers_gradients`).
"""


import keras
import numpy as np
import pytest
from keras import ops

import zoo
from step_harness import (
    assert_sgd_update,
    assign,
    bce_with_logits,
    gradients,
    records,
    tapped,
    values,
)
from zoo.models import Pix2Pix

SIZE = 8
BATCH = 2


def lab_pairs(n=BATCH, seed=0):
    """(L, ab) colourisation pairs, made by zoo's own Lab conversion of random RGB."""
    rgb = np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    lightness, ab = zoo.data.rgb_to_model_lab(rgb)
    return np.asarray(lightness, "float32"), np.asarray(ab, "float32")


def unet(seed=0):
    keras.utils.set_random_seed(seed)
    return zoo.nets.unet_generator(
        input_channels=1, output_channels=2, num_downsamples=2, base_filters=3, dropout=0.0, image_size=SIZE
    )


def patch_gan(seed=1):
    keras.utils.set_random_seed(seed)
    return zoo.nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=3, num_layers=1, image_size=SIZE
    )


def make(generator_lr=1.0, discriminator_lr=0.5, **kwargs):
    generator, discriminator = unet(), patch_gan()
    model = Pix2Pix(tapped(generator), tapped(discriminator), seed=3, **kwargs)
    model.compile(
        d_optimizer=keras.optimizers.SGD(discriminator_lr), g_optimizer=keras.optimizers.SGD(generator_lr)
    )
    return model, generator, discriminator


# The papers' losses on logits l.
def d_loss_of(loss, real, fake):
    if loss == "non_saturating":  # Isola 2017, eq. 1, D's half; halved as in the paper's code
        return 0.5 * (ops.mean(bce_with_logits(1.0, real)) + ops.mean(bce_with_logits(0.0, fake)))
    if loss == "least_squares":  # Mao 2017, eq. 2 (a=0, b=1): already carries 1/2, not halved again
        return 0.5 * ops.mean((real - 1.0) ** 2) + 0.5 * ops.mean(fake**2)
    raise AssertionError(loss)


def g_adversarial_of(loss, fake):
    if loss == "non_saturating":  # max log D(x, G(x))
        return ops.mean(bce_with_logits(1.0, fake))
    if loss == "least_squares":  # Mao 2017, eq. 2 (c=1), with its 1/2
        return 0.5 * ops.mean((fake - 1.0) ** 2)
    raise AssertionError(loss)


def l1(target, predicted):
    return ops.mean(ops.abs(target - predicted))


def train_once(model, source, target):
    """One training step on one batch of pairs, through `fit`; returns the logs as floats.

    (The harness's `train_once` goes through `train_on_batch(x, y)`, which hands the step
    `(x, y, None)`: Pix2Pix takes `(source, target)` pairs only, as `fit` gives them.)
    """
    history = model.fit(source, target, batch_size=len(source), epochs=1, shuffle=False, verbose=0)
    return {k: float(v[-1]) for k, v in history.history.items()}


def number(x):
    return float(ops.convert_to_numpy(x))


@pytest.mark.parametrize(
    "loss, weights",
    [
        ("non_saturating", {"reconstruction_weight": 7.0, "adversarial_weight": 0.6}),
        ("least_squares", {"reconstruction_weight": 3.0, "adversarial_weight": 1.7}),
        ("non_saturating", {}),  # the paper's lambda = 100, adversarial weight 1
    ],
)
def test_step_updates_both_players_by_the_papers_gradients(loss, weights):
    lam = weights.get("reconstruction_weight", 100.0)
    adversarial = weights.get("adversarial_weight", 1.0)
    g_lr, d_lr = 1.0, 0.5
    model, generator, discriminator = make(g_lr, d_lr, loss=loss, **weights)
    source, target = lab_pairs()
    g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    logs = train_once(model, source, target)
    g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)

    # One generator pass; every image D judges comes with its source.
    (g_source,) = records(model.generator)
    np.testing.assert_allclose(g_source, source, atol=1e-6)
    d_sources = records(model.discriminator, 0)
    judged = records(model.discriminator, 1)
    assert len(d_sources) == 3
    for seen in d_sources:  # conditional: every judged image is paired with its own source
        np.testing.assert_allclose(seen, source, atol=1e-6)
    assign(generator.trainable_variables, g0)
    assign(discriminator.trainable_variables, d0)
    source, target = ops.convert_to_tensor(source), ops.convert_to_tensor(target)  # D takes a list of tensors
    fake0 = ops.convert_to_tensor(generator(source, training=True))
    # The target once, the pre-update generator's fake twice (G's loss, D's update); the order is the step's.
    expected = [ops.convert_to_numpy(target), ops.convert_to_numpy(fake0), ops.convert_to_numpy(fake0)]
    assert len(judged) == 3
    for image in judged:
        match = [i for i, e in enumerate(expected) if np.allclose(image, e, atol=1e-5)]
        assert match, "D judged an image the paper's step does not give it"
        expected.pop(match[0])

    # G: adversarial_weight * L_GAN + lambda * L1, on D at its pre-step weights (zoo's order: G first).
    def g_loss_fn():
        fake = generator(source, training=True)
        return adversarial * g_adversarial_of(loss, discriminator([source, fake], training=True)) + lam * l1(
            target, fake
        )

    assert_sgd_update(g0, g1, gradients(g_loss_fn, generator.trainable_variables), g_lr, what="generator")
    fake_logits_g = discriminator([source, fake0], training=True)
    assert logs["g_loss"] == pytest.approx(number(g_adversarial_of(loss, fake_logits_g)), rel=1e-4)
    assert logs["recon_loss"] == pytest.approx(number(l1(target, fake0)), rel=1e-4)

    # D: the halved loss on (source, target) against (source, G0(source)); real and fake in separate passes.
    def d_loss_fn():
        return d_loss_of(
            loss, discriminator([source, target], training=True), discriminator([source, fake0], training=True)
        )

    assert_sgd_update(d0, d1, gradients(d_loss_fn, discriminator.trainable_variables), d_lr, what="discriminator")
    real_logits = discriminator([source, target], training=True)
    fake_logits = discriminator([source, fake0], training=True)
    assert logs["d_loss"] == pytest.approx(number(d_loss_fn()), rel=1e-4)
    score = ops.sigmoid if loss == "non_saturating" else (lambda x: x)
    assert logs["d_real"] == pytest.approx(number(ops.mean(score(real_logits))), rel=1e-4, abs=1e-6)
    assert logs["d_fake"] == pytest.approx(number(ops.mean(score(fake_logits))), rel=1e-4, abs=1e-6)
    assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 1


def test_defaults_are_the_papers():
    """Isola 2017, section 3.3 and 4: lambda = 100, L1, the non-saturating GAN loss, Adam(2e-4, 0.5)."""
    model = Pix2Pix(unet(), patch_gan())
    assert (model.reconstruction_weight, model.adversarial_weight) == (100.0, 1.0)
    assert (model.loss_name, model.reconstruction) == ("non_saturating", "l1")
    model.compile()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert number(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5


@pytest.mark.parametrize("reconstruction", ["l1", "l2"])
def test_regression_phase_is_the_generator_alone_on_the_weighted_reconstruction(reconstruction):
    """Colourisation's pre-training (L1, DeOldify's "NoGAN") and the L2 baseline: no D, no GAN term."""
    weight = 2.5
    generator = unet()
    model = Pix2Pix(tapped(generator), None, reconstruction=reconstruction, reconstruction_weight=weight,
                    adversarial_weight=0.0)
    model.compile(g_optimizer=keras.optimizers.SGD(1.0))
    source, target = lab_pairs(seed=1)
    g0 = values(generator.trainable_variables)
    logs = train_once(model, source, target)
    assert set(logs) == {"g_loss", "recon_loss"}
    g1 = values(generator.trainable_variables)
    assign(generator.trainable_variables, g0)

    def error(predicted):
        diff = target - predicted
        return ops.mean(ops.abs(diff)) if reconstruction == "l1" else ops.mean(diff**2)

    grads = gradients(lambda: weight * error(generator(source, training=True)), generator.trainable_variables)
    assert_sgd_update(g0, g1, grads, what="generator")
    assert logs["recon_loss"] == pytest.approx(number(error(generator(source, training=True))), rel=1e-4)
    assert logs["g_loss"] == 0.0


# One-line changes a reader of the paper would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/pix2pix.py", "return 0.5 * d_loss  # the paper halves D's objective",
     "return d_loss  # the paper halves D's objective", "D's loss not halved"),
    ("zoo/models/pix2pix.py", "total = self.reconstruction_weight * recon_loss",
     "total = recon_loss", "lambda dropped from the L1 term"),
    ("zoo/models/pix2pix.py", "total = total + self.adversarial_weight * g_loss",
     "total = total + g_loss", "adversarial weight dropped"),
    ("zoo/models/pix2pix.py", "fake_logits = self.discriminator([source, fake], training=True)",
     "fake_logits = self.discriminator([target, fake], training=True)",
     "D judges the fake against the wrong condition"),
    ("zoo/models/pix2pix.py", "real_logits = self.discriminator([source, target], training=True)",
     "real_logits = self.discriminator([source, target], training=False)",
     "D's real pass not in training mode"),
    ("zoo/models/pix2pix.py", "fake = self.generator(source, training=True)",
     "fake = self.generator(source, training=False)", "generator not in training mode in its update"),
    ("zoo/losses.py", "if kind == \"l1\":", "if kind == \"l2\":", "L1 and L2 swapped"),
    ("zoo/models/pix2pix.py", "reconstruction_weight=100.0,", "reconstruction_weight=10.0,",
     "default lambda not the paper's 100"),
    ("zoo/models/pix2pix.py",
     "return engine.update(self.d_optimizer, self.discriminator.trainable_variables, loss)",
     "return engine.update(self.g_optimizer, self.discriminator.trainable_variables, loss)",
     "D updated by G's optimizer"),
    ("zoo/models/pix2pix.py",
     "d_loss, real_logits, fake_logits = self.discriminator_step(source, target, ops.stop_gradient(fake))",
     "d_loss, real_logits, fake_logits = self.discriminator_step(source, target, self.generator(source))",
     "D judges the updated generator's fake"),
]
