"""StyleGAN / StyleGAN2 training: updates, lazy terms, style mixing, w_avg, truncation, EMA, saving, export.

The nets are tiny stand-ins honouring the contract of `zoo.nets`' StyleGAN nets:
a dense mapping, a synthesis that reads each `ws[:, i]` through its own dense
layer into a horizontal band of a 16x16 image, with a noise layer that has
`noise_const` and `noise_mode` like `zoo.layers.NoiseInjection`.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from zoo import export, losses, plotting
from zoo.models import StyleGAN

LATENT, W_DIM, NUM_WS, SHAPE = 8, 8, 4, (16, 16, 1)


@keras.saving.register_keras_serializable(package="test_style_gan")
class StandInNoise(keras.layers.Layer):
    """`x + strength * noise`, noise fresh per call (mode 0) or `noise_const` (mode 1)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, shape):
        self.strength = self.add_weight(shape=(), initializer="zeros", name="strength")
        self.noise_const = self.add_weight(
            shape=(1, shape[1], shape[2], 1), initializer=keras.initializers.RandomNormal(),
            trainable=False, dtype="float32", autocast=False, name="noise_const",
        )
        self.noise_mode = self.add_weight(
            shape=(), initializer="zeros", trainable=False, dtype="float32", autocast=False, name="noise_mode"
        )

    def call(self, x):
        shape = ops.shape(x)
        fresh = keras.random.normal((shape[0], shape[1], shape[2], 1), seed=self.seed_generator)
        noise = self.noise_mode * self.noise_const + (1.0 - self.noise_mode) * fresh
        return x + ops.cast(ops.cast(self.strength, "float32") * noise, x.dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def make_mapping():
    z = keras.Input((LATENT,))
    h = keras.layers.Dense(16, activation="leaky_relu")(z)
    return keras.Model(z, keras.layers.Dense(W_DIM)(h), name="mapping")


def make_synthesis(num_ws=NUM_WS, noise_strength=0.0):
    """Layer i turns `ws[:, i]` into rows `[i * 16 / num_ws, (i + 1) * 16 / num_ws)` of the image."""
    ws = keras.Input((num_ws, W_DIM))
    rows = SHAPE[0] // num_ws
    bands = []
    for i in range(num_ws):
        w = keras.layers.Flatten()(keras.layers.Cropping1D((i, num_ws - i - 1))(ws))
        band = keras.layers.Dense(rows * SHAPE[1] * SHAPE[2])(w)
        bands.append(keras.layers.Reshape((rows, *SHAPE[1:]))(band))
    noise = StandInNoise(seed=5)
    x = noise(keras.layers.Concatenate(axis=1)(bands))
    noise.strength.assign(noise_strength)
    return keras.Model(ws, keras.layers.Activation("tanh")(x), name="synthesis")


def make_identity_synthesis(num_ws=6):
    """Images that are the styles themselves: row i of the image is the w layer i got."""
    ws = keras.Input((num_ws, W_DIM))
    return keras.Model(ws, keras.layers.Reshape((num_ws, W_DIM, 1))(ws), name="identity")


def make_discriminator(shape=SHAPE):
    x = keras.Input(shape)
    h = keras.layers.Dense(16, activation="leaky_relu")(keras.layers.Flatten()(x))
    return keras.Model(x, keras.layers.Dense(1)(h), name="discriminator")


def make_model(synthesis=None, **kwargs):
    synthesis = synthesis or make_synthesis()
    kwargs.setdefault("seed", 3)
    discriminator = make_discriminator(tuple(synthesis.output_shape[1:]))
    return StyleGAN(make_mapping(), synthesis, discriminator, **kwargs)


def images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def dataset(n=16, batch=4):
    return tf.data.Dataset.from_tensor_slices(images(n)).batch(batch)


def snapshot(variables):
    return [np.array(v) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, np.array(v)) for b, v in zip(before, variables)]


def ema_pairs(model):
    """(EMA variable, trained variable) pairs of the mapping and the synthesis."""
    return list(zip(model.ema_mapping.weights, model.mapping.weights)) + list(
        zip(model.ema_synthesis.weights, model.synthesis.weights)
    )


def latents(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, LATENT)).astype("float32")


# -- training ----------------------------------------------------------------------


