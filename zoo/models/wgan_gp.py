"""Wasserstein GAN with a gradient penalty (Gulrajani et al. 2017)."""

import keras

from zoo import checks
from zoo.models.wgan import WGAN


@keras.saving.register_keras_serializable(package="zoo")
class WGANGP(WGAN):
    """A Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

    The critic loss is `E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)|| - 1)^2]`
    with `x_hat = alpha x + (1 - alpha) G(z)`, one `alpha ~ U[0, 1]` per
    example and an epsilon inside the square root
    (`zoo.losses.gradient_penalty`). The critic is updated `d_steps` times per
    generator update. Under `mixed_float16` the penalty's inner gradient is
    loss-scaled like the outer one; under `mixed_bfloat16` all penalty maths is
    float32.

    This is `zoo.models.WGAN` with the penalty instead of clipping
    (`clip_value=None`), i.e. `zoo.models.GAN(loss="wasserstein",
    gradient_penalty=..., d_steps=...)` with the paper's defaults; any other
    `GAN` argument can be passed. Logs `gradient_penalty` (unweighted) beside `d_loss`.

    Args:
        generator: `keras.Model`, noise -> images.
        critic: `keras.Model`, images -> `(batch, 1)` scores. No batch
            normalisation (the penalty is per example): use layer norm or none.
        gradient_penalty: float > 0, the penalty weight lambda. Default 10.
        d_steps: int, critic updates per generator update. Default 5.
        **kwargs: any other `zoo.models.GAN` argument.

    `compile()` defaults to Adam(1e-4, beta_1=0, beta_2=0.9) for both players,
    as in the paper.

    Example:
    ```python
    wgan = zoo.models.WGANGP(
        zoo.nets.dcgan_generator(128, (28, 28, 1)),
        zoo.nets.dcgan_discriminator((28, 28, 1), normalization="layer"),
    )
    wgan.compile()
    wgan.fit(zoo.data.load("fashion_mnist"), epochs=10)
    ```

    Reference: Gulrajani et al., "Improved Training of Wasserstein GANs",
    NeurIPS 2017, algorithm 1.
    """

    def __init__(self, generator, critic=None, gradient_penalty=10.0, d_steps=5, clip_value=None, **kwargs):
        checks.number(gradient_penalty, "gradient_penalty", above=0)
        # WGAN's critic loop with the penalty in place of clipping.
        super().__init__(
            generator, critic, clip_value=clip_value, d_steps=d_steps, gradient_penalty=gradient_penalty, **kwargs
        )

    def default_optimizers(self):
        # Gulrajani et al. 2017, algorithm 1: Adam(1e-4, beta_1 0, beta_2 0.9).
        return {
            "d_optimizer": lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
            "g_optimizer": lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training; defaults Adam(1e-4, beta_1=0, beta_2=0.9) for both players."""
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)
