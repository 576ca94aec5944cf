"""CycleGAN's training step against Zhu et al. 2017: four nets, the cycle and identity terms, the pool, the schedule.

Each test runs `CycleGAN.train_step` (through `fit`) with SGD on tiny tapped
convolutional nets (a patch discriminator; no randomness inside), then
recomputes here what the paper prescribes:

- the generators minimise, together (eq. 3 and section 5.2),
  `L_GAN(G_ab, D_b) + L_GAN(G_ba, D_a) + lambda |G_ba(G_ab(a)) - a|_1 + lambda |G_ab(G_ba(b)) - b|_1
  + 0.5 lambda (|G_ab(b) - b|_1 + |G_ba(a) - a|_1)`, with the least-squares GAN loss
  `E[(D(G(x)) - 1)^2]` (section 4), lambda = 10;
- each discriminator minimises `(E[(D(y) - 1)^2] + E[D(fake)^2]) / 2`, the fakes drawn
  from a history of 50 generated images (Shrivastava et al. 2017);
- four optimizers (Adam(2e-4, 0.5)), the rate constant for half the epochs and then
  decayed linearly to 0 (`zoo.callbacks.LinearDecay`).
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
from zoo.models import CycleGAN

SIZE = 8
CHANNELS = 2
NETS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")


def generator(name, seed):
    """A tiny image-to-image net: 3x3 convolution, tanh, 1x1 convolution to the other domain, tanh."""
    init = keras.initializers.RandomNormal(stddev=0.4, seed=seed)
    images = keras.Input((SIZE, SIZE, CHANNELS))
    x = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", kernel_initializer=init,
                            bias_initializer=init)(images)
    x = keras.layers.Conv2D(CHANNELS, 1, activation="tanh", kernel_initializer=init, bias_initializer=init)(x)
    return keras.Model(images, x, name=name)


def discriminator(name, seed):
    """A tiny PatchGAN: 2x2 stride-2 convolution, tanh, 1x1 convolution to a 4x4 grid of logits."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    images = keras.Input((SIZE, SIZE, CHANNELS))
    x = keras.layers.Conv2D(3, 2, strides=2, activation="tanh", kernel_initializer=init,
                            bias_initializer=init)(images)
    x = keras.layers.Conv2D(1, 1, kernel_initializer=init, bias_initializer=init)(x)
    return keras.Model(images, x, name=name)


def make(rates=(1.0, 0.5, 0.25, 0.75), capacity=48, **kwargs):
    """The model on tapped nets, each net's optimizer SGD at its own rate; returns (model, raw nets)."""
    nets = {
        "generator_ab": generator("g_ab", 0),
        "generator_ba": generator("g_ba", 1),
        "discriminator_a": discriminator("d_a", 2),
        "discriminator_b": discriminator("d_b", 3),
    }
    model = CycleGAN(*(tapped(nets[name], capacity=capacity) for name in NETS), seed=5, **kwargs)
    model.compile(*(keras.optimizers.SGD(rate) for rate in rates))
    return model, nets


def unpaired(n, seed=0):
    rng = np.random.default_rng(seed)
    images_a = rng.uniform(-1, 1, (n, SIZE, SIZE, CHANNELS)).astype("float32")
    images_b = np.tanh(rng.normal(0.3, 0.6, (n, SIZE, SIZE, CHANNELS))).astype("float32")
    return images_a, images_b


def train(model, images_a, images_b, batch_size, epochs=1, callbacks=()):
    history = model.fit(
        images_a, images_b, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, callbacks=list(callbacks)
    )
    return {k: float(v[-1]) for k, v in history.history.items()}


# The paper's losses on logits l.
def g_adversarial_of(loss, fake):
    if loss == "least_squares":  # Zhu 2017, section 4: E[(D(G(x)) - 1)^2], not halved
        return ops.mean((fake - 1.0) ** 2)
    if loss == "non_saturating":  # Goodfellow 2014: -E log D(G(x))
        return ops.mean(bce_with_logits(1.0, fake))
    raise AssertionError(loss)