class BatchLogs(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append({k: float(v) for k, v in logs.items()})


def test_fit_logs_lazy_terms_only_on_their_intervals_moves_every_net_and_saves(tmp_path):
    model = make_model(r1_interval=2, path_length_interval=3, ema_half_life_images=40)
    model.compile()
    nets = (model.mapping, model.synthesis, model.discriminator)
    before = [snapshot(net.trainable_variables) for net in nets]
    ema_before = snapshot(model.ema_synthesis.trainable_variables)
    record = BatchLogs()
    history = model.fit(dataset(24, 4), epochs=1, verbose=0, callbacks=[record])
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "r1_penalty", "pl_penalty", "pl_mean"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    for net, values in zip(nets, before):
        assert all(changed(values, net.trainable_variables)), net.name
    assert all(changed(ema_before, model.ema_synthesis.trainable_variables))
    assert int(model.d_optimizer.iterations) == 6 and int(model.g_optimizer.iterations) == 6

    # Penalty logs are means over the steps that computed them: they move only on
    # due steps (R1 at D steps 0, 2, 4; path length at G steps 0, 3), as does pl_mean.
    logs = record.logs
    r1_moved = [logs[i]["r1_penalty"] != logs[i - 1]["r1_penalty"] for i in range(1, 6)]
    pl_moved = [logs[i]["pl_penalty"] != logs[i - 1]["pl_penalty"] for i in range(1, 6)]
    mean_moved = [logs[i]["pl_mean"] != logs[i - 1]["pl_mean"] for i in range(1, 6)]
    assert r1_moved == [False, True, False, True, False]
    assert pl_moved == mean_moved == [False, False, True, False, False]
    assert logs[0]["r1_penalty"] > 0 and logs[0]["pl_penalty"] > 0 and logs[0]["pl_mean"] > 0

    # A .keras file keeps the weights, w_avg, pl_mean, the EMA nets and the optimizers' state.
    path = tmp_path / "style_gan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert float(loaded.pl_mean) == float(model.pl_mean) > 0
    np.testing.assert_array_equal(np.array(loaded.w_avg), np.array(model.w_avg))
    assert np.abs(np.array(model.w_avg)).sum() > 0
    for name in ("mapping", "synthesis", "discriminator", "ema_mapping", "ema_synthesis"):
        for a, b in zip(getattr(loaded, name).weights, getattr(model, name).weights):
            np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=name)
    for name in ("d_optimizer", "g_optimizer"):
        saved, restored = getattr(model, name).variables, getattr(loaded, name).variables
        assert len(saved) == len(restored) > 2
        for a, b in zip(restored, saved):
            np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=name)
    z = latents(3)
    np.testing.assert_allclose(
        loaded.generate(z, truncation_psi=0.5, noise_mode="const"),
        model.generate(z, truncation_psi=0.5, noise_mode="const"),
        atol=1e-6,
    )


def test_discriminator_step_leaves_the_generator_unchanged():
    model = make_model(r1_interval=1)
    model.compile()
    model.build_optimizers()
    g_before = snapshot(model.generator_variables + model.ema_mapping.weights + model.ema_synthesis.weights)
    d_before = snapshot(model.discriminator.trainable_variables)
    w_avg = np.array(model.w_avg)
    model.discriminator_step(images(4))
    assert not any(changed(g_before, model.generator_variables + model.ema_mapping.weights + model.ema_synthesis.weights))
    assert all(changed(d_before, model.discriminator.trainable_variables))
    np.testing.assert_array_equal(np.array(model.w_avg), w_avg)


def test_generator_step_leaves_the_discriminator_unchanged():
    model = make_model(path_length_interval=1)
    model.compile()
    model.build_optimizers()
    d_before = snapshot(model.discriminator.weights)
    g_before = snapshot(model.generator_variables)
    model.generator_step(4)
    assert not any(changed(d_before, model.discriminator.weights))
    assert all(changed(g_before, model.generator_variables))


def test_r1_and_path_length_are_computed_only_on_their_intervals():
    model = make_model(r1_interval=3, path_length_interval=2)
    model.compile()
    model.build_optimizers()
    real = images(4)
    r1_due, pl_due = [], []
    for step in range(6):
        model.d_optimizer.iterations.assign(step)
        _, _, _, r1, due = model.discriminator_step(real)
        assert (float(r1) > 0) == bool(due)
        r1_due.append(bool(due))
        model.g_optimizer.iterations.assign(step)
        pl_mean = float(model.pl_mean)
        _, pl, due = model.generator_step(4)
        assert (float(pl) > 0) == bool(due) == (float(model.pl_mean) != pl_mean)
        pl_due.append(bool(due))
    assert r1_due == [True, False, False, True, False, False]
    assert pl_due == [True, False, True, False, True, False]


