"""Every zoo model passes the shared checks of `model_harness`, on each Keras backend.

The default run covers each model class once (and the export of each kind of
served net); the loss and net variants run with the slow tests.
"""

import keras
import pytest

import zoo.models
from zoo import nets
from model_harness import (
    CASES,
    MODEL_CLASSES,
    run_export_test,
    run_model_test,
    run_precision_test,
)

slow = pytest.mark.slow

# One case per model class: the default set.
DEFAULT = [
    "gan_ema", "wgan_gp", "conditional_projection", "semi_supervised_gan", "autoencoder", "vae",
    "vae_gan", "pix2pix", "cycle_gan", "co_gan", "progressive_gan", "style_gan2",
]  # fmt: skip
# bf16: the loss variants on nets that keep bf16 outputs, and the classes with their own precision paths.
PRECISION = [
    "gan_non_saturating", "plain_gan_non_saturating_r1", "plain_gan_hinge", "plain_wgan_gp",
    "conditional_auxiliary", "semi_supervised_gan", "vae", "co_gan",
]  # fmt: skip
# One model per kind of export (generator, conditional generator, decoder, classifier,
# translator, generator pair); CycleGAN's pair of translators runs with the slow tests.
EXPORTS = ["gan_ema", "conditional_projection", "vae", "semi_supervised_gan", "pix2pix", "co_gan"]
# On JAX, which compiles every new shape of every eager op on first use, a check costs
# 10-45 s per model. The default JAX run covers each part of the JAX engine once: one and
# two optimizers, labels, a classifier, coupled players (CoGAN), bf16 and export; the rest
# (the nets with most layer shapes, CycleGAN's four players, the other bf16 and export
# cases) run on JAX with the slow tests, and their steps are pinned on JAX by the step tests.
ON_JAX = {"gan_ema", "wgan_gp", "conditional_projection", "semi_supervised_gan", "autoencoder", "vae", "co_gan",
          "plain_wgan_gp"}
JAX_EXPORTS = {"gan_ema", "semi_supervised_gan"}


def cases(default, on_jax=ON_JAX):
    if keras.backend.backend() == "jax":
        default = [name for name in default if name in on_jax]
    return [name if name in default else pytest.param(name, marks=slow) for name in CASES]


def test_every_model_class_has_a_case():
    classes = {getattr(zoo.models, n) for n in zoo.models.__all__ if isinstance(getattr(zoo.models, n), type)}
    assert classes - {MODEL_CLASSES[name] for name in DEFAULT} == {zoo.models.MultiOptimizerModel, zoo.models.WGAN}
    assert classes - set(MODEL_CLASSES.values()) == {zoo.models.MultiOptimizerModel}


@pytest.mark.parametrize("case", cases(DEFAULT))
def test_config_fit_keras_file_and_checkpoint(case, tmp_path):
    run_model_test(case, tmp_path)


@pytest.mark.parametrize("case", cases(PRECISION, on_jax={"plain_wgan_gp", "vae"}))
def test_fit_under_mixed_bfloat16(case):
    run_precision_test(case)


@pytest.mark.parametrize("case", cases(EXPORTS, on_jax=JAX_EXPORTS))
def test_export_serves_what_the_model_makes(case, tmp_path):
    run_export_test(case, tmp_path)


# -- the same bf16 fits with nets whose outputs are bfloat16 ---------------------------------
# zoo's nets cast their outputs to float32; a user's nets may not (keras.io's do not). Each
# listed builder's nets get a linear Activation on every output, which casts it to bfloat16.

BFLOAT16_OUTPUTS = {
    "gan_non_saturating": ("dcgan_generator", "dcgan_discriminator"),
    "conditional_projection": ("dcgan_generator", "dcgan_discriminator"),
    "conditional_auxiliary": ("dcgan_generator", "dcgan_discriminator"),
    "semi_supervised_gan": ("sgan_generator", "sgan_discriminator"),
    "autoencoder": ("mlp_encoder", "mlp_decoder"),
    "vae": ("mlp_encoder", "mlp_decoder"),
    "vae_gan": ("conv_encoder", "conv_decoder", "dcgan_discriminator"),
    "pix2pix": ("unet_generator", "patch_discriminator"),
    "cycle_gan": ("resnet_generator", "patch_discriminator"),
    "co_gan": ("cogan_generators", "cogan_discriminators"),
    "progressive_gan": ("progan_generator", "progan_discriminator"),
    "style_gan2": ("style_mapping", "stylegan2_discriminator"),
}


def bfloat16_outputs(net):
    outputs = [keras.layers.Activation("linear", name=f"{net.name}_output_{i}")(o) for i, o in enumerate(net.outputs)]
    return keras.Model(net.inputs, outputs if len(outputs) > 1 else outputs[0], name=net.name)


@pytest.mark.parametrize(
    "case", [name if name == "vae" else pytest.param(name, marks=slow) for name in BFLOAT16_OUTPUTS]
)
def test_fit_under_mixed_bfloat16_with_bfloat16_net_outputs(case, monkeypatch):
    for builder in BFLOAT16_OUTPUTS[case]:
        build = getattr(nets, builder)

        def wrapped(*args, _build=build, **kwargs):
            built = _build(*args, **kwargs)
            return tuple(map(bfloat16_outputs, built)) if isinstance(built, tuple) else bfloat16_outputs(built)

        monkeypatch.setattr(nets, builder, wrapped)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = CASES[case]()[0]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert any(output.dtype == "bfloat16" for name in model.NETS for output in getattr(model, name).outputs)
    run_precision_test(case)
