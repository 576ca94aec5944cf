"""Presets of the semi-supervised family: the Improved-GAN feature-matching SGAN (Salimans et al. 2016)."""

from zoo.presets import SEED, Option, Preset, int_list, int_list_option, register, training

# Salimans et al.'s train_mnist_feature_matching.py, with recipes/mnist_sgan.py's changes for
# runs of a few thousand updates (lr 1e-3 decayed linearly after 60 % of the epochs, a 0.999
# average of D's weights, unsupervised weight 1, DiffAugment shifts of 2 px).


def _build_sgan(image_shape, hparams):
    import keras

    from zoo import layers, models, nets

    generator = nets.sgan_generator(hparams["latent_dim"], image_shape, hidden_units=int_list(hparams["g_units"]))
    discriminator = nets.sgan_discriminator(image_shape, hparams["num_classes"],
                                            hidden_units=int_list(hparams["d_units"]))
    model = models.SemiSupervisedGAN(
        generator,
        discriminator,
        hparams["num_classes"],
        unlabelled_weight=hparams["unlabelled_weight"],
        augment=layers.RandomShift(hparams["shift"]) if hparams["shift"] else None,
        seed=hparams["seed"],
    )

    def adam(**kwargs):
        return keras.optimizers.Adam(hparams["learning_rate"], beta_1=hparams["beta_1"], **kwargs)

    # fit copies the discriminator's weight average in when it ends.
    model.compile(d_optimizer=adam(use_ema=True, ema_momentum=hparams["weight_average"]), g_optimizer=adam())
    return model


def _prepare_sgan(model, images, hparams):
    """Weight normalisation's data-dependent initialisation (Salimans & Kingma 2016)."""
    from zoo import layers

    layers.initialize_weight_norm(model.discriminator, images[:500])


def _sgan_callbacks(hparams, epochs, run_dir):
    from zoo import callbacks

    return [callbacks.LinearDecay(decay_start=hparams["decay_start"])]


register(
    Preset(
        "sgan",
        "semi-supervised GAN: D is a K-class classifier, G trained by feature matching, weight-normalised "
        "MLPs (Salimans et al. 2016, Improved GAN); 100 labels on MNIST by default",
        _build_sgan,
        (
            Option("labels_per_class", 10, "labelled images kept per class (read by the data, not the model)",
                   minimum=1),
            Option("latent_dim", 100, "size of the uniform noise", minimum=1),
            int_list_option("g_units", "500,500", "hidden units of the generator's layers"),
            int_list_option("d_units", "1000,500,250,250,250", "hidden units of the discriminator's layers"),
            Option("learning_rate", 1e-3, "Adam learning rate of both players", minimum=0.0),
            Option("beta_1", 0.5, "Adam beta_1 of both players", minimum=0.0),
            Option("decay_start", 0.6, "fraction of the epochs before the learning rate decays linearly to 0",
                   minimum=0.0),
            Option("unlabelled_weight", 1.0, "weight of the unsupervised (real/fake) loss", minimum=0.0),
            Option("weight_average", 0.999, "momentum of the average of D's weights used after training",
                   minimum=0.0),
            Option("shift", 2, "DiffAugment: shift every image D sees by up to N pixels (0: none)", minimum=0),
            *training(100, 300),
            SEED,
        ),
        data="few_labels",
        serves="classifier",
        prepare=_prepare_sgan,
        callbacks=_sgan_callbacks,
    )
)
