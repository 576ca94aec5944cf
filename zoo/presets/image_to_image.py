"""Presets of the image-to-image family: pix2pix and colourisation (Isola et al. 2017), CycleGAN (Zhu et al. 2017)."""

from zoo.presets import SEED, Option, Phase, Preset, register, training


def _adam(hparams):
    import keras

    return keras.optimizers.Adam(hparams["learning_rate"], beta_1=hparams["beta_1"])


def _check_patch_size(image_shape, hparams, name):
    """The PatchGAN's logits need at least 3x3 features after its stride-2 layers."""
    smallest = 3 * 2 ** hparams["patch_layers"]
    if min(image_shape[:2]) < smallest:
        raise ValueError(f"{name}: a PatchGAN with {hparams['patch_layers']} stride-2 layers needs images of at "
                         f"least {smallest}x{smallest}, got {image_shape[0]}x{image_shape[1]} (pass a larger "
                         "--image-size or fewer --patch-layers)")


def _build_pix2pix(image_shape, hparams):
    from zoo import models, nets

    _check_patch_size(image_shape, hparams, "pix2pix")
    height, _, target_channels = image_shape
    source_channels = hparams["source_channels"]
    generator = nets.unet_generator(
        source_channels, target_channels, num_downsamples=hparams["num_downsamples"] or nets.unet_depth(height),
        base_filters=hparams["base_filters"], dropout=hparams["dropout"],
    )
    discriminator = nets.patch_discriminator(
        target_channels, source_channels=source_channels, base_filters=hparams["base_filters"],
        num_layers=hparams["patch_layers"],
    )
    model = models.Pix2Pix(generator, discriminator, reconstruction_weight=hparams["l1_weight"],
                           inference=hparams["inference"], seed=hparams["seed"])
    model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
    return model


def _build_cyclegan(image_shape, hparams):
    from zoo import models, nets

    _check_patch_size(image_shape, hparams, "cyclegan")
    height, width, channels_b = image_shape
    channels_a = hparams["source_channels"]
    num_blocks = hparams["num_blocks"] or (9 if height >= 256 else 6)
    generator_ab, generator_ba = (
        nets.resnet_generator(source, target, num_blocks=num_blocks, base_filters=hparams["base_filters"],
                              name=f"generator_{direction}")
        for source, target, direction in ((channels_a, channels_b, "ab"), (channels_b, channels_a, "ba"))
    )
    discriminator_a, discriminator_b = (
        nets.patch_discriminator(channels, base_filters=hparams["base_filters"], num_layers=hparams["patch_layers"],
                                 norm="instance", name=f"discriminator_{domain}")
        for channels, domain in ((channels_a, "a"), (channels_b, "b"))
    )
    stride = nets.net_stride(generator_ab)
    if height % stride or width % stride:
        raise ValueError(f"cyclegan: the image size must be divisible by the generators' stride {stride}, "
                         f"got {height}x{width}")
    model = models.CycleGAN(
        generator_ab, generator_ba, discriminator_a, discriminator_b, cycle_weight=hparams["cycle_weight"],
        identity_weight=hparams["identity_weight"], pool_size=hparams["pool_size"], image_shape=(height, width),
        seed=hparams["seed"],
    )
    model.compile(**{name: _adam(hparams) for name in model.OPTIMIZERS})
    return model


def _build_colourisation(image_shape, hparams):
    from zoo import models, nets

    height = image_shape[0]
    if hparams["variant"] == "encoder_decoder":  # Deep Koalarization, trained by MSE
        extractor, message = nets.inception_resnet_fusion(hparams["fusion"])
        net = nets.colourisation_net(base_filters=hparams["base_filters"], fusion_extractor=extractor)
        # No batch norm and no dropout: both inference modes give the same colours.
        model = models.Pix2Pix(net, None, reconstruction="l2", reconstruction_weight=1.0, adversarial_weight=0.0,
                               inference=hparams["inference"])
        model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
        model.fusion = message  # whether Inception-ResNet-v2 feeds the fusion layer, and if not, why
        return model
    generator = nets.unet_generator(
        1, 2, num_downsamples=hparams["num_downsamples"] or nets.unet_depth(height), base_filters=hparams["base_filters"],
        dropout=hparams["dropout"],
    )
    if hparams["variant"] == "regression":  # L2 to the true colours: the grey-brown average the lecture shows
        model = models.Pix2Pix(generator, None, reconstruction="l2", reconstruction_weight=1.0, adversarial_weight=0.0,
                               inference=hparams["inference"])
        model.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
        return model
    _check_patch_size(image_shape, hparams, "colourisation")
    # The shipped colouriser's order (U-Net, pre-training model, PatchGAN) fixes the nets' initial weights:
    # built in another order, the same command gave 18.7 dB on held-out photos instead of 21.1.
    pretrain = models.Pix2Pix(generator, None, reconstruction="l1", reconstruction_weight=1.0, adversarial_weight=0.0,
                              inference=hparams["inference"])
    discriminator = nets.patch_discriminator(
        2, source_channels=1, base_filters=hparams["base_filters"], num_layers=hparams["patch_layers"]
    )
    model = models.Pix2Pix(generator, discriminator, reconstruction_weight=hparams["l1_weight"],
                           inference=hparams["inference"], seed=hparams["seed"])
    for compiled in (pretrain, model):
        compiled.compile(d_optimizer=_adam(hparams), g_optimizer=_adam(hparams))
    adversarial = Phase("adversarial", model, None)
    return [Phase("pretrain", pretrain, hparams["pretrain_epochs"]), adversarial] if hparams["pretrain_epochs"] else [adversarial]


