"""The checks every zoo model must pass, in one place (as keras-hub's `TestCase.run_*_test`).

`CASES` holds one builder per model class and variant: tiny nets, synthetic data,
and a sampler. The `run_*` functions take a case name and check what every model
owes its users, on whichever Keras backend the test process runs:

- `run_model_test`: `from_config(get_config())` rebuilds the same model; a short
  `fit` logs finite values, steps every optimizer and moves every player's
  weights; the `.keras` file and a zoo checkpoint both bring back every variable
  and the optimizers' state, and the reloaded model samples the same;
- `run_precision_test`: the same `fit` under `mixed_bfloat16`;
- `run_export_test`: the SavedModel of what the model serves (`EXPORT`) loads with
  `tf.saved_model.load` and answers as the model does.

A model's own test file then holds only what is special to it.
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from zoo import checkpoint, data, export, nets
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
NUM_CLASSES = 3
BATCH = 4
STEPS = 2


def images(n=BATCH * STEPS, shape=SHAPE, seed=0, low=-1.0):
    return np.random.default_rng(seed).uniform(low, 1.0, (n, *shape)).astype("float32")


def labels(n=BATCH * STEPS):
    return (np.arange(n) % NUM_CLASSES).astype("int32")


def batches(*arrays):
    return tf.data.Dataset.from_tensor_slices(arrays if len(arrays) > 1 else arrays[0]).batch(BATCH)


# -- one builder per case: () -> (model, dataset, sample) -------------------------------
# `sample(model)` makes a batch of outputs deterministically from the model's state.


def _noise(n=BATCH):
    return np.random.default_rng(7).standard_normal((n, LATENT)).astype("float32")


def gan_case(cls, **kwargs):
    def build():
        generator = nets.dcgan_generator(LATENT, SHAPE, base_filters=4)
        if cls is GAN:
            discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
        else:  # no batch norm in a critic (the gradient penalty is per example)
            discriminator = nets.mlp_discriminator(SHAPE, hidden_units=(16,), dropout=0.0)
        model = cls(generator, discriminator, seed=1, **kwargs)
        return model, batches(images()), lambda m: m.generate(_noise())

    return build


def plain_nets():
    """Keras-layer nets whose outputs are bfloat16 under the policy, as in keras.io's WGAN-GP."""
    z = keras.Input((LATENT,))
    x = keras.layers.Reshape(SHAPE)(keras.layers.Dense(SIZE * SIZE)(keras.layers.Dense(16, activation="relu")(z)))
    generator = keras.Model(z, keras.layers.Activation("tanh")(x), name="plain_generator")
    x = keras.Input(SHAPE)
    h = keras.layers.Dense(16, activation="leaky_relu")(keras.layers.Flatten()(x))
    critic = keras.Model(x, keras.layers.Dense(1)(h), name="plain_critic")
    return generator, critic


def plain_case(cls, **kwargs):
    def build():
        model = cls(*plain_nets(), seed=1, **kwargs)
        return model, batches(images()), lambda m: m.generate(_noise())

    return build


def conditional_case(conditioning):
    def build():
        generator = nets.dcgan_generator(LATENT, SHAPE, 4, num_classes=NUM_CLASSES)
        discriminator = nets.dcgan_discriminator(SHAPE, 4, num_classes=NUM_CLASSES, conditioning=conditioning)
        model = ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES, seed=1)
        return model, batches(images(), labels()), lambda m: m.generate(_noise(), labels=labels(BATCH))

    return build


def semi_supervised():
    generator = nets.sgan_generator(LATENT, SHAPE, hidden_units=(8,))
    discriminator = nets.sgan_discriminator(SHAPE, num_classes=NUM_CLASSES, hidden_units=(16, 8))
    model = SemiSupervisedGAN(generator, discriminator, num_classes=NUM_CLASSES, seed=1)
    x, y = images(), labels()
    dataset = data.semi_supervised_dataset(x, x[:6], y[:6], batch_size=BATCH, seed=0)
    return model, dataset, lambda m: m.generate(_noise())


