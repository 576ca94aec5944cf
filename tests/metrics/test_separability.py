import math

import keras
import numpy as np
import pytest
from keras import layers

from zoo import metrics, nets, projection
from zoo.layers import NoiseInjection
from zoo.metrics import separability
from zoo.metrics.separability import conditional_entropy, linear_separability, separability_of

LATENT_DIM = 8
W_DIM = 16  # = 4 x 4 pixels: the stand-in synthesis shows w as the image


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _codes(n=2000, dim=LATENT_DIM, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim))


def _unit(seed=1, dim=LATENT_DIM):
    v = np.random.default_rng(seed).standard_normal(dim)
    return v / np.linalg.norm(v)


# -- conditional entropy ---------------------------------------------------------------------


def test_conditional_entropy_has_the_textbook_values():
    # X = 0 leaves Y a fair coin (1 bit, half the time); X = 1 fixes it.
    assert conditional_entropy([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(0.5, abs=1e-12)
    assert conditional_entropy([0, 1, 0, 1], [0, 1, 0, 1]) == 0.0  # Y is a function of X
    assert conditional_entropy([1, 1, 1, 1], [0, 1, 0, 1]) == pytest.approx(1.0)  # X says nothing
    # One error in four on one side: p(X=0) = 1/2, H(Y | X=0) = H(1/4) bits.
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    x = [0, 0, 0, 0, 1, 1, 1, 1]
    y = [0, 0, 0, 1, 1, 1, 1, 1]
    assert conditional_entropy(x, y) == pytest.approx(h / 2, rel=1e-12)
    with pytest.raises(ValueError, match="one length"):
        conditional_entropy([0, 1], [0, 1, 1])


# -- the metric on codes ---------------------------------------------------------------------


def test_a_linear_attribute_is_separable():
    z = _codes()
    result = linear_separability(z, _sigmoid(4.0 * z @ _unit())[:, None])
    assert result["conditional_entropies"].shape == (1,)
    assert result["conditional_entropies"][0] < 0.02
    assert result["separability"] == pytest.approx(1.0, abs=0.02)
    assert result["num_kept"] == 1000


@pytest.mark.parametrize(
    "attribute",
    [
        lambda z: _sigmoid(4.0 * (np.abs(z[:, 0]) - 0.674)),  # a slab |z_1| < median: two hyperplanes
        lambda z: _sigmoid(4.0 * z[:, 0] * z[:, 1]),  # sign(z_1 z_2): XOR
    ],
    ids=["slab", "xor"],
)
def test_attributes_that_no_hyperplane_splits_have_large_entropy(attribute):
    z = _codes()
    result = linear_separability(z, attribute(z)[:, None])
    # The labels are balanced (H(Y) near 1 bit) and a hyperplane recovers little of it.
    assert result["conditional_entropies"][0] > 0.8
    assert result["separability"] > 1.7


def test_several_attributes_add_their_entropies():
    z = _codes()
    columns = [_sigmoid(4.0 * z @ _unit()), _sigmoid(4.0 * z[:, 0] * z[:, 1]), _sigmoid(4.0 * z[:, 2] * z[:, 3])]
    result = linear_separability(z, np.stack(columns, axis=1))
    alone = [linear_separability(z, c[:, None])["conditional_entropies"][0] for c in columns]
    np.testing.assert_allclose(result["conditional_entropies"], alone)
    assert result["separability"] == pytest.approx(2.0 ** sum(alone))
    # The paper's exp of the sum, with the entropies in nats: the same number.
    assert result["separability"] == pytest.approx(math.exp(sum(alone) * math.log(2.0)))
    assert 1.0 <= result["separability"] <= 2.0**3


def test_keep_fraction_drops_the_least_confident_samples():
    # A linear attribute scored by a noisy classifier: labels near the hyperplane are coin flips.
    z = _codes()
    noise = np.random.default_rng(5).standard_normal(len(z))
    p = _sigmoid(4.0 * z @ _unit() + 2.0 * noise)[:, None]
    entropy = {k: linear_separability(z, p, keep_fraction=k)["conditional_entropies"][0] for k in (1.0, 0.5, 0.25)}
    assert entropy[1.0] > 0.4 and entropy[0.5] < 0.25 and entropy[0.25] < 0.02
    assert entropy[1.0] > entropy[0.5] + 0.3
    assert linear_separability(z, p, keep_fraction=0.1)["num_kept"] == 200
    assert linear_separability(z[:7], p[:7], keep_fraction=0.5)["num_kept"] == 4  # 3.5 rounds up
    assert linear_separability(z[:7], p[:7], keep_fraction=0.01)["num_kept"] == 1


def test_kept_samples_are_the_most_confident_ones():
    # 1-d codes: the confident samples are split at 0; the unconfident ones sit on the wrong side.
    latents = np.array([[-2.0], [-1.5], [-1.0], [1.0], [1.5], [2.0], [-0.5], [0.5]])
    p = np.array([[0.01], [0.02], [0.05], [0.95], [0.98], [0.99], [0.55], [0.45]])
    assert linear_separability(latents, p, keep_fraction=0.75)["separability"] == 1.0
    assert linear_separability(latents, p, keep_fraction=1.0)["conditional_entropies"][0] > 0.3


def test_one_label_only_has_no_entropy():
    z = _codes(n=50)
    result = linear_separability(z, np.full((50, 2), 0.9))
    assert result["separability"] == 1.0 and np.all(result["conditional_entropies"] == 0.0)


def test_linear_separability_rejects_bad_arguments():
    z, p = _codes(n=10), np.full((10, 1), 0.7)
    cases = [
        (dict(latents=z[:, 0]), "latents must be"),
        (dict(latents=z[:1], attribute_probabilities=p[:1]), "latents must be"),
        (dict(latents=np.where(np.eye(10, LATENT_DIM) > 0, np.nan, z)), "latents has NaN"),
        (dict(attribute_probabilities=p[:, 0]), "attribute_probabilities must be"),
        (dict(attribute_probabilities=p[:9]), "attribute_probabilities must be"),
        (dict(attribute_probabilities=np.zeros((10, 0))), "attribute_probabilities must be"),
        (dict(attribute_probabilities=p + 0.5), r"in \[0, 1\]"),
        (dict(attribute_probabilities=np.full((10, 1), np.nan)), r"in \[0, 1\]"),
        (dict(keep_fraction=0.0), "keep_fraction"),
        (dict(keep_fraction=1.5), "keep_fraction"),
        (dict(keep_fraction=True), "keep_fraction"),
        (dict(seed=-1), "seed"),
    ]
    for kwargs, message in cases:
        arguments = dict(latents=z, attribute_probabilities=p) | kwargs
        with pytest.raises(ValueError, match=message):
            linear_separability(**arguments)


# -- generators ------------------------------------------------------------------------------


def _tiny_stylegan2(seed=0):
    keras.utils.set_random_seed(seed)
    mapping = nets.style_mapping(W_DIM, W_DIM, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=W_DIM, channels=1, fmap_base=64, fmap_max=16)
    for layer in nets.noise_layers(synthesis):
        layer.strength.assign(0.5)
    return mapping, synthesis


def _image_attributes(images):
    """Two made-up attributes of an image: bright overall, brighter on the left than the right."""
    images = np.asarray(images, "float64")
    half = images.shape[2] // 2
    mean = images.mean(axis=(1, 2, 3))
    tilt = images[:, :, :half].mean(axis=(1, 2, 3)) - images[:, :, half:].mean(axis=(1, 2, 3))
    return np.stack([_sigmoid(20.0 * (mean - np.median(mean))), _sigmoid(20.0 * tilt)], axis=1)


@pytest.mark.parametrize("space", ["w", "z"])
def test_separability_of_tiny_stylegan2_nets(space):
    mapping, synthesis = _tiny_stylegan2()
    noise = nets.noise_layers(synthesis)
    const = [layer.noise_const.numpy().copy() for layer in noise]
    options = dict(space=space, num_samples=240, batch_size=64, return_entropies=True)
    scores, entropies = separability_of(mapping, synthesis, _image_attributes, **options)
    assert list(scores) == [f"ls_{space}"] and isinstance(scores[f"ls_{space}"], float)
    assert entropies.shape == (2,) and np.all((entropies >= 0) & (entropies <= 1))
    assert scores[f"ls_{space}"] == pytest.approx(2.0 ** entropies.sum())
    assert 1.0 <= scores[f"ls_{space}"] <= 4.0
    # Seeded: the same codes and noise give the same number, the net's noise variables untouched.
    assert separability_of(mapping, synthesis, _image_attributes, **options)[0] == scores
    assert all(float(layer.noise_mode.numpy()) == 0.0 for layer in noise)
    for layer, before in zip(noise, const):
        np.testing.assert_array_equal(layer.noise_const.numpy(), before)


def _folding_mapping():
    """w = relu(A z) with w_1 = relu(z_1), w_2 = relu(-z_1): |z_1| = w_1 + w_2 is linear in W only."""
    z = keras.Input((W_DIM,))
    dense = layers.Dense(W_DIM, activation="relu", use_bias=False, name="fold")
    mapping = keras.Model(z, dense(z), name="folding_mapping")
    kernel = np.eye(W_DIM, dtype="float32")
    kernel[0, 1] = -1.0  # z_1 feeds w_2 with a minus sign; w_2 ignores z_2
    kernel[1, 1] = 0.0
    dense.kernel.assign(kernel)
    return mapping


def _pixel_synthesis():
    """images = reshape(ws[:, 0]) (4 x 4), plus a (silent) noise layer."""
    ws = keras.Input((2, W_DIM))
    noise = NoiseInjection(seed=3, name="noise")
    synthesis = keras.Model(ws, noise(layers.Reshape((4, 4, 1))(ws[:, 0])), name="pixel_synthesis")
    noise.strength.assign(0.0)
    return synthesis


def test_a_folding_mapping_makes_w_separable_and_z_not():
    def far_from_zero(images):  # |z_1| above its median, read off the pixels w_1 + w_2
        pixels = np.asarray(images).reshape(len(images), -1)
        return _sigmoid(8.0 * (pixels[:, 0] + pixels[:, 1] - 0.674))[:, None]

    mapping, synthesis = _folding_mapping(), _pixel_synthesis()
    options = dict(num_samples=2000, batch_size=500)
    in_w = separability_of(mapping, synthesis, far_from_zero, space="w", **options)["ls_w"]
    in_z = separability_of(mapping, synthesis, far_from_zero, space="z", **options)["ls_z"]
    assert in_w == pytest.approx(1.0, abs=0.02)
    assert in_z > 1.7


def test_attributes_from_classifier_are_its_one_vs_rest_probabilities():
    keras.utils.set_random_seed(0)
    classifier = nets.domain_classifier((16, 16, 1), num_classes=3, feature_dim=8, filters=(4,))
    extractor = metrics.ClassifierExtractor(classifier, name="classifier:digits")
    attributes = separability.attributes_from_classifier(extractor, batch_size=4)
    images = np.random.default_rng(0).uniform(-1, 1, (6, 16, 16, 1)).astype("float32")
    p = attributes(images)
    assert p.shape == (6, 3) and attributes.name == "classifier:digits"
    np.testing.assert_allclose(p, extractor.probabilities(images))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="probabilities"):
        separability.attributes_from_classifier(classifier)
    # An extractor goes in as it is: it is wrapped the same way.
    mapping, synthesis = _tiny_stylegan2()
    options = dict(num_samples=40, batch_size=20, return_entropies=True)
    by_extractor = separability_of(mapping, synthesis, extractor, **options)
    by_function = separability_of(mapping, synthesis, attributes, **options)
    assert by_extractor[0] == by_function[0] and by_extractor[1].shape == (3,)


def test_separability_of_rejects_bad_arguments():
    mapping, synthesis = _folding_mapping(), _pixel_synthesis()
    cases = [
        (dict(space="x"), "space"),
        (dict(num_samples=1), "num_samples"),
        (dict(batch_size=0), "batch_size"),
        (dict(keep_fraction=0.0), "keep_fraction"),
        (dict(seed=1.5), "seed"),
        (dict(return_entropies=1), "return_entropies"),
    ]
    attribute = lambda images: np.full((len(images), 1), 0.7)  # noqa: E731
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            separability_of(mapping, synthesis, attribute, **(dict(num_samples=4) | kwargs))
    with pytest.raises(ValueError, match="attribute_fn must be a callable"):
        separability_of(mapping, synthesis, "male", num_samples=4)
    with pytest.raises(ValueError, match=r"probabilities \(batch, A\)"):
        separability_of(mapping, synthesis, lambda images: np.full(len(images), 0.7), num_samples=4)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        separability_of(mapping, synthesis, lambda images: np.full((len(images), 1), 2.0), num_samples=4)
    with pytest.raises(ValueError, match="ws"):
        separability_of(mapping, mapping, attribute, num_samples=4)
    assert separability.separability_name("z") == "ls_z"
    assert projection.noise_layers(synthesis)  # the stand-in has a noise layer to exercise