def _linear_decay(hparams, epochs, run_dir):
    from zoo import callbacks

    # The initial rate is given, so a resumed run restarts the schedule from it, not from a decayed one.
    return [callbacks.LinearDecay(hparams["decay_start"], learning_rate=hparams["learning_rate"])]


_PATCH = Option("patch_layers", 3, "stride-2 layers of the PatchGAN: 3 is the 70x70 one (1: 16x16, 2: 34x34)",
                minimum=1)
_UNET_DEPTH = Option("num_downsamples", None, "U-Net depth (default: down to 1x1, at most 8: U-Net-256 at 256)",
                     type=int, minimum=1)
# Isola et al. 2017, sec. 3.3: at test time dropout stays on and batch norm uses the test images' own statistics.
_INFERENCE = Option("inference", "paper", "how the generator runs at inference and in the export's default "
                    "signature: paper (dropout on, each image's own batch-norm statistics, as the paper tests) or "
                    "deterministic (no dropout, moving averages); the export serves both",
                    choices=("paper", "deterministic"))
_ADAM = (
    Option("learning_rate", 2e-4, "Adam learning rate of every net", minimum=0.0),
    Option("beta_1", 0.5, "Adam beta_1 of every net", minimum=0.0),
)

for _preset in (
    Preset(
        "pix2pix",
        "pix2pix (Isola et al. 2017): U-Net generator, 70x70 PatchGAN, L1 weight 100, batch 1",
        _build_pix2pix,
        (
            Option("direction", "AtoB", "which half of a side-by-side pair is the source (read by the data)",
                   choices=("AtoB", "BtoA")),
            Option("base_filters", 64, "filters of the first layer of both nets", minimum=1),
            _UNET_DEPTH,
            _PATCH,
            Option("dropout", 0.5, "dropout of the U-Net's innermost decoder layers (its noise)", minimum=0.0),
            Option("l1_weight", 100.0, "weight lambda of the L1 reconstruction", minimum=0.0),
            _INFERENCE,
            *_ADAM,
            *training(1, 200),
            SEED,
        ),
        data="paired",
        serves="translation",
    ),
    Preset(
        "cyclegan",
        "CycleGAN (Zhu et al. 2017): ResNet generators, PatchGANs with instance norm, least squares, "
        "cycle weight 10, identity 0.5, a pool of 50 fakes, linear decay after half the epochs",
        _build_cyclegan,
        (
            Option("num_blocks", None, "ResNet blocks of each generator (default: 9 at 256 px and up, else 6)",
                   type=int, minimum=1),
            Option("base_filters", 64, "filters of the first layer of every net", minimum=1),
            _PATCH,
            Option("cycle_weight", 10.0, "weight lambda of the cycle-consistency L1", minimum=0.0),
            Option("identity_weight", 0.5, "weight of the identity loss, relative to cycle_weight", minimum=0.0),
            Option("pool_size", 50, "fakes kept in each history pool (0: none)", minimum=0),
            *_ADAM,
            Option("decay_start", 0.5, "fraction of the epochs before the learning rate decays linearly to 0",
                   minimum=0.0),
            *training(1, 200),
            SEED,
        ),
        data="unpaired",
        serves="translation",
        callbacks=_linear_decay,
    ),
    Preset(
        "colourisation",
        "colourisation as pix2pix in Lab (Isola et al. 2017, sec. 4.5): a U-Net predicts ab from L; "
        "variant regression is the L2 baseline whose colours wash out, encoder_decoder the lecture's "
        "Deep Koalarization (Baldassarre et al. 2017)",
        _build_colourisation,
        (
            Option("variant", "gan", "gan: L1 100 + PatchGAN; regression: L2 alone; encoder_decoder: Deep "
                   "Koalarization by L2", choices=("gan", "regression", "encoder_decoder")),
            Option("fusion", "auto", "encoder_decoder: Inception-ResNet-v2 in the fusion layer: 'auto' (ImageNet "
                   "weights if they load), 'off', or the path of those weights (.h5)"),
            Option("base_filters", 64, "filters of the first layer of both nets", minimum=1),
            _UNET_DEPTH,
            _PATCH,
            Option("dropout", 0.5, "dropout of the U-Net's innermost decoder layers", minimum=0.0),
            Option("l1_weight", 100.0, "weight lambda of the L1 reconstruction (variant gan)", minimum=0.0),
            Option("pretrain_epochs", 5, "variant gan: epochs of L1-only pre-training of the U-Net before the "
                   "PatchGAN joins (DeOldify's \"NoGAN\"; 0: none)", minimum=0),
            _INFERENCE,
            *_ADAM,
            *training(16, 20),
            SEED,
        ),
        data="colour_images",
        serves="translation",
    ),
):
    register(_preset)
