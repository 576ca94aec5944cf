"""VAEGAN's training step against Larsen et al. 2016 (algorithm 1): three players, one forward pass.

With x~ = Dec(z), z = mean + exp(log_var / 2) eps ~ q(z|x), and x_p = Dec(z_p),
z_p ~ N(0, I), and Dis_l the discriminator's `features` layer:
- the encoder descends L_prior + L_llike^Dis_l (beta-weighted prior here),
- the decoder descends gamma * L_llike^Dis_l - L_GAN (its adversarial part),
- the discriminator descends its side of L_GAN over real, x~ and x_p samples,
all three from the same forward pass, i.e. at the pre-step weights of every net.
The test reads back z and z_p from the decoder's tap and the three batches the
discriminator judged from its tap, then recomputes everything here.

zoo averages the adversarial terms over the two kinds of fakes (x~ and x_p),
where the paper sums log(1 - D(x~)) + log(1 - D(x_p)) beside one log D(x): the
real term thus weighs as much as both fake terms together, and each fake term
half of what it does in the paper. Documented in VAEGAN's docstring; pinned as is.
"""

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import Tap, assert_sgd_update, assign, bce_with_logits, gradients, reset_taps, sgd, train_once, values
from test_autoencoder_step import LATENT, SHAPE, assert_standard_normal, eps_of, flat, kl_to_prior, seen, tiny_decoder, tiny_encoder
from zoo.models import VAEGAN

BATCH = 16


def tiny_discriminator(shape=SHAPE, hidden=5, seed=20):
    """images -> tap -> flatten -> tanh dense "features" (Dis_l) -> one logit."""
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    images = keras.Input(shape, name="images")
    x = keras.layers.Flatten()(Tap(name="tap_images")(images))
    features = keras.layers.Dense(hidden, activation="tanh", kernel_initializer=init, bias_initializer=init, name="features")(x)
    logit = keras.layers.Dense(1, kernel_initializer=init, bias_initializer=init)(features)
    return keras.Model(images, logit, name="discriminator")


def pixels(likelihood, logits):
    """Decoder logits -> images in [-1, 1] (zoo's map: Bernoulli mean rescaled, or the clipped Gaussian mean)."""
    if likelihood == "bernoulli":
        return 2.0 * ops.sigmoid(logits) - 1.0
    return ops.clip(logits, -1.0, 1.0)


# The adversarial losses, written from their papers (logits l).
def d_side(loss, real, fake):
    if loss == "non_saturating":  # Goodfellow et al. 2014, eq. 1
        return ops.mean(bce_with_logits(1.0, real)) + ops.mean(bce_with_logits(0.0, fake))
    if loss == "least_squares":  # Mao et al. 2017, eq. 2, a = 0, b = 1
        return 0.5 * ops.mean((real - 1.0) ** 2) + 0.5 * ops.mean(fake**2)
    raise AssertionError(loss)


def g_side(loss, fake):
    if loss == "non_saturating":  # -log D(G(z))
        return ops.mean(bce_with_logits(1.0, fake))
    if loss == "least_squares":
        return 0.5 * ops.mean((fake - 1.0) ** 2)
    raise AssertionError(loss)


def make(variational, likelihood, loss, gamma, beta):
    encoder, decoder, discriminator = tiny_encoder(variational=variational), tiny_decoder(), tiny_discriminator()
    model = VAEGAN(encoder, decoder, discriminator, recon_weight=gamma, beta=beta, loss=loss, likelihood=likelihood, seed=4)
    model.compile(e_optimizer=sgd(), g_optimizer=sgd(), d_optimizer=sgd())
    return model, encoder, decoder, discriminator


