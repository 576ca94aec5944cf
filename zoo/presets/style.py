"""Presets of the style-based family: StyleGAN (Karras et al. 2019) and StyleGAN2 (Karras et al. 2020)."""

from zoo.presets import SEED, Option, Preset, register, training


def _style_options(fmap_base, learning_rate, r1_gamma, r1_help):
    return (
        Option("latent_dim", 512, "size of z and w", minimum=1),
        Option("mapping_layers", 8, "layers of the mapping network", minimum=1),
        Option("fmap_base", fmap_base, "feature maps at resolution r: min(2 * fmap_base / r, fmap_max)", minimum=1),
        Option("fmap_max", 512, "the most feature maps of any layer", minimum=1),
        Option("learning_rate", learning_rate, "Adam(lr, 0, 0.99, 1e-8) of every net", minimum=0.0),
        Option("style_mixing", 0.9, "probability of mixing two latents' styles per image", minimum=0.0),
        Option("r1_gamma", r1_gamma, r1_help, type=float, minimum=0.0),
        Option("ema_half_life_images", 10_000.0, "half-life of the EMA generator, in images", minimum=1.0),
    )


def _build(stylegan2):
    def build(image_shape, hparams):
        import keras

        from zoo import models, nets

        height, width, channels = image_shape
        if height != width:
            raise ValueError(f"{'stylegan2' if stylegan2 else 'stylegan'} needs square images, got {image_shape}")
        latent, batch = hparams["latent_dim"], hparams["batch_size"]
        widths = {"channels": channels, "fmap_base": hparams["fmap_base"], "fmap_max": hparams["fmap_max"]}
        mapping = nets.style_mapping(latent, w_dim=latent, num_layers=hparams["mapping_layers"])
        group = min(4, batch)
        if stylegan2:
            synthesis = nets.stylegan2_synthesis(height, w_dim=latent, **widths)
            discriminator = nets.stylegan2_discriminator(height, mbstd_group_size=group, **widths)
            # stylegan2-ada's "auto" gamma scales with the image area and the batch.
            gamma = hparams["r1_gamma"] if hparams["r1_gamma"] is not None else 0.0002 * height**2 / batch
            lazy = {"r1_interval": hparams["r1_interval"], "path_length_weight": hparams["path_length_weight"],
                    "path_length_interval": hparams["path_length_interval"]}
        else:
            synthesis = nets.stylegan_synthesis(height, w_dim=latent, upsample_interpolation=hparams["upsample"],
                                                **widths)
            discriminator = nets.stylegan2_discriminator(height, architecture="orig", mbstd_group_size=group, **widths)
            gamma, lazy = hparams["r1_gamma"], {"r1_interval": 1, "path_length_weight": 0.0}
        model = models.StyleGAN(
            mapping, synthesis, discriminator, style_mixing=hparams["style_mixing"], r1_gamma=gamma,
            ema_half_life_images=hparams["ema_half_life_images"], seed=hparams["seed"], **lazy,
        )
        model.compile(**{
            name: keras.optimizers.Adam(hparams["learning_rate"], beta_1=0.0, beta_2=0.99, epsilon=1e-8)
            for name in model.OPTIMIZERS
        })
        return model

    return build


for _preset in (
    Preset(
        "stylegan",
        "StyleGAN (Karras et al. 2019): mapping network, AdaIN synthesis, noise, style mixing, R1 10",
        _build(stylegan2=False),
        (
            *_style_options(8192, 0.001, 10.0, "R1 penalty weight gamma on real images"),
            Option("upsample", "bilinear", "upsampling between resolutions (the paper's bilinear, or nearest)",
                   choices=("bilinear", "nearest")),
            *training(32, 150),
            SEED,
        ),
    ),
    Preset(
        "stylegan2",
        "StyleGAN2 config F (Karras et al. 2020): modulated convolutions, skip G, residual D, lazy R1 "
        "and path length regularisation",
        _build(stylegan2=True),
        (
            *_style_options(16384, 0.002, None, "R1 gamma (default: 0.0002 * resolution^2 / batch, "
                            "stylegan2-ada's auto; the paper's 10 is for 1024 px)"),
            Option("r1_interval", 16, "lazy R1: every this many D steps", minimum=1),
            Option("path_length_weight", 2.0, "weight of the path length regulariser", minimum=0.0),
            Option("path_length_interval", 4, "lazy path length: every this many G steps", minimum=1),
            *training(32, 150),
            SEED,
        ),
    ),
):
    register(_preset)