def autoencoder_case(cls):
    def build():
        variational = cls is VAE
        encoder = nets.mlp_encoder(SHAPE, 2, hidden_units=(16,), variational=variational)
        decoder = nets.mlp_decoder(2, SHAPE, hidden_units=(16,))
        model = cls(encoder, decoder, seed=1)
        codes = np.random.default_rng(7).standard_normal((BATCH, 2)).astype("float32")
        return model, batches(images(low=0.0)), lambda m: m.decode(codes)

    return build


def vae_gan():
    encoder = nets.conv_encoder(SHAPE, 3, filters=(4, 8), hidden_units=8)
    decoder = nets.conv_decoder(3, SHAPE, filters=(8, 4))
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4)
    model = VAEGAN(encoder, decoder, discriminator, seed=1)
    codes = np.random.default_rng(7).standard_normal((BATCH, 3)).astype("float32")
    return model, batches(images()), lambda m: m.decode(codes)


def pix2pix():
    # Three channels out: a one-to-two-channel net would export as a colouriser (grey in, RGB out).
    generator = nets.unet_generator(input_channels=1, output_channels=3, num_downsamples=3, base_filters=4)
    discriminator = nets.patch_discriminator(input_channels=3, source_channels=1, base_filters=4, num_layers=1)
    source = images()
    target = np.concatenate([0.8 * source, -0.5 * source, source**2], axis=-1)
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
    return model, batches(images(seed=0), -images(seed=1)), lambda m: np.stack(m.generate(_noise()))


def progressive_gan():
    generator = nets.progan_generator(LATENT, SHAPE, fmap_base=16, fmap_max=8)
    critic = nets.progan_discriminator(SHAPE, fmap_base=16, fmap_max=8)
    model = ProgressiveGAN(generator, critic, seed=1)
    return model, batches(images()), lambda m: m.generate(_noise())