def d_loss_of(loss, real, fake):
    """Section 4: "we divide the objective by 2 while optimizing D"."""
    if loss == "least_squares":
        return 0.5 * (ops.mean((real - 1.0) ** 2) + ops.mean(fake**2))
    if loss == "non_saturating":
        return 0.5 * (ops.mean(bce_with_logits(1.0, real)) + ops.mean(bce_with_logits(0.0, fake)))
    raise AssertionError(loss)


def l1(x, y):
    return ops.mean(ops.abs(x - y))


def number(x):
    return float(ops.convert_to_numpy(x))


def close(x, y):
    return np.allclose(x, y, atol=1e-5)


def assert_seen(seen, expected, what):
    """`seen` (a net's tapped batches) is `expected` in some order: the step's call order is free."""
    remaining = list(expected)
    for batch in seen:
        match = [i for i, e in enumerate(remaining) if close(batch, e)]
        assert match, f"{what}: saw a batch the paper's step does not give it"
        remaining.pop(match[0])
    assert not remaining, f"{what}: {len(remaining)} expected batch(es) never seen"


@pytest.mark.parametrize(
    "loss, weights",
    [
        ("least_squares", {"cycle_weight": 3.0, "identity_weight": 0.3, "pool_size": 4}),
        ("non_saturating", {"cycle_weight": 2.0, "identity_weight": 0.7, "pool_size": 3}),
        ("least_squares", {}),  # the paper's lambda = 10, identity 0.5 lambda, pool of 50
    ],
)
def test_step_updates_each_net_by_the_papers_gradient(loss, weights):
    lam = weights.get("cycle_weight", 10.0)
    identity = weights.get("identity_weight", 0.5) * lam  # relative to lambda, as in the paper (0.5 lambda)
    rates = dict(zip(NETS, (1.0, 0.5, 0.25, 0.75)))
    model, nets = make(tuple(rates.values()), loss=loss, **weights)
    g_ab, g_ba, d_a, d_b = (nets[name] for name in NETS)
    a, b = (ops.convert_to_tensor(x) for x in unpaired(2))
    before = {name: values(net.trainable_variables) for name, net in nets.items()}
    logs = train(model, a, b, batch_size=2)
    after = {name: values(net.trainable_variables) for name, net in nets.items()}
    for name, net in nets.items():
        assign(net.trainable_variables, before[name])
    fake_b, fake_a = g_ab(a, training=True), g_ba(b, training=True)

    # What each net was given: the generators their two domains' images and the other's fakes
    # (cycle) and their own target domain (identity); the discriminators their real images and,
    # twice, the new fakes (once for the generators' loss, once from the pool while it fills).
    assert_seen(records(model.generator_ab), [a, fake_a, b], "G_ab")
    assert_seen(records(model.generator_ba), [b, fake_b, a], "G_ba")
    assert_seen(records(model.discriminator_a), [a, fake_a, fake_a], "D_a")
    assert_seen(records(model.discriminator_b), [b, fake_b, fake_b], "D_b")

    def parts():
        fb, fa = g_ab(a, training=True), g_ba(b, training=True)
        return {
            "g_ab_loss": g_adversarial_of(loss, d_b(fb, training=True)),
            "g_ba_loss": g_adversarial_of(loss, d_a(fa, training=True)),
            "cycle_loss": l1(g_ba(fb, training=True), a) + l1(g_ab(fa, training=True), b),
            "identity_loss": l1(g_ab(b, training=True), b) + l1(g_ba(a, training=True), a),
        }

    def g_total():
        p = parts()
        return p["g_ab_loss"] + p["g_ba_loss"] + lam * p["cycle_loss"] + identity * p["identity_loss"]

    # Both generators descend the one shared objective, each at its own optimizer's rate.
    generator_variables = g_ab.trainable_variables + g_ba.trainable_variables
    grads = gradients(g_total, generator_variables)
    n = len(g_ab.trainable_variables)
    assert_sgd_update(before["generator_ab"], after["generator_ab"], grads[:n], rates["generator_ab"], what="G_ab")
    assert_sgd_update(before["generator_ba"], after["generator_ba"], grads[n:], rates["generator_ba"], what="G_ba")
    for key, value in parts().items():  # logged unweighted, each a sum over both directions
        assert logs[key] == pytest.approx(number(value), rel=1e-4), key

    # Each discriminator: the halved loss on its real images against the generator's pre-step fakes.
    for name, net, real, fake, key in (
        ("discriminator_a", d_a, a, fake_a, "d_a_loss"),
        ("discriminator_b", d_b, b, fake_b, "d_b_loss"),
    ):
        fake = ops.convert_to_tensor(ops.convert_to_numpy(fake))
        d_loss = lambda: d_loss_of(loss, net(real, training=True), net(fake, training=True))  # noqa: B023,E731
        assert_sgd_update(before[name], after[name], gradients(d_loss, net.trainable_variables), rates[name], what=name)
        assert logs[key] == pytest.approx(number(d_loss()), rel=1e-4), key
    assert [int(optimizer.iterations) for optimizer in model.optimizers] == [1, 1, 1, 1]


