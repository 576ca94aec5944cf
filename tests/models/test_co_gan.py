import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import callbacks, checkpoint, losses, nets
from zoo.models import CoGAN

SIZE = 16
LATENT = 8
BATCH = 4


def make(seed=1, **kwargs):
    g_a, g_b = nets.cogan_generators(LATENT, (SIZE, SIZE, 1), base_filters=4)
    d_a, d_b = nets.cogan_discriminators((SIZE, SIZE, 1), filters=(4, 6), hidden_units=8)
    return CoGAN(g_a, g_b, d_a, d_b, seed=seed, **kwargs)


def images(seed, n=BATCH):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32")


def dataset(n=8, batch=BATCH):
    a = images(0, n)
    b = -images(1, n)  # unpaired: B is not derived from A
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(batch, drop_remainder=True)


def with_fixed_noise(model, seed=5):
    z = np.random.default_rng(seed).normal(size=(BATCH, LATENT)).astype("float32")
    model.sample_noise = lambda batch_size: tf.constant(z)
    return z


def values(variables):
    return [np.array(v) for v in variables]


def shared_and_own(model, player):
    if player == "d":
        net_a, net_b = model.discriminator_a, model.discriminator_b
        shared = net_a.get_layer("cogan_discriminator_shared_dense").kernel
        own = (net_a.get_layer("cogan_discriminator_a_conv1").kernel, net_b.get_layer("cogan_discriminator_b_conv1").kernel)
    else:
        net_a, net_b = model.generator_a, model.generator_b
        shared = net_a.get_layer("cogan_generator_shared_dense").kernel
        own = (net_a.get_layer("cogan_generator_a_output").kernel, net_b.get_layer("cogan_generator_b_output").kernel)
    return shared, own


def d_gradients(model, z, real_a, real_b):
    """Each domain's discriminator-loss gradients, computed apart: (grads of A, grads of B)."""
    fake_a = model.generator_a(z, training=True)
    fake_b = model.generator_b(z, training=True)
    shared, (own_a, own_b) = shared_and_own(model, "d")
    with tf.GradientTape(persistent=True) as tape:
        loss_a = losses.non_saturating_d_loss(model.discriminator_a(real_a), model.discriminator_a(fake_a))
        loss_b = losses.non_saturating_d_loss(model.discriminator_b(real_b), model.discriminator_b(fake_b))
    return tape.gradient(loss_a, [shared, own_a, own_b]), tape.gradient(loss_b, [shared, own_a, own_b])


def g_gradients(model, z):
    shared, (own_a, own_b) = shared_and_own(model, "g")
    with tf.GradientTape(persistent=True) as tape:
        loss_a = losses.non_saturating_g_loss(model.discriminator_a(model.generator_a(z, training=True)))
        loss_b = losses.non_saturating_g_loss(model.discriminator_b(model.generator_b(z, training=True)))
    return tape.gradient(loss_a, [shared, own_a, own_b]), tape.gradient(loss_b, [shared, own_a, own_b])


# -- one update per step, with the summed gradient ------------------------------------


def test_discriminator_step_is_one_sgd_update_with_the_summed_gradient():
    model = make()
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    z = with_fixed_noise(model)
    real_a, real_b = images(2), images(3)
    grads_a, grads_b = d_gradients(model, z, real_a, real_b)
    assert grads_a[2] is None and grads_b[1] is None  # each first layer sees one domain only
    assert np.abs(grads_b[0]).max() > 1e-4 and np.abs(grads_a[0]).max() > 1e-4
    shared, (own_a, own_b) = shared_and_own(model, "d")
    expected = [
        np.array(shared) - 0.1 * (np.array(grads_a[0]) + np.array(grads_b[0])),
        np.array(own_a) - 0.1 * np.array(grads_a[1]),
        np.array(own_b) - 0.1 * np.array(grads_b[2]),
    ]
    generators_before = values(model.g_variables)
    model.discriminator_step(real_a, real_b)
    for got, want in zip((shared, own_a, own_b), expected):
        np.testing.assert_allclose(np.array(got), want, atol=1e-6)
    assert int(model.d_optimizer.iterations) == 1
    for before, after in zip(generators_before, model.g_variables):
        np.testing.assert_array_equal(before, np.array(after))


def test_generator_step_is_one_sgd_update_with_the_summed_gradient_and_leaves_d_alone():
    model = make()
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    z = with_fixed_noise(model)
    grads_a, grads_b = g_gradients(model, z)
    assert grads_a[2] is None and grads_b[1] is None
    assert np.abs(grads_b[0]).max() > 1e-6 and np.abs(grads_a[0]).max() > 1e-6
    shared, (own_a, own_b) = shared_and_own(model, "g")
    expected = [
        np.array(shared) - 0.1 * (np.array(grads_a[0]) + np.array(grads_b[0])),
        np.array(own_a) - 0.1 * np.array(grads_a[1]),
        np.array(own_b) - 0.1 * np.array(grads_b[2]),
    ]
    discriminators_before = values(model.d_variables)
    model.generator_step(BATCH)
    for got, want in zip((shared, own_a, own_b), expected):
        np.testing.assert_allclose(np.array(got), want, atol=1e-6)
    assert int(model.g_optimizer.iterations) == 1
    for before, after in zip(discriminators_before, model.d_variables):
        np.testing.assert_array_equal(before, np.array(after))


def test_shared_weights_get_one_adam_update_not_one_per_domain():
    learning_rate, beta_1, beta_2, epsilon = 0.01, 0.5, 0.999, 1e-7
    model = make()
    model.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon))
    z = with_fixed_noise(model)
    real_a, real_b = images(2), images(3)
    grads_a, grads_b = d_gradients(model, z, real_a, real_b)
    shared, _ = shared_and_own(model, "d")
    w = np.array(shared, dtype="float64")

    def adam(w, g, m, v, step):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        return w - alpha * m / (np.sqrt(v) + epsilon), m, v

    g_a, g_b = np.array(grads_a[0], "float64"), np.array(grads_b[0], "float64")
    once, _, _ = adam(w, g_a + g_b, 0.0, 0.0, 1)
    first, m, v = adam(w, g_a, 0.0, 0.0, 1)
    twice, _, _ = adam(first, g_b, m, v, 2)  # what one update per domain would do
    assert np.abs(once - twice).max() > 1e-3  # the two schemes are told apart
    model.discriminator_step(real_a, real_b)
    np.testing.assert_allclose(np.array(shared), once, atol=1e-5)
    assert int(model.d_optimizer.iterations) == 1
    # One slot per variable: a shared variable is not tracked twice.
    assert len(model.d_variables) == len({id(v) for v in model.discriminator_a.trainable_variables
                                           + model.discriminator_b.trainable_variables})


def test_both_generators_get_the_same_noise():
    model = make()
    model.compile()
    seen = []
    model.generate_pair = lambda z, training=False: (seen.append(z), CoGAN.generate_pair(model, z, training))[1]
    model.generator_step(BATCH)
    model.discriminator_step(images(2), images(3))
    assert len(seen) == 2  # one noise batch per step, fed to both generators at once
    assert not np.allclose(np.array(seen[0]), np.array(seen[1]))  # fresh noise for each step


# -- fit, evaluate, generate -------------------------------------------------------------


