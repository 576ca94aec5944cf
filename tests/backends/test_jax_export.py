"""Export from the JAX backend: the SavedModels a JAX-trained model writes serve its outputs.

One process on JAX trains or builds each kind of model zoo exports (generator,
class-conditional generator, image-to-image net, StyleGAN, classifier),
exports it and saves the model's own outputs; a second process that cannot
import zoo loads every export with `tf.saved_model.load` and compares.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

EXPORT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    from zoo import export, models, nets

    out = sys.argv[1]
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    z = rng.standard_normal((3, 8)).astype("float32")
    expected = {"z": z}

    gan = models.GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4),
                     nets.dcgan_discriminator((16, 16, 1), base_filters=4), seed=0, ema_momentum=0.5)
    gan.compile()
    gan.fit(rng.uniform(-1, 1, (32, 16, 16, 1)).astype("float32"), batch_size=16, epochs=1, verbose=0)
    export.export_generator(gan, "gan", base_path=out)
    expected["gan"] = np.asarray(gan.generate(z))

    cgan = models.ConditionalGAN(
        nets.dcgan_generator(8, (16, 16, 1), base_filters=4, num_classes=3),
        nets.dcgan_discriminator((16, 16, 1), base_filters=4, num_classes=3, conditioning="projection"),
        num_classes=3, seed=0)
    cgan.compile()
    export.export_generator(cgan, "cgan", base_path=out)
    expected["cgan"] = np.asarray(cgan.generate(z, labels=np.array([0, 1, 2], "int32")))

    unet = nets.unet_generator(num_downsamples=3, base_filters=4)
    export.export_translator(unet, "unet", base_path=out)
    x = rng.uniform(-1, 1, (2, 16, 24, 3)).astype("float32")
    expected["x"], expected["unet"] = x, np.asarray(unet(x, training=False))

    style = models.StyleGAN(nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2),
                            nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8),
                            nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2),
                            seed=0)
    style.w_avg.assign(rng.standard_normal(8).astype("float32"))
    for weight in style.ema_synthesis.weights:  # noise strengths start at 0: make the noise count
        if weight.path.endswith("strength"):
            weight.assign(np.full(weight.shape, 0.5, "float32"))
    export.export_style_generator(style, "style", base_path=out)
    expected["style"] = np.asarray(style.generate(z, noise_mode="const"))
    expected["style_truncated"] = np.asarray(style.generate(z, truncation_psi=0.5, noise_mode="const"))

    classifier = nets.domain_classifier((16, 16, 1), 4)
    export.export_classifier(classifier, "classifier", base_path=out)
    images = rng.uniform(-1, 1, (5, 16, 16, 1)).astype("float32")
    expected["images"] = images
    expected["probabilities"] = np.asarray(keras.ops.softmax(classifier(images, training=False)))
    np.savez(os.path.join(out, "expected.npz"), **expected)
    print(json.dumps({"tensorflow_imported_before_export": False}))
    """
)

SERVE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    out = sys.argv[1]
    e = np.load(out + "/expected.npz")
    z = tf.constant(e["z"])
    load = lambda name: tf.saved_model.load(f"{out}/{name}/1").signatures
    gap = lambda a, b: float(np.max(np.abs(np.asarray(a) - b)))
    result = {}
    gan = load("gan")
    result["gan"] = gap(gan["serving_default"](noise=z)["images"], e["gan"])
    result["gan_sample"] = list(gan["sample"](batch_size=tf.constant(4))["images_uint8"].shape)
    cgan = load("cgan")
    result["cgan"] = gap(cgan["serving_default"](noise=z, labels=tf.constant([0, 1, 2]))["images"], e["cgan"])
    try:
        cgan["serving_default"](noise=z, labels=tf.constant([0, 1, 3]))
        result["cgan_bad_label"] = "accepted"
    except tf.errors.InvalidArgumentError as error:
        result["cgan_bad_label"] = "class indices" in str(error)
    unet = load("unet")
    result["unet"] = gap(unet["serving_default"](images=tf.constant(e["x"]))["images"], e["unet"])
    result["unet_other_size"] = list(unet["serving_default"](images=tf.constant(e["x"][:, :8, :16]))["images"].shape)
    style = load("style")
    result["style"] = gap(style["serving_default"](noise=z)["images"], e["style"])
    truncated = style["truncated"](noise=z, truncation_psi=tf.constant(0.5))["images"]
    result["style_truncated"] = gap(truncated, e["style_truncated"])
    classifier = load("classifier")
    result["classifier"] = gap(classifier["serving_default"](images=tf.constant(e["images"]))["probabilities"],
                               e["probabilities"])
    print(json.dumps(result))
    """
)


def test_models_trained_on_jax_export_savedmodels_that_serve_their_outputs(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = tmp_path / "export_on_jax.py"
    script.write_text(EXPORT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]

    serve = tmp_path / "serve.py"
    serve.write_text('import sys\nsys.modules["zoo"] = None\n' + SERVE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    served = subprocess.run(
        [sys.executable, str(serve), str(tmp_path)], capture_output=True, text=True, env=env, cwd=str(tmp_path),
        timeout=300,
    )
    assert served.returncode == 0, served.stderr[-3000:]
    result = json.loads(served.stdout.strip().splitlines()[-1])
    for name in ("gan", "cgan", "unet", "style", "style_truncated", "classifier"):
        assert result[name] < 1e-4, (name, result)
    assert result["gan_sample"] == [4, 16, 16, 1]
    assert result["cgan_bad_label"] is True
    assert result["unet_other_size"] == [2, 8, 16, 3]
    # saved_model_cli sees the same signatures as on TensorFlow.
    cli = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "saved_model_cli"), "show", "--dir",
         str(tmp_path / "style" / "1"), "--all"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    if cli.returncode == 0:
        for signature in ("serving_default", "truncated", "from_w", "mapping", "sample"):
            assert f"signature_def['{signature}']" in cli.stdout
    assert np.load(tmp_path / "expected.npz")["gan"].shape == (3, 16, 16, 1)
