"""The variational autoencoder, conditional or not, with the importance-weighted likelihood bound."""

import math

import keras
import numpy as np
from keras import ops

from zoo import checks, engine, losses, smoke
from zoo.models.autoencoder import Autoencoder


@keras.saving.register_keras_serializable(package="zoo")
class VAE(Autoencoder):
    """Variational autoencoder: a Gaussian encoder q(z|x), a decoder p(x|z), a N(0, I) prior.

    The encoder outputs `[z_mean, z_log_var]`; training samples
    `z = z_mean + exp(z_log_var / 2) * eps` (the reparameterisation trick) and
    minimises `recon_loss + beta * kl_loss`, the negative ELBO for `beta=1`:
    `recon_loss` is `-log p(x|z)` and `kl_loss` is `KL(q(z|x) || N(0, I))`, both
    per image in nats and logged separately beside `loss`. `evaluate` also
    reports `elbo` (with `beta=1` whatever the training `beta`), so validation
    data give the bound on their log-likelihood. `log_likelihood` gives the
    tighter importance-weighted bound (Burda et al.) for evaluation.

    Likelihoods (see `zoo.models.Autoencoder`): "bernoulli" for binarised
    images (binarise with `zoo.data.binarize`; grey values act as soft targets
    and the figures are then not likelihoods), "gaussian" with a fixed scale.

    Conditional VAE: with encoder and decoder built with `num_classes=K` the
    label is given to both (Sohn et al. 2015); train on `(images, labels)` and
    pass `labels` to `generate`, `encode`, `decode` and `log_likelihood`.

    Args:
        encoder: `keras.Model`, images (and labels) -> `[z_mean, z_log_var]`.
        decoder: `keras.Model`, code (and labels) -> logits of the image shape.
        beta: float >= 0, weight of the KL term (Higgins et al. 2017's beta-VAE).
            Default 1.
        likelihood: "bernoulli" (default) or "gaussian".
        gaussian_scale: float > 0, the Gaussian likelihood's standard deviation.
            Default 0.1.
        noise_stddev: float >= 0, denoising input noise. Default 0.
        seed: int or None, seed of the model's noise.

    Example:
    ```python
    vae = zoo.models.VAE(
        zoo.nets.conv_encoder((28, 28, 1), latent_dim=2),
        zoo.nets.conv_decoder(2, (28, 28, 1)),
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(zoo.data.binarize(images), epochs=30, batch_size=128)
    vae.evaluate(test_images, return_dict=True)      # {"loss", "recon_loss", "kl_loss", "elbo"}
    vae.log_likelihood(test_images, num_samples=1000)  # per image, nats
    vae.generate(64)                                 # decoded N(0, I) codes, in [-1, 1]
    ```

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
    Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR
    2016; Sohn, Lee & Yan, "Learning Structured Output Representation using
    Deep Conditional Generative Models", NeurIPS 2015; Higgins et al.,
    "beta-VAE", ICLR 2017.
    """

    def __init__(self, encoder, decoder, beta=1.0, **kwargs):
        self.beta = checks.number(beta, "beta", at_least=0)
        super().__init__(encoder, decoder, **kwargs)
        self.track("kl_loss", "elbo")

    def _check_nets(self):
        shapes = self._encoder_code_shapes()
        if shapes != [(self.latent_dim,), (self.latent_dim,)]:
            raise ValueError(
                f"a VAE encoder must output [z_mean, z_log_var], each (batch, {self.latent_dim}) "
                f"(the decoder's input); got outputs of shapes {shapes}. Build it with "
                "variational=True"
            )
        self._check_image_shapes()

    def code_of(self, encoder_outputs):
        return encoder_outputs[0]

    def sample_code(self, z_mean, z_log_var):
        """`z = z_mean + exp(z_log_var / 2) * eps`, eps ~ N(0, I) from the model's seed generator."""
        eps = self.normal(ops.shape(z_mean))
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def _terms(self, images, labels, training):
        z_mean, z_log_var = self.encoder(
            self._net_inputs(self.corrupt(images) if training else images, labels), training=training
        )
        z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
        z = self.sample_code(z_mean, z_log_var)
        logits = self.decoder(self._net_inputs(z, labels), training=training)
        recon = -self.reconstruction_log_likelihood(images, logits)
        kl = losses.gaussian_kl(z_mean, z_log_var)
        return recon, kl

    def train_step(self, data):
        images, labels = self.unpack(data)

        def objective():
            recon, kl = self._terms(images, labels, training=True)
            recon, kl = ops.mean(recon), ops.mean(kl)
            loss = recon + self.beta * kl
            return loss, recon, kl

        loss, recon, kl = engine.update(self.optimizer, self.trainable_variables, objective)
        return self.log(loss=loss, recon_loss=recon, kl_loss=kl, elbo=-(recon + kl))

    def test_step(self, data):
        images, labels = self.unpack(data)
        recon, kl = self._terms(images, labels, training=False)
        # Per-image values: the Mean trackers then give exact dataset means.
        return self.log(loss=recon + self.beta * kl, recon_loss=recon, kl_loss=kl, elbo=-(recon + kl))

    # -- evaluation ------------------------------------------------------------------

    def log_likelihood(self, images, labels=None, num_samples=1000, batch_size=100, sample_chunk=100, seed=None):
        """Importance-weighted lower bound on `log p(x)` per image, in nats (numpy).

        `log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)` with `z_i ~ q(z|x)`,
        `k = num_samples`: the ELBO for k = 1, tighter as k grows (Burda et
        al.'s estimate of the test log-likelihood uses k = 5,000; the issue's
        protocol k = 1,000). The negative mean is the "NLL in nats" of papers.

        Args:
            images: images in [-1, 1] (binarised for a Bernoulli likelihood).
            labels: int labels, for a conditional VAE.
            num_samples: int >= 1, importance samples per image. Default 1000.
            batch_size: images per step. Default 100.
            sample_chunk: samples decoded at once per image (memory bound:
                `batch_size * sample_chunk` decoder passes). Default 100.
            seed: int or None, seed of the samples (None: the model's generator).

        Returns:
            float64 numpy array `(n,)`.
        """
        for value, name in ((num_samples, "num_samples"), (batch_size, "batch_size"), (sample_chunk, "sample_chunk")):
            checks.positive_int(value, name)
        num_samples = smoke.samples(num_samples)
        arrays = self._arrays(images, labels)
        generator = keras.random.SeedGenerator(seed) if seed is not None else self.seed_generator
        step = self._log_weights_function()
        results = []
        n = int(arrays[0].shape[0])
        if n == 0:
            raise ValueError("got an empty batch")
        for start in range(0, n, batch_size):
            batch = [a[start : start + batch_size] for a in arrays]
            chunks = []
            for done in range(0, num_samples, sample_chunk):
                k = min(sample_chunk, num_samples - done)
                seed_pair = generator.next()
                labels_arg = batch[1] if self.conditional else ops.zeros((0,), "int32")
                chunks.append(step(batch[0], labels_arg, k, seed_pair))
            log_w = ops.concatenate(chunks, axis=0)  # (num_samples, batch)
            bound = ops.logsumexp(ops.cast(log_w, "float64"), axis=0) - math.log(num_samples)
            results.append(ops.convert_to_numpy(bound))
        return np.concatenate(results).astype("float64")

    def _log_weights_function(self):
        cached = self.__dict__.get("_log_weights_fn")
        if cached is not None:
            return cached

        def log_weights(images, labels, k, seed):
            labels = labels if self.conditional else None
            z_mean, z_log_var = self.encoder(self._net_inputs(images, labels), training=False)
            z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
            batch = ops.shape(z_mean)[0]
            eps = _stateless_normal((k, batch, self.latent_dim), seed)
            z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps  # (k, batch, d)
            flat_z = ops.reshape(z, (-1, self.latent_dim))
            tiled_images = ops.reshape(
                ops.broadcast_to(images[None], (k, *ops.shape(images))), (-1, *images.shape[1:])
            )
            flat_labels = None if labels is None else ops.reshape(ops.broadcast_to(labels[None], (k, batch)), (-1,))
            logits = self.decoder(self._net_inputs(flat_z, flat_labels), training=False)
            log_px = self.reconstruction_log_likelihood(tiled_images, logits)
            zeros = ops.zeros_like(flat_z)
            log_pz = losses.gaussian_log_density(flat_z, zeros, zeros)
            log_qz = losses.gaussian_log_density(
                flat_z,
                ops.reshape(ops.broadcast_to(z_mean[None], (k, batch, self.latent_dim)), (-1, self.latent_dim)),
                ops.reshape(ops.broadcast_to(z_log_var[None], (k, batch, self.latent_dim)), (-1, self.latent_dim)),
            )
            return ops.reshape(log_px + log_pz - log_qz, (k, batch))

        fn = _compiled(log_weights, self.encoder, self.decoder)
        object.__setattr__(self, "_log_weights_fn", fn)
        return fn

    def get_config(self):
        config = super().get_config()
        config["beta"] = self.beta
        return config


