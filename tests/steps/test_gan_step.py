"""GAN's training step against the papers: every loss, every regulariser, the bookkeeping.

Each test runs `GAN.train_step` (through `train_on_batch`) once or a few times
with SGD at learning rate 1 on tiny tapped nets, then recomputes here what the
papers prescribe from what the nets were given.
"""

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import (
    assert_sgd_update,
    assign,
    bce_with_logits,
    dense_discriminator,
    dense_generator,
    gradients,
    input_gradients,
    records,
    reset_taps,
    scalar,
    sgd,
    tapped,
    train_once,
    values,
)
from zoo.models import GAN, WGAN, WGANGP

LATENT = 3
SHAPE = (4, 4, 1)
BATCH = 4


def real_batch(n=BATCH, seed=0, shape=SHAPE):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


def make(model_class=GAN, pack=1, **kwargs):
    generator = dense_generator(LATENT, SHAPE)
    discriminator = dense_discriminator((*SHAPE[:-1], SHAPE[-1] * pack))
    model = model_class(tapped(generator), tapped(discriminator), seed=7, pack=pack, **kwargs)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return model, generator, discriminator


# The papers' losses, written from their equations (logits l, D = sigmoid(l)).
def d_loss_of(name, real, fake, smoothing=0.0):
    t = 1.0 - smoothing
    if name in ("minimax", "non_saturating"):  # Goodfellow 2014, eq. 1; smoothing: Salimans 2016
        return ops.mean(bce_with_logits(t, real)) + ops.mean(bce_with_logits(0.0, fake))
    if name == "least_squares":  # Mao 2017, eq. 2 with a=0, b=1 (b -> 1 - smoothing)
        return 0.5 * ops.mean((real - t) ** 2) + 0.5 * ops.mean(fake**2)
    if name == "hinge":  # Lim & Ye 2017
        return ops.mean(ops.relu(t - real)) + ops.mean(ops.relu(1.0 + fake))
    if name == "wasserstein":  # Arjovsky 2017, eq. 3 (the critic maximises E D(x) - E D(G(z)))
        return ops.mean(fake) - ops.mean(real)
    raise AssertionError(name)


def g_loss_of(name, fake):
    if name == "minimax":  # min log(1 - D(G(z)))
        return ops.mean(ops.log(1.0 - ops.sigmoid(fake)))
    if name == "non_saturating":  # min -log D(G(z))
        return -ops.mean(ops.log(ops.sigmoid(fake)))
    if name == "least_squares":
        return 0.5 * ops.mean((fake - 1.0) ** 2)
    if name in ("hinge", "wasserstein"):
        return -ops.mean(fake)
    raise AssertionError(name)


