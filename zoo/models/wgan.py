"""Wasserstein GAN with a weight-clipped critic (Arjovsky et al. 2017)."""

import keras

from zoo.models.gan import GAN


@keras.saving.register_keras_serializable(package="zoo")
class WGAN(GAN):
    """A GAN whose critic estimates the Wasserstein-1 distance, kept Lipschitz by clipping.

    The critic (the `discriminator` net: images -> one unbounded score) is
    updated `d_steps` times per generator update to maximise
    `E[D(x)] - E[D(G(z))]`; after each update every critic weight is clipped
    to `[-clip_value, clip_value]`. The generator minimises `-E[D(G(z))]`.
    `d_real - d_fake` in the logs is the critic's estimate of the distance (up
    to the Lipschitz constant): it should fall as the generator improves.

    This is `zoo.models.GAN(loss="wasserstein", clip_value=..., d_steps=...)`
    with the paper's defaults; any other `GAN` argument (EMA generator,
    packing, instance noise, ...) can be passed. Each of the `d_steps` critic
    updates uses the same real batch with fresh noise.

    Args:
        generator: `keras.Model`, noise -> images.
        critic: `keras.Model`, images -> `(batch, 1)` scores. Do not use batch
            normalisation in a Lipschitz-constrained critic (layer norm or none).
        clip_value: float > 0, weight clipping bound. Default 0.01.
        d_steps: int, critic updates per generator update. Default 5.
        **kwargs: any other `zoo.models.GAN` argument.

    `compile()` defaults to RMSprop(5e-5) for both players, as in the paper
    (momentum-based optimizers were unstable with clipping).

    Example:
    ```python
    wgan = zoo.models.WGAN(
        zoo.nets.dcgan_generator(100, (28, 28, 1)),
        zoo.nets.dcgan_discriminator((28, 28, 1), normalization="layer"),
    )
    wgan.compile()
    wgan.fit(zoo.data.load("fashion_mnist"), epochs=10)
    ```

    Reference: Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017,
    algorithm 1.
    """

    def __init__(self, generator, critic=None, clip_value=0.01, d_steps=5, **kwargs):
        # `discriminator` is accepted for from_config and symmetry with GAN.
        name = type(self).__name__
        critic = kwargs.pop("discriminator", critic)
        if critic is None:
            raise ValueError(f"{name} needs a critic net (images -> one score)")
        kwargs.setdefault("loss", "wasserstein")
        if kwargs["loss"] != "wasserstein":
            raise ValueError(f"{name} trains with loss='wasserstein', got loss={kwargs['loss']!r}")
        super().__init__(generator, critic, clip_value=clip_value, d_steps=d_steps, **kwargs)

    @property
    def critic(self):
        """The critic net (the same object as `discriminator`)."""
        return self.discriminator

    def default_optimizers(self):
        # Arjovsky et al. 2017, algorithm 1: RMSProp, lr 5e-5, for both players.
        return {
            "d_optimizer": lambda: keras.optimizers.RMSprop(5e-5),
            "g_optimizer": lambda: keras.optimizers.RMSprop(5e-5),
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training; defaults RMSprop(5e-5) for critic and generator."""
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)