def test_fit_logs_finite_losses_and_updates_every_player_once_per_step():
    model = make()
    model.compile()
    generators_before, discriminators_before = values(model.g_variables), values(model.d_variables)
    history = model.fit(dataset(), epochs=1, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    assert set(logs) == {"d_loss", "g_loss", "d_a_loss", "d_b_loss", "g_a_loss", "g_b_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["d_loss"] == pytest.approx(logs["d_a_loss"] + logs["d_b_loss"], rel=1e-5)
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 2
    for before, after in zip(generators_before + discriminators_before, model.g_variables + model.d_variables):
        if after.trainable:
            assert not np.array_equal(before, np.array(after)), after.path


def test_evaluate_updates_nothing():
    model = make()
    model.compile()
    before = values(model.variables)
    logs = model.evaluate(dataset(), verbose=0, return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    for b, v in zip(before, model.variables):
        if v is not model.seed_generator.state:
            np.testing.assert_array_equal(b, np.array(v))


def test_generate_returns_pairs_from_one_noise():
    model = make()
    z = np.random.default_rng(7).normal(size=(5, LATENT)).astype("float32")
    images_a, images_b = model.generate(z)
    assert images_a.shape == images_b.shape == (5, SIZE, SIZE, 1)
    np.testing.assert_allclose(images_a, np.array(model.generator_a(z)), atol=1e-6)
    np.testing.assert_allclose(images_b, np.array(model.generator_b(z)), atol=1e-6)
    drawn_a, drawn_b = model.generate(3)
    assert drawn_a.shape == drawn_b.shape == (3, SIZE, SIZE, 1)
    with pytest.raises(ValueError, match="noise must have shape"):
        model.generate(np.zeros((2, LATENT + 1)))
    with pytest.raises(ValueError, match="positive"):
        model.generate(0)


def test_sample_grid_shows_the_pairs_side_by_side(tmp_path):
    model = make()
    model.compile()
    grid = callbacks.SampleGrid(str(tmp_path), num_images=4)
    grid.set_model(model)
    grid.on_train_begin()
    path = grid.write(1)
    image = keras.utils.load_img(path)
    assert image.size[0] > image.size[1]  # 2 rows of 2 pairs, each pair twice as wide as tall


# -- serialisation -------------------------------------------------------------------------


def test_save_and_load_keep_the_sharing_and_the_training_state(tmp_path):
    model = make()
    model.compile()
    model.fit(dataset(), epochs=1, verbose=0)
    path = str(tmp_path / "cogan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    z = np.random.default_rng(8).normal(size=(3, LATENT)).astype("float32")
    for got, want in zip(loaded.generate(z), model.generate(z)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    real = images(9)
    np.testing.assert_allclose(np.array(loaded.discriminator_b(real)), np.array(model.discriminator_b(real)), atol=1e-6)
    for net_a, net_b, name in (
        (loaded.generator_a, loaded.generator_b, "cogan_generator_shared_deconv1"),
        (loaded.discriminator_a, loaded.discriminator_b, "cogan_discriminator_shared_dense"),
    ):
        assert net_a.get_layer(name) is net_b.get_layer(name)
    assert loaded.generator_a.name == "cogan_generator_a" and loaded.latent_dim == LATENT
    assert len(loaded.g_variables) == len(model.g_variables)
    assert int(loaded.g_optimizer.iterations) == 2


def trained_and_restored(tmp_path):
    model = make()
    model.compile()
    model.fit(dataset(n=4), epochs=1, verbose=0)
    checkpoint.save(model, str(tmp_path / "ckpt"), epoch=1)
    return model, checkpoint.load_model(str(tmp_path / "ckpt"))


@pytest.mark.slow  # three traced fits
def test_checkpoint_resumes_training_exactly(tmp_path):
    # The checkpoint holds the weights once, the optimizers' slots and the noise state,
    # so training on gives the same updates.
    model, restored = trained_and_restored(tmp_path)
    for m in (model, restored):
        m.fit(dataset(n=4), epochs=1, verbose=0)
    z = np.random.default_rng(4).normal(size=(2, LATENT)).astype("float32")
    for got, want in zip(restored.generate(z), model.generate(z)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_config_holds_the_arguments_and_rebuilds_the_sharing():
    model = make(loss="least_squares", seed=3)
    config = model.get_config()
    assert config["loss"] == "least_squares" and config["seed"] == 3 and config["latent_dim"] == LATENT
    assert config["generators"]["names"] == ["cogan_generator_a", "cogan_generator_b"]
    clone = CoGAN.from_config(config)
    assert clone.generator_b.count_params() == model.generator_b.count_params()
    assert len(clone.d_variables) == len(model.d_variables) == 11
    assert clone.get_config()["loss"] == "least_squares"


# -- arguments -----------------------------------------------------------------------------


def test_mismatched_nets_are_refused():
    g_a, g_b = nets.cogan_generators(LATENT, (SIZE, SIZE, 1), base_filters=4)
    d_a, d_b = nets.cogan_discriminators((SIZE, SIZE, 1), filters=(4, 6), hidden_units=8)
    other_g, _ = nets.cogan_generators(LATENT + 1, (SIZE, SIZE, 1), base_filters=4, name="other")
    big_d, _ = nets.cogan_discriminators((32, 32, 1), filters=(4, 6), hidden_units=8, name="big")
    with pytest.raises(ValueError, match="same noise size"):
        CoGAN(g_a, other_g, d_a, d_b)
    with pytest.raises(ValueError, match="discriminator_a takes"):
        CoGAN(g_a, g_b, big_d, d_b)
    with pytest.raises(ValueError, match="latent_dim"):
        CoGAN(g_a, g_b, d_a, d_b, latent_dim=LATENT + 1)
    with pytest.raises(ValueError, match="generator_b must be"):
        CoGAN(g_a, "g_b", d_a, d_b)
    with pytest.raises(ValueError, match="wasserstein"):
        CoGAN(g_a, g_b, d_a, d_b, loss="wasserstein")
    with pytest.raises(ValueError):
        CoGAN(g_a, g_b, d_a, d_b, loss="nope")


def test_train_on_batch_takes_the_two_domains_as_x_and_y():
    model = make()
    model.compile()
    logs = model.train_on_batch(images(0), images(1), return_dict=True)
    assert np.isfinite(logs["d_a_loss"]) and np.isfinite(logs["g_b_loss"])
    assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 1


def test_train_step_needs_two_domains():
    model = make()
    model.compile(run_eagerly=True)
    with pytest.raises(ValueError, match="images_a, images_b"):
        model.train_step((images(0), images(1), images(2)))


@pytest.mark.slow  # tracing a step for two replicas takes tens of seconds
def test_mirrored_fit_keeps_one_update_per_step(two_replicas):
    with two_replicas.scope():
        model = make()
        model.compile()
    history = model.fit(dataset(n=8, batch=4), epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(model.d_optimizer.iterations.numpy()) == int(model.g_optimizer.iterations.numpy()) == 2
