"""CoGAN's training step against Liu & Tuzel 2016: shared layers, one noise for both generators, summed losses.

The tiny nets are built here (the model takes injected nets): two generators
sharing their first dense layer behind one `Tap` on the shared noise input,
and two discriminators sharing their last two layers, each behind a `Tap` on
its own image input. One `train_on_batch` with SGD at learning rate 1 is
recomputed from what the taps recorded: both domains' losses from the paper's
formulas, each player's update as minus the gradient of the SUM of both
domains' losses (a shared weight moves by the sum of both domains'
gradients, in one update), and the six logged losses.
"""

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import (
    Tap,
    assert_sgd_update,
    assign,
    bce_with_logits,
    gradients,
    records,
    sgd,
    values,
)
from zoo.models import CoGAN

LATENT = 3
SHAPE = (4, 4, 1)
BATCH = 4


def init(seed):
    return keras.initializers.RandomNormal(stddev=0.5, seed=seed)


def tiny_generators():
    """z -> Tap -> shared tanh(dense 6) -> per domain tanh(dense 16) -> 4x4x1: the paper's sharing of the first layers."""
    z = keras.Input((LATENT,), name="noise")
    seen = Tap(name="tap_noise")(z)
    h = keras.layers.Dense(6, activation="tanh", kernel_initializer=init(0), bias_initializer=init(1), name="g_shared")(seen)
    nets = []
    for i, domain in enumerate("ab"):
        x = keras.layers.Dense(
            int(np.prod(SHAPE)), activation="tanh", kernel_initializer=init(2 + i), bias_initializer=init(4 + i),
            name=f"g_{domain}_out",
        )(h)
        x = keras.layers.Reshape(SHAPE, name=f"g_{domain}_reshape")(x)
        nets.append(keras.Model(z, x, name=f"g_{domain}"))
    return nets


def tiny_discriminators():
    """images -> Tap -> per domain tanh(dense 5) -> shared tanh(dense 4) -> shared logit: sharing the last layers."""
    shared_hidden = keras.layers.Dense(4, activation="tanh", kernel_initializer=init(10), bias_initializer=init(11), name="d_shared_hidden")
    shared_logit = keras.layers.Dense(1, kernel_initializer=init(12), bias_initializer=init(13), name="d_shared_logit")
    nets = []
    for i, domain in enumerate("ab"):
        images = keras.Input(SHAPE, name=f"images_{domain}")
        x = Tap(name=f"tap_{domain}")(images)
        x = keras.layers.Flatten(name=f"d_{domain}_flatten")(x)
        x = keras.layers.Dense(5, activation="tanh", kernel_initializer=init(14 + i), bias_initializer=init(16 + i), name=f"d_{domain}_in")(x)
        nets.append(keras.Model(images, shared_logit(shared_hidden(x)), name=f"d_{domain}"))
    return nets


def make(**kwargs):
    g_a, g_b = tiny_generators()
    d_a, d_b = tiny_discriminators()
    model = CoGAN(g_a, g_b, d_a, d_b, seed=11, **kwargs)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return model, (g_a, g_b), (d_a, d_b)


