"""Named model configurations for `zoo train MODEL`: nets + training algorithm + defaults.

Each preset builds a compiled model for an image shape taken from the data,
with hyper-parameters from its paper (or the lecture example) unless overridden.
"""

import dataclasses

import keras

from zoo import models, nets


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    description: str
    build_fn: object
    defaults: dict
    conditional: bool = False  # trains on (images, labels); build needs num_classes

    def build(self, image_shape, num_classes=None, **overrides):
        """Returns a compiled model for `image_shape`; overrides replace defaults.

        `num_classes` (from the data) is required by conditional presets.
        """
        overrides = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"{self.name} has no hyper-parameter(s) {unknown}; known: {sorted(self.defaults)}"
            )
        hparams = {**self.defaults, **overrides}
        if self.conditional:
            if not num_classes:
                raise ValueError(f"{self.name} is class-conditional and needs data with class labels")
            hparams["num_classes"] = num_classes
        return self.build_fn(tuple(image_shape), hparams)


def _adam(hparams):
    return keras.optimizers.Adam(hparams["learning_rate"], beta_1=hparams["beta_1"])


def _compiled_gan(generator, discriminator, hparams):
    model = models.GAN(
        generator,
        discriminator,
        loss=hparams["loss"],
        label_smoothing=hparams["label_smoothing"],
        ema_momentum=hparams["ema_momentum"],
        seed=hparams["seed"],
    )
    model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
    return model


def _build_gan(image_shape, hparams):
    return _compiled_gan(
        nets.mlp_generator(hparams["latent_dim"], image_shape),
        nets.mlp_discriminator(image_shape),
        hparams,
    )


def _build_dcgan(image_shape, hparams):
    return _compiled_gan(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"]),
        hparams,
    )


def _build_keras_dcgan(image_shape, hparams):
    return _compiled_gan(
        nets.keras_dcgan_generator(hparams["latent_dim"], image_shape),
        nets.keras_dcgan_discriminator(image_shape),
        hparams,
    )


def _build_conditional(conditioning):
    def build(image_shape, hparams):
        num_classes = hparams["num_classes"]
        model = models.ConditionalGAN(
            nets.dcgan_generator(
                hparams["latent_dim"], image_shape, hparams["base_filters"], num_classes=num_classes
            ),
            nets.dcgan_discriminator(
                image_shape, hparams["base_filters"], num_classes=num_classes, conditioning=conditioning
            ),
            num_classes=num_classes,
            loss=hparams["loss"],
            label_smoothing=hparams["label_smoothing"],
            ema_momentum=hparams["ema_momentum"],
            seed=hparams["seed"],
        )
        model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
        return model

    return build


def _build_wgan(image_shape, hparams):
    model = models.WGAN(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"], normalization=None),
        clip_value=hparams["clip_value"],
        d_steps=hparams["d_steps"],
        ema_momentum=hparams["ema_momentum"],
        seed=hparams["seed"],
    )
    model.compile(
        d_optimizer=keras.optimizers.RMSprop(hparams["learning_rate"]),
        g_optimizer=keras.optimizers.RMSprop(hparams["learning_rate"]),
    )
    return model


def _build_wgan_gp(image_shape, hparams):
    model = models.WGANGP(
        nets.dcgan_generator(hparams["latent_dim"], image_shape, base_filters=hparams["base_filters"]),
        nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"], normalization="layer"),
        gradient_penalty=hparams["gradient_penalty"],
        d_steps=hparams["d_steps"],
        ema_momentum=hparams["ema_momentum"],
        seed=hparams["seed"],
    )

    def adam():
        return keras.optimizers.Adam(hparams["learning_rate"], beta_1=hparams["beta_1"], beta_2=hparams["beta_2"])

    model.compile(d_optimizer=adam(), g_optimizer=adam())
    return model


def _build_autoencoder(variational):
    def build(image_shape, hparams):
        num_classes = hparams.get("num_classes")
        encoder = nets.conv_encoder(
            image_shape, hparams["latent_dim"], variational=variational, num_classes=num_classes
        )
        decoder = nets.conv_decoder(hparams["latent_dim"], image_shape, num_classes=num_classes)
        if variational:
            model = models.VAE(encoder, decoder, beta=hparams["beta"], seed=hparams["seed"])
        else:
            model = models.Autoencoder(encoder, decoder, noise_stddev=hparams["noise_stddev"], seed=hparams["seed"])
        model.compile(optimizer=keras.optimizers.Adam(hparams["learning_rate"]))
        return model

    return build


