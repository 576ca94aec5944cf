import numpy as np
import pytest
import scipy.linalg

from zoo import metrics


def _random_gaussian(rng, dim):
    a = rng.normal(size=(dim, dim))
    return rng.normal(size=dim), a @ a.T / dim + 0.1 * np.eye(dim)


def _closed_form(mu1, sigma1, mu2, sigma2):
    """The textbook formula with scipy's general matrix square root of sigma1 @ sigma2."""
    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) - 2.0 * np.trace(root).real)


@pytest.mark.parametrize("dim", [1, 3, 16, 64])
def test_statistics_match_the_sqrtm_closed_form(dim):
    rng = np.random.default_rng(dim)
    mu1, sigma1 = _random_gaussian(rng, dim)
    mu2, sigma2 = _random_gaussian(rng, dim)
    expected = _closed_form(mu1, sigma1, mu2, sigma2)
    assert metrics.frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_one_dimensional_gaussians_have_the_textbook_distance():
    # d^2 = (m1 - m2)^2 + (s1 - s2)^2 for N(m1, s1^2) and N(m2, s2^2).
    value = metrics.frechet_distance_from_statistics([1.0], [[4.0]], [-2.0], [[9.0]])
    assert value == pytest.approx(3.0**2 + (2.0 - 3.0) ** 2, rel=1e-12)


def test_samples_of_known_gaussians_approach_the_closed_form():
    rng = np.random.default_rng(0)
    dim, n = 4, 50_000
    mu1, sigma1 = _random_gaussian(rng, dim)
    mu2, sigma2 = _random_gaussian(rng, dim)
    a = rng.multivariate_normal(mu1, sigma1, size=n)
    b = rng.multivariate_normal(mu2, sigma2, size=n)
    mu_a, sigma_a = metrics.gaussian_statistics(a)
    np.testing.assert_allclose(mu_a, mu1, atol=0.05)
    np.testing.assert_allclose(sigma_a, sigma1, atol=0.05)
    expected = _closed_form(mu1, sigma1, mu2, sigma2)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_zero_for_identical_statistics_even_when_singular():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(500, 8))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-9)
    # Fewer samples than dimensions: a rank-deficient covariance, where sqrtm struggles.
    few = rng.normal(size=(10, 64))
    assert metrics.frechet_distance(few, few[::-1]) == pytest.approx(0.0, abs=1e-8)


def test_symmetric():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 6)), rng.gamma(2.0, size=(200, 6))
    assert metrics.frechet_distance(a, b) == pytest.approx(metrics.frechet_distance(b, a), rel=1e-10)


def test_grows_with_the_mean_shift():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(400, 5))
    b = rng.normal(size=(400, 5))
    shifts = [0.0, 0.25, 0.5, 1.0, 2.0]
    values = [metrics.frechet_distance(a, b + s) for s in shifts]
    assert all(x < y for x, y in zip(values, values[1:]))
    # A pure translation leaves the covariances alone: the distance is |shift|^2 exactly.
    assert metrics.frechet_distance(a, a + 0.5) == pytest.approx(5 * 0.25, rel=1e-9)


def test_statistics_are_float64_unbiased():
    features = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]], dtype=np.float32)
    mu, sigma = metrics.gaussian_statistics(features)
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, [[4.0, 7.0], [7.0, 13.0]])


@pytest.mark.parametrize(
    "a,b,match",
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), "same feature dimension"),
        (np.zeros((1, 3)), np.zeros((5, 3)), "features_a needs at least 2 samples"),
        (np.zeros((5, 3)), np.zeros(5), "features_b must be a 2-D array"),
        (np.full((5, 3), np.nan), np.zeros((5, 3)), "NaN"),
    ],
)
def test_bad_features_are_rejected(a, b, match):
    with pytest.raises(ValueError, match=match):
        metrics.frechet_distance(a, b)


def test_bad_statistics_are_rejected():
    with pytest.raises(ValueError, match="sigma2 must be"):
        metrics.frechet_distance_from_statistics(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="mu1 and mu2"):
        metrics.frechet_distance_from_statistics(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def _two_feature_sets(dim=64):
    rng = np.random.default_rng(0)
    real = rng.normal(size=(500, dim)) @ rng.normal(scale=0.3, size=(dim, dim))
    fake = 0.8 * rng.standard_t(5, size=(400, dim)) @ rng.normal(scale=0.3, size=(dim, dim)) + 0.2
    return real, fake


def test_fid_from_statistics_files_equals_pytorch_fid_and_clean_fid(torch_references, tmp_path):
    """zoo's files read by pytorch-fid, and its symmetric-eigenvalue trace against their sqrtm."""
    real, fake = _two_feature_sets()
    stats = [str(tmp_path / "real.npz"), str(tmp_path / "fake.npz")]
    for path, features in zip(stats, (real, fake)):
        metrics.save_statistics(path, *metrics.gaussian_statistics(features), extractor="test", num_images=len(features))
    mu1, sigma1, info = metrics.load_statistics(stats[0])
    mu2, sigma2, _ = metrics.load_statistics(stats[1])
    assert info == {"extractor": "test", "num_images": "500"}
    ours = metrics.frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2)
    assert ours == pytest.approx(metrics.frechet_distance(real, fake), rel=1e-12)
    reference = torch_references("frechet", mu1=mu1, sigma1=sigma1, mu2=mu2, sigma2=sigma2,
                                 stats1=np.array(stats[0]), stats2=np.array(stats[1]))
    assert ours > 1.0
    for name in ("pytorch_fid", "clean_fid", "pytorch_fid_files"):
        assert ours == pytest.approx(float(reference[name]), rel=1e-6), name


def test_statistics_files_of_other_tools_load(tmp_path):
    """pytorch-fid's --save-stats writes `np.savez_compressed(path, mu=..., sigma=...)`."""
    mu, sigma = metrics.gaussian_statistics(_two_feature_sets(dim=8)[0])
    np.savez_compressed(tmp_path / "pytorch_fid.npz", mu=mu.astype(np.float32), sigma=sigma)
    loaded_mu, loaded_sigma, info = metrics.load_statistics(tmp_path / "pytorch_fid.npz")
    np.testing.assert_allclose(loaded_mu, mu, rtol=1e-6)
    np.testing.assert_array_equal(loaded_sigma, sigma)
    assert loaded_mu.dtype == np.float64 and info == {}


def test_statistics_file_errors(tmp_path):
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="statistics files end in .npz; got 'stats.npy'"):
        metrics.save_statistics("stats.npy", mu, sigma)
    with pytest.raises(ValueError, match=r"mu must be \(D,\) and sigma \(D, D\); got \(3,\) and \(2, 2\)"):
        metrics.save_statistics(tmp_path / "s.npz", mu, np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        metrics.save_statistics(tmp_path / "s.npz", mu, np.full((3, 3), np.nan))
    assert not (tmp_path / "s.npz").exists()  # nothing half-written
    with pytest.raises(FileNotFoundError, match="no statistics file at"):
        metrics.load_statistics(tmp_path / "missing.npz")
    np.savez(tmp_path / "features.npz", features=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"has no mu or sigma: a statistics file holds arrays mu and sigma \(it has "
                       r"\['features'\]\)"):
        metrics.load_statistics(tmp_path / "features.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="is not a .npz statistics file"):
        metrics.load_statistics(tmp_path / "text.npz")
