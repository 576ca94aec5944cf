"""Presets of the autoencoder family: autoencoder (denoising), VAE, conditional VAE."""

from zoo.presets import SEED, Option, Preset, int_list, int_list_option, register, training


def _build_autoencoder(variational):
    def build(image_shape, hparams):
        import keras

        from zoo import models, nets

        num_classes = hparams.get("num_classes")
        filters = int_list(hparams["filters"], "filters")
        encoder = nets.conv_encoder(
            image_shape, hparams["latent_dim"], filters=filters, hidden_units=hparams["hidden_units"],
            variational=variational, num_classes=num_classes,
        )
        decoder = nets.conv_decoder(hparams["latent_dim"], image_shape, filters=filters[::-1], num_classes=num_classes)
        likelihood = {"likelihood": hparams["likelihood"], "gaussian_scale": hparams["gaussian_scale"]}
        if variational:
            model = models.VAE(encoder, decoder, beta=hparams["beta"], seed=hparams["seed"], **likelihood)
        else:
            model = models.Autoencoder(encoder, decoder, noise_stddev=hparams["noise_stddev"], seed=hparams["seed"],
                                       **likelihood)
        model.compile(optimizer=keras.optimizers.Adam(hparams["learning_rate"]))
        return model

    return build


# Grey images are scored as soft Bernoulli targets (the keras.io VAE's binary
# cross-entropy); benchmarks/mnist_vae.py binarises for likelihoods in nats.
_COMMON = (
    Option("latent_dim", 16, "size of the code", minimum=1),
    int_list_option("filters", "32,64", "channels of the encoder's strided convolutions (the decoder mirrors them)"),
    Option("hidden_units", 256, "width of the encoder's dense layer", minimum=1),
    Option("likelihood", "bernoulli", "bernoulli (grey digits as soft targets) or gaussian (colour photos)",
           choices=("bernoulli", "gaussian")),
    Option("gaussian_scale", 0.1, "pixel standard deviation of the gaussian likelihood", minimum=0.0),
    Option("learning_rate", 1e-3, "Adam learning rate", minimum=0.0),
    *training(128, 30),
    SEED,
)
_BETA = Option("beta", 1.0, "weight of the KL term (beta-VAE, Higgins 2017; 1 is the VAE)", minimum=0.0)

def _build_vaegan(image_shape, hparams):
    import keras

    from zoo import models, nets

    encoder = nets.conv_encoder(image_shape, hparams["latent_dim"], variational=True)
    decoder = nets.conv_decoder(hparams["latent_dim"], image_shape)
    discriminator = nets.dcgan_discriminator(image_shape, base_filters=hparams["base_filters"])
    model = models.VAEGAN(
        encoder, decoder, discriminator, recon_weight=hparams["recon_weight"], beta=hparams["beta"],
        seed=hparams["seed"],
    )
    model.compile(**{name: keras.optimizers.RMSprop(hparams["learning_rate"]) for name in model.OPTIMIZERS})
    return model


for _preset in (
    Preset(
        "autoencoder",
        "convolutional autoencoder, denoising with noise_stddev > 0 (Hinton 2006; Vincent 2008)",
        _build_autoencoder(variational=False),
        (*_COMMON, Option("noise_stddev", 0.0, "stddev of the input noise (denoising)", minimum=0.0)),
        serves="codes",
    ),
    Preset(
        "vae",
        "convolutional VAE, Bernoulli likelihood, latent 16 (Kingma & Welling 2014)",
        _build_autoencoder(variational=True),
        (*_COMMON, _BETA),
        serves="codes",
    ),
    Preset(
        "cvae",
        "conditional VAE: the label joins encoder and decoder (Sohn et al. 2015)",
        _build_autoencoder(variational=True),
        (*_COMMON, _BETA),
        data="labelled_images",
        serves="codes_and_labels",
    ),
    Preset(
        "vaegan",
        "VAE/GAN: a VAE whose reconstruction is measured in a discriminator's features "
        "(Larsen et al. 2016), RMSprop 3e-4",
        _build_vaegan,
        (
            Option("latent_dim", 128, "size of the code", minimum=1),
            Option("base_filters", 64, "filters of the discriminator's first layer", minimum=1),
            Option("learning_rate", 3e-4, "RMSprop learning rate of the three nets", minimum=0.0),
            Option("recon_weight", 1e-2, "gamma: weight of the feature reconstruction in the decoder's loss",
                   minimum=0.0),
            _BETA,
            *training(64, 30),
            SEED,
        ),
    ),
):
    register(_preset)