# Grey images are scored as soft Bernoulli targets (the keras.io VAE's binary
# cross-entropy); benchmarks/mnist_vae.py binarises for likelihoods in nats.
_AUTOENCODER = {"latent_dim": 16, "batch_size": 128, "epochs": 30, "learning_rate": 1e-3, "seed": None}

_COMMON = {"loss": "non_saturating", "label_smoothing": 0.0, "ema_momentum": None, "seed": None}
# benchmarks/mnist_cgan.py measures these on MNIST (10 CPU-minutes).
_CONDITIONAL = {
    **_COMMON,
    "latent_dim": 64,
    "base_filters": 64,
    "batch_size": 64,
    "epochs": 20,
    "learning_rate": 2e-4,
    "beta_1": 0.5,
}

PRESETS = {
    preset.name: preset
    for preset in [
        Preset(
            "gan",
            "vanilla GAN, fully connected nets (Goodfellow et al. 2014)",
            _build_gan,
            {**_COMMON, "latent_dim": 100, "batch_size": 64, "epochs": 100, "learning_rate": 2e-4, "beta_1": 0.5},
        ),
        Preset(
            "dcgan",
            "DCGAN at 28/32/64 px (Radford et al. 2016): Adam 2e-4, beta_1 0.5, batch 128",
            _build_dcgan,
            {
                **_COMMON,
                "latent_dim": 100,
                "base_filters": 64,
                "batch_size": 128,
                "epochs": 25,
                "learning_rate": 2e-4,
                "beta_1": 0.5,
            },
        ),
        Preset(
            "keras_dcgan",
            "the lecture's CelebA DCGAN (Chollet): latent 128, Adam 1e-4, batch 32",
            _build_keras_dcgan,
            {
                **_COMMON,
                "latent_dim": 128,
                "batch_size": 32,
                "epochs": 100,
                "learning_rate": 1e-4,
                "beta_1": 0.9,
            },
        ),
        Preset(
            "wgan",
            "Wasserstein GAN, clipped critic, RMSprop 5e-5, 5 critic steps (Arjovsky et al. 2017)",
            _build_wgan,
            {
                "latent_dim": 100,
                "base_filters": 64,
                "batch_size": 64,
                "epochs": 25,
                "learning_rate": 5e-5,
                "clip_value": 0.01,
                "d_steps": 5,
                "ema_momentum": None,
                "seed": None,
            },
        ),
        Preset(
            "wgan_gp",
            "WGAN with gradient penalty 10, layer-norm critic, Adam(1e-4, 0, 0.9) (Gulrajani et al. 2017)",
            _build_wgan_gp,
            {
                "latent_dim": 128,
                "base_filters": 64,
                "batch_size": 64,
                "epochs": 25,
                "learning_rate": 1e-4,
                "beta_1": 0.0,
                "beta_2": 0.9,
                "gradient_penalty": 10.0,
                "d_steps": 5,
                "ema_momentum": 0.999,
                "seed": None,
            },
        ),
        Preset(
            "autoencoder",
            "convolutional autoencoder, denoising with noise_stddev > 0 (Hinton 2006; Vincent 2008)",
            _build_autoencoder(variational=False),
            {**_AUTOENCODER, "noise_stddev": 0.0},
        ),
        Preset(
            "vae",
            "convolutional VAE, Bernoulli likelihood, latent 16 (Kingma & Welling 2014)",
            _build_autoencoder(variational=True),
            {**_AUTOENCODER, "beta": 1.0},
        ),
        Preset(
            "cvae",
            "conditional VAE: the label joins encoder and decoder (Sohn et al. 2015)",
            _build_autoencoder(variational=True),
            {**_AUTOENCODER, "beta": 1.0},
            conditional=True,
        ),
        Preset(
            "cgan",
            "class-conditional DCGAN, projection discriminator (Mirza 2014; Miyato 2018)",
            _build_conditional("projection"),
            _CONDITIONAL,
            conditional=True,
        ),
        Preset(
            "cgan_concat",
            "class-conditional DCGAN, one-hot label maps joined to D's input (Mirza 2014)",
            _build_conditional("concat"),
            _CONDITIONAL,
            conditional=True,
        ),
        Preset(
            "acgan",
            "auxiliary-classifier GAN: D also classifies (Odena et al. 2017)",
            _build_conditional("auxiliary"),
            _CONDITIONAL,
            conditional=True,
        ),
    ]
}

# Hyper-parameters read by the training driver, not by the model builders.
TRAINING_KEYS = ("batch_size", "epochs")


def get(name):
    """The preset called `name`; a ValueError lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]
