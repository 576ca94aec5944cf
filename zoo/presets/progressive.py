"""Presets of the progressive family: ProGAN (Karras et al. 2018)."""

from zoo.presets import SEED, Option, Preset, register, training


def _build_progan(image_shape, hparams):
    import keras

    from zoo import models, nets

    widths = {"fmap_base": hparams["fmap_base"], "fmap_max": hparams["fmap_max"]}
    generator = nets.progan_generator(hparams["latent_dim"], image_shape, **widths)
    critic = nets.progan_discriminator(image_shape, **widths)
    model = models.ProgressiveGAN(
        generator, critic, gradient_penalty=hparams["gradient_penalty"], drift=hparams["drift"],
        ema_momentum=hparams["ema_momentum"] or None, seed=hparams["seed"],
    )
    rates = {"d_optimizer": hparams["d_learning_rate"] or hparams["learning_rate"],
             "g_optimizer": hparams["learning_rate"]}
    model.compile(**{
        name: keras.optimizers.Adam(rate, beta_1=hparams["beta_1"], beta_2=hparams["beta_2"], epsilon=1e-8)
        for name, rate in rates.items()
    })
    return model


def _growing(hparams, epochs, run_dir):
    import os

    from zoo import callbacks

    return [callbacks.ProgressiveGrowing(
        hparams["stabilize_images"], hparams["fade_images"], sample_dir=os.path.join(run_dir, "stages")
    )]


register(
    Preset(
        "progan",
        "progressive GAN (Karras et al. 2018): grown from 4x4, each resolution faded in and stabilised, "
        "WGAN-GP with drift, equalised learning rate, pixel norm, minibatch stddev",
        _build_progan,
        (
            Option("latent_dim", 512, "size of the noise vector", minimum=1),
            Option("fmap_base", 8192, "feature maps at stage s: min(fmap_base / 2^s, fmap_max)", minimum=1),
            Option("fmap_max", 512, "the most feature maps of any layer", minimum=1),
            Option("learning_rate", 1e-3, "Adam learning rate of the generator (and of the critic by default)",
                   minimum=0.0),
            Option("d_learning_rate", None, "the critic's rate (default: learning_rate, as in the paper); narrow "
                   "nets on short CPU schedules need a faster critic, e.g. 4e-3", type=float, minimum=0.0),
            Option("beta_1", 0.0, "Adam beta_1 of both players", minimum=0.0),
            Option("beta_2", 0.99, "Adam beta_2 of both players", minimum=0.0),
            Option("gradient_penalty", 10.0, "WGAN-GP weight lambda", minimum=0.0),
            Option("drift", 0.001, "weight of the drift penalty on the critic's real scores", minimum=0.0),
            Option("ema_momentum", 0.999, "EMA generator momentum (0: none)", minimum=0.0),
            Option("stabilize_images", 800_000, "images trained at each resolution once faded in", minimum=1),
            Option("fade_images", 800_000, "images over which each new resolution fades in", minimum=1),
            *training(16, 100),
            SEED,
        ),
        callbacks=_growing,
    )
)
