import os

import numpy as np
import pytest
from scipy.stats import norm

from zoo import latent, plotting

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _decode(codes):
    """Codes -> 8x8 grey images whose value is tanh of the code's sum: order is checkable."""
    codes = np.asarray(codes, dtype="float64")
    values = np.tanh(codes.reshape(len(codes), -1).sum(axis=1))
    return np.broadcast_to(values[:, None, None, None], (len(codes), 8, 8, 1)).astype("float32")


def _assert_png_of_grid(path, images, num_rows):
    """The PNG is the grid of `images` as `plotting.save_grid` scales it (largest side >= 512 px)."""
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    height, width = plotting.make_grid(images, num_rows=num_rows).shape[:2]
    scale = max(1.0, 512 / max(height, width))
    png = matplotlib.image.imread(path)
    assert abs(png.shape[0] - height * scale) <= 1
    assert abs(png.shape[1] - width * scale) <= 1


# -- interpolation -----------------------------------------------------------------


def test_lerp_midpoint_endpoints_and_shapes():
    z0, z1 = np.array([0.0, 2.0, -4.0], "float32"), np.array([2.0, 2.0, 4.0], "float32")
    np.testing.assert_array_equal(latent.lerp(z0, z1, 0.5), [1.0, 2.0, 0.0])
    path = latent.lerp(z0, z1, [0.0, 0.25, 1.0])
    assert path.shape == (3, 3) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[-1], z1)
    np.testing.assert_allclose(path[1], [0.5, 2.0, -2.0])
    batch = np.stack([z0, z1])
    assert latent.lerp(batch, batch[::-1], np.linspace(0, 1, 5)).shape == (5, 2, 3)


def test_slerp_keeps_the_norm_of_equal_norm_codes_and_hits_the_endpoints():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 4, 64))
    z *= 7.0 / np.linalg.norm(z, axis=-1, keepdims=True)
    t = np.linspace(0.0, 1.0, 9)
    path = latent.slerp(z[0], z[1], t)
    assert path.shape == (9, 4, 64) and path.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(path, axis=-1), 7.0, rtol=1e-12)
    np.testing.assert_array_equal(path[0], z[0])
    np.testing.assert_array_equal(path[-1], z[1])
    # lerp cuts through the inside of the sphere
    assert np.linalg.norm(latent.lerp(z[0], z[1], 0.5), axis=-1).max() < 6.9


