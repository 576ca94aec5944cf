"""Callbacks for watching and safeguarding generative training with `fit`."""

import math
import os
import time
import warnings

import keras
import numpy as np

from zoo import checkpoint as ckpt
from zoo.plotting import save_grid


def _non_finite(logs):
    """Names of the logged values that are NaN or infinite."""
    bad = []
    for key, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number):
            bad.append(key)
    return bad


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of samples from fixed noise at the end of epochs.

    The noise is drawn once, so successive grids show the same latent points
    as training moves them. Files are `<directory>/epoch_0001.png`, ... and
    `<directory>/latest.png`.

    Args:
        directory: str, folder for the PNGs (created).
        num_images: int, images per grid. Default 64.
        every: int, write every `every` epochs (and after the last). Default 1.
        seed: int, seed of the fixed noise. Default 0.
        tensorboard_dir: str or None, also log the grid as a TensorBoard image
            summary under this log directory. Default None.

    The model must have `latent_dim` and `generate(z)`. For a conditional
    model (`conditional` true, `num_classes`, `generate(z, labels)`) each row of the
    grid is one class, as in Mirza & Osindero's figure: `num_classes` rows of
    `num_images // num_classes` images (at least one each).
    """

    def __init__(self, directory, num_images=64, every=1, seed=0, tensorboard_dir=None):
        super().__init__()
        if not isinstance(num_images, int) or num_images < 1:
            raise ValueError(f"num_images must be a positive int, got {num_images!r}")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        self.directory = directory
        self.num_images = num_images
        self.every = every
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self._noise = None
        self._writer = None

    def on_train_begin(self, logs=None):
        for attribute in ("latent_dim", "generate"):
            if not hasattr(self.model, attribute):
                raise ValueError(
                    f"SampleGrid needs a model with `{attribute}`; "
                    f"{type(self.model).__name__} has none"
                )
        from zoo.models.conditional_gan import conditional_classes

        num_classes = conditional_classes(self.model)
        num_images, self._labels, self._num_rows = self.num_images, None, None
        if num_classes:
            per_class = max(1, self.num_images // num_classes)
            num_images = per_class * num_classes
            self._labels = np.repeat(np.arange(num_classes), per_class).astype("int32")
            self._num_rows = num_classes
        rng = np.random.default_rng(self.seed)
        self._noise = rng.standard_normal((num_images, self.model.latent_dim)).astype("float32")
        os.makedirs(self.directory, exist_ok=True)
        if self.tensorboard_dir and self._writer is None:
            import importlib.util

            import tensorflow as tf

            if importlib.util.find_spec("tensorboard") is None:
                raise ValueError(
                    "tensorboard_dir needs TensorBoard: pip install tensorboard "
                    "(or zoo[tensorboard])"
                )
            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        self.write(epoch + 1)

    def write(self, epoch):
        """Generates the grid now and writes it; returns the PNG path."""
        if self._labels is None:
            images = self.model.generate(self._noise)
        else:
            images = self.model.generate(self._noise, labels=self._labels)
        path = os.path.join(self.directory, f"epoch_{epoch:04d}.png")
        for target in (path, os.path.join(self.directory, "latest.png")):
            save_grid(images, target, num_rows=self._num_rows, title=f"epoch {epoch}")
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default():
                tf.summary.image("samples", (images[:16] + 1.0) / 2.0, step=epoch, max_outputs=16)
            self._writer.flush()
        return path


class TimeLimit(keras.callbacks.Callback):
    """Stops training once a wall-clock budget is spent (checked after every batch).

    For benchmarks and recipes with a time budget ("train for at most 10
    minutes"). The clock starts at `on_train_begin`, so graph tracing counts.
    After training, `elapsed` holds the seconds trained and `stopped_early`
    says whether the budget ended it.

    Args:
        seconds: float > 0, the budget.
    """

    def __init__(self, seconds):
        super().__init__()
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"seconds must be a positive number, got {seconds!r}")
        self.seconds = float(seconds)
        self.elapsed = 0.0
        self.stopped_early = False
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.stopped_early = False

    def on_train_batch_end(self, batch, logs=None):
        self.elapsed = time.perf_counter() - self._start
        if self.elapsed >= self.seconds:
            self.stopped_early = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.elapsed = time.perf_counter() - self._start


class StopOnNaN(keras.callbacks.Callback):
    """Stops training when any logged value becomes NaN or infinite.

    Keras' `TerminateOnNaN` only watches a key named `loss`, which GANs do not
    log. The message names the keys, the epoch and the batch; the reason is
    kept in `self.reason` (None while training is healthy).
    """

    def __init__(self):
        super().__init__()
        self.reason = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = _non_finite(logs)
        if bad:
            self.reason = (
                f"training stopped: {', '.join(sorted(bad))} became NaN or infinite at "
                f"epoch {self._epoch + 1}, batch {batch + 1} (try a lower learning rate)"
            )
            print("\n" + self.reason)
            self.model.stop_training = True


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state and resumes from it after a kill.

    Unlike `keras.callbacks.BackupAndRestore`, it restores every optimizer of
    a multi-player model (building them first), the noise `SeedGenerator`s,
    and resumes an interrupted epoch where it stopped: the batches of that
    epoch that were already trained on are read and skipped, so the run
    makes exactly as many updates as an uninterrupted one. (With a dataset
    reshuffled each epoch the skipped batches are the same *number* of
    batches, not necessarily the same examples; and the resumed epoch's
    logged means cover only the batches trained after the resume, since
    Keras resets the metric trackers at every epoch start.)

    A save is skipped, with a warning, when a logged value is NaN or
    infinite, so a diverged run never overwrites a good checkpoint. Writes
    are atomic (see `zoo.checkpoint`).

    Args:
        directory: str, checkpoint directory.
        save_freq: "epoch" (default) or an int: also save every that many batches.
        resume: bool, restore from `directory` at the start of `fit` if a
            checkpoint is there. Default True.
    """

    def __init__(self, directory, save_freq="epoch", resume=True):
        super().__init__()
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.directory = directory
        self.save_freq = save_freq
        self.resume = resume
        self.restored = None
        self._epoch = 0
        self._skip = 0
        self._last_saved_batch = 0

    def on_train_begin(self, logs=None):
        self.restored = None
        if not (self.resume and ckpt.exists(self.directory)):
            return
        progress = ckpt.restore(self.model, self.directory)
        self.restored = progress
        epoch, step = progress["epoch"], progress["step"]
        self.model._initial_epoch = epoch
        total = self.params.get("epochs")
        if total is not None and epoch >= total:
            print(f"{self.directory} holds {epoch} finished epochs (asked for {total}): nothing to train")
        else:
            print(f"Resuming from {self.directory}: epoch {epoch + 1}, batch {step + 1}")
        if step:
            self._skip = step
            self._wrap_train_function()

    def _wrap_train_function(self):
        train_function = self.model.train_function
        model = self.model
        per_call = max(1, int(getattr(model, "steps_per_execution", 1) or 1))

        def skip_then_train(iterator):
            # Each call of fit's loop stands for `per_call` batches: read and
            # drop as many as it would have trained on.
            if self._skip > 0:
                for _ in range(min(per_call, self._skip)):
                    next(iterator)
                self._skip -= per_call
                return {}
            model.train_function = train_function
            return train_function(iterator)

        model.train_function = skip_then_train

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._last_saved_batch = max(self._skip, 0)
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the last batch of the call (steps_per_execution may be > 1).
        self._batches_done = batch + 1
        if self.save_freq == "epoch" or self._skip > 0:
            return
        if batch + 1 - self._last_saved_batch >= self.save_freq:
            self._last_saved_batch = batch + 1
            self._save(self._epoch, batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        if self.model.stop_training and steps and 0 < self._batches_done < steps:
            # Stopped mid-epoch (TimeLimit, StopOnNaN, ...): Keras still ends the
            # epoch, but a resume must continue inside it.
            self._save(epoch, self._batches_done, logs)
        else:
            self._save(epoch + 1, 0, logs)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None

    def _save(self, epoch, step, logs):
        bad = _non_finite(logs)
        if bad:
            warnings.warn(
                f"not saving the checkpoint: {', '.join(sorted(bad))} is NaN or infinite; "
                f"{self.directory} keeps the last good state"
            )
            return
        try:
            ckpt.save(self.model, self.directory, epoch=epoch, step=step)
        except ValueError as error:  # non-finite weights: keep the last good state
            warnings.warn(str(error))
