"""Lab conversions against scikit-image, which they reimplement in TF ops."""

import warnings

import numpy as np
import pytest
import skimage.color
import skimage.data
import tensorflow as tf

from zoo.data import colour

# float64 runs the same formulas as scikit-image, so only summation order differs.
F64_ATOL = 1e-9
# float32 carries ~7 significant digits; Lab values reach 100 after about ten ops, so
# errors of a few 1e-5 Lab units are rounding (measured: 8.6e-5 on the photos).
F32_LAB_ATOL = 2e-4
# RGB is in [0, 1]: measured 5e-6 for float32.
F32_RGB_ATOL = 2e-5


def _random_rgb(shape=(3, 17, 19, 3), seed=0):
    return np.random.default_rng(seed).random(shape)


def _random_lab(n=5000, seed=0):
    """Lab values across the whole box, many outside the sRGB gamut (negative Z too)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(0, 100, n), rng.uniform(-128, 127, n), rng.uniform(-128, 127, n)], axis=-1)


def _skimage_lab2rgb(lab):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "negative Z values clipped", which we do silently
        return skimage.color.lab2rgb(lab)


def test_rgb_to_lab_matches_skimage_on_random_images():
    rgb = _random_rgb()
    expected = skimage.color.rgb2lab(rgb)
    np.testing.assert_allclose(colour.rgb_to_lab(rgb).numpy(), expected, rtol=0, atol=F64_ATOL)
    out32 = colour.rgb_to_lab(rgb.astype(np.float32)).numpy()
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, expected, rtol=0, atol=F32_LAB_ATOL)


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket"])
def test_rgb_to_lab_matches_skimage_on_photos(name):
    photo = getattr(skimage.data, name)()  # uint8
    expected = skimage.color.rgb2lab(photo)
    np.testing.assert_allclose(colour.rgb_to_lab(photo / 255.0).numpy(), expected, rtol=0, atol=F64_ATOL)
    # uint8 input is read as a full-range image, like skimage's img_as_float
    np.testing.assert_allclose(colour.rgb_to_lab(photo).numpy(), expected, rtol=0, atol=F32_LAB_ATOL)


def test_lab_to_rgb_matches_skimage_in_and_out_of_gamut():
    lab = _random_lab()
    expected = _skimage_lab2rgb(lab)
    np.testing.assert_allclose(colour.lab_to_rgb(lab).numpy(), expected, rtol=0, atol=F64_ATOL)
    np.testing.assert_allclose(colour.lab_to_rgb(lab.astype(np.float32)).numpy(), expected, rtol=0, atol=F32_RGB_ATOL)
    photo_lab = skimage.color.rgb2lab(skimage.data.coffee())
    np.testing.assert_allclose(colour.lab_to_rgb(photo_lab).numpy(), _skimage_lab2rgb(photo_lab), rtol=0, atol=F64_ATOL)


def test_round_trip():
    rgb = _random_rgb()
    np.testing.assert_allclose(colour.lab_to_rgb(colour.rgb_to_lab(rgb)).numpy(), rgb, rtol=0, atol=1e-12)
    rgb32 = rgb.astype(np.float32)
    np.testing.assert_allclose(colour.lab_to_rgb(colour.rgb_to_lab(rgb32)).numpy(), rgb32, rtol=0, atol=F32_RGB_ATOL)


def test_known_values():
    lab = colour.rgb_to_lab(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])).numpy()
    # The sRGB matrix rows sum to D65 only to 6 digits: white has |a|, |b| ~ 5e-3.
    np.testing.assert_allclose(lab[0], [100.0, 0.0, 0.0], atol=1e-2)
    np.testing.assert_array_equal(lab[1], [0.0, 0.0, 0.0])
    rgb = colour.lab_to_rgb(np.array([[100.0, 0.0, 0.0], [0.0, 0.0, 0.0]])).numpy()
    np.testing.assert_allclose(rgb, [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], atol=1e-4)
    red = colour.rgb_to_lab(np.array([1.0, 0.0, 0.0])).numpy()  # a single pixel works too
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.01)  # the textbook sRGB red


@pytest.mark.parametrize("shape", [(3,), (5, 3), (4, 6, 3), (2, 4, 6, 3), (2, 2, 4, 6, 3)])
def test_any_leading_dimensions(shape):
    rgb = _random_rgb(shape).astype(np.float32)
    lab = colour.rgb_to_lab(rgb)
    assert lab.shape == shape
    flat = colour.rgb_to_lab(rgb.reshape(-1, 3)).numpy().reshape(shape)
    np.testing.assert_array_equal(lab.numpy(), flat)
    assert colour.lab_to_rgb(lab).shape == shape


def test_inside_tf_function_with_unknown_shapes():
    spec = tf.TensorSpec((None, None, None, 3), tf.float32)
    to_lab = tf.function(colour.rgb_to_lab, input_signature=[spec])
    to_rgb = tf.function(colour.lab_to_rgb, input_signature=[spec])
    rgb = _random_rgb((2, 5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(to_lab(rgb).numpy(), colour.rgb_to_lab(rgb).numpy(), atol=1e-4)
    np.testing.assert_allclose(to_rgb(to_lab(rgb)).numpy(), rgb, atol=F32_RGB_ATOL)
    assert to_lab.get_concrete_function().structured_outputs.shape.as_list() == [None, None, None, 3]


def test_gradients_are_finite_at_the_edges():
    rgb = tf.constant([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.04, 0.5, 0.0031]], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(rgb)
        loss = tf.reduce_sum(colour.lab_to_rgb(colour.rgb_to_lab(rgb) * 0.9))
    assert np.isfinite(tape.gradient(loss, rgb).numpy()).all()


def test_dtypes():
    rgb = _random_rgb((2, 2, 3))
    assert colour.rgb_to_lab(rgb).dtype == tf.float64
    assert colour.rgb_to_lab(rgb.astype(np.float16)).dtype == tf.float32
    assert colour.rgb_to_lab((rgb * 255).astype(np.uint8)).dtype == tf.float32


@pytest.mark.parametrize("fn", [colour.rgb_to_lab, colour.lab_to_rgb, colour.rgb_to_model_lab])
def test_last_dimension_must_be_3(fn):
    with pytest.raises(ValueError, match=r"must have 3 channels in its last dimension; got shape \(2, 2, 4\)"):
        fn(np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="3 channels"):
        fn(np.float32(0.5))


# --- model ranges ---------------------------------------------------------------------


def test_model_lab_shapes_ranges_and_known_values():
    images = _random_rgb((2, 8, 8, 3)).astype(np.float32) * 2.0 - 1.0
    lightness, ab = colour.rgb_to_model_lab(images)
    assert lightness.shape == (2, 8, 8, 1) and ab.shape == (2, 8, 8, 2)
    assert lightness.dtype == tf.float32 and ab.dtype == tf.float32
    for x in (lightness, ab):
        assert -1.0 <= x.numpy().min() and x.numpy().max() <= 1.0
    lab = colour.rgb_to_lab((images + 1.0) / 2.0).numpy()
    np.testing.assert_allclose(lightness.numpy()[..., 0], lab[..., 0] / 50.0 - 1.0, atol=1e-6)
    np.testing.assert_allclose(ab.numpy(), lab[..., 1:] / 110.0, atol=1e-6)
    white_l, white_ab = colour.rgb_to_model_lab(np.ones((1, 3), np.float32))
    black_l, black_ab = colour.rgb_to_model_lab(-np.ones((1, 3), np.float32))
    np.testing.assert_allclose([white_l[0, 0], black_l[0, 0]], [1.0, -1.0], atol=1e-6)
    np.testing.assert_allclose(np.concatenate([white_ab, black_ab]), 0.0, atol=1e-4)


def test_ab_scale_holds_the_whole_srgb_gamut():
    levels = np.linspace(0.0, 1.0, 33)
    grid = np.stack(np.meshgrid(levels, levels, levels), axis=-1).reshape(-1, 3)
    ab = colour.rgb_to_lab(grid).numpy()[:, 1:]
    assert 0.9 < np.abs(ab).max() / colour.AB_SCALE < 1.0  # tight, and never clipped


def test_model_lab_round_trip():
    images = _random_rgb((2, 8, 8, 3)).astype(np.float32) * 2.0 - 1.0
    rgb = colour.model_lab_to_rgb(*colour.rgb_to_model_lab(images))
    assert rgb.shape == images.shape and rgb.dtype == tf.float32
    np.testing.assert_allclose(rgb.numpy(), images, atol=5e-5)


def test_model_lab_to_rgb_clips_net_outputs():
    rgb = colour.model_lab_to_rgb(tf.fill((1, 4, 4, 1), 3.0), tf.fill((1, 4, 4, 2), -5.0)).numpy()
    assert np.isfinite(rgb).all() and rgb.min() >= -1.0 and rgb.max() <= 1.0


def test_model_lab_bad_inputs():
    with pytest.raises(ValueError, match="lightness must have 1 channel in its last dimension"):
        colour.model_lab_to_rgb(tf.zeros((1, 4, 4, 3)), tf.zeros((1, 4, 4, 2)))
    with pytest.raises(ValueError, match="ab must have 2 channels in its last dimension"):
        colour.model_lab_to_rgb(tf.zeros((1, 4, 4, 1)), tf.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="images must be a float tensor; got dtype uint8"):
        colour.rgb_to_model_lab(np.zeros((4, 4, 3), np.uint8))


def test_rotate_hue_keeps_lightness_and_chroma_and_turns_the_hue():
    photo = skimage.data.astronaut()[::8, ::8] / 255.0
    images = tf.constant(np.stack([photo, photo[::-1], photo[:, ::-1]]) * 2.0 - 1.0, tf.float32)
    angles = [0.0, np.pi / 2, np.pi]
    turned = colour.rotate_hue(images, angles).numpy()
    np.testing.assert_allclose(turned[0], images[0].numpy(), atol=1e-5)
    for image, original, angle in zip(turned[1:], images.numpy()[1:], angles[1:]):
        lab = skimage.color.rgb2lab((image + 1.0) / 2.0)
        lab0 = skimage.color.rgb2lab((original + 1.0) / 2.0)
        chroma0 = np.hypot(lab0[..., 1], lab0[..., 2])
        # The hue of near-grey pixels is noise; turned colours outside the gamut are clipped.
        coloured = (chroma0 > 5) & np.all(np.abs(image) < 0.999, axis=-1)
        assert coloured.mean() > 0.2
        assert np.max(np.abs(lab[..., 0] - lab0[..., 0])[coloured]) < 1e-2
        assert np.max(np.abs(np.hypot(lab[..., 1], lab[..., 2]) - chroma0)[coloured]) < 1e-2
        turn = np.angle(np.exp(1j * (np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(lab0[..., 2], lab0[..., 1]))))
        np.testing.assert_allclose(np.mod(turn[coloured], 2 * np.pi), angle, atol=1e-2)
    # A half turn twice is the identity (up to gamut clipping).
    twice = colour.rotate_hue(colour.rotate_hue(images[1:2], np.pi), np.pi).numpy()
    assert np.median(np.abs(twice - images[1:2].numpy())) < 1e-4
    with pytest.raises(ValueError, match="3 channels"):
        colour.rotate_hue(tf.zeros((1, 4, 4, 1)), 0.0)
