import json

import numpy as np
import pytest

from zoo import metrics


class PixelExtractor:
    """Features: the mean of each image row; probabilities: one-hot of the top-left pixel."""

    name = "pixels"

    def __init__(self, num_classes=3):
        self.num_classes = num_classes

    def features(self, images, batch_size=256):
        return np.asarray(images, np.float64).mean(axis=(2, 3))

    def probabilities(self, images, batch_size=256):
        classes = np.clip(np.round(np.asarray(images)[:, 0, 0, 0] * 10), 0, self.num_classes - 1)
        return np.eye(self.num_classes)[classes.astype(int)]


class ConditionalModel:
    """A zoo-like conditional model that writes label / 10 into its images' top-left pixel."""

    conditional = True
    num_classes = 3
    latent_dim = 4

    def __init__(self, obey=True):
        self.obey = obey
        self.calls = []

    def generate(self, num_or_z, labels=None):
        z = np.asarray(num_or_z, np.float32)
        self.calls.append((z, labels))
        images = np.tile(z[:, :1, None, None], (1, 8, 8, 1)) * 0.1
        images[:, 0, 0, 0] = (labels if self.obey else np.zeros_like(labels)) / 10
        return images


def _reference(n=60, seed=0):
    return np.random.default_rng(seed).normal(scale=0.1, size=(n, 8, 8, 1)).astype(np.float32)


@pytest.mark.parametrize("n,name", [(2000, "fid2k_full"), (10_000, "fid10k_full"), (1500, "fid1500_full"), (64, "fid64_full")])
def test_protocol_names(n, name):
    """StyleGAN's names: the count, and `_full` when the whole reference set was used."""
    assert metrics.metric_name("fid", n, full_reference=True) == name
    assert metrics.metric_name("fid", n, full_reference=False) == name[: -len("_full")]
    assert metrics.metric_name("is", n) == "is" + name[len("fid"): -len("_full")]


def test_a_callable_generator_scored_against_itself():
    reference = _reference()
    results = metrics.evaluate_generator(
        lambda n: reference[:n], reference, PixelExtractor(), metrics=("fid", "kid", "is")
    )
    assert list(results) == ["fid60_full", "kid60_full", "kid60_full_std", "is60", "is60_std"]
    assert results["fid60_full"] == pytest.approx(0.0, abs=1e-9)
    assert all(np.isfinite(v) for v in results.values())
    shifted = metrics.evaluate_generator(lambda n: reference[:n] + 0.5, reference, PixelExtractor())
    assert shifted["fid60_full"] == pytest.approx(8 * 0.25, rel=1e-6)  # 8 row means each moved by 0.5


def test_precision_recall_density_coverage_and_statistics_reference():
    reference = _reference(80)
    fake = reference[:40] * 1.5 + 0.05
    extractor = PixelExtractor()
    results = metrics.evaluate_generator(lambda n: fake[:n], reference, extractor, metrics=("fid", "pr", "dc"),
                                         num_samples=40, full_reference=False)
    real_f, fake_f = extractor.features(reference), extractor.features(fake)
    assert list(results) == ["fid40", "pr40_3_precision", "pr40_3_recall", "dc40_5_density", "dc40_5_coverage"]
    assert (results["pr40_3_precision"], results["pr40_3_recall"]) == metrics.precision_recall(real_f, fake_f, 3)
    assert (results["dc40_5_density"], results["dc40_5_coverage"]) == metrics.density_coverage(real_f, fake_f, 5)
    assert 0.0 < results["pr40_3_recall"] < 1.0
    # FID against (mu, sigma) alone, as from a statistics file, is FID against the features.
    from_statistics = metrics.evaluate.evaluate_with_reference(
        lambda n: fake[:n], None, None, extractor, ("fid", "is"), num_samples=40,
        reference_statistics=metrics.gaussian_statistics(real_f),
    )
    big = metrics.evaluate_generator(lambda n: np.resize(fake, (n, 8, 8, 1)), reference, extractor,
                                     metrics=("pr",), num_samples=2000)
    assert list(big) == ["pr2k3_full_precision", "pr2k3_full_recall"]  # StyleGAN2-ADA's pr50k3_full
    assert from_statistics["fid40_full"] == pytest.approx(results["fid40"], rel=1e-12)
    with pytest.raises(ValueError, match=r"metrics kid need the reference images' features \(a statistics file "
                       "holds only the mean and covariance that FID needs\)"):
        metrics.evaluate.evaluate_with_reference(lambda n: fake[:n], None, None, extractor, ("fid", "kid"),
                                                 num_samples=40, reference_statistics=(np.zeros(8), np.eye(8)))


