"""Every zoo model trains under the `mixed_bfloat16` policy (issue 8).

For each model class in `zoo.models`: tiny nets built under the policy, `fit` for two
steps (graph mode) on synthetic data, then every logged value is finite, every
trainable variable is still float32, every net moved, and sampled outputs are finite.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import data, nets
from zoo.models import (
    GAN,
    VAE,
    VAEGAN,
    WGAN,
    WGANGP,
    Autoencoder,
    CoGAN,
    ConditionalGAN,
    CycleGAN,
    Pix2Pix,
    ProgressiveGAN,
    SemiSupervisedGAN,
    StyleGAN,
)

SIZE = 16
SHAPE = (SIZE, SIZE, 1)
LATENT = 8
CLASSES = 3
BATCH = 4
STEPS = 2


@pytest.fixture(autouse=True)
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def images(n=BATCH * STEPS, shape=SHAPE, seed=0, low=-1.0):
    return np.random.default_rng(seed).uniform(low, 1.0, (n, *shape)).astype("float32")


def labels(n=BATCH * STEPS):
    return (np.arange(n) % CLASSES).astype("int32")


def batches(*arrays):
    return tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).batch(BATCH)


# -- one builder per case: (model, dataset, sampler) -------------------------------------


def gan_case(cls, **kwargs):
    def build():
        generator = nets.dcgan_generator(LATENT, SHAPE, base_filters=4)
        if cls is GAN:
            discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
        else:  # no batch norm in a critic (the gradient penalty is per example)
            discriminator = nets.mlp_discriminator(SHAPE, hidden_units=(16,), dropout=0.0)
        model = cls(generator, discriminator, seed=1, **kwargs)
        return model, batches(images()), lambda m: m.generate(BATCH)

    return build


def plain_nets():
    """Keras-layer nets whose outputs are bfloat16, as in the keras.io WGAN-GP example."""
    z = keras.Input((LATENT,))
    x = keras.layers.Reshape(SHAPE)(keras.layers.Dense(SIZE * SIZE)(keras.layers.Dense(16, activation="relu")(z)))
    generator = keras.Model(z, keras.layers.Activation("tanh")(x), name="plain_generator")
    x = keras.Input(SHAPE)
    h = keras.layers.Dense(16, activation="leaky_relu")(keras.layers.Flatten()(x))
    critic = keras.Model(x, keras.layers.Dense(1)(h), name="plain_critic")
    assert generator.output.dtype == critic.output.dtype == "bfloat16"
    return generator, critic


def plain_case(cls, **kwargs):
    def build():
        model = cls(*plain_nets(), seed=1, **kwargs)
        return model, batches(images()), lambda m: m.generate(BATCH)

    return build


def conditional_case(conditioning):
    def build():
        generator = nets.dcgan_generator(LATENT, SHAPE, 4, num_classes=CLASSES)
        discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=CLASSES, conditioning=conditioning)
        model = ConditionalGAN(generator, discriminator, num_classes=CLASSES, seed=1)
        return model, batches(images(), labels()), lambda m: m.generate(BATCH)

    return build


def semi_supervised():
    generator = nets.sgan_generator(LATENT, SHAPE, hidden_units=(8,))
    discriminator = nets.sgan_discriminator(SHAPE, num_classes=CLASSES, hidden_units=(16, 8))
    model = SemiSupervisedGAN(generator, discriminator, num_classes=CLASSES, seed=1)
    x, y = images(), labels()
    dataset = data.semi_supervised_dataset(x, x[:6], y[:6], batch_size=BATCH, seed=0)
    return model, dataset, lambda m: m.generate(BATCH)


def autoencoder_case(cls):
    def build():
        variational = cls is VAE
        encoder = nets.mlp_encoder(SHAPE, 2, hidden_units=(16,), variational=variational)
        decoder = nets.mlp_decoder(2, SHAPE, hidden_units=(16,))
        model = cls(encoder, decoder, seed=1)
        return model, batches(images(low=0.0)), lambda m: m.reconstruct(images(BATCH, low=0.0, seed=1))

    return build


def vae_gan():
    encoder = nets.conv_encoder(SHAPE, 3, filters=(4, 8), hidden_units=8)
    decoder = nets.conv_decoder(3, SHAPE, filters=(8, 4))
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
    model = VAEGAN(encoder, decoder, discriminator, seed=1)
    return model, batches(images()), lambda m: m.reconstruct(images(BATCH, seed=1))


def pix2pix():
    generator = nets.unet_generator(input_channels=1, output_channels=2, num_downsamples=3, base_filters=4)
    discriminator = nets.patch_discriminator(input_channels=2, source_channels=1, base_filters=4, num_layers=1)
    source = images()
    target = np.concatenate([0.8 * source, -0.5 * source], axis=-1)
    model = Pix2Pix(generator, discriminator, seed=1)
    return model, batches(source, target), lambda m: m.translate(images(BATCH, seed=1))


def cycle_gan():
    def generator(name):
        return nets.resnet_generator(1, 1, num_blocks=1, base_filters=4, num_downsamples=1, name=name)

    def discriminator(name):
        return nets.patch_discriminator(1, base_filters=4, num_layers=1, norm="instance", name=name)

    model = CycleGAN(
        generator("g_ab"), generator("g_ba"), discriminator("d_a"), discriminator("d_b"),
        image_shape=(SIZE, SIZE), pool_size=2, seed=1,
    )
    return model, batches(images(seed=0), -images(seed=1)), lambda m: m.translate_ab(images(BATCH, seed=2))


def co_gan():
    g_a, g_b = nets.cogan_generators(LATENT, SHAPE, base_filters=4)
    d_a, d_b = nets.cogan_discriminators(SHAPE, filters=(4, 6), hidden_units=8)
    model = CoGAN(g_a, g_b, d_a, d_b, seed=1)
    return model, batches(images(seed=0), -images(seed=1)), lambda m: np.stack(m.generate(BATCH))


def progressive_gan():
    generator = nets.progan_generator(LATENT, SHAPE, fmap_base=16, fmap_max=8)
    critic = nets.progan_discriminator(SHAPE, fmap_base=16, fmap_max=8)
    model = ProgressiveGAN(generator, critic, seed=1)
    return model, batches(images()), lambda m: m.generate(BATCH)


def style_gan(generation):
    def build():
        mapping = nets.style_mapping(latent_dim=LATENT, w_dim=8, num_layers=2)
        build_synthesis = nets.stylegan2_synthesis if generation == 2 else nets.stylegan_synthesis
        synthesis = build_synthesis(SIZE, w_dim=8, channels=1, fmap_base=32, fmap_max=8)
        discriminator = nets.stylegan2_discriminator(SIZE, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
        # Both lazy regularisers run within the two steps.
        model = StyleGAN(mapping, synthesis, discriminator, r1_interval=2, path_length_interval=2, seed=1)
        return model, batches(images()), lambda m: m.generate(BATCH)

    return build


slow = pytest.mark.slow
CASES = {
    "gan_non_saturating": gan_case(GAN, loss="non_saturating"),
    "gan_hinge": gan_case(GAN, loss="hinge"),
    "gan_least_squares": gan_case(GAN, loss="least_squares"),
    "wgan": gan_case(WGAN, d_steps=1),
    "wgan_gp": gan_case(WGANGP, d_steps=1),
    # Nets that do not cast their outputs back to float32.
    "plain_gan_non_saturating_r1": plain_case(GAN, loss="non_saturating", r1_gamma=1.0),
    "plain_gan_hinge": plain_case(GAN, loss="hinge", label_smoothing=0.1, instance_noise=0.1),
    "plain_gan_least_squares": plain_case(GAN, loss="least_squares"),
    "plain_wgan": plain_case(WGAN, d_steps=1),
    "plain_wgan_gp": plain_case(WGANGP, d_steps=1),
    "conditional_projection": conditional_case("projection"),
    "conditional_concat": conditional_case("concat"),
    "conditional_auxiliary": conditional_case("auxiliary"),
    "semi_supervised_gan": semi_supervised,
    "autoencoder": autoencoder_case(Autoencoder),
    "vae": autoencoder_case(VAE),
    "vae_gan": vae_gan,
    "pix2pix": pix2pix,
    "cycle_gan": cycle_gan,
    "co_gan": co_gan,
    "progressive_gan": progressive_gan,
    "style_gan": style_gan(1),
    "style_gan2": style_gan(2),
}
# Default set: one case per class plus the loss variants on the fastest nets (~20 s idle).
SLOW = {"gan_hinge", "gan_least_squares", "wgan", "conditional_concat", "vae_gan", "pix2pix", "cycle_gan", "progressive_gan", "style_gan", "style_gan2"}


def test_every_model_class_has_a_case():
    import zoo.models

    classes = {getattr(zoo.models, name) for name in zoo.models.__all__ if isinstance(getattr(zoo.models, name), type)}
    covered = {
        GAN, WGAN, WGANGP, ConditionalGAN, SemiSupervisedGAN, Autoencoder, VAE, VAEGAN,
        Pix2Pix, CycleGAN, CoGAN, ProgressiveGAN, StyleGAN,
    }
    assert classes - covered == {zoo.models.MultiOptimizerModel}


@pytest.mark.parametrize(
    "case", [pytest.param(name, marks=slow) if name in SLOW else name for name in CASES]
)
def test_fit_under_mixed_bfloat16(case):
    model, dataset, sample = CASES[case]()
    model.compile()
    nets_before = {name: [np.array(v) for v in getattr(model, name).trainable_variables] for name in model.NETS}
    assert any(
        layer.compute_dtype == "bfloat16" for name in model.NETS for layer in getattr(model, name).layers
    ), "the nets were not built under the policy"

    history = model.fit(dataset, epochs=1, steps_per_epoch=STEPS, verbose=0).history

    assert history, "nothing was logged"
    for key, values in history.items():
        assert np.all(np.isfinite(values)), f"{case}: {key} = {values}"
    for name, before in nets_before.items():
        variables = getattr(model, name).trainable_variables
        assert all(v.dtype == "float32" for v in variables), f"{case}: {name} has non-float32 weights"
        moved = [not np.array_equal(b, np.array(v)) for b, v in zip(before, variables)]
        assert any(moved), f"{case}: {name} did not move"
        assert np.mean(moved) >= 0.5, f"{case}: only {np.mean(moved):.0%} of {name}'s variables moved"
    samples = np.asarray(sample(model), dtype="float32")
    assert samples.shape[0] == BATCH or samples.shape[1] == BATCH
    assert np.all(np.isfinite(samples)), f"{case}: non-finite samples"


# -- the same fits with nets whose outputs are bfloat16 ----------------------------------
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
    model = CASES[case]()[0]
    wrapped_nets = [getattr(model, name) for name in model.NETS]
    assert any(output.dtype == "bfloat16" for net in wrapped_nets for output in net.outputs)
    test_fit_under_mixed_bfloat16(case)
