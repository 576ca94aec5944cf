"""ZOO_SMOKE caps training, projection and sample counts; unset, nothing changes."""

import numpy as np
import pytest

from zoo import smoke


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_unset_or_off_changes_nothing(monkeypatch, value):
    monkeypatch.setenv(smoke.ENV, value)
    assert not smoke.enabled()
    assert (smoke.epochs(25), smoke.steps(None), smoke.steps(500), smoke.samples(50_000)) == (25, None, 500, 50_000)


def test_set_caps_and_says_so_once(monkeypatch, capsys):
    monkeypatch.setenv(smoke.ENV, "1")
    monkeypatch.setattr(smoke, "_told", set())
    assert (smoke.epochs(25), smoke.epochs(1), smoke.steps(None), smoke.steps(1), smoke.samples(50_000)) == (
        smoke.EPOCHS, 1, smoke.STEPS, 1, smoke.SAMPLES)
    smoke.epochs(30)
    err = capsys.readouterr().err
    assert err.count("epochs capped at 1") == 1 and "not a trained model" in err
    assert smoke.epochs("25") == "25"  # not a number: the caller's checks refuse it


def _tiny_gan():
    import keras

    import zoo

    gan = zoo.models.GAN(zoo.nets.toy_generator(), zoo.nets.toy_discriminator())
    gan.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01))
    return gan


@pytest.mark.parametrize("smoke_on", [False, True])
def test_fit_and_train_are_capped_only_under_smoke(monkeypatch, tmp_path, smoke_on):
    import zoo

    monkeypatch.setenv(smoke.ENV, "1" if smoke_on else "")
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    gan = _tiny_gan()
    history = gan.fit(points, batch_size=8, epochs=3, verbose=0)  # 8 steps an epoch
    assert len(history.history["d_loss"]) == (1 if smoke_on else 3)
    assert int(gan.d_optimizer.iterations.numpy()) == (2 if smoke_on else 24)
    gan = _tiny_gan()
    history = zoo.training.train(gan, points_dataset(points), epochs=2, run_dir=str(tmp_path / "run"), verbose=0,
                                 samples=False)
    assert len(history.history["d_loss"]) == (1 if smoke_on else 2)
    assert int(gan.d_optimizer.iterations.numpy()) == (2 if smoke_on else 16)


def points_dataset(points):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(points).batch(8, drop_remainder=True)
