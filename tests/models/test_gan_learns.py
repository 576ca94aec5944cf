"""A DCGAN trained briefly on real digits produces digit-like, diverse samples.

Quality is judged in the digits' native 8x8 space against real data: the
distance from each sample to its nearest real digit, and the labels a
classifier trained on real digits gives the samples.
"""

import pytest
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from zoo import data, nets
from zoo.models import GAN


def to_8x8(images):
    """(n, 32, 32, 1) in [-1, 1] -> (n, 64) on the digits' 0..16 scale."""
    n = images.shape[0]
    small = images.reshape(n, 8, 4, 8, 4).mean(axis=(2, 4))
    return ((small + 1.0) * 8.0).reshape(n, 64)


def nearest_distance(samples, reference):
    d = ((samples[:, None, :] - reference[None, :, :]) ** 2).sum(-1)
    return float(np.sqrt(d.min(axis=1)).mean())


@pytest.mark.slow  # about a minute; benchmarks/mnist_cgan.py measures learning on real MNIST
def test_dcgan_learns_digits():
    digits = load_digits()
    train_x, held_out_x = digits.data[:1500], digits.data[1500:]
    classifier = LogisticRegression(max_iter=2000).fit(train_x, digits.target[:1500])
    floor = nearest_distance(held_out_x, train_x)

    keras.utils.set_random_seed(0)
    gan = GAN(
        nets.dcgan_generator(64, (32, 32, 1), base_filters=16),
        nets.dcgan_discriminator((32, 32, 1), base_filters=16),
        seed=0,
    )
    gan.compile()
    z = np.random.default_rng(1).standard_normal((300, 64)).astype("float32")
    before = nearest_distance(to_8x8(gan.generate(z)), train_x)
    g_before = [np.array(v) for v in gan.generator.trainable_variables]
    d_before = [np.array(v) for v in gan.discriminator.trainable_variables]

    gan.fit(data.load("digits", batch_size=32, seed=0), epochs=12, verbose=0)
    for before_value, variable in zip(g_before + d_before, gan.generator.trainable_variables + gan.discriminator.trainable_variables):
        assert not np.array_equal(before_value, np.array(variable))  # both players trained
    samples = to_8x8(gan.generate(z))
    after = nearest_distance(samples, train_x)
    labels = classifier.predict(samples)
    confidence = classifier.predict_proba(samples).max(axis=1)
    print(f"nearest real digit: init {before:.1f}, trained {after:.1f}, real held-out {floor:.1f}; "
          f"classes {np.bincount(labels, minlength=10)}, median confidence {np.median(confidence):.2f}")

    assert after < floor + 0.35 * (before - floor)  # closed most of the gap to real data
    assert len(np.unique(labels)) >= 8  # not collapsed onto a few digits
    assert np.bincount(labels, minlength=10).max() < 0.4 * len(labels)
    assert np.median(confidence) > 0.8
