"""The domain classifier: its builder, training, saving, and the MNIST accuracy target."""

import os
import time

import keras
import numpy as np
import pytest

import zoo
from zoo import metrics, nets


@pytest.fixture(scope="module")
def digits():
    """scikit-learn digits at their native 8x8: 1,500 to train, 297 held out."""
    ds = zoo.data.load("digits", with_labels=True, image_size=None, batch_size=1797, shuffle=False)
    images, labels = (t.numpy() for t in next(iter(ds)))
    return images[:1500], labels[:1500], images[1500:], labels[1500:]


def test_builder_shapes_features_and_round_trip():
    model = nets.domain_classifier((16, 16, 1), num_classes=5, feature_dim=12, filters=(4, 8))
    images = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 1)).astype("float32")
    logits = model(images)
    assert tuple(logits.shape) == (3, 5) and logits.dtype == "float32"
    assert tuple(model.get_layer("features").output.shape) == (None, 12)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(images), logits, atol=1e-6)


def test_builder_parameter_count():
    # conv 9*32 + bn 4*32 + conv 9*32*64 + bn 4*64 + dense 7*7*64*128+128 + dense 128*10+10
    assert nets.domain_classifier().count_params() == 421_930
    # Tiny images stop pooling at 1 px: 2 -> 1 -> 1.
    assert nets.domain_classifier((2, 2, 3), filters=(4, 4, 4)).output_shape == (None, 10)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"feature_dim": 0}, "feature_dim"),
        ({"filters": ()}, "filters"),
        ({"dropout": 1.0}, "dropout"),
        ({"image_shape": (28, 28)}, "image_shape"),
    ],
)
def test_builder_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.domain_classifier(**kwargs)


def test_trains_on_digits_saves_and_reloads(digits, tmp_path):
    x, y, x_test, y_test = digits
    path = tmp_path / "models" / "digits.keras"
    model = metrics.train_domain_classifier(x, y, epochs=4, max_shift=1, save_path=path)
    predictions = model.predict(x_test, verbose=0)
    accuracy = float(np.mean(predictions.argmax(axis=1) == y_test))
    assert accuracy > 0.8, accuracy  # chance is 0.1
    assert sorted(os.listdir(path.parent)) == ["digits.keras"]  # no temporary file left
    reloaded = metrics.load_domain_classifier(path)
    np.testing.assert_allclose(reloaded.predict(x_test, verbose=0), predictions, atol=1e-5)
    assert reloaded.compiled and reloaded.loss is not None
    extractor = metrics.ClassifierExtractor.from_path(path)
    assert extractor.name == "classifier:digits" and extractor.num_classes == 10
    assert extractor.features(x_test[:5]).shape == (5, 128)


def test_training_arguments_are_checked(digits):
    x, y, _, _ = digits
    with pytest.raises(ValueError, match="labels must be ints"):
        metrics.train_domain_classifier(x, y[:10])
    with pytest.raises(ValueError, match="num_classes"):
        metrics.train_domain_classifier(x, y, num_classes=5)
    with pytest.raises(ValueError, match="save_path must end in .keras"):
        metrics.train_domain_classifier(x, y, save_path="model.h5")
    with pytest.raises(FileNotFoundError, match="no classifier file"):
        metrics.load_domain_classifier("missing.keras")


@pytest.mark.slow
def test_mnist_protocol_reaches_98_5_percent_on_the_held_out_2000(shared_mnist):
    folder = shared_mnist

    def split(name):
        ds = zoo.data.mnist_idx(folder, name, batch_size=10_000, shuffle=False, with_labels=True, drop_remainder=False)
        return (t.numpy() for t in next(iter(ds)))

    x, y = split("train")
    x_test, y_test = split("test")
    assert len(x) == 8000 and len(x_test) == 2000
    start = time.perf_counter()
    model = metrics.train_domain_classifier(x, y, seed=0)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test))
    print(f"domain classifier: {accuracy:.4f} on the held-out 2,000 after {seconds:.0f} s")
    assert accuracy >= 0.985


def test_numpy_batches_shift_like_the_tf_data_pipeline():
    # Off TensorFlow, train_domain_classifier's batches come from this PyDataset: every
    # image once per epoch, cropped from its mirror-padded copy (tf.pad SYMMETRIC, as the
    # tf.data pipeline), with fresh offsets in [0, 2 * max_shift] every epoch.
    import tensorflow as tf

    from zoo.metrics.classifier import _ShiftedBatches

    images = np.arange(40 * 6 * 5 * 2, dtype=np.float32).reshape(40, 6, 5, 2)
    labels = np.arange(40, dtype=np.int32)
    data = _ShiftedBatches(images, labels, batch_size=16, max_shift=2, seed=7)
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC").numpy()
    epochs = []
    for _ in range(3):
        assert len(data) == 3
        batches = [data[i] for i in range(len(data))]
        assert [len(b[0]) for b in batches] == [16, 16, 8]
        crops, order = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
        assert sorted(order) == list(range(40))
        offsets = []
        for crop, label in zip(crops, order):
            windows = {(y, x): padded[label, y : y + 6, x : x + 5] for y in range(5) for x in range(5)}
            found = [offset for offset, window in windows.items() if np.array_equal(window, crop)]
            assert len(found) == 1
            offsets.append(found[0])
        assert {y for y, _ in offsets} == set(range(5)) and {x for _, x in offsets} == set(range(5))
        epochs.append((order, offsets))
        data.on_epoch_end()
    assert not np.array_equal(epochs[0][0], epochs[1][0]) and epochs[0][1] != epochs[1][1]
    again = _ShiftedBatches(images, labels, batch_size=16, max_shift=2, seed=7)
    np.testing.assert_array_equal(again[1][0], _ShiftedBatches(images, labels, 16, 2, seed=7)[1][0])
    np.testing.assert_array_equal(again[0][1], epochs[0][0][:16])
    unshifted = _ShiftedBatches(images, labels, batch_size=40, max_shift=0, seed=7)[0]
    np.testing.assert_array_equal(unshifted[0], images[unshifted[1]])
