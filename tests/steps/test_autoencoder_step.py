"""Autoencoder, VAE and conditional VAE training steps, and the IWAE bound, against their papers.

Each test runs the model's real step (`train_on_batch`, SGD at learning rate 1)
or `VAE.log_likelihood` on tiny nets that carry `Tap` layers on their inputs
(the encoder's images and labels, the decoder's code and labels), then
recomputes here, from the papers' formulas, what the step must have done. The
reparameterisation noise is drawn inside the model: the decoder's tap gives
back the code `z` it was given, and `eps = (z - mean) / exp(log_var / 2)`
recovers the noise, which must look standard normal and be held fixed while
the gradient flows through `mean` and `log_var` (Kingma & Welling 2014, sec. 2.4).

The nets are built here (not wrapped by `step_harness.tapped`) because the
conditional models look up the nets' `label_one_hot` layer, which a wrapper
would hide.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from step_harness import (
    Tap,
    assert_sgd_update,
    bce_with_logits,
    gradients,
    assign,
    reset_taps,
    sgd,
    train_once,
    values,
)
from zoo.models import VAE, Autoencoder

SHAPE = (4, 4, 1)
LATENT = 3
BATCH = 32
CLASSES = 3
LOG_2PI = math.log(2.0 * math.pi)


# -- tiny tapped nets ----------------------------------------------------------------


def _init(seed, stddev=0.5):
    return keras.initializers.RandomNormal(stddev=stddev, seed=seed)


def _with_labels(inputs, x, num_classes, tap_name):
    """Joins the one-hot label (behind a tap) to `x`, as zoo's nets do (Sohn et al. 2015)."""
    if num_classes is None:
        return inputs, x
    labels = keras.Input((), dtype="int32", name="labels")
    seen = Tap(name=tap_name)(labels)
    one_hot = keras.layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(seen)
    return [inputs, labels], keras.layers.Concatenate()([x, one_hot])


