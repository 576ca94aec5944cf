import keras
import numpy as np
import pytest
from keras import layers, ops
from scipy.stats import chi2

from zoo import latent, metrics, projection
from zoo.layers import NoiseInjection, PixelNormalization
from zoo.metrics import ppl

W_DIM = 16  # = 4 x 4 pixels: the linear stand-in's matrix is square


def _flatten(images):
    return ops.reshape(images, (ops.shape(images)[0], -1))


def _identity_mapping(latent_dim=W_DIM):
    z = keras.Input((latent_dim,))
    return keras.Model(z, layers.Identity()(z), name="identity_mapping")


def _nonlinear_mapping(latent_dim=W_DIM, seed=0):
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,))
    x = PixelNormalization()(z)
    x = layers.Dense(W_DIM, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(x)
    return keras.Model(z, layers.Dense(W_DIM)(x), name="nonlinear_mapping")


def _linear_synthesis(matrix, noise_strength=1.0):
    """images = reshape(ws[:, 0] @ matrix) + strength * noise: linear in w.

    A strong `NoiseInjection` makes the closed forms hold only if both images of a
    pair share their noise.
    """
    ws = keras.Input((2, W_DIM))
    dense = layers.Dense(W_DIM, use_bias=False, name="linear")
    x = layers.Reshape((4, 4, 1))(dense(ws[:, 0]))
    noise = NoiseInjection(seed=3, name="noise")
    synthesis = keras.Model(ws, noise(x), name="linear_synthesis")
    dense.kernel.assign(np.asarray(matrix, "float32"))
    noise.strength.assign(noise_strength)
    return synthesis


def _random_matrix(seed=1):
    return np.random.default_rng(seed).standard_normal((W_DIM, W_DIM)).astype("float32") / 4


# -- interpolation and filtering ---------------------------------------------------------


def test_unit_slerp_is_unit_norm_hits_the_endpoints_and_turns_uniformly():
    rng = np.random.default_rng(0)
    a, b = 3.0 * rng.standard_normal((2, 5, 16)).astype("float32")
    unit_a = a / np.linalg.norm(a, axis=1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(ppl.unit_slerp(a, b, np.zeros(5)), unit_a, atol=1e-6)
    np.testing.assert_allclose(ppl.unit_slerp(a, b, np.ones(5)), unit_b, atol=1e-5)
    t = np.linspace(0.1, 0.9, 5).astype("float32")
    path = np.asarray(ppl.unit_slerp(a, b, t[:, None]))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, rtol=1e-6)
    omega = np.arccos(np.sum(unit_a * unit_b, axis=1))
    np.testing.assert_allclose(np.arccos(np.clip(np.sum(path * unit_a, axis=1), -1, 1)), t * omega, atol=1e-4)
    # zoo.latent.slerp (numpy, a different formula) agrees on unit vectors.
    expected = np.stack([latent.slerp(unit_a[i], unit_b[i], float(t[i])) for i in range(5)])
    np.testing.assert_allclose(path, expected, atol=1e-5)
    parallel = np.asarray(ppl.unit_slerp(a[:1], 2 * a[:1], [0.5]))
    np.testing.assert_allclose(parallel, unit_a[:1], atol=1e-6)


def test_filtered_mean_drops_the_tails_only():
    mean, kept = ppl.filtered_mean(np.r_[np.arange(100.0), 1e6])
    # 1st percentile ("lower") of 0..99, 1e6 is 1; 99th ("higher") is 99.
    assert mean == 50.0 and kept.min() == 1.0 and kept.max() == 99.0 and len(kept) == 99
    mean, kept = ppl.filtered_mean(np.full(10, 3.0))
    assert mean == 3.0 and len(kept) == 10  # ties are all kept
    with pytest.raises(ValueError, match="finite"):
        ppl.filtered_mean([1.0, np.nan])
    with pytest.raises(ValueError, match="percentiles"):
        ppl.filtered_mean([1.0, 2.0], low=50, high=10)


def test_ppl_name():
    assert ppl.ppl_name("w", "end") == "ppl_w_end" and ppl.ppl_name("z", "full") == "ppl_z_full"
    with pytest.raises(ValueError, match="sampling"):
        ppl.ppl_name("w", "middle")


# -- closed forms on a linear synthesis -------------------------------------------------------


def test_w_space_distances_of_a_linear_synthesis_have_a_closed_form():
    mapping = _nonlinear_mapping()
    matrix = _random_matrix()
    synthesis = _linear_synthesis(matrix)
    rng = np.random.default_rng(2)
    z0, z1 = rng.standard_normal((2, 6, W_DIM)).astype("float32")
    t = rng.uniform(size=6).astype("float32")
    noise = [rng.standard_normal((1, 4, 4, 1))]
    distances = ppl.path_distances(mapping, synthesis, _flatten, z0, z1, t, space="w", noise=noise)
    w0, w1 = np.asarray(mapping(z0), "float64"), np.asarray(mapping(z1), "float64")
    # The image moves by epsilon * (w1 - w0) @ A whatever t (and the noise): d = |(w1 - w0) A|^2.
    expected = np.sum(((w1 - w0) @ matrix) ** 2, axis=1)
    np.testing.assert_allclose(distances, expected, rtol=2e-2)
    # With the net's own (random) noise the pair's images differ by the noise: no path length.
    own = ppl.path_distances(mapping, synthesis, _flatten, z0, z1, t, space="w")
    assert np.all(own > 1e3 * expected)


def test_z_space_distances_are_the_squared_angle_for_an_isometry():
    scale = 1.5
    synthesis = _linear_synthesis(scale * np.eye(W_DIM))
    rng = np.random.default_rng(3)
    z0, z1 = rng.standard_normal((2, 6, W_DIM)).astype("float32")
    t = rng.uniform(size=6).astype("float32")
    noise = [rng.standard_normal((1, 4, 4, 1))]
    distances = ppl.path_distances(_identity_mapping(), synthesis, _flatten, z0, z1, t, space="z", noise=noise)
    # On the unit sphere the code moves at the speed of the angle between z0 and z1.
    cosine = np.sum(z0 * z1, axis=1) / np.linalg.norm(z0, axis=1) / np.linalg.norm(z1, axis=1)
    np.testing.assert_allclose(distances, scale**2 * np.arccos(cosine) ** 2, rtol=2e-2)


@pytest.mark.parametrize("sampling", ["end", "full"])
def test_ppl_in_w_matches_the_truncated_chi_square_mean(sampling):
    # Identity mapping, images = c w: d = c^2 |w1 - w0|^2 = 2 c^2 X with X ~ chi2(16);
    # the filtered mean is 2 c^2 E[X | q1 <= X <= q99] = 2 c^2 k (F_{k+2}(q99) - F_{k+2}(q1)) / 0.98.
    scale, k, n = 0.5, W_DIM, 2000
    synthesis = _linear_synthesis(scale * np.eye(W_DIM))
    result, kept = metrics.perceptual_path_length(
        _identity_mapping(), synthesis, _flatten, num_samples=n, sampling=sampling, batch_size=250,
        return_distances=True,
    )
    low, high = chi2.ppf([0.01, 0.99], k)
    truncated = k * (chi2.cdf(high, k + 2) - chi2.cdf(low, k + 2)) / 0.98
    assert list(result) == [f"ppl_w_{sampling}"]
    assert result[f"ppl_w_{sampling}"] == pytest.approx(2 * scale**2 * truncated, rel=0.04)
    assert result[f"ppl_w_{sampling}"] == pytest.approx(kept.mean())
    assert n - 2 * n // 100 - 2 <= len(kept) <= n - 2 * n // 100 + 2


def test_z_and_w_differ_for_a_nonlinear_mapping_and_results_are_seeded():
    mapping = _nonlinear_mapping()
    synthesis = _linear_synthesis(_random_matrix())
    options = dict(num_samples=300, batch_size=100, sampling="full")
    in_w = metrics.perceptual_path_length(mapping, synthesis, _flatten, space="w", **options)["ppl_w_full"]
    in_z = metrics.perceptual_path_length(mapping, synthesis, _flatten, space="z", **options)["ppl_z_full"]
    assert abs(in_z - in_w) > 0.2 * min(in_z, in_w)
    again = metrics.perceptual_path_length(mapping, synthesis, _flatten, space="w", **options)["ppl_w_full"]
    assert again == in_w
    other = metrics.perceptual_path_length(mapping, synthesis, _flatten, space="w", seed=1, **options)
    assert other["ppl_w_full"] != in_w


def test_crop_restricts_the_distance_to_the_cropped_pixels():
    mapping = _nonlinear_mapping()
    matrix = _random_matrix()
    synthesis = _linear_synthesis(matrix)
    rng = np.random.default_rng(4)
    z0, z1 = rng.standard_normal((2, 4, W_DIM)).astype("float32")
    t = np.zeros(4, "float32")
    noise = [rng.standard_normal((1, 4, 4, 1))]
    distances = ppl.path_distances(mapping, synthesis, _flatten, z0, z1, t, crop=(1, 2, 2, 2), noise=noise)
    pixels = [4 * row + col for row in (1, 2) for col in (2, 3)]  # row-major 4x4 image
    step = np.asarray(mapping(z1), "float64") - np.asarray(mapping(z0), "float64")
    np.testing.assert_allclose(distances, np.sum((step @ matrix[:, pixels]) ** 2, axis=1), rtol=2e-2)
    with pytest.raises(ValueError, match="does not fit"):
        ppl.path_distances(mapping, synthesis, _flatten, z0, z1, t, crop=(3, 0, 2, 2))


def test_ppl_leaves_the_noise_variables_as_they_were():
    synthesis = _linear_synthesis(np.eye(W_DIM))
    layer = projection.noise_layers(synthesis)[0]
    const = layer.noise_const.numpy().copy()
    metrics.perceptual_path_length(_identity_mapping(), synthesis, _flatten, num_samples=20, batch_size=10)
    assert float(layer.noise_mode.numpy()) == 0.0
    np.testing.assert_array_equal(layer.noise_const.numpy(), const)


def test_ppl_rejects_bad_arguments():
    mapping, synthesis = _identity_mapping(), _linear_synthesis(np.eye(W_DIM))
    cases = [
        (dict(space="x"), "space"),
        (dict(sampling="middle"), "sampling"),
        (dict(epsilon=0.0), "epsilon"),
        (dict(num_samples=0), "num_samples"),
        (dict(batch_size=1.5), "batch_size"),
        (dict(crop=(0, 0, 0, 2)), "crop"),
        (dict(crop="centre"), "crop"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            metrics.perceptual_path_length(mapping, synthesis, _flatten, num_samples=kwargs.pop("num_samples", 4),
                                           **kwargs)
    with pytest.raises(ValueError, match="feature_fn must be a callable"):
        metrics.perceptual_path_length(mapping, synthesis, "vgg16", num_samples=4)
    with pytest.raises(ValueError, match=r"features \(batch, D\)"):
        metrics.perceptual_path_length(mapping, synthesis, lambda images: images, num_samples=4)
    with pytest.raises(ValueError, match="ws"):
        metrics.perceptual_path_length(mapping, mapping, _flatten, num_samples=4)


# -- feature functions -----------------------------------------------------------------------


def test_normalize_features_is_lpips_with_unit_weights():
    maps = np.array([[[[3.0, 4.0], [0.0, 2.0]]]], "float32")  # (1, 1, 2, 2): two positions
    vector = np.array([[1.0, 1.0, 1.0, 1.0]], "float32")
    features = np.asarray(ppl.normalize_features([maps, vector]))
    s = 1 / np.sqrt(2)  # one over the square root of the number of positions
    np.testing.assert_allclose(features, [[0.6 * s, 0.8 * s, 0.0, s, 0.5, 0.5, 0.5, 0.5]], rtol=1e-6)
    # The squared distance is the mean over positions of the unit vectors' squared distance.
    other = np.array([[[[4.0, 3.0], [0.0, 2.0]]]], "float32")
    d = np.sum((np.asarray(ppl.normalize_features(other)) - np.asarray(ppl.normalize_features(maps))) ** 2)
    assert d == pytest.approx(((0.6 - 0.8) ** 2 * 2 + 0.0) / 2, rel=1e-5)
    with pytest.raises(ValueError, match="feature outputs"):
        ppl.normalize_features(np.zeros((1, 2, 2), "float32"))


def test_vgg16_features_offline_structure():
    features = metrics.ppl_features_vgg16(weights=None, image_size=32)
    rng = np.random.default_rng(0)
    grey = rng.uniform(-1, 1, (2, 16, 16, 1)).astype("float32")
    out = np.asarray(features(grey))
    # 32 px: 32*32*64 + 16*16*128 + 8*8*256 + 4*4*512 + 2*2*512 values, each layer of unit norm.
    assert out.shape == (2, 65536 + 32768 + 16384 + 8192 + 2048)
    norms = np.sum(out**2, axis=1)
    assert np.all(norms <= 5.0 + 1e-3) and np.all(norms > 4.0)
    np.testing.assert_allclose(np.asarray(features(np.repeat(grey, 3, axis=-1))), out, atol=1e-5)
    assert features.name == "vgg16"
    with pytest.raises(ValueError, match="1 or 3 channels"):
        features(np.zeros((1, 16, 16, 2), "float32"))


def test_vgg16_download_failure_says_what_to_do(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: no network")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(RuntimeError, match="ppl_features_classifier") as error:
        metrics.ppl_features_vgg16()
    assert "URL fetch failure" in str(error.value)


def test_classifier_features_unit_norm_resize_and_extractor():
    from zoo import nets

    classifier = nets.domain_classifier((8, 8, 1), num_classes=3, feature_dim=6, filters=(4,))
    features = metrics.ppl_features_classifier(classifier)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    out = np.asarray(features(images))
    assert out.shape == (3, 6) and features.name == "classifier:domain_classifier"
    embed = keras.Model(classifier.input, classifier.get_layer("features").output)
    raw = np.asarray(embed(images, training=False))
    np.testing.assert_allclose(out, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-5)
    # Larger images are resized to the classifier's input (a constant image stays constant).
    flat = np.full((1, 16, 16, 1), 0.3, "float32")
    np.testing.assert_allclose(np.asarray(features(flat)), np.asarray(features(flat[:, :8, :8])), atol=1e-5)
    extractor = metrics.ClassifierExtractor(classifier, name="classifier:digits")
    wrapped = metrics.ppl_features_classifier(extractor, layers=["features", "logits"])
    assert wrapped.name == "classifier:digits" and np.asarray(wrapped(images)).shape == (3, 9)
    with pytest.raises(ValueError, match="channels"):
        features(np.zeros((1, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="lacks a layer"):
        metrics.ppl_features_classifier(classifier, layers="nope")
    with pytest.raises(ValueError, match="ClassifierExtractor or a keras.Model"):
        metrics.ppl_features_classifier(lambda x: x)


def test_ppl_accepts_a_classifier_extractor():
    from zoo import nets

    keras.utils.set_random_seed(0)
    classifier = nets.domain_classifier((4, 4, 1), num_classes=2, feature_dim=8, filters=(4,))
    extractor = metrics.ClassifierExtractor(classifier)
    synthesis = _linear_synthesis(np.eye(W_DIM))
    by_extractor = metrics.perceptual_path_length(_identity_mapping(), synthesis, extractor, num_samples=40,
                                                  batch_size=20)
    by_function = metrics.perceptual_path_length(
        _identity_mapping(), synthesis, metrics.ppl_features_classifier(classifier), num_samples=40, batch_size=20
    )
    assert by_extractor == by_function and by_extractor["ppl_w_end"] > 0


def test_ppl_on_zoo_stylegan2_nets_ignores_the_noise_mode():
    from zoo import nets

    keras.utils.set_random_seed(0)
    mapping = nets.style_mapping(16, 16, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=16, channels=1, fmap_base=64, fmap_max=16)
    noise = nets.noise_layers(synthesis)
    for layer in noise:
        layer.strength.assign(0.5)
    options = dict(num_samples=60, batch_size=30, sampling="full")
    random_mode = metrics.perceptual_path_length(mapping, synthesis, _flatten, **options)
    for layer in noise:
        layer.noise_mode.assign(1.0)
    const_mode = metrics.perceptual_path_length(mapping, synthesis, _flatten, **options)
    # Pairs share a fresh constant noise map either way: the layers' own noise never enters.
    assert random_mode == const_mode and 0 < random_mode["ppl_w_full"] < 1e5
    assert all(float(layer.noise_mode.numpy()) == 1.0 for layer in noise)
