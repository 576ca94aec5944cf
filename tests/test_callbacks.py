"""Sample grids, NaN stops, and resuming an interrupted fit exactly."""

import os
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from zoo import callbacks, checkpoint, nets
from zoo.models import GAN

SHAPE = (16, 16, 1)


def make_gan(seed=3, run_eagerly=True):
    """A tiny GAN; eager by default, as tracing would take most of these tests' time.

    The callbacks behave the same either way; the first resume test runs traced.
    """
    generator = nets.dcgan_generator(8, SHAPE, base_filters=4)
    discriminator = nets.mlp_discriminator(SHAPE, hidden_units=(16,), dropout=0.2)
    gan = GAN(generator, discriminator, seed=seed)
    gan.compile(run_eagerly=run_eagerly)
    return gan


def dataset(batches=6, batch=4):
    x = np.random.default_rng(0).uniform(-1, 1, (batches * batch, *SHAPE)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch)


class Kill(keras.callbacks.Callback):
    """Raises at a given (epoch, batch), as a kill would stop the process."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("killed")


def state(gan):
    return [np.array(v) for v in gan.variables] + [
        np.array(v) for opt in gan.optimizers for v in opt.variables
    ]


def test_resume_mid_epoch_reproduces_the_uninterrupted_run(tmp_path):
    keras.utils.set_random_seed(11)
    reference = make_gan(run_eagerly=False)
    reference.fit(dataset(), epochs=2, verbose=0)

    keras.utils.set_random_seed(11)
    interrupted = make_gan(run_eagerly=False)
    saver = callbacks.TrainingCheckpoint(str(tmp_path / "ckpt"), save_freq=2)
    with pytest.raises(KeyboardInterrupt):
        # Killed after batch 5 of epoch 2; the last save was after batch 4.
        interrupted.fit(dataset(), epochs=2, verbose=0, callbacks=[saver, Kill(1, 4)])
    assert checkpoint.read_progress(str(tmp_path / "ckpt"))["epoch"] == 1
    assert checkpoint.read_progress(str(tmp_path / "ckpt"))["step"] == 4

    keras.utils.set_random_seed(99)  # a new process: other initial weights
    resumed = make_gan(run_eagerly=False)
    resumer = callbacks.TrainingCheckpoint(str(tmp_path / "ckpt"), save_freq=2)
    history = resumed.fit(dataset(), epochs=2, verbose=0, callbacks=[resumer])

    assert resumer.restored["epoch"] == 1 and resumer.restored["step"] == 4
    assert len(history.epoch) == 1  # only the interrupted epoch is left
    assert int(resumed.g_optimizer.iterations) == int(reference.g_optimizer.iterations) == 12
    for a, b in zip(state(reference), state(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The noise generator and the dropout seeds continue, not restart.
    np.testing.assert_array_equal(
        np.array(resumed.seed_generator.state), np.array(reference.seed_generator.state)
    )


@pytest.mark.slow
def test_resume_with_several_steps_per_execution(tmp_path):
    def model():
        gan = make_gan()
        gan.compile(steps_per_execution=2, run_eagerly=True)
        return gan

    keras.utils.set_random_seed(5)
    reference = model()
    reference.fit(dataset(8), epochs=2, verbose=0)

    keras.utils.set_random_seed(5)
    interrupted = model()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(dataset(8), epochs=2, verbose=0, callbacks=[
            callbacks.TrainingCheckpoint(str(tmp_path), save_freq=4), Kill(1, 5)])
    assert checkpoint.read_progress(str(tmp_path))["step"] == 4

    resumed = model()
    resumed.fit(dataset(8), epochs=2, verbose=0, callbacks=[callbacks.TrainingCheckpoint(str(tmp_path))])
    assert int(resumed.g_optimizer.iterations) == int(reference.g_optimizer.iterations) == 16
    for a, b in zip(state(reference), state(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_resume_after_finished_run_trains_no_more(tmp_path):
    gan = make_gan()
    gan.fit(dataset(2), epochs=1, verbose=0, callbacks=[callbacks.TrainingCheckpoint(str(tmp_path))])
    again = make_gan()
    history = again.fit(
        dataset(2), epochs=1, verbose=0, callbacks=[callbacks.TrainingCheckpoint(str(tmp_path))]
    )
    assert history.epoch == []
    assert int(again.g_optimizer.iterations) == 2


def test_checkpoint_of_another_architecture_is_rejected(tmp_path):
    gan = make_gan()
    checkpoint.save(gan, str(tmp_path / "c"))
    other = GAN(
        nets.dcgan_generator(8, SHAPE, base_filters=8),
        nets.mlp_discriminator(SHAPE, hidden_units=(16,)),
    )
    other.compile()
    with pytest.raises(ValueError, match="does not match this model"):
        checkpoint.restore(other, str(tmp_path / "c"))


def test_load_model_rebuilds_from_the_checkpoint_alone(tmp_path):
    gan = make_gan()
    gan.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer="rmsprop", run_eagerly=True)
    gan.fit(dataset(2), epochs=1, verbose=0)
    checkpoint.save(gan, str(tmp_path / "c"), epoch=1)
    loaded = checkpoint.load_model(str(tmp_path / "c"))
    assert isinstance(loaded.d_optimizer, keras.optimizers.SGD)
    assert isinstance(loaded.g_optimizer, keras.optimizers.RMSprop)
    assert int(loaded.g_optimizer.iterations) == 2
    z = np.ones((2, 8), "float32")
    np.testing.assert_allclose(loaded.generate(z), gan.generate(z), atol=1e-6)


def test_interrupted_swap_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    gan = make_gan()
    path = str(tmp_path / "c")
    checkpoint.save(gan, path, epoch=1)

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(gan, path, epoch=2)
    assert checkpoint.read_progress(path)["epoch"] == 1
    assert sorted(os.listdir(tmp_path)) == ["c"]  # no temporary left behind


def test_a_half_finished_swap_is_still_readable(tmp_path):
    gan = make_gan()
    path = str(tmp_path / "c")
    checkpoint.save(gan, path, epoch=3)
    os.rename(path, path + ".old")  # killed between the two renames
    assert checkpoint.exists(path)
    assert checkpoint.restore(gan, path)["epoch"] == 3


class ExplodingGAN(GAN):
    """Its generator loss turns NaN from the third step on."""

    def train_step(self, data):
        super().train_step(data)
        nan_from_step_3 = tf.where(self.g_optimizer.iterations >= 3, float("nan"), 0.0)
        self.trackers["g_loss"].update_state(nan_from_step_3)
        return {m.name: m.result() for m in self.metrics}


def test_stop_on_nan_stops_and_the_checkpoint_keeps_good_state(tmp_path, capsys):
    gan = ExplodingGAN(nets.dcgan_generator(8, SHAPE, base_filters=4), nets.dcgan_discriminator(SHAPE, base_filters=4))
    gan.compile(run_eagerly=True)
    stopper = callbacks.StopOnNaN()
    saver = callbacks.TrainingCheckpoint(str(tmp_path / "c"))
    with pytest.warns(UserWarning, match="not saving the checkpoint: g_loss"):
        gan.fit(dataset(), epochs=3, verbose=0, callbacks=[stopper, saver])
    assert int(gan.g_optimizer.iterations) == 3  # stopped at the first NaN batch
    assert "g_loss became NaN or infinite at epoch 1, batch 3" in stopper.reason
    assert "g_loss became NaN" in capsys.readouterr().out
    assert not checkpoint.exists(str(tmp_path / "c"))


def test_checkpoint_refuses_non_finite_weights(tmp_path):
    gan = make_gan()
    checkpoint.save(gan, str(tmp_path / "c"), epoch=1)
    gan.generator.trainable_variables[0].assign(
        np.full(gan.generator.trainable_variables[0].shape, np.nan, "float32")
    )
    with pytest.raises(ValueError, match="NaN or infinite"):
        checkpoint.save(gan, str(tmp_path / "c"), epoch=2)
    assert checkpoint.read_progress(str(tmp_path / "c"))["epoch"] == 1


def test_sample_grid_writes_the_same_noise_every_epoch(tmp_path):
    gan = make_gan()
    grid = callbacks.SampleGrid(str(tmp_path / "samples"), num_images=6, tensorboard_dir=str(tmp_path / "tb"))
    gan.fit(dataset(2), epochs=2, verbose=0, callbacks=[grid])
    files = sorted(os.listdir(tmp_path / "samples"))
    assert files == ["epoch_0001.png", "epoch_0002.png", "latest.png"]
    first = np.asarray(Image.open(tmp_path / "samples" / "epoch_0001.png"))
    second = np.asarray(Image.open(tmp_path / "samples" / "epoch_0002.png"))
    assert first.shape == second.shape and not np.array_equal(first, second)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "samples" / "latest.png")), second)
    assert any(name.startswith("events") for name in os.listdir(tmp_path / "tb"))


def test_sample_grid_rejects_a_model_without_a_generator(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="latent_dim"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0, callbacks=[callbacks.SampleGrid(str(tmp_path))])


def test_sample_grid_of_a_conditional_model_has_one_row_per_class(tmp_path, monkeypatch):
    from zoo.models import ConditionalGAN

    generator = nets.dcgan_generator(8, SHAPE, base_filters=4, num_classes=3)
    discriminator = nets.dcgan_discriminator(SHAPE, base_filters=4, num_classes=3)
    gan = ConditionalGAN(generator, discriminator, num_classes=3, seed=0)
    gan.compile(run_eagerly=True)
    seen = {}

    def record(images, path, num_rows=None, title=None):
        seen[os.path.basename(path)] = (len(images), num_rows)

    monkeypatch.setattr(callbacks, "save_grid", record)
    calls = []
    original = gan.generate
    monkeypatch.setattr(gan, "generate", lambda z, labels=None: calls.append(labels) or original(z, labels=labels))
    x = np.zeros((8, *SHAPE), "float32")
    data = tf.data.Dataset.from_tensor_slices((x, np.arange(8) % 3)).batch(4)
    gan.fit(data, epochs=1, verbose=0, callbacks=[callbacks.SampleGrid(str(tmp_path), num_images=7)])
    assert seen["latest.png"] == (6, 3)  # 7 // 3 = 2 images for each of 3 classes
    np.testing.assert_array_equal(calls[0], [0, 0, 1, 1, 2, 2])


def test_time_limit_stops_after_the_budget():
    gan = make_gan()
    limit = callbacks.TimeLimit(1e-9)
    history = gan.fit(dataset(6), epochs=3, verbose=0, callbacks=[limit])
    assert limit.stopped_early and limit.elapsed > 0
    assert len(history.history["d_loss"]) == 1 and int(gan.d_optimizer.iterations) == 1
    roomy = callbacks.TimeLimit(3600)
    gan.fit(dataset(6), epochs=1, verbose=0, callbacks=[roomy])
    assert not roomy.stopped_early
    with pytest.raises(ValueError, match="seconds"):
        callbacks.TimeLimit(0)
    with pytest.raises(ValueError, match="clock must be one of"):
        callbacks.TimeLimit(1, clock="gpu")


def test_train_with_minutes_stops_at_the_budget_and_reports_the_time(tmp_path):
    from zoo import training

    gan = make_gan()
    history = training.train(gan, dataset(6), epochs=3, run_dir=str(tmp_path), minutes=1e-9, verbose=0)
    assert len(history.history["d_loss"]) == 1 and history.train_seconds > 0
    history = training.train(make_gan(), dataset(6), epochs=1, run_dir=str(tmp_path / "b"), verbose=0)
    assert not hasattr(history, "train_seconds")


def test_train_phases_trains_earlier_phases_in_their_folders_and_skips_them_when_done(tmp_path):
    from zoo import presets, training

    first, last = make_gan(), make_gan()
    phases = [presets.Phase("warmup", first, 2), presets.Phase("train", last, None)]
    seen = []
    histories = training.train_phases(phases, dataset(2), epochs=1, run_dir=str(tmp_path), verbose=0,
                                      phase_callbacks=lambda folder: seen.append(folder) or [])
    assert list(histories) == ["warmup", "train"] and seen == [str(tmp_path / "warmup"), str(tmp_path)]
    assert len(histories["warmup"].epoch) == 2 and len(histories["train"].epoch) == 1
    assert os.path.isdir(tmp_path / "warmup" / "checkpoint") and os.path.isdir(tmp_path / "checkpoint")
    again = training.train_phases(phases, dataset(2), epochs=1, run_dir=str(tmp_path), verbose=0)
    assert [len(h.epoch) for h in again.values()] == [0, 0]  # both phases finished: resumed, nothing to train


def test_time_limit_on_the_cpu_clock_reads_process_time(monkeypatch):
    """clock="cpu" measures with time.process_time (here a fake: 1 s per read)."""
    import itertools

    assert callbacks.TimeLimit.CLOCKS["cpu"] is time.process_time
    ticks = itertools.count()
    monkeypatch.setitem(callbacks.TimeLimit.CLOCKS, "cpu", lambda: float(next(ticks)))
    gan = make_gan()
    limit = callbacks.TimeLimit(2.5, clock="cpu")
    gan.fit(dataset(6), epochs=2, verbose=0, callbacks=[limit])
    # Read at train begin (0), then after batches 1, 2, 3 (1, 2, 3 s): stops after the third.
    assert limit.stopped_early and int(gan.d_optimizer.iterations) == 3


def test_sample_grid_of_a_semi_supervised_gan_draws_without_labels(tmp_path):
    # It has num_classes but generates without labels: not a conditional model.
    from zoo import data
    from zoo.models import SemiSupervisedGAN, conditional_classes

    shape = (8, 8, 1)
    sgan = SemiSupervisedGAN(
        nets.sgan_generator(4, shape, hidden_units=(8,)),
        nets.sgan_discriminator(shape, num_classes=3, hidden_units=(8,)),
        num_classes=3,
        seed=0,
    )
    sgan.compile(run_eagerly=True)
    assert conditional_classes(sgan) is None
    images = np.zeros((12, *shape), "float32")
    ds = data.semi_supervised_dataset(images, images[:3], np.arange(3), batch_size=4, seed=0)
    sgan.fit(ds.take(2), epochs=1, verbose=0, callbacks=[callbacks.SampleGrid(str(tmp_path), num_images=4)])
    assert os.path.isfile(tmp_path / "latest.png")


def test_a_mid_epoch_time_limit_stop_resumes_inside_the_epoch(tmp_path):
    directory = str(tmp_path / "ckpt")
    gan = make_gan()
    limit = callbacks.TimeLimit(3600)

    class StopAtThirdBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                limit.stopped_early = True
                self.model.stop_training = True

    gan.fit(dataset(6), epochs=2, verbose=0,
            callbacks=[StopAtThirdBatch(), callbacks.TrainingCheckpoint(directory), limit])
    assert checkpoint.read_progress(directory)["epoch"] == 0
    assert checkpoint.read_progress(directory)["step"] == 3
    resumed = make_gan()
    resumed.fit(dataset(6), epochs=2, verbose=0, callbacks=[callbacks.TrainingCheckpoint(directory)])
    # 3 updates before the stop + 3 to finish epoch 1 + 6 in epoch 2: no batch lost.
    assert int(resumed.d_optimizer.iterations) == 12
    assert checkpoint.read_progress(directory)["epoch"] == 2


def test_mean_pairwise_distance_is_exact():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])  # distances 5, 4, 3
    assert callbacks._mean_pairwise_distance(points) == pytest.approx(4.0)
    assert callbacks._mean_pairwise_distance(np.ones((5, 2, 2, 1))) == 0.0


def test_gan_diagnostics_log_to_history():
    gan = make_gan()
    diagnostics = callbacks.GANDiagnostics(diversity_samples=8)
    history = gan.fit(dataset(2), epochs=2, verbose=0, callbacks=[diagnostics])
    for key in ("diag_diversity", "diag_d_gap", "diag_d_dominates", "diag_collapse"):
        assert len(history.history[key]) == 2, key
    gaps = np.subtract(history.history["d_real"], history.history["d_fake"])
    np.testing.assert_allclose(history.history["diag_d_gap"], gaps, rtol=1e-5)
    assert history.history["diag_diversity"][0] > 0
    assert [record["epoch"] for record in diagnostics.history] == [1, 2]
    assert diagnostics.history[1]["diag_diversity"] == history.history["diag_diversity"][1]


def test_gan_diagnostics_flag_a_collapsed_generator():
    class CollapseAtSecondEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                # A zero last kernel: every sample is tanh(bias), the same image.
                last = [layer for layer in self.model.generator.layers if layer.weights][-1]
                last.kernel.assign(np.zeros(last.kernel.shape, "float32"))

    gan = make_gan()
    diagnostics = callbacks.GANDiagnostics(diversity_samples=8)
    with pytest.warns(UserWarning, match="epoch 2: likely mode collapse"):
        history = gan.fit(
            dataset(2), epochs=2, verbose=0, callbacks=[CollapseAtSecondEpochEnd(), diagnostics]
        )
    assert history.history["diag_collapse"] == [0.0, 1.0]
    assert history.history["diag_diversity"][1] == pytest.approx(0.0, abs=1e-6)
    assert diagnostics.best_diversity == history.history["diag_diversity"][0] > 0


def test_gan_diagnostics_stop_on_nan_with_remedies(capsys):
    gan = ExplodingGAN(nets.dcgan_generator(8, SHAPE, base_filters=4), nets.dcgan_discriminator(SHAPE, base_filters=4))
    gan.compile(run_eagerly=True)
    diagnostics = callbacks.GANDiagnostics(diversity_samples=4)
    history = gan.fit(dataset(), epochs=3, verbose=0, callbacks=[diagnostics])
    assert int(gan.g_optimizer.iterations) == 3
    assert "g_loss became NaN or infinite at epoch 1, batch 3" in diagnostics.reason
    for remedy in ("lower learning rate", "gradient penalty", "mixed"):
        assert remedy in diagnostics.reason
    assert "g_loss became NaN" in capsys.readouterr().out
    assert diagnostics.history == [] and "diag_diversity" not in history.history


class StubGAN:
    """Just what GANDiagnostics reads: nets, noise size, loss name, generate."""

    generator = discriminator = object()
    latent_dim = 2
    stop_training = False

    def __init__(self, loss_name="minimax", **attributes):
        self.loss_name = loss_name
        self.calls = []
        self.__dict__.update(attributes)

    def generate(self, z, labels=None):
        self.calls.append(labels)
        return np.asarray(z)


def test_gan_diagnostics_flag_discriminator_domination():
    diagnostics = callbacks.GANDiagnostics(diversity_samples=4)
    diagnostics.set_model(StubGAN("minimax"))
    diagnostics.on_train_begin()
    logs = {"d_real": 0.99, "d_fake": 0.01}
    with pytest.warns(UserWarning, match="epoch 1: discriminator domination"):
        diagnostics.on_epoch_end(0, logs)
    assert logs["diag_d_dominates"] == 1.0
    assert logs["diag_d_gap"] == pytest.approx(0.98)
    assert logs["diag_collapse"] == 0.0  # the same noise each time: same diversity
    healthy = {"d_real": 0.7, "d_fake": 0.3}
    diagnostics.on_epoch_end(1, healthy)
    assert healthy["diag_d_dominates"] == 0.0
    assert [record["epoch"] for record in diagnostics.history] == [1, 2]

    # A raw score of a non-cross-entropy loss is no probability: not judged.
    hinge = callbacks.GANDiagnostics(diversity_samples=4)
    hinge.set_model(StubGAN("hinge"))
    hinge.on_train_begin()
    scores = {"d_real": 3.0, "d_fake": -5.0}
    hinge.on_epoch_end(0, scores)
    assert "diag_d_dominates" not in scores and scores["diag_d_gap"] == 8.0


def test_gan_diagnostics_sample_a_conditional_model_over_every_class():
    model = StubGAN(conditional=True, num_classes=3)
    diagnostics = callbacks.GANDiagnostics(diversity_samples=7, every=2, verbose=0)
    diagnostics.set_model(model)
    diagnostics.on_train_begin()
    diagnostics.on_epoch_end(0, {})  # not a checked epoch
    assert model.calls == []
    diagnostics.on_epoch_end(1, {})
    np.testing.assert_array_equal(model.calls[0], [0, 1, 2, 0, 1, 2, 0])


def test_gan_diagnostics_reject_bad_arguments_and_models():
    for kwargs, match in (
        ({"every": 0}, "every"),
        ({"diversity_samples": 1}, "diversity_samples"),
        ({"domination_threshold": 1.5}, "domination_threshold"),
        ({"collapse_ratio": 0}, "collapse_ratio"),
    ):
        with pytest.raises(ValueError, match=match):
            callbacks.GANDiagnostics(**kwargs)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="GANDiagnostics needs a model with `generator`"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0, callbacks=[callbacks.GANDiagnostics()])


def test_train_with_diagnostics_logs_them_to_history_and_csv(tmp_path):
    import csv

    from zoo import training

    default = training.standard_callbacks(str(tmp_path / "default"))
    assert isinstance(default[0], callbacks.StopOnNaN)
    assert not any(isinstance(c, callbacks.GANDiagnostics) for c in default)
    history = training.train(make_gan(), dataset(2), epochs=2, run_dir=str(tmp_path / "run"), verbose=0,
                             diagnostics=True)
    assert len(history.history["diag_diversity"]) == 2 and history.history["diag_diversity"][0] > 0
    with open(tmp_path / "run" / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(float(row["diag_diversity"]) > 0 for row in rows)
    assert "diag_d_gap" in rows[0]


def test_translation_grid_writes_source_output_target_rows(tmp_path):
    from zoo.callbacks import TranslationGrid

    class Doubler(keras.Model):
        def call(self, x):
            return x

        def translate(self, x):
            return np.clip(2 * x, -1, 1)

    sources = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 8, 8, 1)).astype("float32")
    targets = np.random.default_rng(1).uniform(-1, 1, (3, 8, 8, 3)).astype("float32")
    grid = TranslationGrid(str(tmp_path / "grids"), sources, targets)
    grid.set_model(Doubler())
    path = grid.write(2)
    assert os.path.basename(path) == "epoch_0002.png" and os.path.isfile(tmp_path / "grids" / "latest.png")
    seen = {}
    rendered = TranslationGrid(
        str(tmp_path / "r"), sources, render=lambda s, o, t: seen.update(s=s, o=o, t=t) or [s, o]
    )
    rendered.set_model(Doubler())
    rendered.write(1)
    np.testing.assert_allclose(seen["o"], np.clip(2 * sources, -1, 1))
    assert seen["t"] is None
    with pytest.raises(ValueError, match="targets must match"):
        TranslationGrid(str(tmp_path), sources, targets[:2])


# -- LinearDecay -----------------------------------------------------------------


class RateRecorder(keras.callbacks.Callback):
    """Records every optimizer's learning rate as each epoch starts (after LinearDecay set it)."""

    def __init__(self):
        super().__init__()
        self.rates = {}

    def on_epoch_begin(self, epoch, logs=None):
        optimizers = getattr(self.model, "optimizers", None) or [self.model.optimizer]
        self.rates[epoch] = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in optimizers]


class StopAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.stop_training = True


def sgd_gan(d_rate=0.3, g_rate=0.6):
    gan = make_gan()
    gan.compile(d_optimizer=keras.optimizers.SGD(d_rate), g_optimizer=keras.optimizers.SGD(g_rate), run_eagerly=True)
    return gan


def test_linear_decay_keeps_then_decays_every_optimizers_rate():
    gan = sgd_gan()
    recorder = RateRecorder()
    gan.fit(dataset(batches=1), epochs=4, verbose=0, callbacks=[callbacks.LinearDecay(), recorder])
    # decay_start=0.5 of 4 epochs: 2 constant, then 1 - 1/3, 1 - 2/3 (0 after the last).
    expected = {e: [0.3 * f, 0.6 * f] for e, f in enumerate([1.0, 1.0, 2 / 3, 1 / 3])}
    for epoch, rates in expected.items():
        np.testing.assert_allclose(recorder.rates[epoch], rates, rtol=1e-6)
    np.testing.assert_allclose([float(o.learning_rate) for o in gan.optimizers], [0.1, 0.2], rtol=1e-6)
    assert callbacks.LinearDecay(epochs=200).factor(100) == pytest.approx(1 - 1 / 101)  # the paper's first decayed epoch
    assert callbacks.LinearDecay(epochs=4).factor(7) == 0.0