def test_conditional_models_get_labels_and_accuracy():
    reference = _reference()
    model = ConditionalModel()
    results = metrics.evaluate_generator(
        model, reference, PixelExtractor(), metrics=("accuracy",), num_samples=30
    )
    assert results == {"accuracy30": 1.0, "worst_label_accuracy30": 1.0}
    z, labels = model.calls[-1]
    assert z.shape == (30, 4)
    assert np.bincount(labels).tolist() == [10, 10, 10]  # balanced without reference labels

    ignoring = metrics.evaluate_generator(
        ConditionalModel(obey=False), reference, PixelExtractor(), metrics=("accuracy",), num_samples=30
    )
    assert ignoring["accuracy30"] == pytest.approx(1 / 3) and ignoring["worst_label_accuracy30"] == 0.0


def test_labels_follow_the_reference_frequencies():
    reference_labels = np.array([0] * 45 + [2] * 15)
    model = ConditionalModel()
    metrics.evaluate_generator(model, _reference(), PixelExtractor(), reference_labels=reference_labels)
    counts = np.bincount(model.calls[-1][1], minlength=3)
    assert counts.tolist() == [45, 0, 15]  # as many samples as reference images: the same labels


def test_same_seed_same_samples():
    model = ConditionalModel()
    first = metrics.evaluate_generator(model, _reference(), PixelExtractor(), ("fid", "kid"), seed=3)
    second = metrics.evaluate_generator(model, _reference(), PixelExtractor(), ("fid", "kid"), seed=3)
    assert first == second
    np.testing.assert_array_equal(model.calls[0][0], model.calls[1][0])


def test_errors():
    reference = _reference()
    with pytest.raises(ValueError, match="metrics must be a non-empty list of fid, kid, pr, dc, is, accuracy, ppl_w, ppl_z, ls_w, ls_z"):
        metrics.evaluate_generator(lambda n: reference[:n], reference, PixelExtractor(), metrics=("fidd",))
    with pytest.raises(ValueError, match="needs a conditional model"):
        metrics.evaluate_generator(lambda n: reference[:n], reference, PixelExtractor(), metrics=("accuracy",))
    with pytest.raises(ValueError, match="classifier of the model's 3 classes"):
        metrics.evaluate_generator(ConditionalModel(), reference, PixelExtractor(10), metrics=("accuracy",))
    with pytest.raises(ValueError, match=r"generated images are \(4, 4, 1\)"):
        metrics.evaluate_generator(lambda n: reference[:n, :4, :4], reference, PixelExtractor())
    with pytest.raises(ValueError, match="num_samples must be an int >= 2"):
        metrics.evaluate_generator(lambda n: reference[:n], reference, PixelExtractor(), num_samples=1)


def test_append_jsonl_and_results(tmp_path):
    path = tmp_path / "new" / "folder" / "results.jsonl"
    metrics.append_jsonl(path, {"metric": "fid2k_full", "value": np.float32(1.5)})
    records = metrics.append_results(
        path, {"fid60_full": 1.25, "kid60_full": 0.5, "kid60_full_std": 0.1}, num_samples=60,
        reference="digits", extractor="pixels", model="m", epoch=3,
    )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[1:] == records and len(lines) == 3
    assert list(lines[0]) == ["time", "metric", "value"] and lines[0]["value"] == 1.5
    assert lines[0]["time"].endswith("+00:00")
    assert lines[2] == {
        "time": lines[2]["time"], "metric": "kid60_full", "value": 0.5, "std": 0.1, "num_samples": 60,
        "reference": "digits", "extractor": "pixels", "model": "m", "epoch": 3,
    }


