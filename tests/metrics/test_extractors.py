import keras
import numpy as np
import pytest

from zoo import files, metrics, nets


def test_weight_download_failures_say_what_to_use_offline(monkeypatch):
    """A failed download (Keras raises a bare Exception) becomes one message with the offline way."""
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(files.DownloadError, match=r"VGG16 weights 'imagenet' could not be loaded.*Offline, use a "
                       "domain classifier's features instead"):
        metrics.ppl_features_vgg16()


def test_classifier_extractor_uses_the_features_layer_and_softmax():
    model = nets.domain_classifier((8, 8, 1), num_classes=4, feature_dim=6, filters=(4,))
    extractor = metrics.ClassifierExtractor(model)
    images = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 1)).astype("float32")
    features, probabilities = extractor.features_and_probabilities(images, batch_size=2)
    embed = keras.Model(model.input, model.get_layer("features").output)
    np.testing.assert_allclose(features, embed.predict(images, verbose=0), rtol=1e-5, atol=1e-6)
    logits = model.predict(images, verbose=0)
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(keras.ops.softmax(logits)), rtol=1e-5)
    assert extractor.name == "classifier:domain_classifier" and extractor.num_classes == 4
    assert extractor.probabilities(images).shape == (5, 4)


def test_classifier_extractor_errors():
    model = nets.domain_classifier((8, 8, 1), filters=(4,))
    with pytest.raises(ValueError, match="no layer named 'embedding'"):
        metrics.ClassifierExtractor(model, feature_layer="embedding")
    with pytest.raises(ValueError, match=r"expects \(8, 8, 1\)"):
        metrics.ClassifierExtractor(model).features(np.zeros((2, 16, 16, 1), "float32"))
    with pytest.raises(ValueError, match="keras.Model"):
        metrics.ClassifierExtractor(lambda x: x)