def test_defaults_are_the_papers():
    """Zhu 2017, section 4 and 5.2: least squares, lambda = 10, identity 0.5 lambda, a pool of 50,
    Adam(2e-4, beta_1=0.5): four optimizers, one per net."""
    model = CycleGAN(generator("g_ab", 0), generator("g_ba", 1), discriminator("d_a", 2), discriminator("d_b", 3))
    assert (model.loss_name, model.cycle_weight, model.identity_weight, model.pool_size) == (
        "least_squares", 10.0, 0.5, 50
    )
    assert model.pool_a.pool_size == model.pool_b.pool_size == 50
    model.compile()
    assert len({id(optimizer) for optimizer in model.optimizers}) == 4
    for optimizer in model.optimizers:
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert number(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5


class Snapshots(keras.callbacks.Callback):
    """Before and after each batch: every net's weights, every optimizer's rate, the new fakes."""

    def __init__(self, nets, images_a, images_b, batch_size):
        super().__init__()
        self.nets, self.images_a, self.images_b, self.batch_size = nets, images_a, images_b, batch_size
        self.steps = []

    def on_train_batch_begin(self, batch, logs=None):
        rows = slice(batch * self.batch_size, (batch + 1) * self.batch_size)
        a, b = self.images_a[rows], self.images_b[rows]
        self.steps.append({
            "a": a,
            "b": b,
            "before": {name: values(net.trainable_variables) for name, net in self.nets.items()},
            "rates": [number(optimizer.learning_rate) for optimizer in self.model.optimizers],
            "fake_a": ops.convert_to_numpy(self.nets["generator_ba"](b, training=True)),
            "fake_b": ops.convert_to_numpy(self.nets["generator_ab"](a, training=True)),
        })

    def on_train_batch_end(self, batch, logs=None):
        model = self.model  # first: on JAX, reading `model` syncs the trained weights back into the nets
        self.steps[-1]["after"] = {name: values(net.trainable_variables) for name, net in self.nets.items()}
        self.steps[-1]["end_rates"] = [number(optimizer.learning_rate) for optimizer in model.optimizers]


def pooled_per_step(seen, steps, real_key, fake_key):
    """From a discriminator's tapped batches (3 a step): the pooled fakes it was trained on, step by step.

    Each step it judges its real images, the new fakes (for the generators' loss) and the
    pool's answer; which call comes first is the step's business.
    """
    assert len(seen) == 3 * len(steps)
    shown = []
    for k, step in enumerate(steps):
        batch = seen[3 * k : 3 * k + 3]
        real = [i for i, x in enumerate(batch) if close(x, step[real_key])]
        assert len(real) == 1, f"step {k}: the real images once"
        rest = [x for i, x in enumerate(batch) if i != real[0]]
        new = [i for i, x in enumerate(rest) if close(x, step[fake_key])]
        assert new, f"step {k}: the generators' loss judges the new fakes"
        shown.append(rest[1 - new[0]])
    return shown


def test_discriminators_are_trained_on_the_history_pool():
    """Shrivastava et al. 2017 / Zhu 2017, section 4 (batch 1, as the paper): while the pool holds
    fewer than `pool_size` images, each new fake is stored and shown; once full, with probability
    1/2 the new fake takes the place of a random stored one, which is shown, else it is shown itself."""
    pool_size, steps = 3, 15
    rates = (0.1, 0.1, 0.2, 0.3)
    model, nets = make(rates, capacity=3 * steps, pool_size=pool_size, cycle_weight=2.0, identity_weight=0.3)
    images_a, images_b = unpaired(steps, seed=4)
    snapshots = Snapshots(nets, images_a, images_b, 1)
    train(model, images_a, images_b, batch_size=1, callbacks=[snapshots])
    assert len(snapshots.steps) == steps
    swaps, slots_drawn = 0, set()
    for name, rate, real_key, fake_key in (
        ("discriminator_a", rates[2], "a", "fake_a"),
        ("discriminator_b", rates[3], "b", "fake_b"),
    ):
        net = nets[name]
        shown = pooled_per_step(records(getattr(model, name)), snapshots.steps, real_key, fake_key)
        stored = []  # the paper's pool, replayed from what was shown
        for k, (step, image) in enumerate(zip(snapshots.steps, shown)):
            new = step[fake_key]
            if len(stored) < pool_size:
                assert close(image, new), f"{name}, step {k}: while filling the pool shows the new fake"
                stored.append(new)
            elif not close(image, new):
                match = [i for i, s in enumerate(stored) if close(image, s)]
                assert len(match) == 1, f"{name}, step {k}: shown neither the new fake nor a stored one"
                stored[match[0]] = new
                swaps += 1
                slots_drawn.add((name, match[0]))
            # And the discriminator descended its halved loss on exactly these images.
            assign(net.trainable_variables, step["before"][name])
            real, fake = ops.convert_to_tensor(step[real_key]), ops.convert_to_tensor(image)
            grads = gradients(
                lambda: d_loss_of("least_squares", net(real, training=True), net(fake, training=True)),  # noqa: B023
                net.trainable_variables,
            )
            assert_sgd_update(step["before"][name], step["after"][name], grads, rate, what=f"{name}, step {k}")
    draws = 2 * (steps - pool_size)  # 24 coin flips, each swapping with probability 1/2
    assert 5 <= swaps <= draws - 5, f"{swaps} swaps in {draws} draws"
    assert len(slots_drawn) >= 3, "the slot swapped out is drawn at random"


def test_linear_decay_keeps_the_rate_then_decays_it_to_zero_for_every_optimizer():
    """Zhu 2017, section 4: the same rate for the first half of the epochs, then linearly to 0; the
    reference code's rule: the j-th of the n decaying epochs trains at 1 - j / (n + 1) of it."""
    epochs, constant = 5, 2  # decay_start=0.4
    rates = (0.1, 0.2, 0.3, 0.4)
    model, nets = make(rates, capacity=3 * 2 * epochs, pool_size=0, cycle_weight=2.0, identity_weight=0.3)
    images_a, images_b = unpaired(4, seed=6)
    snapshots = Snapshots(nets, images_a, images_b, 2)
    train(model, images_a, images_b, batch_size=2, epochs=epochs,
          callbacks=[zoo.callbacks.LinearDecay(decay_start=0.4), snapshots])
    n = epochs - constant
    factors = [1.0] * constant + [1.0 - j / (n + 1) for j in range(1, n + 1)]
    assert len(snapshots.steps) == 2 * epochs
    for k, step in enumerate(snapshots.steps):
        expected = [rate * factors[k // 2] for rate in rates]
        np.testing.assert_allclose(step["rates"], expected, rtol=1e-6, err_msg=f"step {k}")
        np.testing.assert_allclose(step["end_rates"], expected, rtol=1e-6, err_msg=f"step {k}")
        # The rate read is the rate applied: D_a's update is that rate times the gradient.
        net = nets["discriminator_a"]
        assign(net.trainable_variables, step["before"]["discriminator_a"])
        real, fake = ops.convert_to_tensor(step["a"]), ops.convert_to_tensor(step["fake_a"])
        grads = gradients(
            lambda: d_loss_of("least_squares", net(real, training=True), net(fake, training=True)),  # noqa: B023
            net.trainable_variables,
        )
        assert_sgd_update(step["before"]["discriminator_a"], step["after"]["discriminator_a"], grads,
                          expected[2], what=f"D_a, step {k}")


# One-line changes a reader of the paper would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/cycle_gan.py", 'return 2.0 * loss if self.loss_name == "least_squares" else loss',
     "return loss", "least-squares generator loss halved (zoo's 1/2 not undone)"),
    ("zoo/models/cycle_gan.py", 'return loss if self.loss_name == "least_squares" else 0.5 * loss',
     "return loss", "discriminator loss not halved"),
    ("zoo/models/cycle_gan.py", "total = g_ab_loss + g_ba_loss + self.cycle_weight * cycle_loss",
     "total = g_ab_loss + g_ba_loss + cycle_loss", "cycle weight lambda dropped"),
    ("zoo/models/cycle_gan.py", "total = total + self.identity_weight * self.cycle_weight * identity_loss",
     "total = total + self.identity_weight * identity_loss", "identity weight not relative to lambda"),
    ("zoo/models/cycle_gan.py", "cycle_loss = losses.l1_loss(real_a, self.generator_ba(fake_b, training=training))",
     "cycle_loss = losses.l1_loss(real_a, self.generator_ba(ops.stop_gradient(fake_b), training=training))",
     "cycle A->B->A detached from G_ab"),
    ("zoo/models/cycle_gan.py", "(self.discriminator_b, self.d_b_optimizer, self.pool_b, real_b, fake_b),",
     "(self.discriminator_b, self.d_b_optimizer, self.pool_a, real_b, fake_a),", "D_b shown domain A's fakes"),
    ("zoo/models/cycle_gan.py", "(self.g_ba_optimizer, self.generator_ba.trainable_variables),",
     "(self.g_ab_optimizer, self.generator_ba.trainable_variables),", "G_ba updated by G_ab's optimizer"),
    ("zoo/models/cycle_gan.py", "            fake = self.pooled(pool, fake)", "            _ = self.pooled(pool, fake)",
     "discriminators shown the newest fakes, not the pool's"),
    ("zoo/models/cycle_gan.py", "_uniform((batch,), swap_seed) < 0.5",
     "_uniform((batch,), swap_seed) < 1.0", "full pool always swaps"),
    ("zoo/models/cycle_gan.py", "filling = slots < self.pool_size", "filling = slots < self.pool_size - 1",
     "pool starts swapping before it is full"),
    ("zoo/models/cycle_gan.py", "ops.where(stored, picks, spare)", "ops.where(stored, spare, spare)",
     "swapped-in fakes never stored"),
    ("zoo/models/cycle_gan.py", "cycle_weight=10.0,", "cycle_weight=1.0,", "default lambda not the paper's 10"),
    ("zoo/models/cycle_gan.py", "pool_size=50,", "pool_size=5,", "default pool not the paper's 50"),
    ("zoo/callbacks.py", "return max(0.0, 1.0 - max(0, epoch + 1 - constant) / (total - constant + 1))",
     "return max(0.0, 1.0 - max(0, epoch + 1 - constant) / (total - constant))",
     "LinearDecay reaches 0 in the last epoch"),
    ("zoo/callbacks.py", "constant = int(self.decay_start * total)", "constant = int(self.decay_start * total) - 1",
     "LinearDecay starts decaying an epoch early"),
    ("zoo/callbacks.py", "optimizer.learning_rate = rate * factor", "optimizer.learning_rate = rate",
     "LinearDecay never decays"),
]