def unique(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


# Liu & Tuzel 2016, eq. 4-5: each domain's GAN game; the non-saturating generator loss as in their code.
def d_loss_of(name, real, fake):
    if name == "non_saturating":
        return ops.mean(bce_with_logits(1.0, real)) + ops.mean(bce_with_logits(0.0, fake))
    if name == "least_squares":  # Mao et al. 2017, a = 0, b = c = 1
        return 0.5 * ops.mean((real - 1.0) ** 2) + 0.5 * ops.mean(fake**2)
    raise AssertionError(name)


def g_loss_of(name, fake):
    if name == "non_saturating":
        return -ops.mean(ops.log(ops.sigmoid(fake)))
    if name == "least_squares":
        return 0.5 * ops.mean((fake - 1.0) ** 2)
    raise AssertionError(name)


def fit_once(model, images_a, images_b):
    """One training step through `fit(images_a, images_b)` (`train_on_batch` hands the step
    `(x, y, None)`, which CoGAN refuses); returns the logs as floats."""
    history = model.fit(images_a, images_b, batch_size=len(images_a), epochs=1, shuffle=False, verbose=0)
    return {k: float(v[-1]) for k, v in history.history.items()}


def distinct(batches):
    """The batches without consecutive repeats (a rewrite may run each generator apart on the same z)."""
    out = []
    for b in batches:
        if not out or not np.array_equal(out[-1], b):
            out.append(b)
    return out


def num(x):
    return float(ops.convert_to_numpy(x))


@pytest.mark.parametrize("loss", ["non_saturating", "least_squares"])
def test_one_step_updates_both_players_by_the_summed_gradient_of_both_domains(loss):
    model, (g_a, g_b), (d_a, d_b) = make(loss=loss)
    rng = np.random.default_rng(0)
    real_a = rng.uniform(-1, 1, (BATCH, *SHAPE)).astype("float32")
    real_b = rng.uniform(-1, 1, (BATCH, *SHAPE)).astype("float32")  # unpaired: an independent draw
    g_vars = unique(g_a.trainable_variables + g_b.trainable_variables)
    d_vars = unique(d_a.trainable_variables + d_b.trainable_variables)
    assert len(g_vars) == 6 and len(d_vars) == 8  # shared layers counted once
    g_shared = {id(v) for v in g_a.get_layer("g_shared").trainable_variables}
    d_shared = {id(v) for v in d_a.get_layer("d_shared_hidden").trainable_variables + d_a.get_layer("d_shared_logit").trainable_variables}
    g0, d0 = values(g_vars), values(d_vars)

    logs = fit_once(model, real_a, real_b)
    g1, d1 = values(g_vars), values(d_vars)

    zs = distinct(records(g_a))
    assert len(zs) == 2, "one noise batch for the critic update, a fresh one for the generators'"
    z_d, z_g = zs
    assert z_d.shape == (BATCH, LATENT) and not np.allclose(z_d, z_g)
    seen_a, seen_b = records(d_a), records(d_b)
    assert len(seen_a) == len(seen_b) == 3  # real, fake (critic update); fake (generator update)
    np.testing.assert_allclose(seen_a[0], real_a, atol=1e-6)
    np.testing.assert_allclose(seen_b[0], real_b, atol=1e-6)

    # The discriminators' fakes: both generators at their pre-step weights, the SAME noise into both.
    assign(g_vars, g0)
    np.testing.assert_allclose(seen_a[1], ops.convert_to_numpy(g_a(z_d)), atol=1e-5)
    np.testing.assert_allclose(seen_b[1], ops.convert_to_numpy(g_b(z_d)), atol=1e-5)

    # Discriminators: one update on d_a_loss + d_b_loss (fakes fixed: G gets no update here).
    assign(d_vars, d0)
    d_a_fn = lambda: d_loss_of(loss, d_a(seen_a[0], training=True), d_a(seen_a[1], training=True))  # noqa: E731
    d_b_fn = lambda: d_loss_of(loss, d_b(seen_b[0], training=True), d_b(seen_b[1], training=True))  # noqa: E731
    grads_a, grads_b = gradients(d_a_fn, d_vars), gradients(d_b_fn, d_vars)
    for v, ga, gb in zip(d_vars, grads_a, grads_b):
        if id(v) in d_shared:  # a shared weight: both domains' gradients, both nonzero
            assert np.abs(ga).max() > 1e-4 and np.abs(gb).max() > 1e-4
        else:  # a domain's own first layer: its domain's gradient only
            assert (np.abs(ga).max() == 0) != (np.abs(gb).max() == 0)
    d_a_loss, d_b_loss = num(d_a_fn()), num(d_b_fn())
    assert_sgd_update(d0, d1, [ga + gb for ga, gb in zip(grads_a, grads_b)], what="discriminators")

    # Generators: one update on g_a_loss + g_b_loss, fresh noise into both, judged by the updated discriminators.
    assign(d_vars, d1)
    g_a_fn = lambda: g_loss_of(loss, d_a(g_a(z_g, training=True), training=True))  # noqa: E731
    g_b_fn = lambda: g_loss_of(loss, d_b(g_b(z_g, training=True), training=True))  # noqa: E731
    grads_a, grads_b = gradients(g_a_fn, g_vars), gradients(g_b_fn, g_vars)
    for v, ga, gb in zip(g_vars, grads_a, grads_b):
        if id(v) in g_shared:
            assert np.abs(ga).max() > 1e-5 and np.abs(gb).max() > 1e-5
    g_a_loss, g_b_loss = num(g_a_fn()), num(g_b_fn())
    assert_sgd_update(g0, g1, [ga + gb for ga, gb in zip(grads_a, grads_b)], what="generators")
    np.testing.assert_allclose(seen_a[2], ops.convert_to_numpy(g_a(z_g)), atol=1e-5)
    np.testing.assert_allclose(seen_b[2], ops.convert_to_numpy(g_b(z_g)), atol=1e-5)

    expected = {
        "d_a_loss": d_a_loss, "d_b_loss": d_b_loss, "d_loss": d_a_loss + d_b_loss,
        "g_a_loss": g_a_loss, "g_b_loss": g_b_loss, "g_loss": g_a_loss + g_b_loss,
    }
    assert set(logs) == set(expected)
    for key, value in expected.items():
        assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    assert abs(d_a_loss - d_b_loss) > 1e-3 and abs(g_a_loss - g_b_loss) > 1e-3  # the domains are told apart


def test_defaults_are_the_papers():
    """Liu & Tuzel 2016, sec. 5: the cross-entropy GAN loss, Adam(2e-4, beta_1 = 0.5, beta_2 = 0.999)."""
    g_a, g_b = tiny_generators()
    d_a, d_b = tiny_discriminators()
    model = CoGAN(g_a, g_b, d_a, d_b)
    assert model.loss_name == "non_saturating"
    model.compile()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert num(optimizer.learning_rate) == pytest.approx(2e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.5, 0.999)


# One-line changes a reader of the paper would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/co_gan.py", "            return d_a_loss + d_b_loss, d_a_loss, d_b_loss\n",
     "            return d_a_loss, d_a_loss, d_b_loss\n",
     "discriminators trained on domain A's loss only"),
    ("zoo/models/co_gan.py", "            return g_a_loss + g_b_loss, g_a_loss, g_b_loss\n",
     "            return g_a_loss + 0.5 * g_b_loss, g_a_loss, g_b_loss\n",
     "domain B's generator loss down-weighted"),
    ("zoo/models/co_gan.py", "        if id(variable) not in seen:\n", "        if True:\n",
     "a shared weight listed twice: updated once per domain"),
    ("zoo/models/co_gan.py", "        variables = self.g_variables\n",
     "        variables = self.g_variables + self.d_variables\n",
     "discriminators also moved by the generators' loss"),
    ("zoo/models/co_gan.py", "fake_a, fake_b = self.generate_pair(self.sample_noise(batch_size), training=True)",
     "fake_a, fake_b = self.generate_pair(self.sample_noise(batch_size), training=True)[0], "
     "self.generate_pair(self.sample_noise(batch_size), training=True)[1]",
     "each generator fed its own noise: the pair is no longer coupled"),
    ("zoo/models/co_gan.py", "            g_b_loss=g_losses[1],", "            g_b_loss=g_losses[0],",
     "g_b_loss logs domain A's loss"),
]
