"""VAE-GAN and AE-GAN: three players, feature-space reconstruction."""

import keras
import numpy as np
import pytest

from zoo import nets
from zoo.models import VAEGAN

SHAPE = (16, 16, 1)


def images(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = -np.ones((n, *SHAPE), "float32")
    for i, k in enumerate(rng.integers(0, 4, n)):
        r, c = divmod(int(k), 2)
        x[i, 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] = 1.0
    return x


def make(variational=True, **kwargs):
    encoder = nets.conv_encoder(SHAPE, 3, filters=(4, 8), hidden_units=8, variational=variational)
    decoder = nets.conv_decoder(3, SHAPE, filters=(8, 4))
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
    return VAEGAN(encoder, decoder, discriminator, seed=0, **kwargs)


def snapshot(net):
    return [np.array(w) for w in net.trainable_weights]


def changed(before, net):
    return any(not np.allclose(a, np.array(b)) for a, b in zip(before, net.trainable_weights))


@pytest.mark.parametrize("variational", [True, False])
def test_one_step_moves_every_player_and_logs_finite_terms(variational):
    model = make(variational)
    model.compile()
    nets_before = {n: snapshot(getattr(model, n)) for n in ("encoder", "decoder", "discriminator")}
    logs = model.fit(images(), batch_size=8, epochs=1, verbose=0).history
    assert set(logs) == {"loss", "recon_loss", "kl_loss", "d_loss", "g_loss"}
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert (logs["kl_loss"][-1] > 0) == variational
    for name, before in nets_before.items():
        assert changed(before, getattr(model, name)), name
    assert model.generate(4).shape == (4, *SHAPE) and model.reconstruct(images(4)).shape == (4, *SHAPE)


def test_the_reconstruction_loss_does_not_train_the_discriminator():
    """With the adversarial terms switched off (SGD at lr 0 for D), D's weights stay put."""
    model = make()
    model.compile(d_optimizer=keras.optimizers.SGD(0.0))
    before = snapshot(model.discriminator)
    model.fit(images(), batch_size=8, epochs=1, verbose=0)
    assert not changed(before, model.discriminator)


def test_feature_reconstruction_is_half_the_squared_feature_distance():
    model = make(variational=False)  # AE-GAN: deterministic, so the value can be recomputed
    x = images(4)
    recon, kl, _, _ = model._forward(x, training=False)
    features = keras.Model(model.discriminator.inputs[0], model.discriminator.get_layer("features").output)
    real, rebuilt = np.array(features(x)), np.array(features(model.reconstruct(x)))
    expected = 0.5 * np.sum((real - rebuilt).reshape(4, -1) ** 2, axis=1)
    np.testing.assert_allclose(np.array(recon), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(np.array(kl), np.zeros(4))


def test_config_round_trip_and_clear_errors():
    model = make(recon_weight=0.5, loss="hinge")
    clone = VAEGAN.from_config(model.get_config())
    assert clone.recon_weight == 0.5 and clone.loss_name == "hinge" and clone.variational
    with pytest.raises(ValueError, match="feature_layer='nope' is not a layer"):
        make(feature_layer="nope")
    with pytest.raises(ValueError, match="recon_weight must be a float > 0"):
        make(recon_weight=0.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        make(loss="l2")
    with pytest.raises(NotImplementedError, match="feature space"):
        make().log_likelihood(images(2))


def test_compile_takes_one_optimizer_per_net_not_one_for_all():
    with pytest.raises(ValueError, match=r"VAEGAN.compile takes e_optimizer, g_optimizer, d_optimizer and its loss "
                       r"from the constructor; got optimizer='adam'"):
        make().compile(optimizer="adam")