def tiny_encoder(shape=SHAPE, latent=LATENT, variational=True, num_classes=None, hidden=6, seed=0):
    """images (and labels) -> tanh dense -> [z_mean, z_log_var] (or one code).

    The log-variance head starts around -1, so a standard deviation mistaken
    for a variance (or a missing 1/2) changes the sampled codes' scale.
    """
    images = keras.Input(shape, name="images")
    x = keras.layers.Flatten()(Tap(name="tap_images")(images))
    inputs, x = _with_labels(images, x, num_classes, "tap_labels")
    x = keras.layers.Dense(hidden, activation="tanh", kernel_initializer=_init(seed), bias_initializer=_init(seed + 1))(x)
    if not variational:
        code = keras.layers.Dense(latent, kernel_initializer=_init(seed + 2), name="code")(x)
        return keras.Model(inputs, code, name="encoder")
    z_mean = keras.layers.Dense(latent, kernel_initializer=_init(seed + 2), bias_initializer=_init(seed + 3), name="z_mean")(x)
    z_log_var = keras.layers.Dense(
        latent, kernel_initializer=_init(seed + 4, 0.3), bias_initializer=keras.initializers.Constant(-1.0), name="z_log_var"
    )(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def tiny_decoder(latent=LATENT, shape=SHAPE, num_classes=None, hidden=6, seed=10):
    """code (and labels) -> tanh dense -> dense logits of the image shape."""
    code = keras.Input((latent,), name="code")
    inputs, x = _with_labels(code, Tap(name="tap_code")(code), num_classes, "tap_labels")
    x = keras.layers.Dense(hidden, activation="tanh", kernel_initializer=_init(seed), bias_initializer=_init(seed + 1))(x)
    x = keras.layers.Dense(int(np.prod(shape)), kernel_initializer=_init(seed + 2), bias_initializer=_init(seed + 3))(x)
    return keras.Model(inputs, keras.layers.Reshape(shape)(x), name="decoder")


def seen(net, tap="tap_images"):
    """The batches the net's tap `tap` recorded since the last reset."""
    return net.get_layer(tap).records()


def batch(n=BATCH, seed=0, binary=False, low=-0.8, high=0.8):
    rng = np.random.default_rng(seed)
    if binary:
        return np.where(rng.uniform(size=(n, *SHAPE)) < 0.4, 1.0, -1.0).astype("float32")
    return rng.uniform(low, high, (n, *SHAPE)).astype("float32")


def labels_of(n=BATCH, seed=0):
    return np.random.default_rng(seed + 100).integers(0, CLASSES, n).astype("int32")


# -- the papers' terms, per image ------------------------------------------------------


def flat(t):
    return ops.reshape(t, (ops.shape(t)[0], -1))


def nll(likelihood, images, logits, scale):
    """-log p(x | z) per image, summed over pixels (Kingma & Welling 2014, appendix C).

    Bernoulli: the pixels mapped to [0, 1] under Bernoulli(sigmoid(logits));
    Gaussian: N(x; logits, scale^2 I).
    """
    images, logits = flat(ops.convert_to_tensor(images)), flat(logits)
    if likelihood == "bernoulli":
        return ops.sum(bce_with_logits((images + 1.0) / 2.0, logits), axis=-1)
    per_pixel = 0.5 * ((images - logits) / scale) ** 2 + math.log(scale) + 0.5 * LOG_2PI
    return ops.sum(per_pixel, axis=-1)


def kl_to_prior(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per image (Kingma & Welling 2014, appendix B)."""
    return 0.5 * ops.sum(mean**2 + ops.exp(log_var) - 1.0 - log_var, axis=-1)


def with_labels(x, labels):
    if labels is None:
        return x
    return [ops.convert_to_tensor(x, "float32"), ops.convert_to_tensor(labels, "int32")]


def eps_of(encoder, encoder_input, z):
    """The reparameterisation noise behind the codes `z` the decoder was given."""
    mean, log_var = (ops.convert_to_numpy(t) for t in encoder(encoder_input))
    return (z - mean) / np.exp(log_var / 2.0)


def assert_standard_normal(eps, what):
    eps = np.asarray(eps).ravel()
    assert eps.size >= 90
    assert abs(eps.mean()) < 0.3, f"{what}: mean {eps.mean()}"
    assert 0.78 < eps.std() < 1.22, f"{what}: std {eps.std()}"
    assert 0.5 < np.mean(np.abs(eps) < 1.0) < 0.85, f"{what}: P(|eps| < 1)"


# -- the autoencoder --------------------------------------------------------------------


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_denoising_autoencoder_step(likelihood):
    """Hinton & Salakhutdinov 2006 / Vincent et al. 2008: the encoder sees clip(x + n, -1, 1),
    n ~ N(0, s^2); encoder and decoder descend -log p(x | dec(enc(x~))) of the CLEAN x, per image
    (summed over pixels), averaged over the batch."""
    scale, stddev = 0.35, 0.25
    encoder, decoder = tiny_encoder(variational=False), tiny_decoder()
    model = Autoencoder(encoder, decoder, likelihood=likelihood, gaussian_scale=scale, noise_stddev=stddev, seed=3)
    model.compile(optimizer=sgd())
    x = batch(low=-0.9, high=0.9)
    variables = model.trainable_variables
    assert len(variables) == len(encoder.trainable_variables) + len(decoder.trainable_variables)
    noisy_inputs = []
    for step in range(2):
        reset_taps(encoder, decoder)
        before = values(variables)
        logs = train_once(model, x)
        after = values(variables)
        assign(variables, before)  # recompute at the pre-step weights
        (noisy,) = seen(encoder)
        (code,) = seen(decoder, "tap_code")
        noisy_inputs.append(noisy)

        # The corruption: Gaussian of stddev s, clipped to the image range.
        assert noisy.min() >= -1.0 and noisy.max() <= 1.0
        clipped = np.abs(noisy) >= 1.0
        assert 0 < clipped.sum() < 0.2 * noisy.size, "some pixels must have been clipped"
        np.testing.assert_array_equal(np.sign(noisy[clipped]), np.sign(x[clipped]))
        noise = (noisy - x)[~clipped]
        assert np.std(noise) == pytest.approx(stddev, rel=0.15)
        assert abs(np.mean(noise)) < 0.1 * stddev

        def loss_fn():
            return ops.mean(nll(likelihood, x, decoder(encoder(noisy)), scale))

        np.testing.assert_allclose(code, ops.convert_to_numpy(encoder(noisy)), atol=1e-5)
        expected = float(ops.convert_to_numpy(loss_fn()))
        assert_sgd_update(before, after, gradients(loss_fn, variables), what=f"autoencoder, step {step}")
        assert set(logs) == {"loss", "recon_loss"}
        assert logs["recon_loss"] == pytest.approx(expected, rel=1e-5)
        assert logs["loss"] == pytest.approx(expected, rel=1e-5)
        assign(variables, after)
    assert not np.allclose(noisy_inputs[0], noisy_inputs[1]), "fresh noise every step"


# -- the VAE and the conditional VAE --------------------------------------------------------


def vae_terms(encoder, decoder, encoder_input, x, labels, eps, likelihood, scale):
    """Per-batch means of -log p(x|z) and KL, with z = mean + exp(log_var / 2) * eps and eps held fixed."""
    mean, log_var = encoder(with_labels(encoder_input, labels))
    z = mean + ops.exp(0.5 * log_var) * eps
    logits = decoder(with_labels(z, labels))
    return ops.mean(nll(likelihood, x, logits, scale)), ops.mean(kl_to_prior(mean, log_var))


@pytest.mark.parametrize(
    "likelihood, conditional, stddev",
    [("bernoulli", False, 0.0), ("gaussian", False, 0.2), ("bernoulli", True, 0.0)],
    ids=["bernoulli", "gaussian-denoising", "conditional"],
)
def test_vae_step_descends_the_beta_weighted_negative_elbo(likelihood, conditional, stddev):
    """Kingma & Welling 2014, eq. 10 with Higgins et al. 2017's beta: the encoder and decoder
    descend E[-log p(x|z)] + beta KL(q(z|x) || N(0, I)), z = mean + exp(log_var / 2) eps,
    eps ~ N(0, I) fresh per example and step; the CVAE (Sohn et al. 2015) gives the label to both nets."""
    beta, scale = 0.37, 0.4
    num_classes = CLASSES if conditional else None
    encoder, decoder = tiny_encoder(num_classes=num_classes), tiny_decoder(num_classes=num_classes)
    model = VAE(encoder, decoder, beta=beta, likelihood=likelihood, gaussian_scale=scale, noise_stddev=stddev, seed=5)
    model.compile(optimizer=sgd())
    assert model.conditional == conditional
    x = batch(binary=likelihood == "bernoulli")
    labels = labels_of() if conditional else None
    variables = model.trainable_variables
    all_eps = []
    for step in range(2):
        reset_taps(encoder, decoder)
        before = values(variables)
        logs = train_once(model, x, labels)
        after = values(variables)
        assign(variables, before)  # recompute at the pre-step weights
        (encoder_input,) = seen(encoder)
        (z,) = seen(decoder, "tap_code")
        assert z.shape == (BATCH, LATENT)
        if stddev == 0.0:
            np.testing.assert_array_equal(encoder_input, x)
        else:  # the denoising VAE: only the encoder's input is corrupted
            assert np.std(encoder_input - x) == pytest.approx(stddev, rel=0.2)
        if conditional:
            np.testing.assert_array_equal(seen(encoder, "tap_labels")[0], labels)
            np.testing.assert_array_equal(seen(decoder, "tap_labels")[0], labels)

        eps = eps_of(encoder, with_labels(encoder_input, labels), z)
        all_eps.append(eps)

        def terms():
            return vae_terms(encoder, decoder, encoder_input, x, labels, eps, likelihood, scale)

        recon, kl = (float(ops.convert_to_numpy(t)) for t in terms())
        grads = gradients(lambda: (lambda r, k: r + beta * k)(*terms()), variables)
        assert_sgd_update(before, after, grads, what=f"VAE, step {step}")
        assert set(logs) == {"loss", "recon_loss", "kl_loss", "elbo"}
        assert logs["recon_loss"] == pytest.approx(recon, rel=1e-5)
        assert logs["kl_loss"] == pytest.approx(kl, rel=1e-5)
        assert logs["loss"] == pytest.approx(recon + beta * kl, rel=1e-5)
        assert logs["elbo"] == pytest.approx(-(recon + kl), rel=1e-5)  # the bound itself: beta = 1
        assign(variables, after)
    assert_standard_normal(np.concatenate(all_eps), "recovered eps")
    assert not np.allclose(all_eps[0], all_eps[1], atol=1e-3), "fresh noise every step"
    assert np.ptp(all_eps[0], axis=0).min() > 0.5, "one draw per example, not one per batch"


def test_vae_gradient_reaches_mean_and_log_var_through_the_sample():
    """The reparameterisation trick's point: with beta = 0 the KL is out of the loss, so the
    z_log_var head moves only through the sampled code's exp(log_var / 2) eps, and by its gradient."""
    encoder, decoder = tiny_encoder(), tiny_decoder()
    model = VAE(encoder, decoder, beta=0.0, likelihood="gaussian", gaussian_scale=0.3, seed=11)
    model.compile(optimizer=sgd())
    x = batch(seed=4)
    heads = [v for layer in ("z_mean", "z_log_var") for v in encoder.get_layer(layer).trainable_variables]
    before, all_before = values(heads), values(model.trainable_variables)
    train_once(model, x)
    after = values(heads)
    assign(model.trainable_variables, all_before)
    (z,) = seen(decoder, "tap_code")
    eps = eps_of(encoder, x, z)

    def loss_fn():
        recon, _ = vae_terms(encoder, decoder, x, x, None, eps, "gaussian", 0.3)
        return recon

    grads = gradients(loss_fn, heads)
    assert all(np.abs(g).max() > 1e-3 for g in grads), "both heads get a reconstruction gradient"
    assert_sgd_update(before, after, grads, what="z_mean and z_log_var heads")


# -- the importance-weighted bound -------------------------------------------------------------


@pytest.mark.parametrize(
    "likelihood, conditional", [("bernoulli", False), ("gaussian", True)], ids=["bernoulli", "conditional-gaussian"]
)
def test_log_likelihood_is_the_importance_weighted_bound(likelihood, conditional):
    """Burda et al. 2016, eq. 8: log (1/k) sum_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x) i.i.d.,
    recomputed here from the codes the decoder was given."""
    scale, k, chunk, n = 0.45, 20, 6, 3
    num_classes = CLASSES if conditional else None
    encoder, decoder = tiny_encoder(num_classes=num_classes), tiny_decoder(num_classes=num_classes)
    model = VAE(encoder, decoder, likelihood=likelihood, gaussian_scale=scale, seed=2)
    x = batch(n, seed=9, binary=likelihood == "bernoulli")
    labels = np.array([2, 0, 1], "int32") if conditional else None  # neighbours differ
    reset_taps(encoder, decoder)
    bound = model.log_likelihood(x, labels, num_samples=k, batch_size=2, sample_chunk=chunk, seed=8)
    assert bound.shape == (n,) and bound.dtype == np.float64

    # The decoder's calls: for each batch of images, chunks of samples, each sample-major.
    codes = seen(decoder, "tap_code")
    code_labels = seen(decoder, "tap_labels") if conditional else None
    z = [[] for _ in range(n)]
    call = 0
    for start in range(0, n, 2):
        size = min(2, n - start)
        for done in range(0, k, chunk):
            m = min(chunk, k - done)
            block = codes[call].reshape(m, size, LATENT)
            if conditional:
                np.testing.assert_array_equal(code_labels[call].reshape(m, size), np.broadcast_to(labels[start : start + size], (m, size)))
            for i in range(size):
                z[start + i].append(block[:, i])
            call += 1
    assert call == len(codes)
    z = np.stack([np.concatenate(samples) for samples in z])  # (n, k, latent)

    mean, log_var = (ops.convert_to_numpy(t).astype("float64") for t in encoder(with_labels(x, labels)))
    eps = (z - mean[:, None]) / np.exp(log_var[:, None] / 2.0)
    assert_standard_normal(eps, "importance samples' eps")
    assert np.ptp(eps, axis=1).min() > 0.5, "k independent samples per image"

    expected = []
    for i in range(n):
        lab = None if labels is None else np.full((k,), labels[i], "int32")
        logits = decoder(with_labels(z[i].astype("float32"), lab))
        log_px = -ops.convert_to_numpy(nll(likelihood, np.repeat(x[i : i + 1], k, axis=0), logits, scale)).astype("float64")
        log_pz = -0.5 * np.sum(z[i] ** 2 + LOG_2PI, axis=-1)
        log_qz = -0.5 * np.sum((z[i] - mean[i]) ** 2 / np.exp(log_var[i]) + log_var[i] + LOG_2PI, axis=-1)
        log_w = log_px + log_pz - log_qz
        top = log_w.max()
        expected.append(top + np.log(np.mean(np.exp(log_w - top))))
    np.testing.assert_allclose(bound, expected, rtol=2e-5, atol=2e-4)


# One-line changes a reader of the papers would call bugs; `tests/steps/mutate.py`
# checks that this file fails for each of them.
MUTATIONS = [
    # Autoencoder
    ("zoo/models/autoencoder.py", "return ops.clip(ops.cast(images, \"float32\") + noise, -1.0, 1.0)",
     "return ops.cast(images, \"float32\") + noise", "denoising input not clipped to the image range"),
    ("zoo/models/autoencoder.py", "code = self.encoder(self._net_inputs(self.corrupt(images), labels), training=True)",
     "code = self.encoder(self._net_inputs(images, labels), training=True)", "denoising autoencoder sees clean inputs"),
    ("zoo/models/autoencoder.py", "recon = -ops.mean(self.reconstruction_log_likelihood(images, logits))",
     "recon = -ops.mean(self.reconstruction_log_likelihood(self.corrupt(images), logits))",
     "denoising autoencoder reconstructs the noisy input"),
    ("zoo/models/autoencoder.py", "return losses.bernoulli_log_likelihood((images + 1.0) / 2.0, logits)",
     "return losses.bernoulli_log_likelihood(images, logits)", "Bernoulli targets not mapped to [0, 1]"),
    ("zoo/models/autoencoder.py", "return losses.gaussian_log_likelihood(images, logits, self.gaussian_scale)",
     "return losses.gaussian_log_likelihood(images, logits)", "Gaussian likelihood's scale ignored"),
    # VAE and CVAE
    ("zoo/models/vae.py", "loss = recon + self.beta * kl", "loss = recon + kl", "beta dropped from the step"),
    ("zoo/models/vae.py", "return z_mean + ops.exp(0.5 * z_log_var) * eps",
     "return z_mean + ops.exp(z_log_var) * eps", "variance used as the standard deviation"),
    ("zoo/models/vae.py", "return z_mean + ops.exp(0.5 * z_log_var) * eps",
     "return z_mean + ops.stop_gradient(ops.exp(0.5 * z_log_var)) * eps", "no gradient through log_var"),
    ("zoo/models/vae.py", "eps = self.normal(ops.shape(z_mean))",
     "eps = self.normal(ops.shape(z_mean)[-1:])",
     "one noise draw shared by the whole batch"),
    ("zoo/losses.py", "return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)",
     "return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(0.5 * log_var), axis=-1)",
     "KL with the standard deviation in place of the variance"),
    ("zoo/models/autoencoder.py", "return [x, ops.cast(ops.reshape(labels, (-1,)), \"int32\")]",
     "return [x, ops.flip(ops.cast(ops.reshape(labels, (-1,)), \"int32\"), 0)]", "CVAE pairs images with the wrong labels"),
    # The importance-weighted bound
    ("zoo/models/vae.py", "bound = ops.logsumexp(ops.cast(log_w, \"float64\"), axis=0) - math.log(num_samples)",
     "bound = ops.logsumexp(ops.cast(log_w, \"float64\"), axis=0)", "IWAE bound not divided by k"),
    ("zoo/models/vae.py", "bound = ops.logsumexp(ops.cast(log_w, \"float64\"), axis=0) - math.log(num_samples)",
     "bound = ops.mean(ops.cast(log_w, \"float64\"), axis=0)", "the k-sample ELBO instead of the IWAE bound"),
    ("zoo/models/vae.py", "return ops.reshape(log_px + log_pz - log_qz, (k, batch))",
     "return ops.reshape(log_px + log_pz + log_qz, (k, batch))", "importance weight multiplied by q"),
    ("zoo/models/vae.py", "z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps  # (k, batch, d)",
     "z = z_mean[None] + ops.exp(z_log_var)[None] * eps  # (k, batch, d)", "importance samples at the wrong scale"),
    ("zoo/models/vae.py", "flat_labels = None if labels is None else ops.reshape(ops.broadcast_to(labels[None], (k, batch)), (-1,))",
     "flat_labels = None if labels is None else ops.repeat(labels, k)", "conditional IWAE pairs samples with the wrong labels"),
]
