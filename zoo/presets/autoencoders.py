"""Presets of the autoencoder family: autoencoder (denoising), VAE, conditional VAE."""

from zoo.presets import SEED, Option, Preset, register, training


def _build_autoencoder(variational):
    def build(image_shape, hparams):
        import keras

        from zoo import models, nets

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
_COMMON = (
    Option("latent_dim", 16, "size of the code", minimum=1),
    Option("learning_rate", 1e-3, "Adam learning rate", minimum=0.0),
    *training(128, 30),
    SEED,
)
_BETA = Option("beta", 1.0, "weight of the KL term (beta-VAE, Higgins 2017; 1 is the VAE)", minimum=0.0)

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
):
    register(_preset)
