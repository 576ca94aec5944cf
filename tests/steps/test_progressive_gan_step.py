"""ProgressiveGAN's training step against Karras et al. 2018: WGAN-GP with drift, the fade, the reals, the EMA, the schedule.

The nets are the smallest `zoo.nets.progan_*` pair (8x8 images: lod 1 is the
4x4 resolution, lod 0 the 8x8 one), each behind `tapped()`: the model still
finds each net's `LevelOfDetail` inside the wrapper, so the taps record the
noise, the (processed) real images, the fakes and the penalty's interpolates
the step used. The test sets the level of detail of the raw nets itself
(`zoo.nets.set_lod`) before recomputing, so a step that trains a net at
another level than the schedule's shows.
"""

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import (
    assert_sgd_update,
    assign,
    gradients,
    input_gradients,
    records,
    reset_taps,
    sgd,
    tapped,
    train_once,
    values,
)
from zoo import callbacks, nets
from zoo.models import ProgressiveGAN

LATENT = 3
SIDE = 8
SHAPE = (SIDE, SIDE, 1)
BATCH = 4


def make(run_eagerly=False, **kwargs):
    generator = nets.progan_generator(LATENT, SHAPE, fmap_base=8, fmap_max=4)
    critic = nets.progan_discriminator(SHAPE, fmap_base=8, fmap_max=4)
    model = ProgressiveGAN(tapped(generator), tapped(critic), seed=7, **kwargs)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd(), run_eagerly=run_eagerly)
    return model, generator, critic


