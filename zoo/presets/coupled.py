"""Presets of the coupled family: CoGAN (Liu & Tuzel 2016)."""

from zoo.presets import SEED, Option, Preset, int_list, int_list_option, register, training


def _build_cogan(image_shape, hparams):
    import keras

    from zoo import models, nets

    # image_shape is domain B's; domain A may have other channels (digits -> colour, say).
    shape_a, channels_b = (*image_shape[:2], hparams["source_channels"]), image_shape[-1]
    generator_a, generator_b = nets.cogan_generators(
        hparams["latent_dim"], shape_a, hparams["base_filters"], num_shared=hparams["g_shared"], channels_b=channels_b
    )
    discriminator_a, discriminator_b = nets.cogan_discriminators(
        shape_a, int_list(hparams["d_filters"]), hparams["d_hidden"], num_shared=hparams["d_shared"],
        channels_b=channels_b,
    )
    model = models.CoGAN(generator_a, generator_b, discriminator_a, discriminator_b, seed=hparams["seed"])

    def adam():
        return keras.optimizers.Adam(hparams["learning_rate"], beta_1=hparams["beta_1"])

    model.compile(d_optimizer=adam(), g_optimizer=adam())
    return model


register(
    Preset(
        "cogan",
        "coupled GAN (Liu & Tuzel 2016): two GANs sharing the generators' first and the discriminators' "
        "last layers learn a joint distribution of two domains from unpaired images",
        _build_cogan,
        (
            Option("transform", "edges", "domain B of a digit dataset: edges or negatives of other digits "
                   "(read by the data)", choices=("edges", "negative")),
            Option("latent_dim", 100, "size of the noise vector", minimum=1),
            Option("base_filters", 128, "generator filters before the output layer", minimum=1),
            Option("g_shared", None, "generator blocks shared (default: all but the output; 0: two separate GANs)",
                   type=int, minimum=0),
            Option("d_shared", None, "discriminator blocks shared (default: all but the first)", type=int,
                   minimum=0),
            int_list_option("d_filters", "20,50", "filters of the discriminators' conv blocks, comma-separated"),
            Option("d_hidden", 500, "units of the discriminators' hidden dense layer", minimum=1),
            Option("learning_rate", 2e-4, "Adam learning rate of both players", minimum=0.0),
            Option("beta_1", 0.5, "Adam beta_1 of both players", minimum=0.0),
            *training(128, 100),
            SEED,
        ),
        data="two_domains",
        serves="noise_pair",
    )
)