def test_r1_adds_gamma_over_two_times_the_interval_to_the_discriminator_loss():
    # Identical discriminators and batches: only the R1 weight differs, so the
    # SGD updates differ by lr * gamma / 2 * interval * grad(R1).
    updates = {}
    for gamma in (0.0, 4.0):
        keras.utils.set_random_seed(0)
        model = make_model(r1_gamma=gamma, r1_interval=5, style_mixing=0.0)
        model.compile(d_optimizer=keras.optimizers.SGD(0.1))
        model.build_optimizers()
        model.discriminator_step(images(4))
        updates[gamma] = snapshot(model.discriminator.trainable_variables)
    keras.utils.set_random_seed(0)
    reference = make_model(r1_gamma=0.0, style_mixing=0.0)
    weights = snapshot(reference.discriminator.trainable_variables)
    with tf.GradientTape() as tape:
        critic = lambda x: reference.discriminator(x, training=True)  # noqa: E731
        r1 = losses.r1_penalty(critic, images(4))
    grads = tape.gradient(r1, reference.discriminator.trainable_variables)
    for plain, regularised, grad in zip(updates[0.0], updates[4.0], grads):
        grad = np.zeros_like(plain) if grad is None else np.array(grad)  # the output bias has none
        np.testing.assert_allclose(plain - regularised, 0.1 * 2.0 * 5 * grad, rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(weights, updates[4.0]))


# -- style mixing ------------------------------------------------------------------------


def crossovers(ws, w):
    """Per sample: the first layer whose w differs from layer 0's (num_ws if none), checked."""
    num_ws = ws.shape[1]
    points = []
    for sample, first in zip(ws, w):
        np.testing.assert_array_equal(sample[0], first)  # layer 0 always gets the first w
        differs = [not np.array_equal(row, first) for row in sample]
        point = differs.index(True) if any(differs) else num_ws
        # Before the crossover the first w, from it on one and the same second w.
        assert not any(differs[:point])
        for row in sample[point:]:
            np.testing.assert_array_equal(row, sample[point])
        points.append(point)
    return np.array(points)


def test_style_mixing_hands_the_later_layers_to_a_second_w():
    model = make_model(make_identity_synthesis(num_ws=6), style_mixing=1.0)
    ws, w = model.sample_ws(400)
    fakes = np.array(model.synthesis(ws))[..., 0]  # (batch, layer, w_dim): what each layer got
    points = crossovers(fakes, np.array(w))
    assert points.min() >= 1 and points.max() <= 5  # every sample mixed, crossover in [1, num_ws)
    counts = np.bincount(points, minlength=6)[1:]
    assert counts.min() > 40  # uniform over the five crossover points (80 each expected)


@pytest.mark.parametrize("probability", [0.0, 0.5])
def test_style_mixing_probability_is_per_sample(probability):
    model = make_model(make_identity_synthesis(num_ws=6), style_mixing=probability)
    ws, w = model.sample_ws(400)
    mixed = crossovers(np.array(ws), np.array(w)) < 6
    assert mixed.mean() == pytest.approx(probability, abs=0.08)


def test_mix_styles_takes_the_second_w_from_the_crossover_on():
    model = make_model()
    w, w2 = np.zeros((3, W_DIM), "float32"), np.ones((3, W_DIM), "float32")
    ws = np.array(model.mix_styles(w, w2, np.array([1, 3, NUM_WS])))
    np.testing.assert_array_equal(ws[:, :, 0], [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])


# -- w_avg, truncation, EMA ----------------------------------------------------------------


def test_w_avg_moves_toward_the_batch_mean():
    model = make_model()
    start = np.random.default_rng(0).normal(size=W_DIM).astype("float32")
    batch = np.random.default_rng(1).normal(size=(5, W_DIM)).astype("float32")
    model.w_avg.assign(start)
    model.update_w_avg(batch)
    mean = batch.mean(axis=0)
    np.testing.assert_allclose(np.array(model.w_avg), mean + 0.995 * (start - mean), rtol=1e-6)


