import numpy as np
import pytest
import tensorflow as tf

from zoo.metrics import colourfulness, psnr


def test_grey_images_have_no_colourfulness_and_saturated_ones_much():
    grey = np.repeat(np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)), 3, axis=-1)
    np.testing.assert_allclose(colourfulness(grey), 0.0, atol=1e-9)
    red = np.zeros((1, 4, 4, 3))
    red[..., 0], red[..., 1:] = 1.0, -1.0  # (255, 0, 0): rg = 255, yb = 127.5, no spread
    np.testing.assert_allclose(colourfulness(red), 0.3 * np.hypot(255.0, 127.5))


def test_colourfulness_follows_the_formula_on_random_pixels():
    images = np.random.default_rng(1).uniform(-1, 1, (3, 5, 6, 3))
    pixels = (images + 1) * 127.5
    rg = pixels[..., 0] - pixels[..., 1]
    yb = 0.5 * (pixels[..., 0] + pixels[..., 1]) - pixels[..., 2]
    for i in range(3):
        expected = np.hypot(rg[i].std(), yb[i].std()) + 0.3 * np.hypot(rg[i].mean(), yb[i].mean())
        np.testing.assert_allclose(colourfulness(images)[i], expected)
    # Desaturating (mixing with grey) lowers it.
    grey = np.repeat(images.mean(axis=-1, keepdims=True), 3, axis=-1)
    assert np.all(colourfulness(0.5 * images + 0.5 * grey) < colourfulness(images))


def test_psnr_matches_tf_image_on_uint8():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype("uint8")
    expected = tf.image.psnr(a, b, max_val=255).numpy()
    np.testing.assert_allclose(psnr(a / 127.5 - 1, b / 127.5 - 1), expected, rtol=1e-5)
    assert np.all(np.isinf(psnr(a / 127.5 - 1, a / 127.5 - 1)))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="3 channels"):
        colourfulness(np.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((1, 4, 4, 3)), np.zeros((1, 4, 5, 3)))
    with pytest.raises(ValueError, match=r"\(n, height, width, channels\)"):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
