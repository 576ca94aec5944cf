"""Presets of the adversarial family: GAN, DCGAN, the lecture's DCGAN, conditional GANs, WGAN, WGAN-GP."""

from zoo.presets import CRITIC_BATCH, SEED, Option, Preset, register, training

ADVERSARIAL_LOSSES = ("non_saturating", "minimax", "least_squares", "hinge")


def adam(learning_rate, beta_1, beta_2=None):
    options = (
        Option("learning_rate", learning_rate, "Adam learning rate of both players", minimum=0.0),
        Option("beta_1", beta_1, "Adam beta_1 of both players", minimum=0.0),
    )
    return options + ((Option("beta_2", beta_2, "Adam beta_2 of both players", minimum=0.0),) if beta_2 else ())


def gan_options(latent_dim):
    return (
        Option("latent_dim", latent_dim, "size of the noise vector", minimum=1),
        Option("loss", "non_saturating", "adversarial loss", choices=ADVERSARIAL_LOSSES),
        Option("label_smoothing", 0.0, "one-sided label smoothing of the real targets (Salimans 2016)",
               minimum=0.0),
        Option("ema_momentum", None, "keep an EMA generator with this momentum, e.g. 0.999", type=float,
               minimum=0.0),
    )


BASE_FILTERS = Option("base_filters", 64, "filters of the conv nets' widest-resolution layer", minimum=1)


def _adam(hparams):
    import keras

    return keras.optimizers.Adam(
        hparams["learning_rate"], beta_1=hparams["beta_1"], beta_2=hparams.get("beta_2", 0.999)
    )


def _compiled_gan(generator, discriminator, hparams, model_class="GAN", **extra):
    from zoo import models

    model = getattr(models, model_class)(
        generator,
        discriminator,
        loss=hparams["loss"],
        label_smoothing=hparams["label_smoothing"],
        ema_momentum=hparams["ema_momentum"] or None,  # 0: no EMA generator
        seed=hparams["seed"],
        **extra,
    )
    model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
    return model


def _build_gan(image_shape, hparams):
    from zoo import nets

    return _compiled_gan(
        nets.mlp_generator(hparams["latent_dim"], image_shape),
        nets.mlp_discriminator(image_shape),
        hparams,
    )


def _build_dcgan(image_shape, hparams):
    from zoo import nets

    return _compiled_gan(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"]),
        hparams,
    )


def _build_keras_io_dcgan(image_shape, hparams):
    from zoo import nets

    return _compiled_gan(
        nets.keras_dcgan_generator(hparams["latent_dim"], image_shape),
        nets.keras_dcgan_discriminator(image_shape),
        hparams,
    )


def _build_conditional(conditioning):
    def build(image_shape, hparams):
        from zoo import nets

        num_classes, filters = hparams["num_classes"], hparams["base_filters"]
        return _compiled_gan(
            nets.dcgan_generator(hparams["latent_dim"], image_shape, filters, num_classes=num_classes),
            nets.dcgan_discriminator(image_shape, filters, num_classes=num_classes, conditioning=conditioning),
            hparams,
            model_class="ConditionalGAN",
            num_classes=num_classes,
        )

    return build


def _build_wgan(image_shape, hparams):
    import keras

    from zoo import models, nets

    model = models.WGAN(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"], normalization=None),
        clip_value=hparams["clip_value"],
        d_steps=hparams["d_steps"],
        ema_momentum=hparams["ema_momentum"] or None,
        seed=hparams["seed"],
    )
    model.compile(
        d_optimizer=keras.optimizers.RMSprop(hparams["learning_rate"]),
        g_optimizer=keras.optimizers.RMSprop(hparams["learning_rate"]),
    )
    return model


def _build_wgan_gp(image_shape, hparams):
    from zoo import models, nets

    model = models.WGANGP(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"], normalization="layer"),
        gradient_penalty=hparams["gradient_penalty"],
        d_steps=hparams["d_steps"],
        ema_momentum=hparams["ema_momentum"] or None,
        seed=hparams["seed"],
    )
    model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
    return model


# benchmarks/mnist_cgan.py measures these on MNIST (10 CPU-minutes).
_CONDITIONAL = (*gan_options(64), BASE_FILTERS, *adam(2e-4, 0.5), *training(64, 20), SEED)


def _d_steps():
    return Option("d_steps", 5, "critic updates per generator update", minimum=1)


def _ema(default):
    return Option("ema_momentum", default, "keep an EMA generator with this momentum, e.g. 0.999 (0: none)",
                  type=float, minimum=0.0)


for _preset in (
    Preset(
        "gan",
        "vanilla GAN, fully connected nets (Goodfellow et al. 2014)",
        _build_gan,
        (*gan_options(100), *adam(2e-4, 0.5), *training(64, 100), SEED),
    ),
    Preset(
        "dcgan",
        "DCGAN at 28/32/64 px (Radford et al. 2016): Adam 2e-4, beta_1 0.5, batch 128",
        _build_dcgan,
        (*gan_options(100), BASE_FILTERS, *adam(2e-4, 0.5), *training(128, 25), SEED),
    ),
    Preset(
        "keras_io_dcgan",
        "the lecture's CelebA DCGAN, keras.io 'DCGAN to generate face images' (Chollet): latent 128, "
        "Adam 1e-4, batch 32",
        _build_keras_io_dcgan,
        (*gan_options(128), *adam(1e-4, 0.9), *training(32, 100), SEED),
        aliases=("keras_dcgan",),
    ),
    Preset(
        "wgan",
        "Wasserstein GAN, clipped critic, RMSprop 5e-5, 5 critic steps (Arjovsky et al. 2017)",
        _build_wgan,
        (
            Option("latent_dim", 100, "size of the noise vector", minimum=1),
            BASE_FILTERS,
            Option("learning_rate", 5e-5, "RMSprop learning rate of both players", minimum=0.0),
            Option("clip_value", 0.01, "critic weights are clipped to [-c, c]", minimum=0.0),
            _d_steps(),
            _ema(None),
            *training(64, 25, CRITIC_BATCH),
            SEED,
        ),
    ),
    Preset(
        "wgan_gp",
        "WGAN with gradient penalty 10, layer-norm critic, Adam(1e-4, 0, 0.9) (Gulrajani et al. 2017)",
        _build_wgan_gp,
        (
            Option("latent_dim", 128, "size of the noise vector", minimum=1),
            BASE_FILTERS,
            *adam(1e-4, 0.0, 0.9),
            Option("gradient_penalty", 10.0, "weight lambda of the gradient penalty", minimum=0.0),
            _d_steps(),
            _ema(0.999),
            *training(64, 25, CRITIC_BATCH),
            SEED,
        ),
    ),
    Preset(
        "cgan",
        "class-conditional DCGAN, projection discriminator (Mirza 2014; Miyato 2018)",
        _build_conditional("projection"),
        _CONDITIONAL,
        data="labelled_images",
        serves="noise_and_labels",
    ),
    Preset(
        "cgan_concat",
        "class-conditional DCGAN, one-hot label maps joined to D's input (Mirza 2014)",
        _build_conditional("concat"),
        _CONDITIONAL,
        data="labelled_images",
        serves="noise_and_labels",
    ),
    Preset(
        "acgan",
        "auxiliary-classifier GAN: D also classifies (Odena et al. 2017)",
        _build_conditional("auxiliary"),
        _CONDITIONAL,
        data="labelled_images",
        serves="noise_and_labels",
    ),
):
    register(_preset)
