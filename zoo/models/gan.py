"""The unconditional adversarial training loop: vanilla GAN, DCGAN, LSGAN, hinge GAN."""

import keras
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel, NoiseInput, dcgan_adam


@keras.saving.register_keras_serializable(package="zoo")
class GAN(NoiseInput, MultiOptimizerModel):
    """A generator and a discriminator trained against each other with `fit`.

    The nets are built outside and injected (see `zoo.nets`); this class holds
    only the training algorithm. Each `train_step` runs `d_steps`
    discriminator updates and one generator update. With `d_steps=k` a
    step's batch holds `k` real batches, one for each discriminator update
    (fresh noise each too), as in WGAN's and WGAN-GP's Algorithm 1: batch
    the data by `k * m` for critic batches of `m`. The generator update
    draws `m` noise vectors.

    Args:
        generator: `keras.Model` mapping noise `(batch, latent_dim)` to images.
        discriminator: `keras.Model` mapping images to logits `(batch, 1)`.
        latent_dim: int, size of the noise vector. Default None: read from
            `generator.input_shape`.
        loss: str, adversarial loss: "non_saturating" (default), "minimax",
            "least_squares" or "hinge" (see `zoo.losses`).
        d_steps: int, discriminator updates per generator update. Default 1.
            A step's batch is split into `d_steps` equal real batches, one per
            update (its size must be a multiple of `d_steps`).
        fresh_real_batches: bool, give each discriminator update its own real
            batch (True, the papers) or all of them the whole step's batch
            (False: keras.io's WGAN-GP, and zoo before 2026-12; then an epoch makes
            `d_steps` times more generator updates). Default True.
        label_smoothing: float in [0, 1), one-sided smoothing: real targets
            become `1 - label_smoothing` (Salimans et al. 2016). Default 0.
        instance_noise: float >= 0, stddev of Gaussian noise added to every
            image the discriminator sees, real and fake (Sonderby et al. 2017).
            Default 0.
        instance_noise_decay_steps: int or None, anneal the instance noise
            linearly to 0 over this many discriminator updates. Default None.
        gradient_penalty: float >= 0, weight (the paper's lambda, 10) of the
            WGAN-GP penalty `(||grad D(x_hat)|| - 1)^2` on random interpolates
            of real and fake images (`zoo.losses.gradient_penalty`). Default 0.
        r1_gamma: float >= 0, weight gamma of the R1 penalty
            `gamma / 2 * ||grad D(x)||^2` on real images (Mescheder 2018).
            Default 0.
        r1_interval: int >= 1, lazy R1: the penalty is computed every this many
            discriminator updates and multiplied by it (Karras 2020). Default 1.
        clip_value: float > 0 or None, clip every discriminator weight to
            `[-clip_value, clip_value]` after each update (WGAN's critic,
            Arjovsky 2017). Default None.
        ema_momentum: float in (0, 1) or None, keep `ema_generator`, an
            exponential moving average of the generator's weights (Karras 2018,
            Yazici 2019); `generate`, `call`, sample grids and `zoo export` then
            use it. The momentum ramps up as `min(ema_momentum, (1 + t) / (10 + t))`
            at the `t`-th generator update (t = 1, 2, ...; the warm-up of TF's
            `ExponentialMovingAverage`), so early weights fade quickly. Default None.
        pack: int >= 1, PacGAN packing (Lin et al. 2018): the discriminator
            judges `pack` samples at once, joined along the channel axis, so its
            input has `pack` times the generator's channels (build it with
            `pack=...`). The batch size must be divisible by `pack`. Default 1.
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
        gradient_penalty=0.0,
        r1_gamma=0.0,
        r1_interval=1,
        clip_value=None,
        ema_momentum=None,
        pack=1,
        seed=None,
        fresh_real_batches=True,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        # The noise is the first input (a conditional generator's second is the label).
        noise_dim = generator.inputs[0].shape[-1]
        latent_dim = checks.positive_int(noise_dim if latent_dim is None else latent_dim, "latent_dim")
        if noise_dim != latent_dim:
            raise ValueError(
                f"latent_dim={latent_dim} does not match the generator's input "
                f"shape {generator.input_shape}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        self.d_steps = checks.positive_int(d_steps, "d_steps")
        self.fresh_real_batches = checks.boolean(fresh_real_batches, "fresh_real_batches")
        self.label_smoothing = checks.number(label_smoothing, "label_smoothing", at_least=0, below=1)
        self.instance_noise = checks.number(instance_noise, "instance_noise", at_least=0)
        self.instance_noise_decay_steps = checks.positive_int(
            instance_noise_decay_steps, "instance_noise_decay_steps", none=True
        )
        self.gradient_penalty = checks.number(gradient_penalty, "gradient_penalty", at_least=0)
        self.r1_gamma = checks.number(r1_gamma, "r1_gamma", at_least=0)
        self.r1_interval = checks.positive_int(r1_interval, "r1_interval")
        self.clip_value = checks.number(clip_value, "clip_value", above=0, none=True)
        self.ema_momentum = checks.number(ema_momentum, "ema_momentum", above=0, below=1, none=True)
        self.pack = checks.positive_int(pack, "pack")
        self._check_discriminator_input(generator, discriminator, pack)
        if loss == "wasserstein" and not (
            self.gradient_penalty or self.clip_value or self.r1_gamma or _has_spectral_norm(discriminator)
        ):
            raise ValueError(
                "loss='wasserstein' needs a Lipschitz constraint on the critic: clip_value "
                "(WGAN), gradient_penalty (WGAN-GP), r1_gamma or a spectrally normalised "
                "discriminator; without one the critic's scores diverge"
            )
        if self.ema_momentum is not None:
            # A copy whose weights follow the generator's average; saved with the model.
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.track("d_loss", "g_loss", "d_real", "d_fake")
        self.track(*(name for name, on in (("gradient_penalty", self.gradient_penalty), ("r1_penalty", self.r1_gamma))
                     if on))
        # The injected nets are built functional models, so this one is too.
        self.built = True

    @staticmethod
    def _check_discriminator_input(generator, discriminator, pack):
        produced = tuple(generator.outputs[0].shape[1:])
        judged = tuple(discriminator.inputs[0].shape[1:])
        if not produced or None in produced or None in judged:
            return
        expected = (*produced[:-1], produced[-1] * pack)
        if judged != expected:
            raise ValueError(
                f"the discriminator takes inputs of shape {judged}, but the generator makes "
                f"{produced}" + (f" and pack={pack} joins {pack} of them along the channels" if pack > 1 else "")
                + f": expected a discriminator input of shape {expected}"
            )

    @property
    def sampling_generator(self):
        """The net that makes images: `ema_generator` when enabled, else `generator`."""
        return self.ema_generator if self.ema_momentum is not None else self.generator

    def default_optimizers(self):
        # Radford et al. 2016: Adam, lr 2e-4, beta_1 0.5, for both players.
        return dict.fromkeys(self.OPTIMIZERS, dcgan_adam)

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
        return self.sampling_generator(z, training=training)

    # -- sampling ------------------------------------------------------------

    def generate(self, num_or_z, *, batch_size=256):
        """Generates images in [-1, 1] as a numpy array.

        Args:
            num_or_z: an int (number of images, noise drawn from the model's
                seed generator) or an array of noise vectors `(n, latent_dim)`.
            batch_size: int, images per generator call. Default 256.
        """
        return self.sampling_generator.predict(self.noise_for(num_or_z), batch_size=batch_size, verbose=0)

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

    def _packed(self, images):
        """PacGAN: `(batch, ..., C)` -> `(batch / pack, ..., pack * C)`, neighbours joined."""
        if self.pack == 1:
            return images
        message = (
            f"pack={self.pack} needs a batch size divisible by {self.pack} (batch the data "
            f"with drop_remainder=True and a multiple of {self.pack})"
        )
        batch = images.shape[0]
        if batch is not None and batch % self.pack:
            raise ValueError(f"{message}; got a batch of {batch}")
        if batch is None:  # a TensorFlow graph with an unknown batch size
            import tensorflow as tf

            check = tf.debugging.assert_equal(tf.shape(images)[0] % self.pack, 0, message=message)
            with tf.control_dependencies([check]):
                images = tf.identity(images)
        rest = tuple(images.shape[1:])
        grouped = ops.reshape(images, (-1, self.pack, *rest))
        grouped = ops.moveaxis(grouped, 1, -2)
        return ops.reshape(grouped, (-1, *rest[:-1], rest[-1] * self.pack))

    def _d_inputs(self, images):
        """What the discriminator sees: instance noise, then packing."""
        return self._packed(self._noisy(images))

    def regularization(self, critic, real_inputs, fake_inputs):
        """The weighted penalties added to the discriminator loss, and their raw values.

        Args:
            critic: callable, discriminator inputs -> real/fake scores `(batch, 1)`.
            real_inputs, fake_inputs: what the discriminator saw (noised, packed).

        Returns:
            `(total, {tracker name: raw penalty or (penalty, computed-this-step)})`;
            `total` is a float32 scalar.
        """
        total = ops.zeros((), "float32")
        values = {}
        loss_scale = getattr(self.d_optimizer, "dynamic_scale", None)
        if self.gradient_penalty:
            shape = (ops.shape(real_inputs)[0],) + (1,) * (len(real_inputs.shape) - 1)
            alpha = self.uniform(shape)
            penalty = losses.gradient_penalty(
                critic, real_inputs, ops.stop_gradient(fake_inputs), alpha, loss_scale=loss_scale
            )
            values["gradient_penalty"] = penalty
            total = total + self.gradient_penalty * penalty
        if self.r1_gamma:
            due = None
            if self.r1_interval == 1:
                penalty = losses.r1_penalty(critic, real_inputs, loss_scale=loss_scale)
                weight = 0.5 * self.r1_gamma
            else:
                due = ops.equal(ops.mod(self.d_optimizer.iterations, self.r1_interval), 0)
                penalty = engine.cond(
                    due,
                    lambda: losses.r1_penalty(critic, real_inputs, loss_scale=loss_scale),
                    lambda: ops.zeros((), "float32"),
                )
                weight = 0.5 * self.r1_gamma * self.r1_interval
            values["r1_penalty"] = (penalty, due if self.r1_interval > 1 else None)
            total = total + weight * penalty
        return total, values

    def score_penalties(self, real_logits, fake_logits):
        """Weighted penalties on the critic's scores (ProGAN's drift), and their raw values.

        Returns `(total, {tracker name: raw value})`; none here.
        """
        del real_logits, fake_logits
        return ops.zeros((), "float32"), {}

    def clip_discriminator(self):
        """WGAN's weight clipping (Arjovsky et al. 2017, algorithm 1), if enabled."""
        if self.clip_value is not None:
            for variable in self.discriminator.trainable_variables:
                variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))

    def ema_updates(self):
        """The `t` of the EMA warm-up: generator updates so far, this one included."""
        return self.g_optimizer.iterations

    def update_ema(self):
        """Moves the EMA generator after a generator update, if enabled."""
        if self.ema_momentum is not None:
            step = ops.cast(self.ema_updates(), "float32")
            momentum = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))
            for average, weight in zip(self.ema_generator.weights, self.generator.weights):
                if weight.trainable:
                    value = ops.cast(weight, average.dtype)
                    average.assign(value + momentum * (average - value))
                else:  # batch-norm statistics are copied
                    average.assign(weight)

    def discriminator_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator(self.sample_noise(batch_size), training=True)

        def loss():
            real_inputs = self._d_inputs(real_images)
            fake_inputs = self._d_inputs(fake_images)
            real_logits = self.discriminator(real_inputs, training=True)
            fake_logits = self.discriminator(fake_inputs, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0 - self.label_smoothing)
            penalty, penalties = self.regularization(
                lambda x: self.discriminator(x, training=True), real_inputs, fake_inputs
            )
            extra, extras = self.score_penalties(real_logits, fake_logits)
            return d_loss + penalty + extra, d_loss, real_logits, fake_logits, {**penalties, **extras}

        _, d_loss, real_logits, fake_logits, penalties = engine.update(
            self.d_optimizer, self.discriminator.trainable_variables, loss
        )
        self.clip_discriminator()
        return d_loss, real_logits, fake_logits, penalties

    def generator_step(self, batch_size):
        def loss():
            fake_images = self.generator(self.sample_noise(batch_size), training=True)
            fake_logits = self.discriminator(self._d_inputs(fake_images), training=True)
            return self.g_loss_fn(fake_logits)

        g_loss = engine.update(self.g_optimizer, self.generator.trainable_variables, loss)
        self.update_ema()
        return g_loss

    def real_batches(self, *tensors):
        """The real batches of a step's `d_steps` discriminator updates, each a tuple of `tensors`' slices.

        With `fresh_real_batches`, the step's batch split into `d_steps` equal parts (a rest
        of a batch whose size is unknown until run time is dropped); otherwise the whole
        batch `d_steps` times.
        """
        if self.d_steps == 1 or not self.fresh_real_batches:
            return [tensors] * self.d_steps
        total = tensors[0].shape[0]
        if total is not None and total % self.d_steps:
            raise ValueError(
                f"{type(self).__name__} with d_steps={self.d_steps} gives each critic update its own real batch "
                f"(the paper's Algorithm 1), so a step's batch of {total} must be a multiple of {self.d_steps}: "
                f"batch the data by d_steps x the critic's batch (e.g. {self.d_steps * max(1, total // self.d_steps)}"
                "), or pass fresh_real_batches=False to reuse one batch for every critic update"
            )
        size = ops.shape(tensors[0])[0] // self.d_steps
        return [tuple(t[i * size:(i + 1) * size] for t in tensors) for i in range(self.d_steps)]

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        for (real,) in self.real_batches(real_images):
            d_loss, real_logits, fake_logits, penalties = self.discriminator_step(real)
        g_loss = self.generator_step(ops.shape(real)[0])
        return self._track(d_loss, g_loss, real_logits, fake_logits, penalties)

    def test_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator(self.sample_noise(batch_size), training=False)
        real_logits = self.discriminator(self._packed(real_images), training=False)
        fake_logits = self.discriminator(self._packed(fake_images), training=False)
        d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0)
        return self._track(d_loss, self.g_loss_fn(fake_logits), real_logits, fake_logits)

    def _track(self, d_loss, g_loss, real_logits, fake_logits, penalties=None):
        for name, value in (penalties or {}).items():
            value, due = value if isinstance(value, tuple) else (value, None)
            # A lazy penalty is averaged over the steps that computed it.
            self.trackers[name].update_state(value, sample_weight=None if due is None else ops.cast(due, "float32"))
        return self.log(d_loss=d_loss, g_loss=g_loss, d_real=self._d_scores(real_logits),
                        d_fake=self._d_scores(fake_logits))

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
                "gradient_penalty": self.gradient_penalty,
                "r1_gamma": self.r1_gamma,
                "r1_interval": self.r1_interval,
                "clip_value": self.clip_value,
                "ema_momentum": self.ema_momentum,
                "pack": self.pack,
                "seed": self.seed,
                "fresh_real_batches": self.fresh_real_batches,
            }
        )
        return config


def _has_spectral_norm(model):
    """True when any layer of `model` (nested models included) is spectrally normalised."""
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.SpectralNormalization):
            return True
        stack.extend(getattr(layer, "layers", []))
    return False