def test_a_conditional_gan_and_its_export_score_alike(tmp_path):
    from zoo import export, models, nets

    shape = (16, 16, 1)
    cgan = models.ConditionalGAN(
        nets.dcgan_generator(8, shape, base_filters=4, num_classes=4),
        nets.dcgan_discriminator(shape, base_filters=4, num_classes=4),
        num_classes=4,
    )
    extractor = metrics.ClassifierExtractor(nets.domain_classifier(shape, num_classes=4, feature_dim=8, filters=(4,)))
    reference = np.tanh(np.random.default_rng(0).normal(size=(24, *shape))).astype(np.float32)
    options = dict(metrics=("fid", "kid", "accuracy"), reference_labels=np.arange(24) % 4, seed=5)
    direct = metrics.evaluate_generator(cgan, reference, extractor, **options)
    exported = metrics.load_generator(export.export_generator(cgan, "c", base_path=str(tmp_path)))
    served = metrics.evaluate_generator(exported, reference, extractor, **options)
    assert list(direct) == ["fid24_full", "kid24_full", "kid24_full_std", "accuracy24", "worst_label_accuracy24"]
    assert served == pytest.approx(direct, rel=1e-4, abs=1e-6)


# -- perceptual path length (StyleGAN checkpoints) ----------------------------------------


def tiny_style_gan():
    import keras

    from zoo import models, nets

    keras.utils.set_random_seed(0)
    mapping = nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8)
    discriminator = nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
    return models.StyleGAN(mapping, synthesis, discriminator, seed=0)


def tiny_classifier():
    from zoo import nets

    return metrics.ClassifierExtractor(nets.domain_classifier((16, 16, 1), num_classes=4, feature_dim=8, filters=(4,)))


def test_ppl_metrics_are_the_perceptual_path_length_of_the_ema_nets():
    model, extractor = tiny_style_gan(), tiny_classifier()
    reference = np.tanh(np.random.default_rng(0).normal(size=(12, 16, 16, 1))).astype(np.float32)
    results = metrics.evaluate_generator(
        model, reference, extractor, ("fid", "ppl_w", "ppl_z"), num_samples=12, batch_size=8, seed=3
    )
    assert list(results) == ["fid12_full", "ppl_w_end12", "ppl_z_end12"]
    direct = metrics.perceptual_path_length(
        model.ema_mapping, model.ema_synthesis, metrics.ppl_features_classifier(extractor), space="w",
        num_samples=12, batch_size=8, seed=3,
    )["ppl_w_end"]
    assert results["ppl_w_end12"] == pytest.approx(direct, rel=1e-6) and direct > 0
    assert results["ppl_z_end12"] > 0 and results["ppl_z_end12"] != results["ppl_w_end12"]
    # PPL alone needs no reference features (nor images); the same seed gives the same value.
    alone = metrics.evaluate.evaluate_with_reference(
        model, (16, 16, 1), None, extractor, ("ppl_z",), num_samples=12, batch_size=8, seed=3
    )
    assert alone == {"ppl_z_end12": results["ppl_z_end12"]}


def test_ppl_needs_a_mapping_and_measures_with_lpips_without_a_domain_classifier(monkeypatch):
    reference = np.zeros((4, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="metric 'ppl_w' needs a style-based generator.*ConditionalModel"):
        metrics.evaluate_generator(ConditionalModel(), reference, tiny_classifier(), ("fid", "ppl_w"))
    with pytest.raises(ValueError, match="metric 'ls_z' needs a domain classifier as extractor.*'pixels'"):
        metrics.evaluate_generator(tiny_style_gan(), reference, PixelExtractor(), ("ls_z",))
    # Another extractor: PPL's distances are LPIPS's, the paper's (here a stand-in: no VGG16 download offline).
    chosen = []

    def lpips_stand_in():
        chosen.append("lpips")
        return metrics.ppl_features_classifier(tiny_classifier())

    monkeypatch.setattr(metrics.ppl, "ppl_features_lpips", lpips_stand_in)
    results = metrics.evaluate_generator(tiny_style_gan(), reference, PixelExtractor(), ("ppl_z",), num_samples=4)
    assert chosen == ["lpips"] and results["ppl_z_end4"] > 0