def style_gan(generation):
    def build():
        mapping = nets.style_mapping(latent_dim=LATENT, w_dim=8, num_layers=2)
        build_synthesis = nets.stylegan2_synthesis if generation == 2 else nets.stylegan_synthesis
        synthesis = build_synthesis(SIZE, w_dim=8, channels=1, fmap_base=32, fmap_max=8)
        discriminator = nets.stylegan2_discriminator(SIZE, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
        # Both lazy regularisers run within the two steps.
        model = StyleGAN(mapping, synthesis, discriminator, r1_interval=2, path_length_interval=2, seed=1)
        return model, batches(images()), lambda m: m.generate(_noise(), noise_mode="const")

    return build


CASES = {
    "gan_non_saturating": gan_case(GAN, loss="non_saturating"),
    "gan_hinge": gan_case(GAN, loss="hinge"),
    "gan_least_squares": gan_case(GAN, loss="least_squares"),
    "gan_ema": gan_case(GAN, ema_momentum=0.9),
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

# The class each case trains (checked against the built model in `build`).
MODEL_CLASSES = {
    **{name: GAN for name in CASES if name.startswith(("gan_", "plain_gan_"))},
    "wgan": WGAN, "plain_wgan": WGAN, "wgan_gp": WGANGP, "plain_wgan_gp": WGANGP,
    **{name: ConditionalGAN for name in CASES if name.startswith("conditional_")},
    "semi_supervised_gan": SemiSupervisedGAN, "autoencoder": Autoencoder, "vae": VAE, "vae_gan": VAEGAN,
    "pix2pix": Pix2Pix, "cycle_gan": CycleGAN, "co_gan": CoGAN, "progressive_gan": ProgressiveGAN,
    "style_gan": StyleGAN, "style_gan2": StyleGAN,
}  # fmt: skip

GAN_LOGS = {"d_loss", "g_loss", "d_real", "d_fake"}
# What `fit` logs for each case: the same keys in every model with the same players.
LOGS = {
    **{name: GAN_LOGS for name in CASES if name.startswith(("gan_", "plain_", "wgan", "conditional_"))},
    "wgan_gp": GAN_LOGS | {"gradient_penalty"},
    "plain_wgan_gp": GAN_LOGS | {"gradient_penalty"},
    "plain_gan_non_saturating_r1": GAN_LOGS | {"r1_penalty"},
    "conditional_auxiliary": GAN_LOGS | {"aux_loss", "aux_accuracy"},
    "semi_supervised_gan": {"d_loss", "g_loss", "supervised_loss", "unsupervised_loss", "accuracy"},
    "autoencoder": {"loss", "recon_loss"},
    "vae": {"loss", "recon_loss", "kl_loss", "elbo"},
    "vae_gan": {"loss", "recon_loss", "kl_loss", "d_loss", "g_loss"},
    "pix2pix": GAN_LOGS | {"recon_loss"},
    "cycle_gan": {"g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss"},
    "co_gan": {"d_loss", "g_loss", "d_a_loss", "d_b_loss", "g_a_loss", "g_b_loss"},
    "progressive_gan": GAN_LOGS | {"gradient_penalty", "drift_penalty"},
    "style_gan": GAN_LOGS | {"r1_penalty", "pl_penalty", "pl_mean"},
    "style_gan2": GAN_LOGS | {"r1_penalty", "pl_penalty", "pl_mean"},
}


def build(case):
    model, dataset, sample = CASES[case]()
    assert type(model) is MODEL_CLASSES[case], f"{case} builds a {type(model).__name__}"
    model.compile()
    return model, dataset, sample


def _by_path(variables):
    return {v.path: np.array(keras.ops.convert_to_numpy(v.value)) for v in variables}


def _assert_same_variables(expected, actual, what):
    assert set(expected) == set(actual), f"{what}: variables differ: {sorted(set(expected) ^ set(actual))[:5]}"
    for path, value in expected.items():
        np.testing.assert_array_equal(actual[path], value, err_msg=f"{what}: {path}")


def _json(config):
    """`config` as it reads back from JSON (tuples become lists), to compare configs."""
    return json.loads(json.dumps(config))


def _optimizer_state(model):
    return {
        name: _by_path(getattr(model, name).variables) for name in model.OPTIMIZERS if getattr(model, name, None)
    }


def _fit(model, dataset, steps=STEPS):
    return model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0).history


# -- the checks ---------------------------------------------------------------------------


def run_model_test(case, tmp_path):
    """Config round trip, a short `fit`, then the `.keras` file and a zoo checkpoint.

    - `from_config(get_config())` rebuilds the same config and nets;
    - `fit` logs finite values, every optimizer steps, and at least half of every
      player's trainable variables move;
    - the `.keras` file and a checkpoint each bring back every variable (weights,
      statistics, seed states) and every optimizer slot, and the reloaded `.keras`
      model samples what the original samples.
    """
    model, dataset, sample = build(case)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert _json(clone.get_config()) == _json(config)
    for name in model.NETS:
        net, cloned = getattr(model, name), getattr(clone, name)
        assert [v.path for v in cloned.weights] == [v.path for v in net.weights], name
        assert cloned.count_params() == net.count_params(), name

    before = {name: _by_path(getattr(model, name).trainable_variables) for name in model.NETS}
    history = _fit(model, dataset)
    assert set(history) == LOGS[case], f"{case} logged {sorted(history)}"
    for key, values in history.items():
        assert np.all(np.isfinite(values)), f"{case}: {key} = {values}"
    for name in model.OPTIMIZERS:
        assert int(getattr(model, name).iterations) >= 1, f"{case}: {name} never stepped"
    for name, values in before.items():
        after = _by_path(getattr(model, name).trainable_variables)
        moved = [not np.array_equal(values[p], after[p]) for p in values]
        assert np.mean(moved) >= 0.5, f"{case}: only {np.mean(moved):.0%} of {name}'s variables moved"

    weights, optimizers = _by_path(model.weights), _optimizer_state(model)
    expected = np.asarray(sample(model))
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and _json(loaded.get_config()) == _json(config)
    _assert_same_variables(weights, _by_path(loaded.weights), ".keras weights")
    for name, state in _optimizer_state(loaded).items():
        _assert_same_variables(optimizers[name], state, f".keras {name}")
    np.testing.assert_allclose(np.asarray(sample(loaded)), expected, atol=1e-6)

    folder = os.path.join(tmp_path, "checkpoint")
    checkpoint.save(model, folder, epoch=1)
    restored = checkpoint.load_model(folder)
    assert type(restored) is type(model) and _json(restored.get_config()) == _json(config)
    _assert_same_variables(weights, _by_path(restored.weights), "checkpoint weights")
    for name, state in _optimizer_state(restored).items():
        _assert_same_variables(optimizers[name], state, f"checkpoint {name}")


def run_precision_test(case):
    """`fit` under `mixed_bfloat16`: finite logs, float32 weights, every net moves, finite samples."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model, dataset, sample = build(case)
        assert any(
            layer.compute_dtype == "bfloat16" for name in model.NETS for layer in getattr(model, name).layers
        ), "the nets were not built under the policy"
        before = {name: _by_path(getattr(model, name).trainable_variables) for name in model.NETS}
        history = _fit(model, dataset)
        assert set(history) == LOGS[case], f"{case} logged {sorted(history)}"
        for key, values in history.items():
            assert np.all(np.isfinite(values)), f"{case}: {key} = {values}"
        for name, values in before.items():
            variables = getattr(model, name).trainable_variables
            assert all(v.dtype == "float32" for v in variables), f"{case}: {name} has non-float32 weights"
            after = _by_path(variables)
            moved = [not np.array_equal(values[p], after[p]) for p in values]
            assert np.mean(moved) >= 0.5, f"{case}: only {np.mean(moved):.0%} of {name}'s variables moved"
        samples = np.asarray(sample(model), dtype="float32")
        assert np.all(np.isfinite(samples)), f"{case}: non-finite samples"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _served_and_expected(model, name, signatures):
    """(what the export answered, what the model gives) for one exported name."""
    kind = model.EXPORT
    serve = signatures["serving_default"]
    if kind in ("generator", "generator_pair"):
        z = _noise(2)
        inputs = {"noise": tf.constant(z)}
        if getattr(model, "conditional", False):
            inputs["labels"] = tf.constant([0, 2], tf.int32)
            return serve(**inputs)["images"], model.generate(z, labels=np.array([0, 2], "int32"))
        if isinstance(model, StyleGAN):
            return serve(**inputs)["images"], model.generate(z, noise_mode="const")
        if isinstance(model, Autoencoder):
            inputs = {"noise": tf.constant(z[:, : model.latent_dim])}
            return serve(**inputs)["images"], model.decode(z[:, : model.latent_dim])
        if kind == "generator_pair":
            return serve(**inputs)["images"], model.generate(z)[0 if name.endswith("_a") else 1]
        return serve(**inputs)["images"], model.generate(z)
    x = images(2, seed=3)
    if kind == "classifier":
        logits = model.discriminator(x, training=False)
        return serve(images=tf.constant(x))["probabilities"], keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    translate = model.translate if kind == "translator" else getattr(model, f"translate_{name[-2:]}")
    return serve(images=tf.constant(x))["images"], translate(x)


def run_export_test(case, tmp_path):
    """What the model serves, exported and loaded back, answers as the model does."""
    model, dataset, _ = build(case)
    _fit(model, dataset, steps=1)
    paths = export.export_model(model, "m", base_path=str(tmp_path))
    assert paths, "nothing was exported"
    for path in paths:
        name = os.path.basename(os.path.dirname(path))
        served, expected = _served_and_expected(model, name, tf.saved_model.load(path).signatures)
        np.testing.assert_allclose(np.asarray(served), np.asarray(expected), atol=1e-4, err_msg=name)