def check_generator_update(model, generator, discriminator, g_before, g_after, d_after, loss, z, d_input_offset=None):
    """G's change is minus the gradient of its loss on D at its new weights; returns that loss.

    `d_input_offset`: what was added to G's images before D saw them (instance noise).
    """
    assign(discriminator.trainable_variables, d_after)
    assign(generator.trainable_variables, g_before)

    def loss_fn():
        fake = generator(z, training=True)
        if d_input_offset is not None:
            fake = fake + d_input_offset
        return g_loss_of(loss, discriminator(fake, training=True))

    grads = gradients(loss_fn, generator.trainable_variables)
    assert_sgd_update(g_before, g_after, grads, what="generator")
    return float(ops.convert_to_numpy(loss_fn()))


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "hinge", "wasserstein"])
def test_each_loss_updates_both_players_by_its_papers_gradient(loss):
    smoothing = 0.2
    d_steps = 2
    kwargs = {"clip_value": 100.0} if loss == "wasserstein" else {}  # a bound no weight reaches
    model, generator, discriminator = make(loss=loss, d_steps=d_steps, label_smoothing=smoothing, **kwargs)
    x = real_batch()
    g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    logs = train_once(model, x)
    g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)

    zs = records(model.generator)
    seen = records(model.discriminator)
    assert len(zs) == d_steps + 1, "one noise batch per critic update, one for the generator's"
    assert len(seen) == 2 * d_steps + 1
    for z in zs:
        assert z.shape == (BATCH // d_steps, LATENT)  # a critic batch: the step's batch holds d_steps of them
    assert not np.allclose(zs[0], zs[1]), "every critic update draws fresh noise"

    # The discriminator's updates, in order, from its pre-step weights; the fakes come
    # from the generator at its pre-step weights (it moves only after the critic).
    weights = d0
    assign(generator.trainable_variables, g0)
    for k in range(d_steps):
        real_in, fake_in = seen[2 * k], seen[2 * k + 1]
        # Its own real batch for each critic update, as in Algorithm 1 of WGAN and WGAN-GP (issue 25).
        per = BATCH // d_steps
        np.testing.assert_allclose(real_in, x[k * per:(k + 1) * per], atol=1e-6)
        np.testing.assert_allclose(fake_in, ops.convert_to_numpy(generator(zs[k])), atol=1e-5)
        assign(discriminator.trainable_variables, weights)

        def d_loss_fn():
            return d_loss_of(loss, discriminator(real_in, training=True), discriminator(fake_in, training=True), smoothing)

        last_d_loss = float(ops.convert_to_numpy(d_loss_fn()))
        last_real = ops.convert_to_numpy(discriminator(real_in))
        last_fake = ops.convert_to_numpy(discriminator(fake_in))
        grads = gradients(d_loss_fn, discriminator.trainable_variables)
        weights = [w - g for w, g in zip(weights, grads)]
    assert_sgd_update(d0, d1, [a - b for a, b in zip(d0, weights)], what="discriminator")

    g_loss = check_generator_update(model, generator, discriminator, g0, g1, d1, loss, zs[-1])
    np.testing.assert_allclose(seen[-1], ops.convert_to_numpy(generator(zs[-1])), atol=1e-5)

    assert logs["d_loss"] == pytest.approx(last_d_loss, rel=1e-4, abs=1e-5)
    assert logs["g_loss"] == pytest.approx(g_loss, rel=1e-4, abs=1e-5)
    score = (lambda l: 1 / (1 + np.exp(-l))) if loss in ("minimax", "non_saturating") else (lambda l: l)
    assert logs["d_real"] == pytest.approx(float(np.mean(score(last_real))), rel=1e-4, abs=1e-5)
    assert logs["d_fake"] == pytest.approx(float(np.mean(score(last_fake))), rel=1e-4, abs=1e-5)


def test_label_smoothing_is_one_sided_in_the_step():
    """Salimans et al. 2016: only the real targets are smoothed; fakes keep 0, G keeps 1."""
    model, generator, discriminator = make(loss="non_saturating", label_smoothing=0.3)
    x = real_batch()
    d0 = values(discriminator.trainable_variables)
    logs = train_once(model, x)
    real_in, fake_in = records(model.discriminator)[:2]
    assign(discriminator.trainable_variables, d0)
    real = discriminator(real_in)
    fake = discriminator(fake_in)
    smoothed = float(ops.convert_to_numpy(ops.mean(bce_with_logits(0.7, real)) + ops.mean(bce_with_logits(0.0, fake))))
    both_sides = float(ops.convert_to_numpy(ops.mean(bce_with_logits(0.7, real)) + ops.mean(bce_with_logits(0.3, fake))))
    unsmoothed = float(ops.convert_to_numpy(ops.mean(bce_with_logits(1.0, real)) + ops.mean(bce_with_logits(0.0, fake))))
    assert logs["d_loss"] == pytest.approx(smoothed, rel=1e-5)
    assert abs(smoothed - both_sides) > 1e-3 and abs(smoothed - unsmoothed) > 1e-3


def test_gradient_penalty_on_per_example_interpolates():
    """Gulrajani et al. 2017, algorithm 1: L = D(x~) - D(x) + lambda (||grad D(x^)|| - 1)^2."""
    weight = 7.0
    model, generator, discriminator = make(loss="wasserstein", gradient_penalty=weight, d_steps=1)
    x = real_batch()
    g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    logs = train_once(model, x)
    g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    zs = records(model.generator)
    real_in, fake_in, mixed, g_in = records(model.discriminator)
    np.testing.assert_allclose(real_in, x, atol=1e-6)

    # x^ = a x + (1 - a) x~ with one a ~ U[0, 1] per example.
    flat = lambda t: t.reshape(len(t), -1)  # noqa: E731
    alpha = (flat(mixed) - flat(fake_in)) / (flat(real_in) - flat(fake_in))
    for a in alpha:
        np.testing.assert_allclose(a, a[0], atol=1e-3, err_msg="alpha must be one number per example")
    alpha = alpha[:, 0]
    assert np.all((alpha >= 0) & (alpha <= 1)) and np.ptp(alpha) > 1e-2, "one alpha per example, not per batch"
    np.testing.assert_allclose(mixed, alpha[:, None, None, None] * x + (1 - alpha[:, None, None, None]) * fake_in, atol=1e-5)

    assign(discriminator.trainable_variables, d0)

    def penalty_fn():
        grads = input_gradients(lambda t: discriminator(t, training=True), mixed)
        norms = ops.sqrt(ops.sum(ops.reshape(grads, (BATCH, -1)) ** 2, axis=1))
        return ops.mean((norms - 1.0) ** 2)

    def d_loss_fn():
        wasserstein = ops.mean(discriminator(fake_in, training=True)) - ops.mean(discriminator(real_in, training=True))
        return wasserstein + weight * penalty_fn()

    grads = gradients(d_loss_fn, discriminator.trainable_variables)
    penalty = float(ops.convert_to_numpy(penalty_fn()))
    wasserstein = float(ops.convert_to_numpy(d_loss_fn())) - weight * penalty
    assert_sgd_update(d0, d1, grads, what="critic")
    assert logs["gradient_penalty"] == pytest.approx(penalty, rel=1e-4)
    assert logs["d_loss"] == pytest.approx(wasserstein, rel=1e-4, abs=1e-5)  # logged without the penalty
    check_generator_update(model, generator, discriminator, g0, g1, d1, "wasserstein", zs[-1])
    np.testing.assert_allclose(g_in, ops.convert_to_numpy(generator(zs[-1])), atol=1e-5)


def r1_of(discriminator, real):
    """Mescheder et al. 2018, eq. 9 without gamma / 2: E ||grad_x D(x)||^2 on reals."""
    grads = input_gradients(lambda t: discriminator(t, training=True), real)
    return ops.mean(ops.sum(ops.reshape(grads, (ops.shape(real)[0], -1)) ** 2, axis=1))


@pytest.mark.parametrize("interval", [1, 3])
def test_r1_penalty_and_its_lazy_interval(interval):
    """R1 adds gamma/2 E||grad D(x)||^2; lazily (Karras 2020) every k steps, times k."""
    gamma = 3.0
    model, generator, discriminator = make(loss="non_saturating", r1_gamma=gamma, r1_interval=interval)
    steps = 4 if interval > 1 else 1
    due_values = []
    for step in range(steps):
        x = real_batch(seed=step)
        reset_taps(model.generator, model.discriminator)
        d0 = values(discriminator.trainable_variables)
        logs = train_once(model, x)
        d1 = values(discriminator.trainable_variables)
        seen = records(model.discriminator)
        due = step % interval == 0  # the first critic update of each interval
        assert len(seen) == (4 if due else 3), "R1 re-judges the reals only when it is due"
        real_in, fake_in = seen[0], seen[1]
        if due:
            np.testing.assert_allclose(seen[2], x, atol=1e-6)
        assign(discriminator.trainable_variables, d0)

        def d_loss_fn():
            loss = d_loss_of("non_saturating", discriminator(real_in, training=True), discriminator(fake_in, training=True))
            if due:
                loss = loss + 0.5 * gamma * interval * r1_of(discriminator, real_in)
            return loss

        assert_sgd_update(d0, d1, gradients(d_loss_fn, discriminator.trainable_variables), what=f"critic, step {step}")
        if due:
            due_values.append(float(ops.convert_to_numpy(r1_of(discriminator, real_in))))
        assign(discriminator.trainable_variables, d1)
        if due:  # logged unweighted, averaged over the steps that computed it
            assert logs["r1_penalty"] == pytest.approx(due_values[-1], rel=1e-4)
    assert len(due_values) == (2 if interval == 3 else 1)


def test_weight_clipping_after_every_critic_update():
    """Arjovsky et al. 2017, algorithm 1: w <- clip(w - lr g, -c, c) after each critic update."""
    clip = 0.3
    model, generator, discriminator = make(WGAN, clip_value=clip, d_steps=2)
    x = real_batch()
    d0 = values(discriminator.trainable_variables)
    assert max(np.abs(w).max() for w in d0) > clip, "some weights must start outside the bound"
    train_once(model, x)
    d1 = values(discriminator.trainable_variables)
    seen = records(model.discriminator)
    weights = d0
    for k in range(2):
        assign(discriminator.trainable_variables, weights)
        real_in, fake_in = seen[2 * k], seen[2 * k + 1]
        grads = gradients(
            lambda: ops.mean(discriminator(fake_in)) - ops.mean(discriminator(real_in)),
            discriminator.trainable_variables,
        )
        weights = [np.clip(w - g, -clip, clip) for w, g in zip(weights, grads)]
    for expected, got in zip(weights, d1):
        np.testing.assert_allclose(got, expected, atol=2e-5)
    assert max(np.abs(w).max() for w in d1) <= clip + 1e-7


def test_wgan_and_wgan_gp_default_to_their_papers():
    """Arjovsky 2017: c = 0.01, n_critic = 5, RMSProp(5e-5). Gulrajani 2017: lambda = 10, n_critic = 5."""
    wgan = WGAN(dense_generator(LATENT, SHAPE), dense_discriminator(SHAPE))
    assert (wgan.clip_value, wgan.d_steps, wgan.loss_name) == (0.01, 5, "wasserstein")
    wgan.compile()
    for optimizer in (wgan.d_optimizer, wgan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.RMSprop)
        assert float(ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(5e-5)
    gp = WGANGP(dense_generator(LATENT, SHAPE), dense_discriminator(SHAPE))
    assert (gp.gradient_penalty, gp.d_steps, gp.clip_value, gp.loss_name) == (10.0, 5, None, "wasserstein")
    gp.compile()
    for optimizer in (gp.d_optimizer, gp.g_optimizer):  # Gulrajani 2017, algorithm 1: Adam(1e-4, 0, 0.9)
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(1e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)


def test_wgan_gp_runs_five_critic_updates_per_generator_update_each_on_its_own_real_batch():
    """Gulrajani et al.'s Algorithm 1 (and Arjovsky et al.'s): a fresh real batch for every critic update."""
    model, generator, discriminator = make(WGANGP)
    x = real_batch(5 * 2)  # five critic batches of 2
    train_once(model, x)
    zs, seen = records(model.generator), records(model.discriminator)
    assert len(zs) == 6 and all(z.shape == (2, LATENT) for z in zs)
    assert len(seen) == 5 * 3 + 1  # real, fake, interpolates; then G's fakes
    for k in range(5):
        np.testing.assert_allclose(seen[3 * k], x[2 * k:2 * k + 2], atol=1e-6)
    assert int(model.d_optimizer.iterations) == 5 and int(model.g_optimizer.iterations) == 1

    # keras.io's variant, on request: every critic update sees the whole batch.
    model, _, _ = make(WGANGP, fresh_real_batches=False)
    train_once(model, x)
    assert all(np.allclose(records(model.discriminator)[3 * k], x, atol=1e-6) for k in range(5))
    assert records(model.generator)[0].shape == (10, LATENT)
    with pytest.raises(ValueError, match="a step's batch of 4 must be a multiple of 5: batch the data by"):
        train_once(make(WGANGP)[0], real_batch(4))


def test_pacgan_packs_neighbouring_samples_along_channels():
    """Lin et al. 2018: D judges m samples at once, concatenated along the channels."""
    model, generator, discriminator = make(pack=2, loss="non_saturating")
    x = real_batch()
    g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    train_once(model, x)
    g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)
    zs = records(model.generator)
    real_in, fake_in, g_in = records(model.discriminator)

    def pack(images):  # samples (2i, 2i+1) -> one input, channels [sample 2i, sample 2i+1]
        return np.stack([np.concatenate([images[2 * i], images[2 * i + 1]], axis=-1) for i in range(len(images) // 2)])

    np.testing.assert_allclose(real_in, pack(x), atol=1e-6)
    assign(generator.trainable_variables, g0)
    np.testing.assert_allclose(fake_in, pack(ops.convert_to_numpy(generator(zs[0]))), atol=1e-5)
    assign(discriminator.trainable_variables, d0)
    grads = gradients(
        lambda: d_loss_of("non_saturating", discriminator(real_in), discriminator(fake_in)),
        discriminator.trainable_variables,
    )
    assert_sgd_update(d0, d1, grads, what="discriminator")

    assign(discriminator.trainable_variables, d1)

    def g_loss_fn():
        images = generator(zs[-1])
        packed = ops.concatenate([images[0::2], images[1::2]], axis=-1)
        return g_loss_of("non_saturating", discriminator(packed))

    assert_sgd_update(g0, g1, gradients(g_loss_fn, generator.trainable_variables), what="generator")
    np.testing.assert_allclose(g_in, pack(ops.convert_to_numpy(generator(zs[-1]))), atol=1e-5)


def test_instance_noise_is_annealed_linearly_over_critic_updates():
    """Sonderby et al. 2017: Gaussian noise on every image D sees, its stddev annealed to 0."""
    shape = (16, 16, 2)
    stddev, decay = 0.5, 4
    generator = dense_generator(LATENT, shape)
    discriminator = dense_discriminator(shape)
    model = GAN(tapped(generator), tapped(discriminator), seed=7, instance_noise=stddev, instance_noise_decay_steps=decay)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    for step in range(decay + 1):
        x = real_batch(n=8, seed=step, shape=shape)
        reset_taps(model.generator, model.discriminator)
        g0, d0 = values(generator.trainable_variables), values(discriminator.trainable_variables)
        train_once(model, x)
        g1, d1 = values(generator.trainable_variables), values(discriminator.trainable_variables)
        zs = records(model.generator)
        real_in, fake_in, g_in = records(model.discriminator)
        assign(generator.trainable_variables, g0)
        clean_fake = ops.convert_to_numpy(generator(zs[0]))
        expected = stddev * max(0.0, 1 - step / decay)  # critic update `step`, counted from 0
        for noisy, clean in ((real_in, x), (fake_in, clean_fake)):
            noise = noisy - clean
            if expected == 0:
                np.testing.assert_allclose(noise, 0.0, atol=1e-6)
            else:
                assert np.std(noise) == pytest.approx(expected, rel=0.12)
                assert abs(np.mean(noise)) < 0.1 * expected
        assert not np.allclose(real_in - x, fake_in - clean_fake) or expected == 0, "independent draws"

        assign(discriminator.trainable_variables, d0)
        grads = gradients(
            lambda: d_loss_of("non_saturating", discriminator(real_in), discriminator(fake_in)),
            discriminator.trainable_variables,
        )
        assert_sgd_update(d0, d1, grads, what=f"discriminator, step {step}")
        # The generator's fakes are noised too, at the schedule's current value (one critic update later).
        g_noise = g_in - ops.convert_to_numpy(generator(zs[-1]))
        g_expected = stddev * max(0.0, 1 - (step + 1) / decay)
        if g_expected == 0:
            np.testing.assert_allclose(g_noise, 0.0, atol=1e-6)
        else:
            assert np.std(g_noise) == pytest.approx(g_expected, rel=0.12)
        check_generator_update(model, generator, discriminator, g0, g1, d1, "non_saturating", zs[-1], g_noise)


def test_ema_generator_follows_the_ramped_average():
    """Karras et al. 2018 / Yazici 2019: w_ema <- w + beta (w_ema - w), beta = min(m, (1 + t) / (10 + t))
    at the t-th generator update (t = 1, 2, ...), the warm-up of TF's `ExponentialMovingAverage`."""
    momentum = 0.25  # reached at t = 3: the ramp (2/11, 3/12) shows before it
    model, generator, discriminator = make(ema_momentum=momentum)
    trainable = [i for i, w in enumerate(model.generator.weights) if w.trainable]
    ema_weights = lambda: [values(model.ema_generator.weights)[i] for i in trainable]  # noqa: E731
    average = values(model.generator.trainable_weights)
    for expected, got in zip(average, ema_weights()):
        np.testing.assert_array_equal(got, expected)
    for t in range(1, 5):
        train_once(model, real_batch(seed=t))
        weights = values(model.generator.trainable_weights)
        beta = min(momentum, (1 + t) / (10 + t))
        average = [w + beta * (a - w) for a, w in zip(average, weights)]
        for expected, got in zip(average, ema_weights()):
            np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=f"EMA after generator update {t}")
    z = np.ones((2, LATENT), "float32")
    assert not np.allclose(ema_weights()[0], values(model.generator.trainable_weights)[0])
    np.testing.assert_allclose(model.generate(z), ops.convert_to_numpy(model.ema_generator(z)), atol=1e-6)


# One-line changes a reader of the papers would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/gan.py", "real_target=1.0 - self.label_smoothing", "real_target=1.0",
     "label smoothing ignored by the step"),
    ("zoo/models/gan.py", "weight = 0.5 * self.r1_gamma * self.r1_interval", "weight = 0.5 * self.r1_gamma",
     "lazy R1 loses its interval scaling"),
    ("zoo/models/gan.py", "weight = 0.5 * self.r1_gamma\n", "weight = self.r1_gamma\n",
     "R1 not halved (gamma instead of gamma / 2)"),
    ("zoo/models/gan.py", "due = ops.equal(ops.mod(self.d_optimizer.iterations, self.r1_interval), 0)",
     "due = ops.equal(ops.mod(self.d_optimizer.iterations, self.r1_interval), 1)",
     "lazy R1 due on the wrong steps"),
    ("zoo/models/gan.py", "momentum = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))",
     "momentum = ops.convert_to_tensor(self.ema_momentum)", "EMA warm-up ramp removed"),
    ("zoo/models/gan.py", "average.assign(value + momentum * (average - value))",
     "average.assign(average + momentum * (value - average))", "EMA momentum on the wrong side"),
    ("zoo/models/gan.py", "shape = (ops.shape(real_inputs)[0],) + (1,) * (len(real_inputs.shape) - 1)",
     "shape = (1,) * len(real_inputs.shape)", "one gradient-penalty alpha for the whole batch"),
    ("zoo/models/gan.py", "total = total + self.gradient_penalty * penalty", "total = total + penalty",
     "gradient-penalty weight lambda dropped"),
    ("zoo/models/gan.py", "variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))",
     "variable.assign(variable)", "WGAN weight clipping skipped"),
    ("zoo/models/gan.py", "grouped = ops.reshape(images, (-1, self.pack, *rest))",
     "grouped = ops.moveaxis(ops.reshape(images, (self.pack, -1, *rest)), 0, 1)",
     "PacGAN packs strided samples instead of neighbours"),
    ("zoo/models/gan.py", "stddev = stddev * ops.maximum(0.0, 1.0 - progress)",
     "stddev = stddev * ops.maximum(0.0, 1.0 - 0.5 * progress)", "instance noise annealed at half speed"),
    ("zoo/models/gan.py", "fake_inputs = self._d_inputs(fake_images)", "fake_inputs = self._packed(fake_images)",
     "instance noise only on real images"),
    ("zoo/losses.py", '"non_saturating": (non_saturating_d_loss, non_saturating_g_loss),',
     '"non_saturating": (non_saturating_d_loss, minimax_g_loss),', "saturating generator loss"),
    ("zoo/losses.py", "return _mean(ops.relu(real_target - real_logits)) + _mean(ops.relu(1.0 + fake_logits))",
     "return _mean(ops.relu(real_target - real_logits)) + _mean(ops.relu(1.0 - fake_logits))",
     "hinge loss sign on fakes"),
    ("zoo/losses.py", "return 0.5 * _mean(ops.square(ops.cast(fake_logits, \"float32\") - 1.0))",
     "return _mean(ops.square(ops.cast(fake_logits, \"float32\") - 1.0))", "LSGAN generator loss not halved"),
    ("zoo/losses.py", "return _mean(fake_logits) - _mean(real_logits)", "return _mean(real_logits) - _mean(fake_logits)",
     "Wasserstein critic loss sign"),
]