def test_linear_decay_resumes_from_the_epoch_index(tmp_path):
    directory = str(tmp_path / "ckpt")
    first = sgd_gan()
    first.fit(
        dataset(batches=1), epochs=4, verbose=0,
        callbacks=[callbacks.TrainingCheckpoint(directory), callbacks.LinearDecay(), StopAfterEpoch(2)],
    )
    assert float(first.g_optimizer.learning_rate) == pytest.approx(0.6 * 2 / 3)  # saved decayed
    # A new process: the checkpoint restores the decayed rates after LinearDecay read the initial ones.
    resumed, recorder = sgd_gan(), RateRecorder()
    resumed.fit(
        dataset(batches=1), epochs=4, verbose=0,
        callbacks=[callbacks.TrainingCheckpoint(directory), callbacks.LinearDecay(), recorder],
    )
    assert list(recorder.rates) == [3]
    np.testing.assert_allclose(recorder.rates[3], [0.3 / 3, 0.6 / 3], rtol=1e-6)
    # From a model saved with decayed rates, the initial ones are passed.
    decayed, recorder = sgd_gan(0.05, 0.05), RateRecorder()
    decay = callbacks.LinearDecay(learning_rate=[0.3, 0.6])
    decayed.fit(dataset(batches=1), epochs=4, initial_epoch=2, verbose=0, callbacks=[decay, recorder])
    np.testing.assert_allclose(recorder.rates[2], [0.2, 0.4], rtol=1e-6)
    np.testing.assert_allclose(recorder.rates[3], [0.1, 0.2], rtol=1e-6)


