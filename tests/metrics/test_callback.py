import json

import keras
import numpy as np
import tensorflow as tf

from zoo import metrics, models, nets


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.keys = []

    def on_epoch_end(self, epoch, logs=None):
        self.keys.append(sorted(logs))


def test_logs_fid_at_every_nth_and_the_last_epoch(tmp_path):
    shape = (8, 8, 1)
    gan = models.GAN(
        nets.mlp_generator(4, shape, hidden_units=(8,)), nets.mlp_discriminator(shape, hidden_units=(8,)), seed=0
    )
    gan.compile()
    rng = np.random.default_rng(0)
    reference = np.tanh(rng.normal(size=(32, *shape))).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(reference).batch(4)
    extractor = metrics.ClassifierExtractor(nets.domain_classifier(shape, feature_dim=6, filters=(4,)))
    callback = metrics.EvaluationCallback(
        extractor, reference, every_n_epochs=2, metrics=("fid", "kid"), num_samples=16,
        jsonl_path=str(tmp_path / "metrics.jsonl"),
    )
    recorder = Recorder()
    history = gan.fit(data, epochs=3, steps_per_epoch=2, callbacks=[callback, recorder], verbose=0)
    has_fid = ["fid16_full" in keys for keys in recorder.keys]
    assert has_fid == [False, True, True]  # epoch 2 (every 2nd) and epoch 3 (the last)
    assert len(history.history["fid16_full"]) == 2 and len(history.history["d_loss"]) == 3
    assert all(np.isfinite(history.history["kid16_full_std"]))
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["metric"], r["epoch"]) for r in records] == [("fid16_full", 2), ("kid16_full", 2), ("fid16_full", 3), ("kid16_full", 3)]
    assert records[0]["extractor"] == "classifier:domain_classifier" and records[0]["model"] == gan.name


def test_accuracy_on_an_unconditional_model_fails_before_training():
    import pytest

    shape = (8, 8, 1)
    gan = models.GAN(
        nets.mlp_generator(4, shape, hidden_units=(8,)), nets.mlp_discriminator(shape, hidden_units=(8,)), seed=0
    )
    gan.compile()
    reference = np.zeros((8, *shape), "float32")
    extractor = metrics.ClassifierExtractor(nets.domain_classifier(shape, feature_dim=6, filters=(4,)))
    callback = metrics.EvaluationCallback(extractor, reference, metrics=("accuracy",))
    with pytest.raises(ValueError, match="conditional"):
        gan.fit(tf.data.Dataset.from_tensor_slices(reference).batch(4), epochs=1, callbacks=[callback], verbose=0)
    assert int(gan.d_optimizer.iterations) == 0
    with pytest.raises(ValueError, match="num_samples"):
        metrics.EvaluationCallback(extractor, reference, num_samples=1)


def test_ppl_is_logged_for_a_stylegan_and_refused_before_training_otherwise(tmp_path):
    import pytest

    shape = (16, 16, 1)
    keras.utils.set_random_seed(0)
    extractor = metrics.ClassifierExtractor(nets.domain_classifier(shape, feature_dim=6, filters=(4,)))
    reference = np.zeros((8, *shape), "float32")
    gan = models.GAN(
        nets.mlp_generator(4, shape, hidden_units=(8,)), nets.mlp_discriminator(shape, hidden_units=(8,)), seed=0
    )
    gan.compile()
    refused = metrics.EvaluationCallback(extractor, reference, metrics=("ppl_w",))
    with pytest.raises(ValueError, match="mapping and a synthesis"):
        gan.fit(tf.data.Dataset.from_tensor_slices(reference).batch(4), epochs=1, callbacks=[refused], verbose=0)
    assert int(gan.d_optimizer.iterations) == 0

    style_gan = models.StyleGAN(
        nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2),
        nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8),
        nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2),
        seed=0,
    )
    jsonl = tmp_path / "metrics.jsonl"
    callback = metrics.EvaluationCallback(
        extractor, reference, metrics=("ppl_w",), num_samples=8, seed=2, jsonl_path=str(jsonl)
    )
    callback.set_model(style_gan)
    callback.set_params({"epochs": 1})
    callback.on_train_begin()
    logs = {}
    callback.on_epoch_end(0, logs)
    expected = metrics.evaluate.ppl_of(style_gan, extractor, "w", 8, seed=2)
    assert logs == expected and logs["ppl_w_end8"] > 0
    record = json.loads(jsonl.read_text())
    assert record["metric"] == "ppl_w_end8" and record["value"] == logs["ppl_w_end8"] and record["epoch"] == 1
