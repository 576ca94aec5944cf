"""The unconditional adversarial training loop: vanilla GAN, DCGAN, LSGAN, hinge GAN."""

import keras
import tensorflow as tf
from keras import ops

from zoo import losses
from zoo.models.base import MultiOptimizerModel


@keras.saving.register_keras_serializable(package="zoo")
class GAN(MultiOptimizerModel):
    """A generator and a discriminator trained against each other with `fit`.

    The nets are built outside and injected (see `zoo.nets`); this class holds
    only the training algorithm. Each `train_step` runs `d_steps`
    discriminator updates (fresh noise each, the same real batch) and one
    generator update.

    Args:
        generator: `keras.Model` mapping noise `(batch, latent_dim)` to images.
        discriminator: `keras.Model` mapping images to logits `(batch, 1)`.
        latent_dim: int, size of the noise vector. Default None: read from
            `generator.input_shape`.
        loss: str, adversarial loss: "non_saturating" (default), "minimax",
            "least_squares" or "hinge" (see `zoo.losses`).
        d_steps: int, discriminator updates per generator update. Default 1.
        label_smoothing: float in [0, 1), one-sided smoothing: real targets
            become `1 - label_smoothing` (Salimans et al. 2016). Default 0.
        instance_noise: float >= 0, stddev of Gaussian noise added to every
            image the discriminator sees, real and fake (Sonderby et al. 2017).
            Default 0.
        instance_noise_decay_steps: int or None, anneal the instance noise
            linearly to 0 over this many discriminator updates. Default None.
        seed: int or None, seed of the noise generator (its state is saved by
            `zoo.callbacks.TrainingCheckpoint`).

    Example:
    ```python
    generator = zoo.nets.dcgan_generator(latent_dim=100, image_shape=(32, 32, 1))
    discriminator = zoo.nets.dcgan_discriminator(image_shape=(32, 32, 1))
    gan = zoo.models.GAN(generator, discriminator)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    gan.fit(zoo.data.load("digits"), epochs=10)
    images = gan.generate(16)
    ```

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014;
    Radford et al., "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", ICLR 2016.
    """

    OPTIMIZERS = ("d_optimizer", "g_optimizer")
    NETS = ("generator", "discriminator")

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="non_saturating",
        d_steps=1,
        label_smoothing=0.0,
        instance_noise=0.0,
        instance_noise_decay_steps=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        # The noise is the first input (a conditional generator's second is the label).
        noise_dim = generator.inputs[0].shape[-1]
        if latent_dim is None:
            latent_dim = noise_dim
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if noise_dim != latent_dim:
            raise ValueError(
                f"latent_dim={latent_dim} does not match the generator's input "
                f"shape {generator.input_shape}"
            )
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive int, got {d_steps!r}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        if instance_noise < 0:
            raise ValueError(f"instance_noise must be >= 0, got {instance_noise!r}")
        if instance_noise_decay_steps is not None and instance_noise_decay_steps < 1:
            raise ValueError(
                "instance_noise_decay_steps must be a positive int or None, "
                f"got {instance_noise_decay_steps!r}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        self.d_steps = d_steps
        self.label_smoothing = float(label_smoothing)
        self.instance_noise = float(instance_noise)
        self.instance_noise_decay_steps = instance_noise_decay_steps
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        # The injected nets are built functional models, so this one is too.
        self.built = True

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]

    def default_optimizers(self):
        # Radford et al. 2016: Adam, lr 2e-4, beta_1 0.5, for both players.
        return {
            "d_optimizer": lambda: keras.optimizers.Adam(2e-4, beta_1=0.5),
            "g_optimizer": lambda: keras.optimizers.Adam(2e-4, beta_1=0.5),
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training with one optimizer per player.

        Args:
            d_optimizer: discriminator optimizer (instance, name or config).
                Default Adam(2e-4, beta_1=0.5) (Radford et al. 2016).
            g_optimizer: generator optimizer. Same default.
            **kwargs: `jit_compile` (None: XLA on GPUs only), `steps_per_execution`,
                `run_eagerly`, ... as for `keras.Model.compile`.
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    def optimizer_variables(self):
        return {
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.generator.trainable_variables,
        }

    def call(self, z, training=False):
        return self.generator(z, training=training)

    # -- sampling ------------------------------------------------------------

    def sample_noise(self, batch_size):
        return self.normal((batch_size, self.latent_dim))

    def generate(self, num_or_z, *, batch_size=256):
        """Generates images in [-1, 1] as a numpy array.

        Args:
            num_or_z: an int (number of images, noise drawn from the model's
                seed generator) or an array of noise vectors `(n, latent_dim)`.
            batch_size: int, images per generator call. Default 256.
        """
        return self.generator.predict(self.noise_for(num_or_z), batch_size=batch_size, verbose=0)

    def noise_for(self, num_or_z):
        """Noise `(n, latent_dim)` from a count (drawn here) or checked as given."""
        if isinstance(num_or_z, int):
            if num_or_z < 1:
                raise ValueError(f"number of images must be positive, got {num_or_z}")
            return self.sample_noise(num_or_z)
        z = ops.convert_to_tensor(num_or_z, dtype="float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"noise must have shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        return z

    # -- training ------------------------------------------------------------

    def _d_scores(self, logits):
        """Mean discriminator output: a probability for the cross-entropy losses."""
        logits = ops.cast(logits, "float32")
        if self.loss_name in ("minimax", "non_saturating"):
            logits = ops.sigmoid(logits)
        return ops.mean(logits)

    def _noisy(self, images):
        """Adds (annealed) instance noise to what the discriminator sees."""
        if self.instance_noise == 0.0:
            return images
        stddev = self.instance_noise
        if self.instance_noise_decay_steps:
            progress = ops.cast(self.d_optimizer.iterations, "float32") / float(
                self.instance_noise_decay_steps
            )
            stddev = stddev * ops.maximum(0.0, 1.0 - progress)
        noise = self.normal(ops.shape(images), dtype="float32")
        return ops.cast(images, "float32") + stddev * noise

    def discriminator_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator(self.sample_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self._noisy(real_images), training=True)
            fake_logits = self.discriminator(self._noisy(fake_images), training=True)
            d_loss = self.d_loss_fn(
                real_logits, fake_logits, real_target=1.0 - self.label_smoothing
            )
            scaled = self.d_optimizer.scale_loss(self.replica_mean(d_loss))
        self.apply_gradients(
            tape, scaled, self.d_optimizer, self.discriminator.trainable_variables
        )
        return d_loss, real_logits, fake_logits

    def generator_step(self, batch_size):
        with tf.GradientTape() as tape:
            fake_images = self.generator(self.sample_noise(batch_size), training=True)
            fake_logits = self.discriminator(self._noisy(fake_images), training=True)
            g_loss = self.g_loss_fn(fake_logits)
            scaled = self.g_optimizer.scale_loss(self.replica_mean(g_loss))
        self.apply_gradients(tape, scaled, self.g_optimizer, self.generator.trainable_variables)
        return g_loss

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        for _ in range(self.d_steps):
            d_loss, real_logits, fake_logits = self.discriminator_step(real_images)
        g_loss = self.generator_step(ops.shape(real_images)[0])
        return self._track(d_loss, g_loss, real_logits, fake_logits)

    def test_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator(self.sample_noise(batch_size), training=False)
        real_logits = self.discriminator(real_images, training=False)
        fake_logits = self.discriminator(fake_images, training=False)
        d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0)
        return self._track(d_loss, self.g_loss_fn(fake_logits), real_logits, fake_logits)

    def _track(self, d_loss, g_loss, real_logits, fake_logits):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(self._d_scores(real_logits))
        self.d_fake_tracker.update_state(self._d_scores(fake_logits))
        return {m.name: m.result() for m in self.metrics}

    # -- serialisation ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "latent_dim": self.latent_dim,
                "loss": self.loss_name,
                "d_steps": self.d_steps,
                "label_smoothing": self.label_smoothing,
                "instance_noise": self.instance_noise,
                "instance_noise_decay_steps": self.instance_noise_decay_steps,
                "seed": self.seed,
            }
        )
        return config
