"""StyleGAN's training step against the papers: losses, lazy R1 and path length, w_avg, EMA nets.

Karras et al. 2019 (StyleGAN): style mixing with a probability per image, the
running mean `w_avg` of the mapped w, truncation only when sampling.
Karras et al. 2020 (StyleGAN2): non-saturating logistic loss, lazy R1 on reals
every k D updates weighted gamma / 2 * k, lazy path-length regularisation every
k G updates weighted w_pl * k with the running mean `a <- a + decay (mean
length - a)`, EMA generator with a half-life in images (stylegan2-ada's
`ema_kimg`, `ema_rampup`).

The nets are tiny and deterministic (no per-pixel noise layers), each behind a
`Tap`: the mapping's records give every z drawn (the mixing's two z per
synthesis call), the synthesis' records the styles after mixing, the
discriminator's the images it judged.

The path-length noise y cannot be read back (the model draws it inside the
penalty). The tiny synthesis therefore makes images `s(ws) * P + B` with a
fixed pattern P (rms 1) and a trainable bias image B, so that `J_w^T y` only
depends on y through the scalar `r = sum(P * n) / sqrt(HW)` (n the N(0, 1)
draw: r ~ N(0, 1)), and the path length is `|r|` times a length computed here.
The test reads `|r|` off the logged `pl_mean` update, then checks the G update
(which involves r quadratically and the new mean linearly, so a wrong weight,
interval, decay or mean shows), the logged penalty, and that |r| looks like a
N(0, 1) draw. What is NOT pinned exactly: a constant factor on every path length
(e.g. the 1 / sqrt(HW) scaling of y, or the mean over layers) is
indistinguishable from a different draw of y, so it is only caught by the
statistical bound on |r|.
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
from zoo.models import StyleGAN

LATENT, W_DIM, NUM_WS = 3, 2, 3
SHAPE = (8, 8, 1)
PIXELS = SHAPE[0] * SHAPE[1]  # H * W: the paper scales y by 1 / sqrt(H * W)
BATCH = 4

# Every weight, interval and rate non-default, small enough to show in 4 steps.
STYLEGAN2 = dict(
    style_mixing=0.6, r1_gamma=0.4, r1_interval=2, path_length_weight=0.7, path_length_interval=3,
    path_length_decay=0.3, path_length_batch_shrink=4, w_avg_decay=0.8, ema_half_life_images=8.0,
    ema_rampup=0.5,
)
# StyleGAN (2019): R1 every step (no lazy scaling), no path length, EMA without ramp-up.
STYLEGAN = dict(
    style_mixing=0.6, r1_gamma=0.4, r1_interval=1, path_length_weight=0.0, w_avg_decay=0.8,
    ema_half_life_images=12.0,
)
FORMS = {"stylegan": STYLEGAN, "stylegan2": STYLEGAN2}


@keras.saving.register_keras_serializable(package="zoo_tests")
class ImageBias(keras.layers.Layer):
    """Adds a trainable bias image (one value per element)."""

    def build(self, input_shape):
        self.bias = self.add_weight(
            shape=tuple(input_shape[1:]), initializer=keras.initializers.RandomNormal(stddev=0.3, seed=4), name="bias"
        )

    def call(self, x):
        return x + self.bias


def pattern():
    """The fixed image direction P, rms exactly 1, as `(1, H * W * C)`."""
    p = np.random.default_rng(11).normal(size=(1, PIXELS * SHAPE[2])).astype("float32")
    return p / np.sqrt(np.mean(p**2))


def make_mapping(seed=2):
    init = keras.initializers.RandomNormal(stddev=0.6, seed=seed)
    z = keras.Input((LATENT,))
    h = keras.layers.Dense(4, activation="tanh", kernel_initializer=init, bias_initializer=init)(z)
    return keras.Model(z, keras.layers.Dense(W_DIM, kernel_initializer=init, bias_initializer=init)(h), name="mapping")


def make_synthesis(seed=3):
    """ws -> s = dense(tanh(dense(ws))) -> s * P + B: deterministic, no noise layers."""
    init = keras.initializers.RandomNormal(stddev=0.6, seed=seed)
    ws = keras.Input((NUM_WS, W_DIM))
    h = keras.layers.Dense(4, activation="tanh", kernel_initializer=init, bias_initializer=init)(
        keras.layers.Flatten()(ws)
    )
    s = keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init)(h)
    spread = keras.layers.Dense(PIXELS * SHAPE[2], use_bias=False, trainable=False, name="pattern")
    flat = ImageBias()(spread(s))
    spread.set_weights([pattern()])
    return keras.Model(ws, keras.layers.Reshape(SHAPE)(flat), name="synthesis")


def make(form, max_elements=8192, **overrides):
    mapping, synthesis = make_mapping(), make_synthesis()
    discriminator = make_discriminator()
    model = StyleGAN(
        tapped(mapping, max_elements=max_elements),
        tapped(synthesis, max_elements=max_elements),
        tapped(discriminator, max_elements=max_elements),
        **{"seed": 0, **FORMS[form], **overrides},
    )
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return model, mapping, synthesis, discriminator


def make_discriminator(seed=1):
    """image -> flatten -> tanh(dense) -> logit, small weights (R1 at learning rate 1 stays tame)."""
    init = keras.initializers.RandomNormal(stddev=0.15, seed=seed)
    images = keras.Input(SHAPE)
    h = keras.layers.Dense(6, activation="tanh", kernel_initializer=init, bias_initializer=init)(
        keras.layers.Flatten()(images)
    )
    return keras.Model(images, keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init)(h), name="discriminator")


def real_batch(n=BATCH, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


# -- the papers' formulas, written out here -------------------------------------------


def softplus(x):
    return ops.softplus(x)


def d_logistic(real_logits, fake_logits):
    """StyleGAN2 / Goodfellow 2014: E softplus(-D(x)) + E softplus(D(G(z)))."""
    return ops.mean(softplus(-real_logits)) + ops.mean(softplus(fake_logits))


def g_non_saturating(fake_logits):
    """-log sigmoid(D(G(z))) = softplus(-D(G(z)))."""
    return ops.mean(softplus(-fake_logits))


def r1_of(discriminator, real):
    """Mescheder et al. 2018, eq. 9 without gamma / 2: E ||grad_x D(x)||^2 on reals."""
    grads = input_gradients(lambda t: discriminator(t, training=True), real)
    return ops.mean(ops.sum(ops.reshape(grads, (ops.shape(real)[0], -1)) ** 2, axis=1))


def mix(w1, w2, crossover):
    """Styles: w1 on layers [0, c), w2 from c on, per sample (StyleGAN sec. 3.1)."""
    layer = np.arange(NUM_WS)[None, :, None]
    take_first = ops.convert_to_tensor((layer < np.asarray(crossover)[:, None, None]).astype("float32"))
    return take_first * w1[:, None, :] + (1.0 - take_first) * w2[:, None, :]


def path_lengths(synthesis, ws, y):
    """StyleGAN2 eq. 4: ||J_w^T y||_2 per sample, J^T y = grad_ws sum(g(ws) * y),
    the squared norm summed over w's dimensions and averaged over the layers (reference code)."""
    grads = input_gradients(lambda w: synthesis(w, training=True) * y, ws)
    return ops.sqrt(ops.mean(ops.sum(grads**2, axis=2), axis=1))


