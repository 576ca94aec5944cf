"""Progressive GAN (Karras et al. 2018): WGAN-GP with a drift term on nets that grow by a level of detail."""


import keras
from keras import ops

from zoo import checks, losses
from zoo.layers.progressive import images_at_lod
from zoo.models.wgan_gp import WGANGP
from zoo.nets.progressive_gan import lod_layer


@keras.saving.register_keras_serializable(package="zoo")
class ProgressiveGAN(WGANGP):
    """WGAN-GP training of a progressively grown generator and critic, with `fit`.

    The nets are `zoo.nets.progan_generator` and `zoo.nets.progan_discriminator`
    (or any pair holding one `zoo.layers.LevelOfDetail` each, with the same
    number of levels). The model keeps their levels of detail equal
    (`set_lod`), and shows the critic real images at the current level
    (`zoo.layers.images_at_lod`: block averages repeated to full size, faded
    like the generator's output). `zoo.callbacks.ProgressiveGrowing` sets
    the level before every batch from `images_seen`, a counter of the real
    images trained on that is saved with the model, so a resumed run
    continues the schedule where it stopped.

    The critic loss is the WGAN-GP loss plus the drift term
    `drift * E[D(x)^2]` that keeps the real scores near 0
    (`zoo.losses.drift_penalty`); logs `d_loss` (the Wasserstein part),
    `g_loss`, `d_real`, `d_fake`, `gradient_penalty` and `drift_penalty`
    (unweighted). The generator's weights are averaged into
    `ema_generator` (momentum 0.999 by default), which `generate`, sample
    grids and `zoo.export.export_generator` use.

    Args:
        generator: `keras.Model`, noise -> full-size images, with a `LevelOfDetail`.
        discriminator: `keras.Model`, full-size images -> `(batch, 1)` scores,
            with a `LevelOfDetail` of the same `max_lod`.
        gradient_penalty: float > 0, WGAN-GP's lambda. Default 10.
        drift: float >= 0, weight epsilon_drift of the drift term. Default 0.001.
        d_steps: int, critic updates per generator update. Default 1 (the paper).
        ema_momentum: float in (0, 1) or None. Default 0.999 (the paper).
        **kwargs: any other `zoo.models.GAN` argument (`seed`, ...).

    `compile()` defaults to Adam(1e-3, beta_1=0, beta_2=0.99, epsilon=1e-8)
    for both players, as in the paper.

    Example:
    ```python
    generator = zoo.nets.progan_generator(512, (128, 128, 3))
    critic = zoo.nets.progan_discriminator((128, 128, 3))
    gan = zoo.models.ProgressiveGAN(generator, critic)
    gan.compile()
    growing = zoo.callbacks.ProgressiveGrowing(stabilize_images=800_000, fade_images=800_000)
    gan.fit(zoo.data.load("celeb_a", image_size=128, batch_size=16), epochs=600,
            steps_per_epoch=1000, callbacks=[growing])
    images = gan.generate(16)
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 2-4 and appendix A.1;
    Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017.
    """

    def __init__(
        self,
        generator,
        discriminator=None,
        gradient_penalty=10.0,
        drift=0.001,
        d_steps=1,
        ema_momentum=0.999,
        **kwargs,
    ):
        drift = checks.number(drift, "drift", at_least=0)
        discriminator = kwargs.pop("critic", discriminator)
        super().__init__(
            generator,
            discriminator,
            gradient_penalty=gradient_penalty,
            d_steps=d_steps,
            ema_momentum=ema_momentum,
            **kwargs,
        )
        g_levels, d_levels = lod_layer(self.generator), lod_layer(self.discriminator)
        if g_levels.max_lod != d_levels.max_lod:
            raise ValueError(
                f"the generator has {g_levels.max_lod + 1} levels of detail and the discriminator "
                f"{d_levels.max_lod + 1}: build both for the same resolution"
            )
        self.max_lod = g_levels.max_lod
        self.drift = drift
        self.track("drift_penalty")
        # Counted by the first replica, as its batch times the replica count (the global batch).
        self.images_seen = keras.Variable(
            0, dtype="int64", trainable=False, aggregation="only_first_replica", name="images_seen"
        )
        # The EMA's warm-up counts generator updates here, not in the optimizer,
        # whose step count `reset_optimizers` sets back to 0 at every new level.
        self.generator_updates = keras.Variable(
            0, dtype="int64", trainable=False, aggregation="only_first_replica", name="generator_updates"
        )
        self.set_lod(lod_layer(self.discriminator).value())

    def default_optimizers(self):
        # Karras et al. 2018, appendix A.1: Adam(1e-3, beta_1 0, beta_2 0.99, epsilon 1e-8).
        return {
            "d_optimizer": lambda: keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
            "g_optimizer": lambda: keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training; defaults Adam(1e-3, beta_1=0, beta_2=0.99, epsilon=1e-8) for both players."""
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    # -- level of detail -------------------------------------------------------

    def _nets(self):
        nets = [self.generator, self.discriminator]
        if self.ema_momentum is not None:
            nets.append(self.ema_generator)
        return nets

    @property
    def lod(self):
        """The current level of detail (0 = full resolution, `max_lod` = 4x4)."""
        return lod_layer(self.discriminator).value()

    def set_lod(self, lod):
        """Sets the level of detail of the generator, its EMA copy and the critic.

        Args:
            lod: float in [0, max_lod].
        """
        lod = checks.number(lod, "lod", at_least=0, at_most=self.max_lod)
        for net in self._nets():
            lod_layer(net).assign(lod)

    @property
    def resolution(self):
        """The side of the resolution being trained (the finer one during a fade)."""
        side = int(self.generator.outputs[0].shape[1])
        return side // 2 ** int(self.lod // 1)

    def reset_optimizers(self):
        """Zeroes both optimizers' moments and step counts (learning rates are kept).

        The reference code does this whenever a new resolution starts or
        finishes fading in (`reset_opt_for_new_lod`): layers that had no
        gradient until then would otherwise get Adam steps up to
        `1 / sqrt(1 - beta_2)` times the learning rate, their second moments
        being 0 while the bias correction has long worn off.
        """
        for optimizer in self.optimizers:
            inner = getattr(optimizer, "inner_optimizer", optimizer)
            for variable in inner.variables:
                if variable.name != "learning_rate":
                    variable.assign(ops.zeros(variable.shape, variable.dtype))

    def real_at_lod(self, images):
        """Real images as the critic sees them at the current level of detail."""
        return images_at_lod(images, lod_layer(self.discriminator).lod, self.max_lod)

    # -- training ----------------------------------------------------------------

    def score_penalties(self, real_logits, fake_logits):
        """The drift term `drift * E[D(x)^2]` (Karras et al. 2018, A.1)."""
        del fake_logits
        drift = losses.drift_penalty(real_logits)
        return self.drift * drift, {"drift_penalty": drift}

    def ema_updates(self):
        # The optimizers' step counts are reset between levels; the warm-up is not.
        return self.generator_updates

    def update_ema(self):
        self.generator_updates.assign_add(1)
        super().update_ema()

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        logs = super().train_step(self.real_at_lod(real_images))
        replicas = _replicas()
        self.images_seen.assign_add(ops.cast(ops.shape(real_images)[0] * replicas, "int64"))
        return logs

    def test_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        return super().test_step(self.real_at_lod(real_images))

    def get_config(self):
        config = super().get_config()
        config["drift"] = self.drift
        return config


def _replicas():
    """Replicas that each train on a share of the global batch: `tf.distribute`'s count, 1 elsewhere.

    On JAX the step sees the global batch (`keras.distribution` shards one
    array), so its batch size is already the number of images trained on.
    """
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync
