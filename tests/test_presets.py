"""Named presets: conditional ones need the data's classes."""

import pytest

from zoo import data, presets


@pytest.mark.parametrize("name,conditioning", [("cgan", "input"), ("cgan_concat", "input"), ("acgan", "auxiliary")])
def test_conditional_presets_build_conditional_models(name, conditioning):
    preset = presets.get(name)
    assert preset.conditional
    model = preset.build((16, 16, 1), num_classes=3, base_filters=4, latent_dim=8)
    assert model.num_classes == 3 and model.conditioning == conditioning
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
