"""Coupled GAN: two GANs with shared layers that learn a joint distribution from unpaired data."""

import copy

import keras
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel, NoiseInput, dcgan_adam, unpaired_batch
from zoo.models.gan import _has_spectral_norm


def _unique(variables):
    """`variables` without repeats (a shared layer's weights appear in both nets), in order."""
    seen, unique = set(), []
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def _pair(net_a, net_b, name):
    """One functional model running both nets: `(inputs) -> [output_a, output_b]`.

    Layers the two nets share are nodes of one graph here, so a call computes a
    shared part once when both nets start from the same input tensor (the
    generators of `zoo.nets.cogan_generators`), and serialising it keeps every
    shared layer once (serialised apart, the nets would come back as two
    unrelated copies).
    """
    inputs = [net_a.inputs[0]]
    if net_b.inputs[0] is not net_a.inputs[0]:
        inputs.append(net_b.inputs[0])
    try:
        return keras.Model(inputs, [net_a.outputs[0], net_b.outputs[0]], name=name)
    except ValueError as error:
        raise ValueError(
            f"{net_a.name} and {net_b.name} cannot run as one graph ({error}); build the pair "
            "with zoo.nets.cogan_generators / cogan_discriminators, or give the layers that "
            "are not shared distinct names"
        ) from None


def _pair_config(net_a, net_b, name):
    return {
        "pair": keras.saving.serialize_keras_object(_pair(net_a, net_b, name)),
        "names": [net_a.name, net_b.name],
    }


def _split_pair(config):
    """The two nets of a `_pair_config`, sharing the layers they shared when saved."""
    pair = keras.saving.deserialize_keras_object(config["pair"])
    inputs = pair.inputs * 2 if len(pair.inputs) == 1 else pair.inputs
    return tuple(
        keras.Model(inputs[i], pair.outputs[i], name=config["names"][i]) for i in range(2)
    )


