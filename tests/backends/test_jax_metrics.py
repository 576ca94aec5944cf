"""zoo.metrics on the JAX backend with `import tensorflow` made to fail.

One fresh process with KERAS_BACKEND=jax computes SSIM, MS-SSIM and PSNR, trains a
domain classifier on scikit-learn digits, and evaluates a checkpointed generator
with it (FID, KID, IS); this process, on TensorFlow, checks the numbers against
tf.image and against FID and IS recomputed here from the saved classifier.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import metrics

pytest.importorskip("jax")
load_digits = pytest.importorskip("sklearn.datasets").load_digits

# Makes `import tensorflow` (and its submodules) fail, as on a machine without it.
WITHOUT_TF = textwrap.dedent(
    """
    import sys

    class _WithoutTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ImportError(f"No module named {name!r} (blocked by the test)")

    sys.meta_path.insert(0, _WithoutTensorFlow())
    """
)

SCRIPT = """
    import json, os
    import numpy as np, keras
    from sklearn.datasets import load_digits

    import zoo.metrics as metrics
    from zoo import checkpoint, models, nets

    folder = sys.argv[1]
    pairs = np.load(os.path.join(folder, "pairs.npz"))
    out = {"backend": keras.backend.backend()}
    out["missing"] = [n for n in metrics.__all__ if not hasattr(metrics, n)]
    out["ssim"] = metrics.ssim(pairs["a"], pairs["b"]).tolist()
    out["ms_ssim"] = metrics.ms_ssim(pairs["a"], pairs["b"], filter_size=7).tolist()
    out["psnr"] = metrics.psnr(pairs["a"], pairs["b"]).tolist()

    digits = load_digits()
    x, y = (digits.images[..., None] / 8.0 - 1.0).astype("float32"), digits.target
    path = os.path.join(folder, "digits.keras")
    classifier = metrics.train_domain_classifier(
        x[:512], y[:512], epochs=6, batch_size=64, max_shift=1, feature_dim=32, save_path=path
    )
    out["accuracy"] = float(np.mean(classifier.predict(x[1500:], verbose=0).argmax(1) == y[1500:]))
    extractor = metrics.ClassifierExtractor.from_path(path)

    keras.utils.set_random_seed(0)
    shape = (8, 8, 1)
    gan = models.GAN(nets.dcgan_generator(8, shape, base_filters=4), nets.dcgan_discriminator(shape, base_filters=4))
    gan.compile()
    checkpoint.save(gan, os.path.join(folder, "checkpoint"))
    generator = metrics.load_generator(os.path.join(folder, "checkpoint"))
    reference = x[1500:]
    out["results"] = metrics.evaluate_generator(generator, reference, extractor, ("fid", "kid", "is"), seed=3)
    # An untrained generator's images are nearly alike (its score is about 1): the score of the digits too.
    out["is_reference"] = metrics.inception_score(extractor.probabilities(reference))
    np.save(os.path.join(folder, "generated.npy"), metrics.generate_samples(generator, len(reference), seed=3))

    # Without TensorFlow, references that fit in memory load through numpy; the rest say what they need.
    digits, labels = metrics.load_reference("digits", image_size=16, with_labels=True, limit=100)
    out["digits_reference"] = [list(digits.shape), float(digits.astype("float64").sum()), labels.tolist()]
    out["errors"] = []
    for call in (lambda: metrics.load_reference("celeb_a"), lambda: metrics.ExportedGenerator(folder)):
        try:
            call()
        except ImportError as error:
            out["errors"].append(str(error))
    out["tensorflow_imported"] = sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")
    print(json.dumps(out))
"""


def _inception_score(logits, splits=10):
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    scores = []
    for part in np.array_split(probabilities, splits):
        marginal = part.mean(axis=0, keepdims=True)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(marginal)), axis=1))))
    return np.mean(scores), np.std(scores)


def test_metrics_on_jax_without_tensorflow_match_tensorflow(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (3, 29, 33, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.3, a.shape), -1, 1).astype(np.float32)
    np.savez(tmp_path / "pairs.npz", a=a, b=b)
    script = tmp_path / "script.py"
    script.write_text(WITHOUT_TF + textwrap.dedent(SCRIPT))
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])

    assert out["backend"] == "jax" and out["missing"] == []
    assert out["tensorflow_imported"] == [], "TensorFlow must stay unimported"
    np.testing.assert_allclose(out["ssim"], tf.image.ssim(a + 1, b + 1, 2.0).numpy(), atol=2e-6)
    weights = np.array([0.0448, 0.2856, 0.3001])  # 29 px and a 7 px window: 3 scales (29, 15, 8)
    expected = tf.image.ssim_multiscale(a + 1, b + 1, 2.0, power_factors=tuple(weights / weights.sum()), filter_size=7)
    np.testing.assert_allclose(out["ms_ssim"], expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(out["psnr"], tf.image.psnr(a + 1, b + 1, 2.0).numpy(), rtol=1e-5)

    assert out["accuracy"] > 0.6, out["accuracy"]  # 512 digits, 6 epochs; chance is 0.1
    # The classifier trained on JAX, loaded here on TensorFlow, gives the same accuracy,
    # and FID and IS recomputed from its features equal the JAX results.
    classifier = keras.saving.load_model(tmp_path / "digits.keras")
    digits = load_digits()
    reference = (digits.images[1500:, ..., None] / 8.0 - 1.0).astype(np.float32)
    accuracy = np.mean(classifier.predict(reference, verbose=0).argmax(1) == digits.target[1500:])
    assert abs(accuracy - out["accuracy"]) <= 1 / len(reference)
    embed = keras.Model(classifier.inputs, [classifier.get_layer("features").output, classifier.outputs[0]])
    (real, real_logits), (fake, logits) = (
        [np.asarray(t, np.float64) for t in embed.predict(images, verbose=0)]
        for images in (reference, np.load(tmp_path / "generated.npy"))
    )
    # Tr((s1 s2)^(1/2)) from the eigenvalues of the product (real and >= 0 up to round-off);
    # zoo takes them from a symmetric matrix instead. An untrained generator's features are
    # nearly constant, so the covariances are singular and scipy.linalg.sqrtm would be unsure.
    s_real, s_fake = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvals(s_real @ s_fake).real, 0, None)))
    fid = np.sum((real.mean(0) - fake.mean(0)) ** 2) + np.trace(s_real) + np.trace(s_fake) - 2 * root_trace
    results = out["results"]
    assert sorted(results) == ["fid297_full", "is297", "is297_std", "kid297_full", "kid297_full_std"]
    np.testing.assert_allclose(results["fid297_full"], fid, rtol=1e-3)
    scores = [results["is297"], results["is297_std"]]
    np.testing.assert_allclose(scores, _inception_score(logits), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out["is_reference"], _inception_score(real_logits), rtol=1e-4, atol=1e-6)
    assert out["is_reference"][0] > 1.5  # the classifier tells the digits apart
    assert np.isfinite(results["kid297_full"]) and results["kid297_full_std"] >= 0

    load_reference_error, export_error = out["errors"]
    assert "load_reference('celeb_a')" in load_reference_error and "needs TensorFlow" in load_reference_error
    digits, labels = metrics.load_reference("digits", image_size=16, with_labels=True, limit=100)
    shape, total, got_labels = out["digits_reference"]
    assert shape == [100, 16, 16, 1] and got_labels == labels.tolist()
    np.testing.assert_allclose(total, digits.astype("float64").sum(), rtol=1e-5)  # JAX's resize against TF's
    assert "numpy array" in load_reference_error
    assert "TF Serving export" in export_error and "needs TensorFlow" in export_error
