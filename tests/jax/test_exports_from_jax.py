"""Export from the JAX backend: the SavedModels a model on JAX writes serve its outputs.

The model harness (tests/steps) exports a trained GAN and the SGAN's classifier on
both backends; here are the other kinds zoo exports, built on JAX, exported through
jax2tf and loaded back with `tf.saved_model.load` (TensorFlow is installed in the
JAX pass; tests/test_export.py loads exports in a process that cannot import zoo):
a class-conditional generator that refuses labels out of range, an image-to-image
net at a size it was not built for, and a StyleGAN with its extra signatures.
"""

import keras
import numpy as np
import tensorflow as tf

from zoo import export, models, nets

assert keras.backend.backend() == "jax"

Z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")


def signatures(path):
    return tf.saved_model.load(path).signatures


def gap(served, expected):
    return float(np.max(np.abs(np.asarray(served) - np.asarray(expected))))


def test_a_conditional_generator_serves_its_classes_and_refuses_others(tmp_path):
    cgan = models.ConditionalGAN(
        nets.dcgan_generator(8, (16, 16, 1), base_filters=4, num_classes=3),
        nets.dcgan_discriminator((16, 16, 1), base_filters=4, num_classes=3, conditioning="projection"),
        num_classes=3, seed=0)
    cgan.compile()
    served = signatures(export.export_generator(cgan, "cgan", base_path=str(tmp_path)))["serving_default"]
    labels = np.array([0, 1, 2], "int32")
    assert gap(served(noise=tf.constant(Z), labels=tf.constant(labels))["images"], cgan.generate(Z, labels=labels)) < 1e-4
    try:
        served(noise=tf.constant(Z), labels=tf.constant([0, 1, 3]))
        refused = "accepted"
    except tf.errors.InvalidArgumentError as error:
        refused = str(error)
    assert "class indices" in refused


def test_a_translator_serves_other_image_sizes(tmp_path):
    unet = nets.unet_generator(num_downsamples=3, base_filters=4)
    served = signatures(export.export_translator(unet, "unet", base_path=str(tmp_path)))["serving_default"]
    x = np.random.default_rng(1).uniform(-1, 1, (2, 16, 24, 3)).astype("float32")
    assert gap(served(images=tf.constant(x))["images"], unet(x, training=False)) < 1e-4
    assert served(images=tf.constant(x[:, :8, :16]))["images"].shape == (2, 8, 16, 3)


def test_a_style_generator_serves_truncation_and_its_other_signatures(tmp_path):
    style = models.StyleGAN(nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2),
                            nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8),
                            nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2),
                            seed=0)
    style.w_avg.assign(np.random.default_rng(2).standard_normal(8).astype("float32"))
    for weight in style.ema_synthesis.weights:  # noise strengths start at 0: make the noise count
        if weight.path.endswith("strength"):
            weight.assign(np.full(weight.shape, 0.5, "float32"))
    served = signatures(export.export_style_generator(style, "style", base_path=str(tmp_path)))
    assert {"serving_default", "truncated", "from_w", "mapping", "sample"} <= set(served)
    assert gap(served["serving_default"](noise=tf.constant(Z))["images"], style.generate(Z, noise_mode="const")) < 1e-4
    truncated = served["truncated"](noise=tf.constant(Z), truncation_psi=tf.constant(0.5))["images"]
    assert gap(truncated, style.generate(Z, truncation_psi=0.5, noise_mode="const")) < 1e-4