@keras.saving.register_keras_serializable(package="zoo")
class CoGAN(NoiseInput, MultiOptimizerModel):
    """Coupled GAN: a GAN per domain, weights shared, the same noise into both generators.

    `generator_a` and `generator_b` share their first (high-level) layers and
    `discriminator_a` and `discriminator_b` their last ones (build them with
    `zoo.nets.cogan_generators` and `zoo.nets.cogan_discriminators`). Each
    `train_step` takes unpaired batches `(images_a, images_b)`, independent
    draws from the two domains, and

    1. updates both discriminators on `d_loss = d_a_loss + d_b_loss`, each
       domain's real images against its generator's fakes for one noise batch;
    2. updates both generators on `g_loss = g_a_loss + g_b_loss` for a fresh
       noise batch `z`, the SAME `z` feeding both generators.

    A layer shared by two nets receives the sum of the gradients of both
    domains' losses in ONE optimizer update: one optimizer per player,
    `d_optimizer` over the union of both discriminators' variables and
    `g_optimizer` over the union of both generators' (each shared variable
    once). Since every `z` must make a plausible image in both domains through
    the same high-level layers, the pair `(G_a(z), G_b(z))` shows the same
    content rendered in each domain: a joint distribution learned without a
    single corresponding pair in the data.

    `generate` returns pairs. To serve them, export each generator
    (`zoo.export.export_generator(model.generator_a, "name_a")`, ...) and feed
    both the same noise.

    Args:
        generator_a: `keras.Model`, noise `(batch, latent_dim)` -> images of
            domain A `(batch, h, w, c_a)`.
        generator_b: `keras.Model`, noise -> images of domain B; shares layers
            with `generator_a`.
        discriminator_a: `keras.Model`, images of A -> logits `(batch, 1)`.
        discriminator_b: `keras.Model`, images of B -> logits; shares layers
            with `discriminator_a`.
        latent_dim: int or None, size of the noise vector. Default None: read
            from the generators' input.
        loss: str, adversarial loss of both GANs: "non_saturating" (default,
            the paper's sigmoid cross-entropy with fakes labelled real for
            G), "minimax", "least_squares" or "hinge" (see `zoo.losses`).
        seed: int or None, seed of the noise generator (its state is saved by
            `zoo.callbacks.TrainingCheckpoint`).

    Example:
    ```python
    g_a, g_b = zoo.nets.cogan_generators(latent_dim=100, image_shape=(28, 28, 1))
    d_a, d_b = zoo.nets.cogan_discriminators((28, 28, 1))
    model = zoo.models.CoGAN(g_a, g_b, d_a, d_b)
    model.compile()  # Adam(2e-4, beta_1=0.5) per player, as in the paper
    model.fit(zoo.data.unpaired_digits("mnist", transform="edges", batch_size=128), epochs=20)
    digits, edges = model.generate(16)  # pair i: one digit, rendered in both domains
    ```

    Reference: Liu & Tuzel, "Coupled Generative Adversarial Networks",
    NeurIPS 2016.
    """

    OPTIMIZERS = ("d_optimizer", "g_optimizer")
    NETS = ("generator_a", "generator_b", "discriminator_a", "discriminator_b")
    EXPORT = "generator_pair"

    def __init__(
        self,
        generator_a,
        generator_b,
        discriminator_a,
        discriminator_b,
        latent_dim=None,
        loss="non_saturating",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        nets = (generator_a, generator_b, discriminator_a, discriminator_b)
        for name, net in zip(self.NETS, nets):
            if not isinstance(net, keras.Model) or len(net.inputs or []) != 1 or len(net.outputs or []) != 1:
                raise ValueError(f"{name} must be a single-input, single-output keras.Model, got {net!r}")
        noise_dims = (generator_a.inputs[0].shape[-1], generator_b.inputs[0].shape[-1])
        if noise_dims[0] != noise_dims[1]:
            raise ValueError(
                f"generator_a and generator_b must take the same noise size (they are fed the "
                f"same z), got {noise_dims[0]} and {noise_dims[1]}"
            )
        latent_dim = checks.positive_int(noise_dims[0] if latent_dim is None else latent_dim, "latent_dim")
        if latent_dim != noise_dims[0]:
            raise ValueError(f"latent_dim={latent_dim} does not match the generators' noise size {noise_dims[0]}")
        for domain, generator, discriminator in (
            ("a", generator_a, discriminator_a),
            ("b", generator_b, discriminator_b),
        ):
            made, judged = tuple(generator.outputs[0].shape[1:]), tuple(discriminator.inputs[0].shape[1:])
            if None not in made and None not in judged and made != judged:
                raise ValueError(
                    f"generator_{domain} makes images of shape {made} but discriminator_{domain} "
                    f"takes {judged}"
                )
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        if loss == "wasserstein" and not (
            _has_spectral_norm(discriminator_a) and _has_spectral_norm(discriminator_b)
        ):
            raise ValueError(
                "loss='wasserstein' needs spectrally normalised discriminators (CoGAN has no "
                "gradient penalty or clipping); without a Lipschitz constraint the scores diverge"
            )
        self.generator_a = generator_a
        self.generator_b = generator_b
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.latent_dim = latent_dim
        self.loss_name = loss
        # Kept out of Keras' attribute tracking: they hold the same layers as the
        # four nets, which already own (and save) them.
        object.__setattr__(self, "_generators", _pair(generator_a, generator_b, "generators"))
        object.__setattr__(self, "_discriminators", _pair(discriminator_a, discriminator_b, "discriminators"))
        self.track("d_loss", "g_loss", "d_a_loss", "d_b_loss", "g_a_loss", "g_b_loss")
        self.built = True

    def default_optimizers(self):
        # Liu & Tuzel 2016: Adam, lr 2e-4, betas 0.5 and 0.999.
        return dict.fromkeys(self.OPTIMIZERS, dcgan_adam)

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training with one optimizer per player.

        Args:
            d_optimizer: optimizer (instance, name or config) of both
                discriminators, shared layers included once. Default
                Adam(2e-4, beta_1=0.5) (the paper).
            g_optimizer: optimizer of both generators. Same default.
            **kwargs: `jit_compile` (None: XLA on GPUs only), `steps_per_execution`,
                `run_eagerly`, ... as for `keras.Model.compile`.
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    @property
    def d_variables(self):
        """Trainable variables of both discriminators, each shared one once."""
        return _unique(self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables)

    @property
    def g_variables(self):
        """Trainable variables of both generators, each shared one once."""
        return _unique(self.generator_a.trainable_variables + self.generator_b.trainable_variables)

    def optimizer_variables(self):
        return {"d_optimizer": self.d_variables, "g_optimizer": self.g_variables}

    # -- sampling ------------------------------------------------------------

    def generate_pair(self, z, training=False):
        """`(G_a(z), G_b(z))` as tensors, the shared layers run once."""
        inputs = z if len(self._generators.inputs) == 1 else [z, z]
        images_a, images_b = self._generators(inputs, training=training)
        return images_a, images_b

    def call(self, z, training=False):
        return self.generate_pair(z, training=training)

    def generate(self, num_or_z, *, batch_size=256):
        """Generates corresponding image pairs in [-1, 1].

        Args:
            num_or_z: an int (number of pairs, noise drawn from the model's
                seed generator) or an array of noise vectors `(n, latent_dim)`.
            batch_size: int, noise vectors per generator call. Default 256.

        Returns:
            `(images_a, images_b)`, numpy arrays `(n, h, w, c_a)` and `(n, h, w, c_b)`;
            pair i comes from the i-th noise vector.
        """
        z = self.noise_for(num_or_z)
        inputs = z if len(self._generators.inputs) == 1 else [z, z]
        images_a, images_b = self._generators.predict(inputs, batch_size=batch_size, verbose=0)
        return images_a, images_b

    # -- training ------------------------------------------------------------

    def discriminator_losses(self, real_a, real_b, fake_a, fake_b, training=True):
        """`(d_a_loss, d_b_loss)`: each domain's real images against its fakes."""
        d_a_loss = self.d_loss_fn(
            self.discriminator_a(real_a, training=training), self.discriminator_a(fake_a, training=training)
        )
        d_b_loss = self.d_loss_fn(
            self.discriminator_b(real_b, training=training), self.discriminator_b(fake_b, training=training)
        )
        return d_a_loss, d_b_loss

    def generator_losses(self, fake_a, fake_b, training=True):
        """`(g_a_loss, g_b_loss)`: each generator's fakes judged by its discriminator."""
        return (
            self.g_loss_fn(self.discriminator_a(fake_a, training=training)),
            self.g_loss_fn(self.discriminator_b(fake_b, training=training)),
        )

    def discriminator_step(self, real_a, real_b):
        """One update of both discriminators; returns `(d_a_loss, d_b_loss)`."""
        fake_a, fake_b = self.generate_pair(self.sample_noise(ops.shape(real_a)[0]), training=True)
        variables = self.d_variables

        def loss():
            d_a_loss, d_b_loss = self.discriminator_losses(real_a, real_b, fake_a, fake_b)
            return d_a_loss + d_b_loss, d_a_loss, d_b_loss

        _, d_a_loss, d_b_loss = engine.update(self.d_optimizer, variables, loss)
        return d_a_loss, d_b_loss

    def generator_step(self, batch_size):
        """One update of both generators, one noise batch into both; returns `(g_a_loss, g_b_loss)`."""
        variables = self.g_variables

        def loss():
            fake_a, fake_b = self.generate_pair(self.sample_noise(batch_size), training=True)
            g_a_loss, g_b_loss = self.generator_losses(fake_a, fake_b)
            return g_a_loss + g_b_loss, g_a_loss, g_b_loss

        _, g_a_loss, g_b_loss = engine.update(self.g_optimizer, variables, loss)
        return g_a_loss, g_b_loss

    def train_step(self, data):
        real_a, real_b = unpaired_batch(data, "CoGAN")
        d_losses = self.discriminator_step(real_a, real_b)
        g_losses = self.generator_step(ops.shape(real_a)[0])
        return self._track(d_losses, g_losses)

    def test_step(self, data):
        real_a, real_b = unpaired_batch(data, "CoGAN")
        fake_a, fake_b = self.generate_pair(self.sample_noise(ops.shape(real_a)[0]), training=False)
        d_losses = self.discriminator_losses(real_a, real_b, fake_a, fake_b, training=False)
        return self._track(d_losses, self.generator_losses(fake_a, fake_b, training=False))

    def _track(self, d_losses, g_losses):
        return self.log(
            d_loss=d_losses[0] + d_losses[1],
            g_loss=g_losses[0] + g_losses[1],
            d_a_loss=d_losses[0],
            d_b_loss=d_losses[1],
            g_a_loss=g_losses[0],
            g_b_loss=g_losses[1],
        )

    # -- serialisation ---------------------------------------------------------

    def get_config(self):
        # The nets are stored as two pairs, not four nets: serialised one by one,
        # a layer shared by two nets would come back as two unrelated copies.
        config = super().get_config()
        config.update(
            {
                "generators": _pair_config(self.generator_a, self.generator_b, "generators"),
                "discriminators": _pair_config(self.discriminator_a, self.discriminator_b, "discriminators"),
                "latent_dim": self.latent_dim,
                "loss": self.loss_name,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # Keras edits nested net configs in place
        generator_a, generator_b = _split_pair(config.pop("generators"))
        discriminator_a, discriminator_b = _split_pair(config.pop("discriminators"))
        return cls(generator_a, generator_b, discriminator_a, discriminator_b, **config)