def test_linear_decay_of_a_plain_keras_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    recorder = RateRecorder()
    decay = callbacks.LinearDecay(decay_start=0.0, epochs=2)
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[decay, recorder])
    np.testing.assert_allclose([recorder.rates[0][0], recorder.rates[1][0]], [0.1 * 2 / 3, 0.1 / 3], rtol=1e-6)


def test_linear_decay_rejects_bad_arguments_and_models():
    for kwargs, match in (
        ({"decay_start": 1.5}, "decay_start must be a float in"),
        ({"decay_start": True}, "decay_start"),
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"epochs": 2.5}, "epochs"),
        ({"learning_rate": -1.0}, "learning_rate must be None"),
        ({"learning_rate": [0.1, "x"]}, "learning_rate"),
    ):
        with pytest.raises(ValueError, match=match):
            callbacks.LinearDecay(**kwargs)
    with pytest.raises(ValueError, match="2 rates for 1 optimizers"):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        callbacks.LinearDecay(learning_rate=[0.1, 0.2]).set_model(model)
    scheduled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    scheduled.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    with pytest.raises(ValueError, match="LearningRateSchedule"):
        callbacks.LinearDecay().set_model(scheduled)
    with pytest.raises(ValueError, match="needs a compiled model"):
        callbacks.LinearDecay().set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))


def test_history_csv_widens_for_late_columns_and_appends_on_resume(tmp_path):
    import csv

    from zoo.callbacks import HistoryCSV

    path = tmp_path / "history.csv"
    log = HistoryCSV(path, append=True)
    log.on_train_begin()
    log.on_epoch_end(0, {"loss": 1.5})
    log.on_epoch_end(1, {"loss": 1.25, "fid40_full": 3.0})  # a metric scored every 2 epochs
    log.on_epoch_end(2, {"loss": 1.0})
    HistoryCSV(path, append=True).on_epoch_end(3, {"loss": 0.5})  # a resumed run
    rows = list(csv.DictReader(open(path)))
    assert [(r["epoch"], r["loss"], r["fid40_full"]) for r in rows] == [
        ("0", "1.5", ""), ("1", "1.25", "3.0"), ("2", "1.0", ""), ("3", "0.5", "")]
    fresh = HistoryCSV(path)  # append=False starts over
    fresh.on_train_begin()
    fresh.on_epoch_end(0, {"loss": 2.0})
    assert list(csv.DictReader(open(path))) == [{"epoch": "0", "loss": "2.0"}]
