"""Autoencoder and VAE: losses logged under their own names, the IWAE bound, conditioning."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import nets
from zoo.models import VAE, Autoencoder

SHAPE = (8, 8, 1)


def images(n=32, seed=0):
    """Binary 8x8 images: a bright square at one of four places (four 'classes')."""
    rng = np.random.default_rng(seed)
    x = -np.ones((n, *SHAPE), "float32")
    labels = rng.integers(0, 4, n)
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 2)
        x[i, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4] = 1.0
    return x, labels.astype("int32")


def vae_nets(latent_dim=2, num_classes=None, variational=True):
    encoder = nets.mlp_encoder(SHAPE, latent_dim, hidden_units=(16,), variational=variational, num_classes=num_classes)
    decoder = nets.mlp_decoder(latent_dim, SHAPE, hidden_units=(16,), num_classes=num_classes)
    return encoder, decoder


def test_vae_logs_loss_recon_kl_and_elbo_consistently():
    x, _ = images()
    vae = VAE(*vae_nets(), beta=0.5, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    logs = vae.fit(x, batch_size=32, epochs=3, verbose=0).history
    assert set(logs) == {"loss", "recon_loss", "kl_loss", "elbo"}
    for epoch in range(3):  # one batch per epoch: the logged means are that batch's terms
        recon, kl = logs["recon_loss"][epoch], logs["kl_loss"][epoch]
        assert logs["loss"][epoch] == pytest.approx(recon + 0.5 * kl, rel=1e-5)
        assert logs["elbo"][epoch] == pytest.approx(-(recon + kl), rel=1e-5)
        assert kl > 0
    scores = vae.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert scores["elbo"] == pytest.approx(-(scores["recon_loss"] + scores["kl_loss"]), rel=1e-5)


def test_vae_learns_to_reconstruct():
    x, _ = images(64)
    vae = VAE(*vae_nets(), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = vae.evaluate(x, verbose=0, return_dict=True)["recon_loss"]
    vae.fit(x, batch_size=16, epochs=30, verbose=0)
    after = vae.evaluate(x, verbose=0, return_dict=True)["recon_loss"]
    # 64 pixels at about log 2 nats each before; the four squares are easy to code in 2-D.
    assert after < 0.25 * before, (before, after)
    assert np.mean(np.sign(vae.reconstruct(x)) == x) > 0.95


def test_the_importance_weighted_bound_is_exact_when_the_decoder_ignores_the_code():
    """Prior as posterior and p(x|z) = p(x): every importance weight is p(x)."""
    encoder, decoder = vae_nets()
    for layer in encoder.layers + decoder.layers:
        for w in layer.weights:
            w.assign(np.zeros(w.shape, "float32"))
    bias = np.random.default_rng(0).normal(size=64).astype("float32")
    decoder.layers[-2].bias.assign(bias)  # the Dense before the reshape
    vae = VAE(encoder, decoder, seed=0)
    x, _ = images(5)
    p = 1 / (1 + np.exp(-bias.astype("float64")))
    on = (x.reshape(5, -1) + 1) / 2
    expected = np.sum(on * np.log(p) + (1 - on) * np.log(1 - p), axis=1)
    for k in (1, 7):
        np.testing.assert_allclose(vae.log_likelihood(x, num_samples=k, batch_size=2, sample_chunk=3), expected, rtol=1e-5)


def test_more_importance_samples_tighten_the_bound():
    x, _ = images(64)
    vae = VAE(*vae_nets(), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    vae.fit(x, batch_size=16, epochs=5, verbose=0)
    elbo = vae.log_likelihood(x, num_samples=1, seed=1)
    iwae = vae.log_likelihood(x, num_samples=64, sample_chunk=16, seed=1)
    assert iwae.shape == (64,) and np.all(np.isfinite(iwae))
    assert iwae.mean() > elbo.mean()
    # k = 1 is an unbiased estimate of the ELBO, which evaluate reports.
    assert elbo.mean() == pytest.approx(vae.evaluate(x, verbose=0, return_dict=True)["elbo"], abs=3.0)
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        vae.log_likelihood(x, num_samples=0)


def test_conditional_vae_takes_labels_everywhere():
    x, labels = images(32)
    vae = VAE(*vae_nets(num_classes=4), seed=0)
    assert vae.num_classes == 4
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    logs = vae.fit(x, labels, batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(logs["loss"][-1])
    assert vae.generate(6, labels=2).shape == (6, *SHAPE)
    assert vae.encode(x, labels).shape == (32, 2)
    assert vae.log_likelihood(x[:4], labels[:4], num_samples=3).shape == (4,)
    with pytest.raises(ValueError, match="conditional on 4 classes"):
        vae.generate(3)
    with pytest.raises(ValueError, match="conditional on 4 classes"):
        vae.fit(x, batch_size=16, epochs=1, verbose=0)


def test_autoencoder_reconstructs_and_denoising_noise_is_training_only():
    x, _ = images(64)
    ae = Autoencoder(*vae_nets(variational=False), noise_stddev=0.5, seed=0)
    ae.compile(optimizer=keras.optimizers.Adam(1e-2))
    logs = ae.fit(x, batch_size=16, epochs=20, verbose=0).history
    assert set(logs) == {"loss", "recon_loss"} and logs["loss"] == logs["recon_loss"]
    assert logs["loss"][-1] < 0.5 * logs["loss"][0]
    # evaluate sees clean inputs: deterministic.
    first = ae.evaluate(x, verbose=0, return_dict=True)["loss"]
    assert ae.evaluate(x, verbose=0, return_dict=True)["loss"] == pytest.approx(first)
    assert ae.generate(5).shape == (5, *SHAPE)


def test_gaussian_likelihood_decodes_the_logits_as_pixels():
    x, _ = images(8)
    vae = VAE(*vae_nets(), likelihood="gaussian", gaussian_scale=0.5)
    out = vae.decode(np.zeros((3, 2), "float32"))
    logits = vae.decoder(np.zeros((3, 2), "float32"))
    np.testing.assert_allclose(out, np.clip(np.asarray(logits), -1, 1), rtol=1e-6)
    vae.compile()
    assert np.isfinite(vae.fit(x, batch_size=8, epochs=1, verbose=0).history["loss"][-1])


def test_wrong_nets_and_arguments_are_named():
    encoder, decoder = vae_nets()
    with pytest.raises(ValueError, match="goes to zoo.models.VAE"):
        Autoencoder(encoder, decoder)
    with pytest.raises(ValueError, match="must output \\[z_mean, z_log_var\\]"):
        VAE(vae_nets(variational=False)[0], decoder)
    with pytest.raises(ValueError, match="beta must be a float >= 0"):
        VAE(encoder, decoder, beta=-1.0)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(encoder, decoder, likelihood="poisson")
    with pytest.raises(ValueError, match="both take one input .* or two"):
        VAE(vae_nets(num_classes=3)[0], decoder)
    with pytest.raises(ValueError, match="does not match the encoder's input"):
        VAE(encoder, nets.mlp_decoder(2, (4, 4, 1), hidden_units=(4,)))
    vae = VAE(encoder, decoder)
    with pytest.raises(ValueError, match="takes no loss"):
        vae.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="codes must have shape \\(n, 2\\)"):
        vae.decode(np.zeros((3, 5), "float32"))


def test_vae_trains_under_mirrored_strategy_and_bfloat16(two_replicas):
    x, _ = images(32)
    with two_replicas.scope():
        vae = VAE(*vae_nets(), seed=0)
        vae.compile(optimizer="adam")
    assert np.isfinite(vae.fit(x, batch_size=16, epochs=1, verbose=0).history["loss"][-1])
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    vae = VAE(*vae_nets(), seed=0)
    vae.compile(optimizer="adam")
    assert np.isfinite(vae.fit(x, batch_size=16, epochs=1, verbose=0).history["loss"][-1])


def test_binarize_gives_plus_minus_one_with_the_pixel_probability():
    grey = np.full((200, 8, 8, 1), 0.5, "float32")  # probability 0.75 of being on
    binary = zoo.data.binarize(grey, seed=0)
    assert set(np.unique(binary)) == {-1.0, 1.0}
    assert np.mean(binary == 1.0) == pytest.approx(0.75, abs=0.02)
    np.testing.assert_array_equal(zoo.data.binarize(grey, stochastic=False), np.ones_like(grey))
    tensor = zoo.data.binarize(tf.constant(grey))
    assert isinstance(tensor, tf.Tensor) and abs(float(tf.reduce_mean(tf.cast(tensor > 0, "float32"))) - 0.75) < 0.02


def test_generator_maps_codes_to_the_decoded_images():
    for likelihood in ("bernoulli", "gaussian"):
        vae = VAE(*vae_nets(), likelihood=likelihood)
        z = np.random.default_rng(0).normal(scale=3.0, size=(5, 2)).astype("float32")
        np.testing.assert_allclose(vae.generator(z), vae.decode(z), rtol=1e-5, atol=1e-6)
        assert vae.generator.count_params() == vae.decoder.count_params()


def test_train_resumes_from_its_checkpoint_and_the_decoder_exports(tmp_path, run_without_zoo):
    x, _ = images(32)
    data = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)

    def fresh():
        vae = VAE(*vae_nets(), seed=0)
        vae.compile(optimizer="adam")
        return vae

    first = fresh()
    zoo.training.train(first, data, epochs=2, run_dir=str(tmp_path / "run"), verbose=0, num_samples=4)
    assert (tmp_path / "run" / "samples").is_dir() and any((tmp_path / "run" / "samples").iterdir())
    resumed = fresh()
    history = zoo.training.train(resumed, data, epochs=3, run_dir=str(tmp_path / "run"), verbose=0, num_samples=4)
    assert len(history.history["loss"]) == 1 and int(resumed.optimizer.iterations) == 6
    path = zoo.export.export_generator(resumed, "vae", base_path=str(tmp_path / "saved_models"))
    z = np.random.default_rng(1).normal(size=(3, 2)).astype("float32")
    served = run_without_zoo(
        "import json, sys, numpy as np, tensorflow as tf\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "out = m.signatures['serving_default'](noise=tf.constant(np.array(json.loads(sys.argv[2]), 'float32')))\n"
        "print(json.dumps(out['images'].numpy().tolist()))\n",
        path, json.dumps(z.tolist()),
    )
    np.testing.assert_allclose(np.array(served), resumed.decode(z), rtol=1e-5, atol=1e-6)