@pytest.mark.parametrize(
    "variational, likelihood, loss",
    [(True, "gaussian", "non_saturating"), (True, "bernoulli", "least_squares"), (False, "bernoulli", "non_saturating")],
    ids=["vae-gan", "vae-gan-bernoulli-lsgan", "ae-gan"],
)
def test_each_player_descends_its_own_loss(variational, likelihood, loss):
    gamma, beta = 0.3, 0.6
    model, encoder, decoder, discriminator = make(variational, likelihood, loss, gamma, beta)
    critic = keras.Model(discriminator.inputs[0], [discriminator.outputs[0], discriminator.get_layer("features").output])
    players = {"encoder": encoder, "decoder": decoder, "discriminator": discriminator}
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (BATCH, *SHAPE)).astype("float32")
    prior_eps, posterior_eps, posterior_means = [], [], []
    for step in range(2):
        reset_taps(*players.values())
        before = {name: values(net.trainable_variables) for name, net in players.items()}
        logs = train_once(model, x)
        after = {name: values(net.trainable_variables) for name, net in players.items()}
        for name, net in players.items():
            assign(net.trainable_variables, before[name])  # recompute at the pre-step weights

        codes = seen(decoder, "tap_code")
        judged = seen(discriminator)
        assert len(codes) == (2 if variational else 1), "the decoder decodes z ~ q(z|x) (and z_p ~ N(0, I))"
        assert len(judged) == len(codes) + 1, "the discriminator judges x, x~ (and x_p), once each"
        np.testing.assert_array_equal(seen(encoder)[0], x)
        np.testing.assert_array_equal(judged[0], x)
        if variational:
            eps = eps_of(encoder, x, codes[0])
            prior_eps.append(codes[1])
            posterior_eps.append(eps)
            assert np.ptp(eps, axis=0).min() > 0.5 and np.ptp(codes[1], axis=0).min() > 0.5
            assert not np.allclose(codes[1], eps, atol=1e-3), "z_p is drawn apart from the posterior noise"
            assert not np.allclose(codes[1], codes[0], atol=1e-3), "x_p is decoded from z_p ~ N(0, I), not from z"
            posterior_means.append(ops.convert_to_numpy(encoder(x)[0]))
        else:
            np.testing.assert_allclose(codes[0], ops.convert_to_numpy(encoder(x)), atol=1e-5)

        def forward():
            if variational:
                mean, log_var = encoder(x)
                z = mean + ops.exp(0.5 * log_var) * eps
                kl = ops.mean(kl_to_prior(mean, log_var))
            else:
                z, kl = encoder(x), ops.convert_to_tensor(0.0)
            rebuilt = pixels(likelihood, decoder(z))
            real_logits, real_features = critic(x)
            fake_logits, fake_features = critic(rebuilt)
            # L_llike^Dis_l: -log N(Dis_l(x); Dis_l(x~), I) up to a constant, per image.
            recon = ops.mean(0.5 * ops.sum(flat(real_features - fake_features) ** 2, axis=-1))
            fakes = [fake_logits]
            images = [rebuilt]
            if variational:
                prior_images = pixels(likelihood, decoder(codes[1]))
                fakes.append(critic(prior_images)[0])
                images.append(prior_images)
            d_loss = sum(d_side(loss, real_logits, f) for f in fakes) / len(fakes)
            g_loss = sum(g_side(loss, f) for f in fakes) / len(fakes)
            return {"recon": recon, "kl": kl, "d": d_loss, "g": g_loss, "images": images}

        for got, expected in zip(judged[1:], forward()["images"]):
            np.testing.assert_allclose(got, ops.convert_to_numpy(expected), atol=1e-5)
        terms = {k: float(ops.convert_to_numpy(v)) for k, v in forward().items() if k != "images"}
        objectives = {
            "encoder": lambda: (lambda t: beta * t["kl"] + t["recon"])(forward()),
            "decoder": lambda: (lambda t: gamma * t["recon"] + t["g"])(forward()),
            "discriminator": lambda: forward()["d"],
        }
        # One forward pass: every player's gradient at everyone's pre-step weights.
        grads = {name: gradients(objectives[name], net.trainable_variables) for name, net in players.items()}
        for name, net in players.items():
            assert_sgd_update(before[name], after[name], grads[name], what=f"{name}, step {step}")
            assign(net.trainable_variables, after[name])

        assert set(logs) == {"loss", "recon_loss", "kl_loss", "d_loss", "g_loss"}
        assert logs["recon_loss"] == pytest.approx(terms["recon"], rel=1e-5)
        assert logs["kl_loss"] == pytest.approx(terms["kl"], rel=1e-5, abs=1e-7)
        assert logs["loss"] == pytest.approx(terms["recon"] + beta * terms["kl"], rel=1e-5)
        assert logs["d_loss"] == pytest.approx(terms["d"], rel=1e-5)
        assert logs["g_loss"] == pytest.approx(terms["g"], rel=1e-5)
        if variational:
            assert terms["kl"] > 0.05
        else:
            assert terms["kl"] == 0.0
    if variational:
        assert_standard_normal(np.concatenate(prior_eps), "prior samples z_p")
        assert_standard_normal(np.concatenate(posterior_eps), "posterior eps")
        # The prior draws know nothing of the images: uncorrelated with the posterior means.
        correlation = np.corrcoef(np.concatenate(prior_eps).ravel(), np.concatenate(posterior_means).ravel())[0, 1]
        assert abs(correlation) < 0.4, correlation
        assert not np.allclose(prior_eps[0], prior_eps[1], atol=1e-3), "fresh prior samples every step"


