import numpy as np
import pytest
import tensorflow as tf

from zoo import metrics
from zoo.metrics.ssim import MS_SSIM_WEIGHTS


def _images(size, n=4, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    # Smooth images: a few random blobs, in [-1, 1].
    y, x = np.mgrid[0:size, 0:size] / size
    images = np.zeros((n, size, size, channels))
    for i in range(n):
        for _ in range(3):
            cy, cx, w = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.2)
            images[i] += np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / w**2)[..., None]
    return (np.clip(images, 0, 1) * 2 - 1).astype(np.float32)


def _noisy(images, level, seed=1):
    noise = np.random.default_rng(seed).normal(size=images.shape)
    return np.clip(images + level * noise, -1, 1).astype(np.float32)


@pytest.mark.parametrize("fn", [metrics.ssim, metrics.ms_ssim])
@pytest.mark.parametrize("size", [28, 32])
def test_one_for_identical_images_and_lower_with_more_noise(fn, size):
    images = _images(size)
    same = fn(images, images)
    assert same.shape == (4,) and same.dtype == np.float64
    np.testing.assert_allclose(same, 1.0, atol=1e-5)
    scores = [fn(images, _noisy(images, level)).mean() for level in (0.05, 0.2, 0.5)]
    assert 1.0 > scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize("fn,tf_fn", [(metrics.ssim, tf.image.ssim), (metrics.ms_ssim, None)])
def test_signed_images_score_like_the_same_images_stored_as_uint8(fn, tf_fn):
    rng = np.random.default_rng(0)
    uint8 = np.clip(rng.normal(128, 40, size=(3, 32, 32, 3)), 0, 255).astype(np.uint8)
    other = np.clip(uint8 + rng.normal(0, 25, size=uint8.shape), 0, 255).astype(np.uint8)
    if tf_fn is None:
        weights = np.array([0.0448, 0.2856])
        expected = tf.image.ssim_multiscale(uint8, other, 255, power_factors=tuple(weights / weights.sum()))
    else:
        expected = tf_fn(uint8, other, max_val=255)
    signed = [x.astype(np.float32) / 127.5 - 1.0 for x in (uint8, other)]
    np.testing.assert_allclose(fn(*signed), expected.numpy(), rtol=1e-4)
    # A dark image against a bright one: low, but not negative as SSIM on [-1, 1] would be.
    dark, bright = np.full((1, 32, 32, 1), -0.6, np.float32), np.full((1, 32, 32, 1), 0.6, np.float32)
    assert 0.0 < metrics.ssim(dark, bright)[0] < 0.5


def test_ms_ssim_scales_fit_small_images():
    images, noisy = _images(28), _noisy(_images(28), 0.2)
    # 28 px: two scales with the 11 px window (28, 14); three with a 7 px one (28, 14, 7).
    weights = np.array([0.0448, 0.2856])
    expected = tf.image.ssim_multiscale(images + 1, noisy + 1, 2.0, power_factors=tuple(weights / weights.sum()))
    np.testing.assert_allclose(metrics.ms_ssim(images, noisy), expected.numpy(), rtol=1e-5)
    assert metrics.ms_ssim(images, noisy, filter_size=7).shape == (4,)
    with pytest.raises(ValueError, match="needs at least 49 px"):
        metrics.ms_ssim(images, noisy, filter_size=7, num_scales=4)


def test_too_small_images_name_the_minimum_size():
    images = _images(16)
    with pytest.raises(ValueError, match="needs at least 21 px"):
        metrics.ms_ssim(images, images)
    with pytest.raises(ValueError, match="needs at least 11x11"):
        metrics.ssim(images[:, :8, :8], images[:, :8, :8])
    assert metrics.ms_ssim(images, images, filter_size=5).shape == (4,)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        metrics.ssim(_images(28), _images(32))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        metrics.ssim(np.zeros((28, 28)), np.zeros((28, 28)))


@pytest.mark.parametrize(
    "shape,filter_size,filter_sigma,num_scales",
    [
        ((3, 33, 45, 2), 5, 1.0, 4),
        ((2, 28, 28, 3), 7, 1.5, 3),
        ((2, 161, 170, 1), 11, 1.5, 5),
        ((3, 27, 31, 1), 3, 0.8, 4),
    ],
)
def test_numpy_ssim_equals_tf_image_on_odd_sizes_channels_and_windows(shape, filter_size, filter_sigma, num_scales):
    # zoo computes SSIM in NumPy (no TensorFlow on JAX); tf.image is the reference it follows.
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, shape).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.3, shape), -1, 1).astype(np.float32)
    options = {"filter_size": filter_size, "filter_sigma": filter_sigma}
    expected = tf.image.ssim(a + 1.0, b + 1.0, 2.0, **options).numpy()
    np.testing.assert_allclose(metrics.ssim(a, b, batch_size=2, **options), expected, atol=2e-6)
    weights = np.asarray(MS_SSIM_WEIGHTS[:num_scales], np.float32)
    weights = tuple(float(w) for w in weights / weights.sum())
    expected = tf.image.ssim_multiscale(a + 1.0, b + 1.0, 2.0, power_factors=weights, **options).numpy()
    np.testing.assert_allclose(metrics.ms_ssim(a, b, num_scales=num_scales, **options), expected, atol=1e-5)
