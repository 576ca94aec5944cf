"""Named presets: conditional ones need the data's classes."""

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
