"""Named presets: conditional ones need the data's classes."""

import numpy as np
import pytest

from zoo import data, presets


@pytest.mark.parametrize(
    "name,layer,outputs", [("cgan", "label_projection", 1), ("cgan_concat", "label_maps", 1), ("acgan", "logits", 4)]
)
def test_conditional_presets_build_conditional_models(name, layer, outputs):
    preset = presets.get(name)
    assert preset.conditional
    model = preset.build((16, 16, 1), num_classes=3, base_filters=4, latent_dim=8)
    assert model.num_classes == 3
    model.discriminator.get_layer(layer)  # raises if the wiring is another variant's
    assert model.discriminator.output_shape == (None, outputs)
    assert model.generate(3, labels=[0, 1, 2]).shape == (3, 16, 16, 1)


def test_conditional_preset_without_classes_is_refused():
    with pytest.raises(ValueError, match="class labels"):
        presets.get("cgan").build((16, 16, 1), num_classes=None)


def test_unconditional_presets_ignore_classes():
    model = presets.get("dcgan").build((16, 16, 1), num_classes=10, base_filters=4, latent_dim=8)
    assert not hasattr(model, "num_classes")


def test_num_classes_of_datasets():
    assert data.num_classes("mnist") == 10 and data.num_classes("celeb_a") is None
    with pytest.raises(ValueError, match="unknown dataset"):
        data.num_classes("imagenet21k")


@pytest.mark.parametrize("name,cls", [("wgan", "WGAN"), ("wgan_gp", "WGANGP")])
def test_wasserstein_presets(name, cls):
    model = presets.get(name).build((16, 16, 1), base_filters=4, latent_dim=8, d_steps=2)
    assert type(model).__name__ == cls
    assert model.d_steps == 2
    kinds = {type(layer).__name__ for layer in model.critic.layers}
    assert "BatchNormalization" not in kinds
    with pytest.raises(ValueError, match="no hyper-parameter"):
        presets.get(name).build((16, 16, 1), loss="hinge")


def test_ema_momentum_reaches_the_model():
    model = presets.get("dcgan").build((16, 16, 1), base_filters=4, latent_dim=8, ema_momentum=0.99)
    assert model.ema_momentum == 0.99 and model.sampling_generator is model.ema_generator


@pytest.mark.parametrize("name,cls,conditional", [("autoencoder", "Autoencoder", False), ("vae", "VAE", False), ("cvae", "VAE", True)])
def test_autoencoder_family_presets(name, cls, conditional):
    preset = presets.get(name)
    model = preset.build((16, 16, 1), num_classes=3 if conditional else None, latent_dim=4)
    assert type(model).__name__ == cls and model.latent_dim == 4
    assert model.num_classes == (3 if conditional else None)
    labels = [0, 1, 2] if conditional else None
    assert model.generate(3, labels=labels).shape == (3, 16, 16, 1)


def test_every_preset_documents_its_options_data_and_export():
    assert len(presets.PRESETS) >= 11
    for name, preset in presets.PRESETS.items():
        assert preset.name == name and preset.description
        assert preset.data in presets.DATA_KINDS and preset.serves in presets.SERVES
        assert preset.data in presets.DATA_LABELS
        for key in presets.TRAINING_KEYS:
            assert preset.defaults[key] >= 1, (name, key)
        for option in preset.options:
            assert option.help and option.type in (bool, int, float, str), (name, option)
            if option.default is not None:
                assert option.check(option.default, name) == option.default


def test_options_are_checked_by_type_choice_and_minimum():
    preset = presets.get("dcgan")
    for overrides, message in (
        ({"latent_dim": 8.5}, "latent_dim must be a int"),
        ({"latent_dim": 0}, "latent_dim must be >= 1"),
        ({"loss": "wasserstein"}, "loss must be one of"),
        ({"learning_rate": "fast"}, "learning_rate must be a float"),
        ({"ema_momentum": True}, "ema_momentum must be a float"),
    ):
        with pytest.raises(ValueError, match=message):
            preset.build((16, 16, 1), **overrides)
    model = preset.build((16, 16, 1), base_filters=4, latent_dim=8, learning_rate=1)  # int for a float: taken
    assert float(model.g_optimizer.learning_rate) == 1.0


def test_old_names_and_registry_errors():
    assert presets.get("keras_dcgan") is presets.get("keras_io_dcgan")
    with pytest.raises(ValueError, match="already registered"):
        presets.register(presets.get("dcgan"))
    option = presets.Option("x", 1, "an option")
    with pytest.raises(ValueError, match="data must be one of"):
        presets.Preset("p", "a preset", None, (option,), data="pairs")
    with pytest.raises(ValueError, match="listed twice"):
        presets.Preset("p", "a preset", None, (option, option))
    with pytest.raises(TypeError, match="give type="):
        presets.Option("y", None, "no type")