def test_generator_step_updates_w_avg_from_the_mapped_w():
    # A mapping that ignores z: w = b for every sample, so w_avg <- b + 0.995 (w_avg - b).
    model = make_model(w_avg_decay=0.9, path_length_weight=0.0)
    model.compile()
    model.build_optimizers()
    b = np.linspace(-1, 1, W_DIM).astype("float32")
    for variable in model.mapping.trainable_variables:
        variable.assign(np.zeros(variable.shape, "float32"))
    model.mapping.layers[-1].bias.assign(b)
    start = np.full(W_DIM, 0.5, "float32")
    model.w_avg.assign(start)
    model.generator_step(4)
    np.testing.assert_allclose(np.array(model.w_avg), b + 0.9 * (start - b), rtol=1e-6, atol=1e-7)


def test_truncation_psi_zero_gives_w_avg_and_one_the_identity():
    model = make_model()
    w_avg = np.random.default_rng(0).normal(size=W_DIM).astype("float32")
    model.w_avg.assign(w_avg)
    z = latents(5)
    np.testing.assert_allclose(np.array(model.map(z, truncation_psi=0.0)), np.broadcast_to(w_avg, (5, NUM_WS, W_DIM)))
    w = np.array(model.ema_mapping(z))
    np.testing.assert_allclose(np.array(model.map(z)), np.repeat(w[:, None], NUM_WS, axis=1), rtol=1e-6)
    half = np.array(model.map(z, truncation_psi=0.5, truncation_cutoff=2))
    np.testing.assert_allclose(half[:, :2], np.repeat((w_avg + 0.5 * (w - w_avg))[:, None], 2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(half[:, 2:], np.repeat(w[:, None], 2, axis=1), rtol=1e-6)
    # psi 0 with constant noise: one image whatever z.
    out = model.generate(z, truncation_psi=0.0, noise_mode="const")
    np.testing.assert_allclose(out, np.broadcast_to(out[:1], out.shape), atol=1e-6)
    assert np.ptp(model.generate(z, noise_mode="const"), axis=0).max() > 0.01


def test_ema_nets_follow_the_half_life_formula():
    model = make_model(ema_half_life_images=40, path_length_weight=0.0)
    model.compile(g_optimizer=keras.optimizers.SGD(0.5))
    model.build_optimizers()
    # Start the averages away from the trained nets so that the formula is visible.
    pairs = ema_pairs(model)
    for average, weight in pairs:
        if weight.trainable:
            average.assign(np.array(weight) + 1.0)
    before = [np.array(average) for average, _ in pairs]
    model.train_step(images(4))
    beta = 0.5 ** (4 / 40)
    for old, (average, weight) in zip(before, pairs):
        if weight.trainable:
            raw = np.array(weight)
            np.testing.assert_allclose(np.array(average), raw + beta * (old - raw), rtol=1e-5, atol=1e-6)
    assert not model.ema_synthesis.trainable_weights


def test_ema_rampup_caps_the_half_life_by_the_images_seen():
    model = make_model(ema_half_life_images=1000, ema_rampup=0.5)
    model.compile()
    model.build_optimizers()
    model.g_optimizer.iterations.assign(1)  # after the first update: nothing seen before it
    assert float(model.ema_momentum(4)) == 0.0
    model.g_optimizer.iterations.assign(11)  # 40 images seen: half-life 20
    assert float(model.ema_momentum(4)) == pytest.approx(0.5 ** (4 / 20))
    model.g_optimizer.iterations.assign(10_000)
    assert float(model.ema_momentum(4)) == pytest.approx(0.5 ** (4 / 1000))


# -- sampling and figures ----------------------------------------------------------------------


def test_generate_noise_modes_and_restores_the_mode():
    model = make_model(make_synthesis(noise_strength=0.5))
    z = latents(3)
    const = model.generate(z, noise_mode="const")
    np.testing.assert_array_equal(const, model.generate(z, noise_mode="const"))
    assert not np.allclose(model.generate(z), model.generate(z))
    noise = model.ema_synthesis.layers[-2]
    assert float(noise.noise_mode) == 0.0
    noise.noise_mode.assign(1.0)
    np.testing.assert_allclose(np.array(model.synthesize(model.map(z))), const, atol=1e-6)  # None: as set
    assert float(noise.noise_mode) == 1.0
    assert model.generate(5, batch_size=2).shape == (5, *SHAPE)
    with pytest.raises(ValueError, match="noise_mode"):
        model.generate(2, noise_mode="fixed")
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        model.generate(np.zeros((2, 3), "float32"))


def test_style_mix_copies_the_chosen_layers_from_source_b():
    model = make_model()
    a, b = latents(3, 1), latents(2, 2)
    table = model.style_mix(a, b, styles=(1, 3), grid=False)
    assert table.shape == (3, 4, *SHAPE)
    ws_a, ws_b = np.array(model.map(a)), np.array(model.map(b))
    np.testing.assert_allclose(table[0, 1:], model.synthesize(ws_a, noise_mode="const"), atol=1e-6)
    np.testing.assert_allclose(table[1:, 0], model.synthesize(ws_b, noise_mode="const"), atol=1e-6)
    mixed = ws_a[1].copy()
    mixed[1:3] = ws_b[0, 1:3]
    np.testing.assert_allclose(table[1, 2], np.array(model.synthesize(mixed[None], noise_mode="const"))[0], atol=1e-6)
    # Layer i paints rows [4i, 4i + 4): rows of layers 1-2 come from B, the rest from A.
    np.testing.assert_allclose(table[1, 2, 4:12], table[1, 0, 4:12], atol=1e-6)
    np.testing.assert_allclose(table[1, 2, :4], table[0, 2, :4], atol=1e-6)
    np.testing.assert_allclose(table[1, 2, 12:], table[0, 2, 12:], atol=1e-6)
    grid = model.style_mix(a, b, styles="coarse")
    assert grid.dtype == np.uint8 and grid.shape == plotting.make_grid(table.reshape(-1, *SHAPE), num_rows=3).shape
    with pytest.raises(ValueError, match="styles"):
        model.style_mix(a, b, styles="fine")  # num_ws=4: no layer at 64^2 and up


def test_truncation_sweep_rows_are_z_and_columns_psi():
    model = make_model()
    model.w_avg.assign(np.full(W_DIM, 0.3, "float32"))
    z = latents(3)
    table = model.truncation_sweep(z, psis=(1.0, 0.0, -1.0), grid=False)
    assert table.shape == (3, 3, *SHAPE)
    np.testing.assert_allclose(table[:, 0], model.generate(z, noise_mode="const"), atol=1e-6)
    np.testing.assert_allclose(table[:, 1], np.broadcast_to(table[:1, 1], table[:, 1].shape), atol=1e-6)
    np.testing.assert_allclose(table[:, 2], model.generate(z, truncation_psi=-1.0, noise_mode="const"), atol=1e-6)
    assert model.truncation_sweep(2).dtype == np.uint8


# -- configuration, saving, distribution, precision ---------------------------------------------


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"style_mixing": 1.5}, "style_mixing"),
        ({"r1_gamma": -1.0}, "r1_gamma"),
        ({"r1_interval": 0}, "r1_interval"),
        ({"path_length_weight": "2"}, "path_length_weight"),
        ({"path_length_interval": 1.5}, "path_length_interval"),
        ({"path_length_decay": 2.0}, "path_length_decay"),
        ({"path_length_batch_shrink": 0}, "path_length_batch_shrink"),
        ({"w_avg_decay": -0.1}, "w_avg_decay"),
        ({"ema_half_life_images": 0}, "ema_half_life_images"),
        ({"ema_rampup": 0.0}, "ema_rampup"),
        ({"loss": "bce"}, "loss must be one of"),
        ({"loss": "wasserstein", "r1_gamma": 0.0}, "r1_gamma"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_model(**kwargs)


def test_mismatched_nets_are_refused():
    with pytest.raises(ValueError, match="expected w_dim 8"):
        z = keras.Input((LATENT,))
        StyleGAN(keras.Model(z, keras.layers.Dense(5)(z)), make_synthesis(), make_discriminator())
    with pytest.raises(ValueError, match="discriminator takes inputs of shape"):
        StyleGAN(make_mapping(), make_synthesis(), make_discriminator((8, 8, 1)))
    with pytest.raises(ValueError, match="num_ws >= 2"):
        make_model(make_identity_synthesis(num_ws=1))
    with pytest.raises(ValueError, match="truncation_cutoff"):
        make_model().map(latents(2), truncation_cutoff=NUM_WS + 1)


@pytest.mark.slow
def test_mirrored_fit_gives_finite_losses(two_replicas):
    with two_replicas.scope():
        model = make_model(r1_interval=2, path_length_interval=2, ema_half_life_images=40)
        model.compile()
    before = snapshot(model.ema_synthesis.trainable_variables)
    history = model.fit(dataset(16, 8), epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert history.history["pl_mean"][-1] > 0 and history.history["r1_penalty"][-1] > 0
    assert all(changed(before, model.ema_synthesis.trainable_variables))
    assert np.all(np.isfinite(np.array(model.w_avg))) and np.abs(np.array(model.w_avg)).sum() > 0


def test_mixed_bfloat16_fit():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = make_model(r1_interval=2, path_length_interval=2)
    model.compile(run_eagerly=True)  # the same ops without the tracing time; fit's graph is tested above
    g_before = snapshot(model.generator_variables)
    history = model.fit(dataset(8, 4), epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert all(changed(g_before, model.generator_variables))
    assert model.w_avg.dtype == "float32"
    out = model.generate(2)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))


# -- export ----------------------------------------------------------------------------------

LOADER = """
import json, sys
import numpy as np
import tensorflow as tf

served = tf.saved_model.load(sys.argv[1])
z = np.load(sys.argv[2])
ws = np.load(sys.argv[3])
out = {
    "plain": served.signatures["serving_default"](noise=tf.constant(z))["images"].numpy(),
    "psi0": served.signatures["truncated"](noise=tf.constant(z), truncation_psi=tf.constant(0.0))["images"].numpy(),
    "half": served.signatures["truncated"](noise=tf.constant(z), truncation_psi=tf.constant(0.5))["images"].numpy(),
    "w": served.signatures["mapping"](noise=tf.constant(z))["w"].numpy(),
    "ws": served.signatures["from_w"](w=tf.constant(ws))["images"].numpy(),
    "one_w": served.signatures["from_w"](w=tf.constant(ws[:, 0]))["images"].numpy(),
}
np.savez(sys.argv[4], **out)
print(json.dumps({"signatures": sorted(served.signatures)}))
"""


def trained_looking_model():
    """A model whose EMA nets differ from the trained nets, with visible noise and a non-zero w_avg."""
    model = make_model(make_synthesis(noise_strength=0.5))
    rng = np.random.default_rng(7)
    for average, weight in ema_pairs(model):
        if weight.trainable:
            average.assign(np.array(weight) + 0.1 * rng.normal(size=weight.shape).astype("float32"))
    model.w_avg.assign(rng.normal(size=W_DIM).astype("float32"))
    return model


@pytest.mark.slow
def test_a_fresh_process_serves_the_models_images(tmp_path, run_without_zoo):
    model = trained_looking_model()
    path = export.export_style_generator(model, "style", base_path=str(tmp_path / "saved"))
    info = export.read_metadata(path)
    assert (info["latent_dim"], info["w_dim"], info["num_ws"], info["noise_mode"]) == (LATENT, W_DIM, NUM_WS, "const")
    assert float(model.ema_synthesis.layers[-2].noise_mode) == 0.0  # the model's own mode is restored

    z = latents(4, seed=3)
    ws = np.array(model.map(latents(4, seed=4), truncation_psi=0.7))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "ws.npy", ws)
    result = run_without_zoo(LOADER, path, tmp_path / "z.npy", tmp_path / "ws.npy", tmp_path / "out.npz")
    assert result["signatures"] == ["from_w", "mapping", "sample", "serving_default", "truncated"]
    out = np.load(tmp_path / "out.npz")

    np.testing.assert_allclose(out["plain"], model.generate(z, noise_mode="const"), atol=1e-5)
    np.testing.assert_allclose(out["half"], model.generate(z, truncation_psi=0.5, noise_mode="const"), atol=1e-5)
    np.testing.assert_allclose(out["w"], np.array(model.ema_mapping(z)), atol=1e-5)
    np.testing.assert_allclose(out["ws"], np.array(model.synthesize(ws, noise_mode="const")), atol=1e-5)
    np.testing.assert_allclose(out["one_w"], np.array(model.synthesize(ws[:, 0], noise_mode="const")), atol=1e-5)
    # psi 0: every z gives the image of w_avg; without truncation the images differ.
    np.testing.assert_allclose(out["psi0"], np.broadcast_to(out["psi0"][:1], out["psi0"].shape), atol=1e-6)
    assert np.ptp(out["plain"], axis=0).max() > 0.05
    # TF Serving replays these on load and refuses the version if one fails: they must all run.
    from zoo import serving

    served = tf.saved_model.load(path)
    warmed = set()
    for _, signature, inputs in serving.read_warmup_requests(path):
        served.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        warmed.add(signature)
    assert warmed == set(result["signatures"])
    sample = served.signatures["sample"](batch_size=tf.constant(3))
    assert sample["images"].shape == (3, *SHAPE) and sample["images_uint8"].dtype == tf.uint8
    # zoo's export readers (zoo evaluate/sample --export) take it like any generator export.
    from zoo.metrics import ExportedGenerator

    reader = ExportedGenerator(path)
    assert (reader.latent_dim, reader.image_shape, reader.num_classes) == (LATENT, SHAPE, None)
    np.testing.assert_allclose(reader.generate(z), out["plain"], atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 or 4 layers"):
        served.signatures["from_w"](w=tf.zeros((2, 3, W_DIM)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="last dimension must be 8"):
        served.signatures["from_w"](w=tf.zeros((2, 5)))
    # The EMA nets are what is served, not the trained ones.
    trained = np.array(model.synthesize(model.map(z, use_ema=False), use_ema=False, noise_mode="const"))
    assert np.abs(trained - out["plain"]).max() > 1e-3


def test_export_generator_hands_a_stylegan_to_export_style_generator(tmp_path):
    path = export.export_generator(make_model(), "style", base_path=str(tmp_path), metadata={"dataset": "x"})
    info = export.read_metadata(path)
    assert (info["num_ws"], info["dataset"], info["model"]) == (NUM_WS, "x", "StyleGAN")


def test_export_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="noise_mode"):
        export.export_style_generator(make_model(), "style", base_path=str(tmp_path), noise_mode="fixed")
    with pytest.raises(ValueError, match="no ema_mapping"):
        export.export_style_generator(object(), "style", base_path=str(tmp_path))
    assert export.versions(str(tmp_path), "style") == []


@pytest.mark.slow  # 8 s: a second trace of the five signatures for one flag
def test_random_noise_export_draws_fresh_noise(tmp_path):
    model = trained_looking_model()
    path = export.export_style_generator(model, "style", base_path=str(tmp_path), noise_mode="random")
    served = tf.saved_model.load(path)
    z = tf.constant(latents(2))
    first = served.signatures["serving_default"](noise=z)["images"].numpy()
    assert not np.allclose(first, served.signatures["serving_default"](noise=z)["images"].numpy())
    assert export.read_metadata(path)["noise_mode"] == "random"


# -- the real StyleGAN nets (zoo.nets) -------------------------------------------------------


def real_nets(generation=2, resolution=16):
    from zoo import nets

    mapping = nets.style_mapping(latent_dim=LATENT, w_dim=W_DIM, num_layers=2)
    if generation == 2:
        synthesis = nets.stylegan2_synthesis(resolution, w_dim=W_DIM, channels=1, fmap_base=32, fmap_max=8)
    else:
        synthesis = nets.stylegan_synthesis(resolution, w_dim=W_DIM, channels=1, fmap_base=32, fmap_max=8)
    discriminator = nets.stylegan2_discriminator(resolution, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
    return mapping, synthesis, discriminator


@pytest.mark.parametrize("generation", [1, 2])
def test_real_nets_train_and_sample(generation):
    from zoo import nets

    options = {"path_length_interval": 2} if generation == 2 else {"path_length_weight": 0.0, "r1_interval": 1}
    model = StyleGAN(*real_nets(generation), seed=0, **options)
    assert model.num_ws == 6  # 2 log2(16) - 2
    model.compile()
    model.build_optimizers()
    before = [snapshot(net.trainable_variables) for net in (model.mapping, model.synthesis, model.discriminator)]
    for _ in range(2):
        logs = model.train_step(images(4))
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert float(logs["r1_penalty"]) > 0
    assert (float(logs["pl_mean"]) > 0) if generation == 2 else ("pl_mean" not in logs)
    for net, values in zip((model.mapping, model.synthesis, model.discriminator), before):
        assert all(changed(values, net.trainable_variables)), net.name
    noise = nets.noise_layers(model.ema_synthesis)
    assert noise and all(float(layer.strength.numpy().max()) != 0 for layer in noise)  # strengths trained (init 0)
    z = latents(3)
    np.testing.assert_array_equal(model.generate(z, noise_mode="const"), model.generate(z, noise_mode="const"))
    assert not np.allclose(model.generate(z), model.generate(z))
    assert all(float(layer.noise_mode) == 0.0 for layer in noise)
    assert model.style_mix(2, 2, styles="middle").shape == (3 * 18 + 2, 3 * 18 + 2, 1)
    with pytest.raises(ValueError, match="styles"):
        model.style_mix(2, 2, styles="fine")


@pytest.mark.slow  # about 20 s: tracing the real nets' five signatures
def test_real_nets_export_matches_the_model(tmp_path):
    from zoo import nets

    model = StyleGAN(*real_nets(2), seed=0)
    for layer in nets.noise_layers(model.ema_synthesis):
        layer.strength.assign(np.ones_like(layer.strength.numpy()))  # make the noise visible
    model.w_avg.assign(np.random.default_rng(0).normal(size=W_DIM).astype("float32"))
    path = export.export_style_generator(model, "stylegan2", base_path=str(tmp_path))
    served = tf.saved_model.load(path)
    z = latents(3)
    out = served.signatures["truncated"](noise=tf.constant(z), truncation_psi=tf.constant(0.7))["images"].numpy()
    np.testing.assert_allclose(out, model.generate(z, truncation_psi=0.7, noise_mode="const"), atol=1e-4)
    psi0 = served.signatures["truncated"](noise=tf.constant(z), truncation_psi=tf.constant(0.0))["images"].numpy()
    np.testing.assert_allclose(psi0, np.broadcast_to(psi0[:1], psi0.shape), atol=1e-5)
    assert np.ptp(out, axis=0).max() > 1e-3


# -- learning ------------------------------------------------------------------------------


@pytest.mark.slow  # about 3-5 minutes on two shared CPU cores
def test_stylegan2_learns_digits():
    """FID in a digit classifier's feature space falls from ~1000 to near the real data's own."""
    from zoo import data, metrics, nets

    batch = next(iter(data.load("digits", image_size=16, batch_size=2000, shuffle=False, with_labels=True,
                                drop_remainder=False)))
    x, y = batch[0].numpy(), batch[1].numpy()
    train_x, held_x = x[:1500], x[1500:]
    classifier = metrics.train_domain_classifier(
        train_x, y[:1500], num_classes=10, epochs=8, batch_size=64, filters=(16, 32), feature_dim=64, seed=0
    )
    extractor = metrics.ClassifierExtractor(classifier)
    assert (extractor.probabilities(held_x).argmax(1) == y[1500:]).mean() > 0.9
    held_features = extractor.features(held_x)
    floor = metrics.frechet_distance(extractor.features(train_x[:300]), held_features)

    keras.utils.set_random_seed(0)
    model = StyleGAN(
        nets.style_mapping(latent_dim=32, w_dim=32, num_layers=2),
        nets.stylegan2_synthesis(16, w_dim=32, channels=1, fmap_base=256, fmap_max=32),
        nets.stylegan2_discriminator(16, channels=1, fmap_base=256, fmap_max=32),
        r1_gamma=1.0,  # the paper's 10 is for 1024^2 faces; small images want less (stylegan2-ada's heuristic)
        ema_half_life_images=2000,
        ema_rampup=0.05,
        seed=0,
    )
    model.compile()
    z = np.random.default_rng(1).standard_normal((300, 32)).astype("float32")
    before = metrics.frechet_distance(extractor.features(model.generate(z)), held_features)
    model.fit(data.load("digits", image_size=16, batch_size=32, seed=0), epochs=10, verbose=0)
    samples = model.generate(z)
    after = metrics.frechet_distance(extractor.features(samples), held_features)
    labels = extractor.probabilities(samples).argmax(1)
    print(f"FID (digit classifier features): init {before:.1f}, trained {after:.1f}, "
          f"real train vs held-out {floor:.1f}; classes {np.bincount(labels, minlength=10)}")
    assert before > 300
    assert after < min(0.05 * before, 6 * floor)
    assert len(np.unique(labels)) >= 8 and np.bincount(labels).max() < 0.3 * len(labels)