# -- what the engine should offer: explicit-seed noise, a compiled stateful function --------------


def _stateless_normal(shape, seed):
    """Standard normal float32 noise from an explicit seed pair drawn off a `SeedGenerator`."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # the draws TensorFlow always made here

        return tf.random.stateless_normal(shape, seed=ops.cast(seed, "int64"), dtype="float32")
    return keras.random.normal(shape, seed=seed, dtype="float32")


def _compiled(fn, *nets):
    """`fn(images, labels, k, seed)` compiled once, reading the nets' current weights at each call.

    TensorFlow: a `tf.function` (variables are read when it runs). JAX: `jax.jit`
    over the values of the nets' variables, passed in at each call and run in a
    `keras.StatelessScope`; what `fn` assigns (a layer's state) is written back.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, reduce_retracing=True)
    if keras.backend.backend() != "jax":
        return fn
    import jax

    variables = list({id(v): v for net in nets for v in net.variables}.values())

    def stateless(values, images, labels, k, seed):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            out = fn(images, labels, k, seed)
        return out, [scope.get_current_value(v) for v in variables]

    jitted = jax.jit(stateless, static_argnums=3)

    def call(images, labels, k, seed):
        out, values = jitted([v.value for v in variables], images, labels, k, seed)
        for variable, value in zip(variables, values):
            if not variable.trainable:
                variable.assign(value)
        return out

    return call