def test_the_registry_imports_no_keras():
    import subprocess
    import sys

    code = "import sys, zoo.presets; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_an_option_validator_refuses_malformed_values():
    with pytest.raises(ValueError, match="comma-separated positive ints"):
        presets.get("cogan").build((16, 16, 1), d_filters="20,x")


def test_parse_arguments_gives_a_recipe_the_presets_options_with_smoke_defaults():
    import argparse

    def parser():
        p = argparse.ArgumentParser()
        p.add_argument("--seed", type=int, default=3)
        p.add_argument("--smoke", action="store_true")
        return p

    preset = presets.get("dcgan")
    args = presets.parse_arguments(parser(), ["--latent-dim", "12"], preset)
    assert args.options["latent_dim"] == 12 and args.options["seed"] == 3 and args.options["base_filters"] is None
    assert (args.batch_size, args.epochs) == (128, 25) and args.hparams["base_filters"] == 64
    smoke = {"epochs": 1, "base_filters": 8}
    args = presets.parse_arguments(parser(), ["--smoke", "--epochs", "2"], preset, smoke=smoke)
    assert args.epochs == 2 and args.hparams["base_filters"] == 8  # the command line wins over smoke
    args = presets.parse_arguments(parser(), [], preset, skip=("epochs", "seed"))
    assert not hasattr(args, "epochs") and "epochs" not in args.options


def test_colourisation_variants_build_their_nets():
    import zoo

    preset = presets.get("colourisation")
    shape, tiny = (32, 32, 2), {"base_filters": 4, "num_downsamples": 2, "patch_layers": 1}
    gan = preset.build(shape, **tiny)
    regression = preset.build(shape, variant="regression", **tiny)
    koala = preset.build(shape, variant="encoder_decoder", fusion="off", base_filters=4)
    assert gan.discriminator is not None and regression.discriminator is None
    assert koala.discriminator is None and koala.generator.name == "colourisation_net"
    assert koala.fusion.startswith("fusion off") and not hasattr(gan, "fusion")
    assert koala.generator(np.zeros((1, 32, 32, 1), "float32")).shape == (1, 32, 32, 2)
    assert zoo.nets.net_stride(koala.generator) == 8


def test_the_colouriser_pretrains_its_u_net_by_l1_before_the_gan():
    preset = presets.get("colourisation")
    tiny = {"base_filters": 4, "num_downsamples": 2, "patch_layers": 1}
    pretrain, adversarial = preset.build_phases((32, 32, 2), pretrain_epochs=2, **tiny)
    assert (pretrain.name, pretrain.epochs, adversarial.name, adversarial.epochs) == ("pretrain", 2, "adversarial", None)
    pretrain, adversarial = pretrain.model, adversarial.model
    assert pretrain.generator is adversarial.generator  # the pre-training trains the GAN's U-Net
    assert (pretrain.generator.inputs[0].shape[-1], pretrain.generator.outputs[0].shape[-1]) == (1, 2)  # L -> ab
    assert pretrain.discriminator is None and pretrain.adversarial_weight == 0.0
    assert (pretrain.reconstruction, pretrain.reconstruction_weight) == ("l1", 1.0)
    assert [x.shape[-1] for x in adversarial.discriminator.inputs] == [1, 2]  # judges (L, ab) pairs
    assert (adversarial.loss_name, adversarial.reconstruction) == ("non_saturating", "l1")
    assert (adversarial.reconstruction_weight, adversarial.adversarial_weight) == (100.0, 1.0)
    assert [p.name for p in preset.build_phases((32, 32, 2), pretrain_epochs=0, **tiny)] == ["adversarial"]
    for variant, options in (("regression", tiny), ("encoder_decoder", {"fusion": "off", "base_filters": 4})):
        ((name, model, epochs),) = preset.build_phases((32, 32, 2), variant=variant, **options)
        assert (name, epochs, model.discriminator, model.adversarial_weight) == ("train", None, None, 0.0)
        assert (model.reconstruction, model.reconstruction_weight) == ("l2", 1.0)  # the washed-out baselines
        assert (model.generator.inputs[0].shape[-1], model.generator.outputs[0].shape[-1]) == (1, 2)
    (only,) = presets.get("dcgan").build_phases((16, 16, 1), base_filters=4, latent_dim=8)
    assert only.name == "train" and only.epochs is None