def crossovers_of(ws, w1, w2):
    """The crossover layer of each sample, read from the styles the synthesis got (checked)."""
    out = []
    for i in range(len(ws)):
        is_first = [np.allclose(ws[i, l], w1[i], atol=1e-5) for l in range(NUM_WS)]
        c = is_first.index(False) if False in is_first else NUM_WS
        out.append(c)
    expected = numpy(mix(ops.convert_to_tensor(w1), ops.convert_to_tensor(w2), out))
    np.testing.assert_allclose(ws, expected, atol=1e-5, err_msg="styles are not w1 up to a crossover, then w2")
    return np.array(out)


class Styles:
    """One synthesis call rebuilt from the taps: its two z, its crossovers, its styles as a
    function of the mapping's current weights."""

    def __init__(self, mapping, z1, z2, ws_seen):
        self.mapping, self.z1, self.z2 = mapping, z1, z2
        self.w1 = numpy(mapping(z1))
        self.crossover = crossovers_of(ws_seen, self.w1, numpy(mapping(z2)))
        assert np.all(self.crossover >= 1), "the crossover is drawn in [1, num_ws): layer 0 always keeps w1"

    def __call__(self):
        return mix(self.mapping(self.z1, training=True), self.mapping(self.z2, training=True), self.crossover)