def real_batch(n=BATCH, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def block_mean(images, block=2):
    """Each `block x block` square replaced by its mean (the coarser resolution, shown at full size)."""
    n, h, w, c = images.shape
    means = images.reshape(n, h // block, block, w // block, block, c).mean(axis=(2, 4))
    return np.repeat(np.repeat(means, block, axis=1), block, axis=2)


def reals_at(x, lod):
    """Sec. 2 / A.1: during a fade the reals blend the two resolutions as G's output does (lod in [0, 1] here)."""
    return (1.0 - lod) * x + lod * block_mean(x)


def num(x):
    return float(ops.convert_to_numpy(x))


def critic_loss_fn(critic, real_in, fake_in, mixed, weight, drift, parts=None):
    """Karras 2018, A.1: E D(G(z)) - E D(x) + lambda E(||grad D(x^)|| - 1)^2 + eps_drift E D(x)^2."""

    def terms():
        real = critic(real_in, training=True)
        fake = critic(fake_in, training=True)
        grads = input_gradients(lambda t: critic(t, training=True), mixed)
        norms = ops.sqrt(ops.sum(ops.reshape(grads, (ops.shape(mixed)[0], -1)) ** 2, axis=1))
        penalty = ops.mean((norms - 1.0) ** 2)
        wasserstein = ops.mean(fake) - ops.mean(real)
        drift_term = ops.mean(real**2)
        return wasserstein, penalty, drift_term, real, fake

    def loss():
        wasserstein, penalty, drift_term, _, _ = terms()
        return wasserstein + weight * penalty + drift * drift_term

    if parts is not None:  # the logged parts at the critic's current weights, read outside any gradient trace
        wasserstein, penalty, drift_term, real, fake = terms()
        parts.update(d_loss=num(wasserstein), gradient_penalty=num(penalty), drift_penalty=num(drift_term),
                     d_real=num(ops.mean(real)), d_fake=num(ops.mean(fake)))
    return loss


def check_interpolates(real_in, fake_in, mixed):
    """Gulrajani 2017: x^ = a x + (1 - a) x~, one a ~ U[0, 1] per example (on the reals as D sees them)."""
    flat = lambda t: t.reshape(len(t), -1)  # noqa: E731
    alpha = ((flat(mixed) - flat(fake_in)) * (flat(real_in) - flat(fake_in))).sum(1) / (
        (flat(real_in) - flat(fake_in)) ** 2
    ).sum(1)
    assert np.all((alpha >= 0) & (alpha <= 1)) and np.ptp(alpha) > 0
    a = alpha[:, None, None, None]
    np.testing.assert_allclose(mixed, a * real_in + (1 - a) * fake_in, atol=1e-5)


def ema_values(model):
    trainable = [i for i, w in enumerate(model.generator.weights) if w.trainable]
    everything = values(model.ema_generator.weights)
    return [everything[i] for i in trainable]


def test_one_step_during_a_fade_follows_the_paper():
    """lod 0.5: both nets fade 8x8 in at alpha 0.5, the reals are blended alike, the critic loss is WGAN-GP
    (lambda) plus eps_drift E[D(x)^2], the generator's is -E D(G(z)), and the EMA moves."""
    weight, drift, momentum, d_steps, lod = 7.0, 0.3, 0.5, 2, 0.5
    # Run eagerly: tracing the penalty's double gradient would be most of this file's time (the fit test traces).
    model, generator, critic = make(
        run_eagerly=True, gradient_penalty=weight, drift=drift, ema_momentum=momentum, d_steps=d_steps)
    model.set_lod(lod)
    for net in (generator, critic, model.ema_generator):
        assert nets.get_lod(net) == lod
    x = real_batch()
    g0, d0 = values(generator.trainable_variables), values(critic.trainable_variables)
    ema0 = ema_values(model)
    logs = train_once(model, x)
    g1, d1 = values(generator.trainable_variables), values(critic.trainable_variables)

    zs = records(model.generator)
    seen = records(model.discriminator)
    assert len(zs) == d_steps + 1 and len(seen) == 3 * d_steps + 1  # real, fake, interpolates per critic update
    assert not np.allclose(zs[0], zs[1]), "fresh noise for every critic update"

    # The fade, as the paper's figure 2: G's image is (1 - a) toRGB(8x8) + a upsample(toRGB(4x4)).
    assign(generator.trainable_variables, g0)
    nets.set_lod(generator, 0.0)
    fine = ops.convert_to_numpy(generator(zs[0]))
    nets.set_lod(generator, 1.0)
    coarse = ops.convert_to_numpy(generator(zs[0]))
    np.testing.assert_allclose(coarse, block_mean(coarse), atol=1e-6)  # 4x4 content
    assert np.abs(fine - coarse).max() > 1e-2
    nets.set_lod(generator, lod)
    nets.set_lod(critic, lod)

    weights, parts = d0, {}
    for k in range(d_steps):
        real_in, fake_in, mixed = seen[3 * k : 3 * k + 3]
        per = BATCH // d_steps  # its own real batch for each critic update (issue 25)
        np.testing.assert_allclose(real_in, reals_at(x, lod)[k * per:(k + 1) * per], atol=1e-6)
        assert np.abs(real_in - x[k * per:(k + 1) * per]).max() > 1e-2
        fake = ops.convert_to_numpy(generator(zs[k]))
        np.testing.assert_allclose(fake_in, fake, atol=1e-5)  # G at its pre-step weights
        if k == 0:
            np.testing.assert_allclose(fake_in, (1 - lod) * fine + lod * coarse, atol=1e-5)
        check_interpolates(real_in, fake_in, mixed)
        assign(critic.trainable_variables, weights)
        grads = gradients(critic_loss_fn(critic, real_in, fake_in, mixed, weight, drift, parts), critic.trainable_variables)
        without_drift = gradients(critic_loss_fn(critic, real_in, fake_in, mixed, weight, 0.0), critic.trainable_variables)
        assert max(np.abs(a - b).max() for a, b in zip(grads, without_drift)) > 1e-3, "the drift term must show"
        weights = [w - g for w, g in zip(weights, grads)]
    assert_sgd_update(d0, d1, [a - b for a, b in zip(d0, weights)], what="critic after both updates")

    # The generator: -E D(G(z)) on fresh noise, with the critic at its new weights.
    assign(critic.trainable_variables, d1)
    g_loss_fn = lambda: -ops.mean(critic(generator(zs[-1], training=True), training=True))  # noqa: E731
    assert_sgd_update(g0, g1, gradients(g_loss_fn, generator.trainable_variables), what="generator")
    g_loss = num(g_loss_fn())
    np.testing.assert_allclose(seen[-1], ops.convert_to_numpy(generator(zs[-1])), atol=1e-5)

    # Logs: the last critic update's Wasserstein part, both penalties unweighted, the scores.
    for key, value in {**parts, "g_loss": g_loss}.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key

    # EMA (A.1, decay 0.999; here m = 0.5): w_ema <- w + beta (w_ema - w). Pinned as it is: the paper (and its
    # code's G_smoothing) uses a fixed beta; zoo adds TF's warm-up beta = min(m, (1 + t) / (10 + t)) with
    # t = the generator updates including this one (1 here: beta = 2/11), as GAN counts them.
    for expected_before, got_after, w in zip(ema0, ema_values(model), g1):
        np.testing.assert_allclose(got_after, w + (2 / 11) * (expected_before - w), atol=1e-6)
    assert nets.get_lod(model.ema_generator) == lod
    assert int(ops.convert_to_numpy(model.images_seen)) == BATCH


def scheduled_lod(images, stabilize, fade, start_lod=1):
    """Karras 2018, A.1: train `stabilize` images at 4x4, then per resolution fade it in linearly over `fade`
    images and stabilise it for `stabilize`; the full resolution trains for good."""
    phase, within = divmod(images, stabilize + fade)
    return max(0.0, start_lod - phase - max(within - stabilize, 0) / fade)


class Recorder(keras.callbacks.Callback):
    """Runs after `ProgressiveGrowing`: what each batch starts from, and what its step saw and logged."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_begin(self, batch, logs=None):
        model = self.model
        reset_taps(model.generator, model.discriminator)
        self.steps.append({
            "lod": [nets.get_lod(n) for n in (model.generator, model.discriminator, model.ema_generator)],
            "g": values(model.generator.trainable_variables),
            "d": values(model.discriminator.trainable_variables),
            "iterations": (int(model.d_optimizer.iterations), int(model.g_optimizer.iterations)),
            "images_seen": int(ops.convert_to_numpy(model.images_seen)),
        })

    def on_train_batch_end(self, batch, logs=None):
        step = self.steps[-1]
        step["zs"] = records(self.model.generator)
        step["seen"] = records(self.model.discriminator)
        step["logs"] = {k: float(np.asarray(v)) for k, v in logs.items()}


def test_fit_trains_each_step_at_the_scheduled_level_of_detail():
    """`fit` with `ProgressiveGrowing(4, 12)` over five batches of 4: lod 1, 1, 2/3, 1/3, 0. Every step's
    reals, fakes and both updates are recomputed at that level; the EMA's ramp goes on across steps."""
    stabilize, fade, weight, drift, momentum = 4, 12, 3.0, 0.2, 0.25
    # SGD at learning rate 1 blows some initial weights up within five steps (on either backend, whose
    # initializers draw different numbers for one seed); these stay finite on TensorFlow and JAX.
    keras.utils.set_random_seed(4)
    model, generator, critic = make(gradient_penalty=weight, drift=drift, ema_momentum=momentum)
    x = real_batch(n=5 * BATCH, seed=1)
    recorder = Recorder()
    growing = callbacks.ProgressiveGrowing(stabilize_images=stabilize, fade_images=fade)
    ema = ema_values(model)
    # Traced: the level of detail must be read from its variable at every step, not frozen into the trace.
    model.fit(x, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[growing, recorder])
    steps = recorder.steps
    assert len(steps) == 5
    lods = [scheduled_lod(BATCH * i, stabilize, fade) for i in range(5)]
    assert lods == pytest.approx([1.0, 1.0, 2 / 3, 1 / 3, 0.0])
    # The reference code resets both optimizers when a level starts or ends fading in.
    assert [s["iterations"] for s in steps] == [(0, 0), (1, 1), (0, 0), (1, 1), (0, 0)]
    final = {"g": values(generator.trainable_variables), "d": values(critic.trainable_variables)}
    ema_final = ema_values(model)
    history = {}
    for i, (step, lod) in enumerate(zip(steps, lods)):
        assert step["lod"] == pytest.approx([lod] * 3), f"step {i}: generator, critic and EMA copy at the schedule's lod"
        assert step["images_seen"] == BATCH * i
        after = steps[i + 1] if i + 1 < len(steps) else final
        batch = x[BATCH * i : BATCH * (i + 1)]
        zs, seen = step["zs"], step["seen"]
        assert len(zs) == 2 and len(seen) == 4
        real_in, fake_in, mixed, g_in = seen
        np.testing.assert_allclose(real_in, reals_at(batch, lod), atol=1e-6, err_msg=f"step {i}: reals")
        for net in (generator, critic):
            nets.set_lod(net, lod)
        assign(generator.trainable_variables, step["g"])
        # rtol: on JAX the step runs compiled, and XLA's fused kernels round the last bits differently (~1e-5).
        np.testing.assert_allclose(fake_in, ops.convert_to_numpy(generator(zs[0])), atol=1e-5, rtol=1e-5, err_msg=f"step {i}")
        check_interpolates(real_in, fake_in, mixed)
        assign(critic.trainable_variables, step["d"])
        parts = {}
        grads = gradients(critic_loss_fn(critic, real_in, fake_in, mixed, weight, drift, parts), critic.trainable_variables)
        assert_sgd_update(step["d"], after["d"], grads, what=f"critic, step {i} (lod {lod:.3f})")
        assign(critic.trainable_variables, after["d"])
        g_loss_fn = lambda: -ops.mean(critic(generator(zs[1], training=True), training=True))  # noqa: E731
        grads = gradients(g_loss_fn, generator.trainable_variables)
        assert_sgd_update(step["g"], after["g"], grads, what=f"generator, step {i} (lod {lod:.3f})")
        if lod == 1.0:  # the 8x8 block is not live: its weights get no gradient
            assert max(np.abs(g).max() for g, v in zip(grads, generator.trainable_variables) if "8x8" in v.path) == 0
        np.testing.assert_allclose(g_in, ops.convert_to_numpy(generator(zs[1])), atol=1e-5, rtol=1e-5)
        parts["g_loss"] = num(g_loss_fn())
        # Batch logs are the epoch's running means.
        for key, value in parts.items():
            history.setdefault(key, []).append(value)
            assert step["logs"][key] == pytest.approx(np.mean(history[key]), rel=1e-4, abs=1e-5), (i, key)
        assert step["logs"]["lod"] == pytest.approx(lod)
        # EMA, t = i + 1 generator updates including this one (the optimizers' resets do not restart the ramp).
        beta = min(momentum, (2 + i) / (11 + i))
        ema = [w + beta * (a - w) for a, w in zip(ema, after["g"])]
    for expected, got in zip(ema, ema_final):
        np.testing.assert_allclose(got, expected, atol=1e-6, err_msg="EMA after five generator updates")
    assert int(ops.convert_to_numpy(model.images_seen)) == 5 * BATCH
    z = real_batch(2)[:, 0, :LATENT, 0]
    assign(generator.trainable_variables, final["g"])
    # Against the EMA copy run the same way (compiled on JAX, where XLA rounds the last bits differently).
    np.testing.assert_allclose(model.generate(z), model.ema_generator.predict(z, verbose=0), atol=1e-6)
    assert np.abs(model.generate(z) - ops.convert_to_numpy(generator(z))).max() > 1e-3


def test_defaults_are_the_papers():
    """Karras 2018, A.1: WGAN-GP with lambda 10, eps_drift 0.001, n_critic 1, G's EMA at 0.999,
    Adam(1e-3, beta_1 0, beta_2 0.99, epsilon 1e-8)."""
    model = ProgressiveGAN(
        nets.progan_generator(LATENT, SHAPE, fmap_base=8, fmap_max=4),
        nets.progan_discriminator(SHAPE, fmap_base=8, fmap_max=4),
    )
    assert (model.loss_name, model.gradient_penalty, model.drift, model.d_steps, model.ema_momentum) == (
        "wasserstein", 10.0, 0.001, 1, 0.999)
    model.compile()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert num(optimizer.learning_rate) == pytest.approx(1e-3)
        assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.0, 0.99, 1e-8)
    growing = callbacks.ProgressiveGrowing()
    assert (growing.stabilize_images, growing.fade_images, growing.start_resolution) == (800_000, 800_000, 4)


# One-line changes a reader of the paper would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/progressive_gan.py", "return self.drift * drift, {\"drift_penalty\": drift}",
     "return drift, {\"drift_penalty\": drift}", "drift weight eps_drift dropped"),
    ("zoo/models/progressive_gan.py", "drift = losses.drift_penalty(real_logits)",
     "drift = losses.drift_penalty(fake_logits)", "drift term on the fakes' scores"),
    ("zoo/models/progressive_gan.py", "            gradient_penalty=gradient_penalty,\n",
     "            gradient_penalty=10.0,\n", "the gradient-penalty weight lambda ignored"),
    ("zoo/models/progressive_gan.py",
     "return images_at_lod(images, lod_layer(self.discriminator).lod, self.max_lod)",
     "return images", "reals shown at full resolution during a fade"),
    ("zoo/layers/progressive.py", "weight = ops.maximum(0.0, 1.0 - ops.abs(lod - float(k)))",
     "weight = ops.cast(ops.equal(ops.floor(lod), float(k)), 'float32')", "reals not blended during a fade"),
    ("zoo/models/progressive_gan.py", "        for net in self._nets():\n",
     "        for net in self._nets()[::2]:\n", "the critic left at its old level of detail"),
    ("zoo/layers/progressive.py", "t = ops.clip(ops.cast(lod, \"float32\") - float(self.stage_lod), 0.0, 1.0)",
     "t = ops.clip(ops.round(ops.cast(lod, \"float32\")) - float(self.stage_lod), 0.0, 1.0)",
     "no fade: the new block switched in at once"),
    ("zoo/progressive_growing.py", "lod -= max(within - stabilize_images, 0) / fade_images",
     "lod -= max(within, 0) / fade_images", "fade starts without the stabilisation phase"),
    ("zoo/models/progressive_gan.py", "self.images_seen.assign_add(ops.cast(ops.shape(real_images)[0] * replicas, \"int64\"))",
     "self.images_seen.assign_add(ops.cast(ops.shape(real_images)[0] * 2, \"int64\"))",
     "images counted twice: the schedule runs at double speed"),
    ("zoo/models/progressive_gan.py", "        return self.generator_updates\n",
     "        return self.g_optimizer.iterations\n", "EMA warm-up restarted by the optimizers' resets"),
    ("zoo/models/gan.py", "momentum = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))",
     "momentum = ops.convert_to_tensor(self.ema_momentum)", "EMA warm-up ramp removed"),
    ("zoo/models/gan.py", "                    average.assign(value + momentum * (average - value))",
     "                    average.assign(average + momentum * (value - average))", "EMA momentum on the wrong side"),
    ("zoo/progressive_growing.py", "math.floor(lod) != math.floor(previous) or math.ceil(lod) != math.ceil(previous)",
     "math.floor(lod) != math.floor(previous)", "optimizers not reset when a fade ends"),
]