def test_vae_gan_defaults_to_its_paper():
    """Larsen et al. 2016, sec. 4: RMSProp, learning rate 3e-4, for each of the three players."""
    model = VAEGAN(tiny_encoder(), tiny_decoder(), tiny_discriminator())
    assert (model.beta, model.loss_name, model.likelihood, model.feature_layer) == (1.0, "non_saturating", "gaussian", "features")
    model.compile()
    optimizers = [model.e_optimizer, model.g_optimizer, model.d_optimizer]
    assert len({id(o) for o in optimizers}) == 3, "one optimizer per player"
    for optimizer in optimizers:
        assert isinstance(optimizer, keras.optimizers.RMSprop)
        assert float(ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(3e-4)


MUTATIONS = [
    ("zoo/models/vae_gan.py", "g_total = self.recon_weight * recon + g_loss", "g_total = recon + g_loss",
     "gamma dropped from the decoder's loss"),
    ("zoo/models/vae_gan.py", "e_total = self.beta * kl + recon", "e_total = kl + recon", "beta dropped from the encoder's loss"),
    ("zoo/models/vae_gan.py", "e_total = self.beta * kl + recon", "e_total = self.beta * kl + recon + g_loss",
     "encoder trained on the GAN loss"),
    ("zoo/models/vae_gan.py", "g_total = self.recon_weight * recon + g_loss", "g_total = self.recon_weight * recon - g_loss",
     "decoder's adversarial term with the wrong sign"),
    ("zoo/models/vae_gan.py", '"d_optimizer": d_loss,', '"d_optimizer": d_loss + recon,',
     "discriminator trained on the feature reconstruction"),
    ("zoo/models/vae_gan.py", "fake_logits.append(prior_logits)", "fake_logits.append(recon_logits)",
     "prior samples x_p left out of the GAN loss"),
    ("zoo/models/vae_gan.py", "recon = 0.5 * ops.sum(ops.square(difference), axis=-1)",
     "recon = ops.sum(ops.square(difference), axis=-1)", "feature likelihood not halved"),
    ("zoo/models/vae_gan.py", "recon_logits, recon_features = self.critic(reconstructions, training=training)",
     "recon_logits, recon_features = self.critic(ops.stop_gradient(reconstructions), training=training)",
     "no reconstruction gradient reaches the encoder and decoder"),
    ("zoo/models/vae_gan.py", '"e_optimizer": self.encoder.trainable_variables,',
     '"e_optimizer": self.encoder.trainable_variables + self.decoder.trainable_variables,',
     "decoder also updated by the encoder's loss"),
    ("zoo/models/vae_gan.py", "prior = self.normal(ops.shape(z))",
     "prior = z", "x_p decoded from the posterior code instead of the prior"),
]