def ema_weights(ema_net, net):
    """The EMA copy's weights that shadow `net`'s trainable ones (same order)."""
    return [values([e])[0] for e, w in zip(ema_net.weights, net.weights) if w.trainable]


# -- the step ---------------------------------------------------------------------


@pytest.mark.parametrize("form", ["stylegan", "stylegan2"])
def test_four_steps_match_the_papers(form):
    """Every update, logged term and running average of 4 steps, in either paper's configuration."""
    options = FORMS[form]
    lazy = form == "stylegan2"
    model, mapping, synthesis, discriminator = make(form)
    g_vars = mapping.trainable_variables + synthesis.trainable_variables
    d_vars = discriminator.trainable_variables
    r1_k = options["r1_interval"]
    pl_k = options.get("path_length_interval", 1)
    gamma, decay = options["r1_gamma"], options.get("path_length_decay")
    half_life, rampup = options["ema_half_life_images"], options.get("ema_rampup")

    pl_mean = 0.0  # the reference code starts the running mean at 0
    w_avg = np.zeros(W_DIM, "float32")
    ema = ema_weights(model.ema_mapping, model.mapping) + ema_weights(model.ema_synthesis, model.synthesis)
    for e, w in zip(ema, values(g_vars)):
        np.testing.assert_array_equal(e, w)
    r_draws = []

    for step in range(4):
        x = real_batch(seed=step)
        reset_taps(model.mapping, model.synthesis, model.discriminator)
        g0, d0 = values(g_vars), values(d_vars)
        logs = train_once(model, x)
        g1, d1 = values(g_vars), values(d_vars)
        zs, wss, seen = records(model.mapping), records(model.synthesis), records(model.discriminator)

        r1_due = step % r1_k == 0  # D updates 0, k, 2k, ...
        pl_due = lazy and step % pl_k == 0  # G updates 0, k, 2k, ...
        assert len(wss) == 2 + pl_due, "one synthesis call per player, one more for the path length"
        assert len(zs) == 2 * len(wss), "two z per synthesis call (style mixing)"
        assert len(seen) == 3 + r1_due, "reals, fakes, [reals again for R1], G's fakes"
        assert [len(w) for w in wss] == [BATCH, BATCH] + ([BATCH // 4] if pl_due else [])

        # All styles of the step come from the mapping and synthesis at their pre-step weights.
        assign(g_vars, g0)
        styles = [Styles(mapping, zs[2 * j], zs[2 * j + 1], wss[j]) for j in range(len(wss))]
        for s, ws in zip(styles, wss):  # no truncation in training: the raw mapped w (w_avg is not 0 from step 1)
            np.testing.assert_allclose(numpy(s()), ws, atol=1e-5)
        assert not np.allclose(zs[0], zs[2]), "fresh z for every phase"

        # -- discriminator: logistic loss on reals and G(z) at its old weights, + lazy R1 --
        real_in, fake_in = seen[0], seen[1]
        np.testing.assert_allclose(real_in, x, atol=1e-6)
        np.testing.assert_allclose(fake_in, numpy(synthesis(wss[0])), atol=1e-5)
        if r1_due:
            np.testing.assert_allclose(seen[2], x, atol=1e-6)
        assign(d_vars, d0)

        def d_loss_fn():
            loss = d_logistic(discriminator(real_in, training=True), discriminator(fake_in, training=True))
            if r1_due:
                loss = loss + 0.5 * gamma * r1_k * r1_of(discriminator, real_in)
            return loss

        d_grads = gradients(d_loss_fn, d_vars)
        real_logits, fake_logits = numpy(discriminator(real_in)), numpy(discriminator(fake_in))
        assert logs["d_loss"] == pytest.approx(float(numpy(d_logistic(real_logits, fake_logits))), rel=1e-4)
        assert logs["d_real"] == pytest.approx(float(np.mean(1 / (1 + np.exp(-real_logits)))), rel=1e-4)
        assert logs["d_fake"] == pytest.approx(float(np.mean(1 / (1 + np.exp(-fake_logits)))), rel=1e-4)
        if r1_due:
            assert logs["r1_penalty"] == pytest.approx(float(numpy(r1_of(discriminator, real_in))), rel=1e-4)
        assert_sgd_update(d0, d1, d_grads, what=f"discriminator, step {step}")

        # -- generator: non-saturating loss against D's new weights, + lazy path length --
        assign(d_vars, d1)
        main = styles[1]
        np.testing.assert_allclose(seen[-1], numpy(synthesis(wss[1])), atol=1e-5)
        if lazy:
            new_mean = logs["pl_mean"]
            if not pl_due:
                assert new_mean == pytest.approx(pl_mean, abs=1e-7), "the mean moves only when the term is due"
        if pl_due:
            pl_styles = styles[2]
            ws_pl = ops.convert_to_tensor(wss[2])
            # y = n / sqrt(HW) enters only through sum(P * y) = r (P's rms is 1): y_unit gives r = 1.
            y_unit = pattern().reshape(1, *SHAPE) / PIXELS
            # The length the model found, read off a <- a + decay (mean length - a) (one sample).
            length = pl_mean + (new_mean - pl_mean) / decay
            r = length / float(numpy(path_lengths(synthesis, ws_pl, y_unit))[0])
            r_draws.append(r)
            y = r * y_unit  # equivalent to the noise the model drew (up to the sign of r)
            assert logs["pl_penalty"] == pytest.approx((length - new_mean) ** 2, rel=1e-3, abs=1e-7)

        def g_loss_fn():
            loss = g_non_saturating(discriminator(synthesis(main(), training=True), training=True))
            if pl_due:
                lengths = path_lengths(synthesis, pl_styles(), y)
                loss = loss + options["path_length_weight"] * pl_k * ops.mean((lengths - new_mean) ** 2)
            return loss

        assign(g_vars, g0)
        g_grads = gradients(g_loss_fn, g_vars)
        g_loss = float(numpy(g_non_saturating(discriminator(synthesis(wss[1])))))
        assert logs["g_loss"] == pytest.approx(g_loss, rel=1e-4)
        assert_sgd_update(g0, g1, g_grads, what=f"generator, step {step}")
        if lazy:
            pl_mean = new_mean

        # -- w_avg <- mean(w) + beta (w_avg - mean(w)) with the G phase's unmixed w --
        batch_mean = main.w1.mean(axis=0)
        w_avg = batch_mean + options["w_avg_decay"] * (w_avg - batch_mean)
        np.testing.assert_allclose(values([model.w_avg])[0], w_avg, atol=1e-6, err_msg=f"w_avg, step {step}")

        # -- EMA: beta = 0.5 ** (batch / half-life), the half-life capped by rampup * images seen --
        assign(g_vars, g1)
        life = half_life if rampup is None else min(half_life, step * BATCH * rampup)
        beta = 0.0 if life == 0 else 0.5 ** (BATCH / life)
        ema = [w + beta * (e - w) for e, w in zip(ema, g1)]
        got = ema_weights(model.ema_mapping, model.mapping) + ema_weights(model.ema_synthesis, model.synthesis)
        for i, (e, g) in enumerate(zip(ema, got)):
            np.testing.assert_allclose(g, e, atol=1e-6, err_msg=f"EMA variable {i}, step {step}")

    if lazy:
        assert len(r_draws) == 2
        # r = sum(P * n) / sqrt(HW) is one N(0, 1) draw: a length off by a constant factor shows here.
        assert all(0.02 < r < 3.0 for r in r_draws), r_draws
        assert abs(r_draws[0] - r_draws[1]) > 1e-3, "fresh noise for every path-length phase"
    assert not np.allclose(ema[0], values(g_vars)[0])  # the average lags the weights


def test_style_mixing_probability_and_crossover_are_per_image():
    """StyleGAN sec. 3.1: a given fraction of the images use two z, switching at a random layer.

    The fraction is the probability, per image (the reference code draws once per
    minibatch; the paper's text says 'a given percentage of images').
    """
    n = 128
    model, mapping, synthesis, discriminator = make(
        "stylegan2", max_elements=n * PIXELS, style_mixing=0.3, path_length_weight=0.0, r1_gamma=0.0
    )
    g0 = values(mapping.trainable_variables)
    train_once(model, real_batch(n=n))
    zs, wss = records(model.mapping), records(model.synthesis)
    assert len(wss) == 2 and len(zs) == 4
    assign(mapping.trainable_variables, g0)
    crossovers = [Styles(mapping, zs[2 * j], zs[2 * j + 1], wss[j]).crossover for j in range(2)]
    for c in crossovers:  # mixed and unmixed images in the same batch
        assert 0 < np.sum(c < NUM_WS) < n
    c = np.concatenate(crossovers)
    mixed = c[c < NUM_WS]
    assert len(mixed) / len(c) == pytest.approx(0.3, abs=0.1)  # 256 images: sd 0.03
    assert set(mixed.tolist()) == set(range(1, NUM_WS)), "crossovers uniform over [1, num_ws)"
    assert min(np.sum(mixed == k) for k in range(1, NUM_WS)) > 0.3 * len(mixed)


def test_truncation_only_when_sampling():
    """StyleGAN sec. 3.3 / appendix B: w' = w_avg + psi (w - w_avg) on the first layers, with the EMA nets."""
    model, mapping, synthesis, discriminator = make("stylegan")
    for step in range(2):
        train_once(model, real_batch(seed=step))
    w_avg = values([model.w_avg])[0]
    assert np.abs(w_avg).max() > 1e-3
    z = np.random.default_rng(5).normal(size=(3, LATENT)).astype("float32")
    psi, cutoff = 0.4, 2
    w = numpy(model.ema_mapping(z))
    ws = np.repeat(w[:, None, :], NUM_WS, axis=1)
    ws[:, :cutoff] = w_avg + psi * (ws[:, :cutoff] - w_avg)
    expected = numpy(model.ema_synthesis(ws))
    np.testing.assert_allclose(model.generate(z, truncation_psi=psi, truncation_cutoff=cutoff), expected, atol=1e-5)
    np.testing.assert_allclose(model.generate(z), numpy(model.ema_synthesis(np.repeat(w[:, None], NUM_WS, 1))), atol=1e-5)


def test_the_real_nets_can_be_tapped():
    """Tapping zoo's own StyleGAN2 nets keeps what the model reads from them: num_ws, noise layers."""
    from zoo import nets

    synthesis = nets.stylegan2_synthesis(8, w_dim=W_DIM, channels=1, fmap_base=16, fmap_max=4)
    model = StyleGAN(
        tapped(nets.style_mapping(latent_dim=LATENT, w_dim=W_DIM, num_layers=1)),
        tapped(synthesis),
        tapped(nets.stylegan2_discriminator(8, channels=1, fmap_base=16, fmap_max=4, mbstd_group_size=2)),
    )
    assert (model.num_ws, model.latent_dim, model.image_shape) == (4, LATENT, (8, 8, 1))
    assert len(nets.noise_layers(model.synthesis)) == len(nets.noise_layers(synthesis)) > 0
    assert len(nets.noise_layers(model.ema_synthesis)) == len(nets.noise_layers(synthesis))


# One-line changes a reader of the papers would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    ("zoo/models/style_gan.py", "total = total + 0.5 * self.r1_gamma * self.r1_interval * r1",
     "total = total + 0.5 * self.r1_gamma * r1", "lazy R1 loses its interval scaling"),
    ("zoo/models/style_gan.py", "total = total + 0.5 * self.r1_gamma * self.r1_interval * r1",
     "total = total + self.r1_gamma * self.r1_interval * r1", "R1 weighted gamma instead of gamma / 2"),
    ("zoo/models/style_gan.py", "return losses.r1_penalty(critic, real_images, loss_scale=loss_scale)",
     "return losses.r1_penalty(critic, fake_images, loss_scale=loss_scale)", "R1 on fakes instead of reals"),
    ("zoo/models/style_gan.py", "return ops.equal(ops.mod(optimizer.iterations, interval), 0)",
     "return ops.equal(ops.mod(optimizer.iterations, interval), 1)", "lazy terms due on the wrong updates"),
    ("zoo/models/style_gan.py", "total = total + self.path_length_weight * self.path_length_interval * pl",
     "total = total + self.path_length_weight * pl", "lazy path length loses its interval scaling"),
    ("zoo/models/style_gan.py", "shrunk = batch_size // self.path_length_batch_shrink",
     "shrunk = batch_size // 2", "path-length batch shrink ignored"),
    ("zoo/losses.py", "new_mean = ops.stop_gradient(pl_mean + decay * (ops.mean(lengths) - pl_mean))",
     "new_mean = pl_mean + decay * (ops.mean(lengths) - pl_mean)", "path-length mean not detached"),
    ("zoo/losses.py", "return ops.mean(ops.square(lengths - new_mean)), new_mean",
     "return ops.mean(ops.square(lengths - pl_mean)), new_mean", "penalty against the old mean a"),
    ("zoo/losses.py", "new_mean = ops.stop_gradient(pl_mean + decay * (ops.mean(lengths) - pl_mean))",
     "new_mean = ops.stop_gradient(pl_mean + (1.0 - decay) * (ops.mean(lengths) - pl_mean))",
     "running mean with decay and 1 - decay swapped"),
    ("zoo/losses.py", "pixels = float(height * width)", "pixels = 1.0",
     "path-length noise y not scaled by 1 / sqrt(HW)"),
    ("zoo/losses.py", "    ws = ops.cast(ws, \"float32\")\n    noise = ops.cast(noise, \"float32\")",
     "    ws = ops.stop_gradient(ops.cast(ws, \"float32\"))\n    noise = ops.cast(noise, \"float32\")",
     "path length does not reach the mapping"),
    ("zoo/models/style_gan.py", "self.w_avg.assign(mean + self.w_avg_decay * (self.w_avg - mean))",
     "self.w_avg.assign(self.w_avg + self.w_avg_decay * (mean - self.w_avg))", "w_avg decay on the wrong side"),
    ("zoo/models/style_gan.py", "        self.update_w_avg(w)\n", "        self.update_w_avg(ws[:, -1])\n",
     "w_avg tracks the mixed styles instead of the mapped w"),
    ("zoo/models/style_gan.py", "mixed = self.uniform((batch_size,)) < self.style_mixing",
     "mixed = self.uniform((batch_size,)) >= self.style_mixing",
     "style mixing with probability 1 - p"),
    ("zoo/models/style_gan.py", "crossover = self._randint((batch_size,), minval=1, maxval=self.num_ws)",
     "crossover = self._randint((batch_size,), minval=0, maxval=self.num_ws)",
     "crossover may hand every layer to the second w"),
    ("zoo/models/style_gan.py", "seen = ops.cast(self.g_optimizer.iterations - 1, \"float32\") * images",
     "seen = ops.cast(self.g_optimizer.iterations, \"float32\") * images", "EMA ramp-up counts this step's images"),
    ("zoo/models/style_gan.py", "average.assign(value + momentum * (average - value))",
     "average.assign(average + momentum * (value - average))", "EMA momentum on the wrong side"),
    ("zoo/models/style_gan.py", "return ops.power(0.5, images / ops.maximum(half_life, 1e-8))",
     "return ops.power(0.5, 1.0 / ops.maximum(half_life, 1e-8))", "EMA half-life counted in steps, not images"),
    ("zoo/models/style_gan.py", "return truncate(self.broadcast(w), self.w_avg, truncation_psi, truncation_cutoff)",
     "return truncate(self.broadcast(w), self.w_avg, truncation_psi, None)", "truncation cutoff ignored"),
    ("zoo/models/style_gan.py", "            self.pl_mean.assign(new_mean)\n", "            pass\n",
     "path-length running mean never stored"),
]