def test_slerp_of_orthogonal_codes_matches_the_hand_value():
    e0, e1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(latent.slerp(e0, e1, 0.5), [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-15)
    np.testing.assert_allclose(latent.slerp(e0, e1, 1 / 3), [np.cos(np.pi / 6), np.sin(np.pi / 6)], atol=1e-15)


@pytest.mark.parametrize(
    "z1_of_z0",
    [
        lambda z: 2.0 * z,  # parallel
        lambda z: -z,  # anti-parallel
        lambda z: z * (1 + 1e-12) + 1e-13,  # nearly parallel
        lambda z: np.zeros_like(z),  # zero code
    ],
)
def test_slerp_of_degenerate_codes_is_finite_and_falls_back_to_lerp(z1_of_z0):
    z0 = np.array([[0.3, -1.2, 2.0, 0.5], [1.0, 1.0, 1.0, 1.0]])
    z1 = z1_of_z0(z0)
    t = np.linspace(0.0, 1.0, 7)
    path = latent.slerp(z0, z1, t)
    assert np.isfinite(path).all()
    np.testing.assert_allclose(path, latent.lerp(z0, z1, t), atol=1e-9)


def test_interpolate_gives_steps_codes_by_either_method():
    rng = np.random.default_rng(1)
    z0, z1 = rng.standard_normal((2, 16)).astype("float32")
    spherical = latent.interpolate(z0, z1, steps=6)
    linear = latent.interpolate(z0, z1, steps=6, method="lerp")
    assert spherical.shape == linear.shape == (6, 16)
    np.testing.assert_array_equal(spherical[[0, -1]], linear[[0, -1]])
    assert not np.allclose(spherical[2], linear[2])
    np.testing.assert_allclose(linear[2], z0 + 0.4 * (z1 - z0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
@pytest.mark.parametrize("code_shape", [(5,), (3, 4)])
def test_interpolation_grid_has_the_corners_at_its_corners(method, code_shape):
    corners = np.random.default_rng(2).standard_normal((4,) + code_shape)
    grid = latent.interpolation_grid(corners, rows=4, cols=6, method=method)
    assert grid.shape == (24,) + code_shape
    np.testing.assert_allclose(grid[[0, 5, 18, 23]], corners, atol=1e-12)
    # the left column runs from the top-left to the bottom-left corner
    np.testing.assert_allclose(grid[6], getattr(latent, method)(corners[0], corners[2], 1 / 3), atol=1e-12)
    if method == "lerp":
        square = latent.interpolation_grid(corners, rows=3, cols=3, method="lerp")
        np.testing.assert_allclose(square[4], corners.mean(axis=0), atol=1e-12)


# -- latent arithmetic -------------------------------------------------------------


def test_attribute_vector_recovers_a_planted_offset():
    rng = np.random.default_rng(3)
    offset = rng.standard_normal(8)
    base = rng.standard_normal((50, 8))
    codes = np.concatenate([base, base + offset])
    mask = np.arange(100) >= 50
    np.testing.assert_allclose(latent.attribute_vector(codes, mask), offset, atol=1e-12)
    # shuffled, with independent codes on each side: the offset within sampling error
    codes = rng.standard_normal((4000, 8))
    mask = rng.random(4000) < 0.3
    codes[mask] += offset
    np.testing.assert_allclose(latent.attribute_vector(codes, mask), offset, atol=0.15)


def test_class_vector_matches_a_hand_computation():
    codes = np.array([[0.0, 1.0], [2.0, 0.0], [4.0, 4.0], [2.0, 3.0], [6.0, 2.0]])
    labels = np.array([0, 1, 2, 0, 1])
    # label 1: mean (4, 1); others (rows 0, 2, 3): mean (2, 8/3)
    np.testing.assert_allclose(latent.class_vector(codes, labels, positive=1), [2.0, 1.0 - 8 / 3])
    # label 1 minus label 2: (4, 1) - (4, 4)
    np.testing.assert_allclose(latent.class_vector(codes, labels, positive=1, negative=2), [0.0, -3.0])
    # labels {0, 2}: mean (2, 8/3); label 1: mean (4, 1)
    np.testing.assert_allclose(latent.class_vector(codes, labels, positive=[0, 2], negative=[1]), [-2.0, 5 / 3])
    names = np.array(["a", "b", "c", "a", "b"])
    np.testing.assert_allclose(latent.class_vector(codes, names, positive="b", negative="c"), [0.0, -3.0])


def test_apply_vector_shapes_and_values():
    codes = np.arange(6.0).reshape(2, 3)
    vector = np.array([1.0, 0.0, -1.0])
    shifted = latent.apply_vector(codes, vector, [0.0, 2.0])
    assert shifted.shape == (2, 2, 3)
    np.testing.assert_array_equal(shifted[0], codes)
    np.testing.assert_array_equal(shifted[1], codes + [2.0, 0.0, -2.0])
    np.testing.assert_array_equal(latent.apply_vector(codes, vector, 1.0), codes + vector)
    assert latent.apply_vector(codes[0], vector, [1.0, 2.0, 3.0]).shape == (3, 3)


# -- 2-D latent spaces -------------------------------------------------------------


def test_manifold_codes_are_a_symmetric_gaussian_grid_in_image_order():
    codes = latent.manifold_codes(n=5)
    assert codes.shape == (25, 2) and codes.dtype == np.float32
    np.testing.assert_allclose(codes[::-1], -codes, atol=1e-6)
    values = norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9])
    np.testing.assert_allclose(codes[:5, 0], values, atol=1e-6)  # z1 grows along the top row
    np.testing.assert_allclose(codes[::5, 1], values[::-1], atol=1e-6)  # z2 falls down the rows
    assert np.all(codes[:5, 1] == codes[0, 1])
    linear = latent.manifold_codes(n=3, limits=(-1, 1), method="linear")
    np.testing.assert_array_equal(linear[[0, 4, 8]], [[-1, 1], [0, 0], [1, -1]])
    wider = latent.manifold_codes(n=4, limits=(0.01, 0.99))
    np.testing.assert_allclose(wider[0], [norm.ppf(0.01), norm.ppf(0.99)], rtol=1e-6)


def test_save_interpolation_strips_and_grid_write_pngs(tmp_path):
    rng = np.random.default_rng(4)
    z0, z1 = rng.standard_normal((2, 3, 4))
    path = tmp_path / "plots" / "interpolation.png"
    images = latent.save_interpolation(_decode, z0, z1, path, steps=7, method="lerp")
    assert images.shape == (21, 8, 8, 1)
    expected = _decode(latent.interpolate(z0, z1, 7, method="lerp").swapaxes(0, 1).reshape(21, 4))
    np.testing.assert_allclose(images, expected, rtol=1e-6)  # decode gets float32 codes
    _assert_png_of_grid(path, images, num_rows=3)
    single = latent.save_interpolation(_decode, z0[0], z1[0], tmp_path / "one.png", steps=5)
    assert single.shape == (5, 8, 8, 1)
    _assert_png_of_grid(tmp_path / "one.png", single, num_rows=1)

    corners = rng.standard_normal((4, 4))
    grid = latent.save_interpolation_grid(_decode, corners, tmp_path / "grid.png", rows=3, cols=5)
    np.testing.assert_allclose(grid, _decode(latent.interpolation_grid(corners, 3, 5)), rtol=1e-6)
    _assert_png_of_grid(tmp_path / "grid.png", grid, num_rows=3)


def test_save_arithmetic_puts_codes_in_rows_and_scales_in_columns(tmp_path):
    codes = np.array([[0.1, 0.0], [-0.2, 0.1]])
    vector = np.array([0.3, 0.2])
    images = latent.save_arithmetic(_decode, codes, vector, tmp_path / "smile.png", scales=(0, 1, 2))
    assert images.shape == (6, 8, 8, 1)
    for row in range(2):
        for column, scale in enumerate((0, 1, 2)):
            expected = np.tanh((codes[row] + scale * vector).sum())
            np.testing.assert_allclose(images[row * 3 + column, 0, 0, 0], expected, rtol=1e-6)
    _assert_png_of_grid(tmp_path / "smile.png", images, num_rows=2)


def test_save_manifold_writes_an_n_by_n_png(tmp_path):
    images = latent.save_manifold(_decode, tmp_path / "manifold.png", n=6)
    assert images.shape == (36, 8, 8, 1)
    np.testing.assert_allclose(images, _decode(latent.manifold_codes(6)))
    _assert_png_of_grid(tmp_path / "manifold.png", images, num_rows=6)


def test_save_latent_scatter_colours_by_label_with_a_legend(tmp_path):
    import matplotlib.image

    rng = np.random.default_rng(5)
    codes = np.concatenate([rng.normal(-2, 0.3, (300, 2)), rng.normal(2, 0.3, (300, 2))])
    labels = np.repeat([0, 1], 300)
    path = tmp_path / "latent" / "scatter.png"
    assert latent.save_latent_scatter(codes, labels, path, title="z", class_names=["zero", "one"]) == str(path)
    assert os.listdir(path.parent) == ["scatter.png"]
    image = matplotlib.image.imread(path)[..., :3]
    # tab10 blue (31, 119, 180) and orange (255, 127, 14), alpha-blended on white
    blue = (image[..., 2] > image[..., 0] + 0.2) & (image[..., 2] > 0.6)
    orange = (image[..., 0] > 0.9) & (image[..., 1] > 0.45) & (image[..., 1] < 0.75) & (image[..., 2] < 0.45)
    assert blue.sum() > 100 and orange.sum() > 100
    many = latent.save_latent_scatter(rng.standard_normal((100, 2)), np.arange(100) % 25, tmp_path / "many.png")
    assert os.path.getsize(many) > 1000


# -- bad arguments -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: latent.lerp(np.zeros(3), np.zeros(4), 0.5), "same shape"),
        (lambda: latent.slerp(np.zeros(3), np.ones(3), np.zeros((2, 2))), "t must be a number or a 1-D"),
        (lambda: latent.interpolate(np.zeros(3), np.ones(3), steps=1), "steps must be an int >= 2"),
        (lambda: latent.interpolate(np.zeros(3), np.ones(3), method="cubic"), "method must be"),
        (lambda: latent.interpolation_grid(np.zeros((3, 5))), r"corners must have shape \(4"),
        (lambda: latent.interpolation_grid(np.zeros((4, 5)), rows=1), "rows must be"),
        (lambda: latent.attribute_vector(np.zeros((4, 2)), np.array([True, True, True, True])), "negative side is empty"),
        (lambda: latent.attribute_vector(np.zeros((4, 2)), np.zeros(4, bool)), "positive side is empty"),
        (lambda: latent.attribute_vector(np.zeros((4, 2)), np.array([1, 0, 1, 0])), "mask must be boolean"),
        (lambda: latent.attribute_vector(np.zeros((4, 2)), np.ones(3, bool)), r"mask must have shape \(4,\)"),
        (lambda: latent.class_vector(np.zeros((3, 2)), [0, 1, 1], positive=5), "no codes with label 5"),
        (lambda: latent.class_vector(np.zeros((3, 2)), [0, 1, 1], positive=[0, 1], negative=1), "share the labels"),
        (lambda: latent.apply_vector(np.zeros((3, 2)), np.zeros(3), [1.0]), "vector must have the shape"),
        (lambda: latent.manifold_codes(n=1), "n must be an int >= 2"),
        (lambda: latent.manifold_codes(limits=(0.0, 0.9)), r"inside \(0, 1\)"),
        (lambda: latent.manifold_codes(method="uniform"), "method must be"),
        (lambda: latent.save_manifold(lambda z: np.zeros((3, 8, 8, 1)), "x.png", n=2), "one image per code|for 4 codes"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_save_latent_scatter_refuses_codes_that_are_not_2d(tmp_path):
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 2\), a 2-D latent space"):
        latent.save_latent_scatter(np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        latent.save_latent_scatter(np.zeros((5, 2)), np.zeros(4), tmp_path / "x.png")
    assert not os.listdir(tmp_path)
