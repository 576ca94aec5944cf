import numpy as np
import pytest
import tensorflow as tf

from zoo import data
from zoo.data import toy


def test_ring_has_eight_distinct_modes_on_the_unit_circle():
    modes = toy.ring_modes()
    assert modes.shape == (8, 2) and modes.dtype == np.float32
    # linspace(0, 2 pi, 8) would repeat mode 0 as its last point and give 7 modes.
    assert len(np.unique(modes.round(5), axis=0)) == 8
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(modes[0], [1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(modes[2], [0.0, 1.0], atol=1e-6)
    # Neighbours are 2 sin(pi / 8) apart, every one of them.
    gaps = np.linalg.norm(modes - np.roll(modes, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * np.sin(np.pi / 8), atol=1e-6)


def test_ring_radius_and_count():
    modes = toy.ring_modes(num_modes=3, radius=2.5)
    assert modes.shape == (3, 2)
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 2.5, atol=1e-6)


def test_grid_is_the_cartesian_product():
    modes = toy.grid_modes()
    assert modes.shape == (25, 2) and modes.dtype == np.float32
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(row) for row in modes.tolist()} == expected
    assert toy.grid_modes((0, 1)).tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_named_distributions_follow_pacgan_table_1():
    ring, grid = data.TOY_DISTRIBUTIONS["ring"], data.TOY_DISTRIBUTIONS["grid"]
    assert ring["sigma"] == 0.01 and ring["modes"].shape == (8, 2)
    assert grid["sigma"] == 0.05 and grid["modes"].shape == (25, 2)
    modes, sigma = data.toy_distribution("ring")
    assert sigma == 0.01 and modes is ring["modes"]
    with pytest.raises(ValueError):
        modes[0, 0] = 5.0  # read-only: the benchmark cannot be moved by accident


def test_sample_mixture_stays_near_the_modes_and_uses_them_all():
    modes = toy.ring_modes()
    points = toy.sample_mixture(modes, 0.01, 4000, seed=0)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    distances = np.linalg.norm(points[:, None] - modes[None], axis=-1)
    nearest = distances.argmin(axis=1)
    # Half-distance between neighbours is 0.38 = 38 sigma: no point strays that far.
    assert distances.min(axis=1).max() < 0.1
    counts = np.bincount(nearest, minlength=8)
    assert counts.min() > 400  # 500 expected per mode
    # The noise is isotropic with the requested sigma.
    residual = points - modes[nearest]
    np.testing.assert_allclose(residual.std(axis=0), 0.01, rtol=0.05)
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=1e-3)


def test_sample_mixture_is_reproducible_with_a_seed():
    a = toy.sample_mixture(toy.grid_modes(), 0.05, 100, seed=7)
    b = toy.sample_mixture(toy.grid_modes(), 0.05, 100, seed=7)
    c = toy.sample_mixture(toy.grid_modes(), 0.05, 100, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_toy_dataset_batches_one_pass_and_repeats():
    ds = data.toy_dataset("grid", num_samples=1050, batch_size=100, seed=0)
    assert ds.element_spec == tf.TensorSpec((100, 2), tf.float32)
    batches = [b.numpy() for b in ds]
    assert len(batches) == 10  # the last 50 points are dropped
    assert len(list(ds.repeat(3))) == 30
    points = np.concatenate(batches)
    modes = data.TOY_DISTRIBUTIONS["grid"]["modes"]
    assert np.linalg.norm(points[:, None] - modes[None], axis=-1).min(axis=1).max() < 0.5


def test_toy_dataset_is_shuffled_each_pass_over_one_fixed_draw():
    ds = data.toy_dataset("ring", num_samples=200, batch_size=50, seed=3)
    first = np.concatenate([b.numpy() for b in ds])
    second = np.concatenate([b.numpy() for b in ds])
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(second, axis=0))
    unshuffled = toy.sample_mixture(toy.ring_modes(), 0.01, 200, seed=3)
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(unshuffled, axis=0))


def test_toy_dataset_from_modes_and_sigma_override():
    ds = data.toy_dataset([[10.0, 0.0, 0.0]], num_samples=64, batch_size=32, seed=0, sigma=0.5)
    assert ds.element_spec.shape == (32, 3)
    points = np.concatenate([b.numpy() for b in ds])
    assert abs(points[:, 0].mean() - 10.0) < 0.3
    wide = np.concatenate(list(data.toy_dataset("ring", num_samples=500, batch_size=500, seed=0, sigma=0.1)))
    narrow = np.concatenate(list(data.toy_dataset("ring", num_samples=500, batch_size=500, seed=0)))
    def spread(points):
        return np.abs(np.linalg.norm(points, axis=1) - 1).mean()

    assert spread(wide) > 5 * spread(narrow)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: toy.ring_modes(0), "num_modes"),
        (lambda: toy.ring_modes(8, radius=-1.0), "radius"),
        (lambda: toy.grid_modes(()), "values"),
        (lambda: toy.grid_modes((1, 1)), "distinct"),
        (lambda: toy.sample_mixture(np.zeros(2), 0.1, 10), "modes must be a 2-D"),
        (lambda: toy.sample_mixture([[np.nan, 0.0]], 0.1, 10), "NaN"),
        (lambda: toy.sample_mixture(toy.ring_modes(), 0.0, 10), "sigma"),
        (lambda: toy.sample_mixture(toy.ring_modes(), 0.1, 0), "num_samples"),
        (lambda: data.toy_dataset("spiral"), "unknown toy distribution 'spiral'; known: grid, ring"),
        (lambda: data.toy_dataset(toy.ring_modes()), "sigma is required"),
        (lambda: data.toy_dataset("ring", num_samples=10, batch_size=20), "batch_size must be at most"),
        (lambda: data.toy_dataset("ring", batch_size=0), "batch_size"),
        (lambda: data.toy_dataset("ring", seed=1.5), "seed"),
        (lambda: data.toy_dataset("ring", sigma=-0.1), "sigma"),
    ],
)
def test_bad_arguments_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_toy_data_is_not_a_registered_image_dataset():
    assert "ring" not in data.DATASETS and "grid" not in data.DATASETS
