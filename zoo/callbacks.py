"""Callbacks for watching and safeguarding generative training with `fit`."""

import functools
import math
import os
import re
import time
import warnings

import keras
import numpy as np

from zoo import checks, files
from zoo import checkpoint as ckpt
from zoo.plotting import save_grid, side_by_side


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


def _non_finite_reason(logs, epoch, batch, remedy):
    """The stop message naming the NaN or infinite logged values, or None if all are finite."""
    bad = _non_finite(logs)
    if not bad:
        return None
    return (
        f"training stopped: {', '.join(sorted(bad))} became NaN or infinite at "
        f"epoch {epoch + 1}, batch {batch + 1} ({remedy})"
    )


class _EveryEpochs(keras.callbacks.Callback):
    """Calls `self.write(epoch)` (1-based) every `self.every` epochs and after the last one."""

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        self.write(epoch + 1)


class SampleGrid(_EveryEpochs):
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
        files.makedirs(self.directory)
        if self.tensorboard_dir and self._writer is None:
            import importlib.util

            import tensorflow as tf

            if importlib.util.find_spec("tensorboard") is None:
                raise ValueError(
                    "tensorboard_dir needs TensorBoard: pip install tensorboard "
                    "(or zoo[tensorboard])"
                )
            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def write(self, epoch):
        """Generates the grid now and writes it; returns the PNG path."""
        if self._labels is None:
            images = self.model.generate(self._noise)
        else:
            images = self.model.generate(self._noise, labels=self._labels)
        if isinstance(images, (tuple, list)):  # corresponding pairs (CoGAN): the domains side by side
            images = side_by_side(*images)
        path = os.path.join(self.directory, f"epoch_{epoch:04d}.png")
        for target in (path, os.path.join(self.directory, "latest.png")):
            save_grid(images, target, num_rows=self._num_rows, title=f"epoch {epoch}")
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default():
                tf.summary.image("samples", (images[:16] + 1.0) / 2.0, step=epoch, max_outputs=16)
            self._writer.flush()
        return path


class TranslationGrid(_EveryEpochs):
    """Writes a PNG of fixed source images, their translations and targets at the end of epochs.

    The image-to-image counterpart of `SampleGrid` (pix2pix, CycleGAN,
    colourisation): one row per example, its columns the source, the model's
    output and, when given, the target. Files are `<directory>/epoch_0001.png`,
    ... and `<directory>/latest.png`.

    Args:
        directory: str, folder for the PNGs (created).
        sources: array `(n, h, w, c)` in [-1, 1], the fixed inputs.
        targets: array or None, the matching ground truth. Default None.
        every: int, write every `every` epochs (and after the last). Default 1.
        translate: callable `sources -> outputs` or None for `model.translate`
            (or `model.predict`). Default None.
        render: callable `(sources, outputs, targets) -> list of (n, h, w, c)
            arrays in [-1, 1]` (the columns), e.g. to join L and ab into RGB.
            Default None: the three arrays, grey ones repeated to RGB when the
            columns mix 1 and 3 channels.
    """

    def __init__(self, directory, sources, targets=None, every=1, translate=None, render=None):
        super().__init__()
        sources = np.asarray(sources, dtype="float32")
        if sources.ndim != 4:
            raise ValueError(f"sources must be images (n, height, width, channels), got shape {sources.shape}")
        if targets is not None and len(targets) != len(sources):
            raise ValueError(f"targets must match sources: {len(targets)} targets for {len(sources)} sources")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        self.directory, self.sources, self.every = directory, sources, every
        self.targets = None if targets is None else np.asarray(targets, dtype="float32")
        self.translate, self.render = translate, render

    @classmethod
    def cycle(cls, directory, model, images_a, images_b, every=1):
        """CycleGAN's grid: each row an input, its translation and its reconstruction.

        The rows of `images_a` go A -> B -> A, then those of `images_b` B -> A -> B.

        Args:
            directory, every: as for the class.
            model: a model with `translate_ab` and `translate_ba` (`zoo.models.CycleGAN`).
            images_a, images_b: arrays `(n, h, w, c)` in [-1, 1] of each domain.
        """
        num_a = len(images_a)

        def rows(first, second, images):
            return np.concatenate([first(images[:num_a]), second(images[num_a:])])

        forward = functools.partial(rows, model.translate_ab, model.translate_ba)
        backward = functools.partial(rows, model.translate_ba, model.translate_ab)
        return cls(directory, np.concatenate([images_a, images_b]), every=every, translate=forward,
                   render=lambda inputs, outputs, _: [inputs, outputs, backward(outputs)])

    def write(self, epoch):
        """Translates the sources now and writes the grid; returns the PNG path."""
        translate = self.translate or getattr(self.model, "translate", None)
        outputs = translate(self.sources) if translate else self.model.predict(self.sources, verbose=0)
        if self.render is not None:
            columns = self.render(self.sources, outputs, self.targets)
        else:
            columns = [c for c in (self.sources, np.asarray(outputs), self.targets) if c is not None]
            if len({c.shape[-1] for c in columns}) > 1:
                columns = [np.repeat(c, 3, axis=-1) if c.shape[-1] == 1 else c for c in columns]
        images = np.stack([np.asarray(c, dtype="float32") for c in columns], axis=1)
        images = images.reshape((-1, *images.shape[2:]))
        files.makedirs(self.directory)
        path = os.path.join(self.directory, f"epoch_{epoch:04d}.png")
        for target in (path, os.path.join(self.directory, "latest.png")):
            save_grid(images, target, num_rows=len(self.sources), title=f"epoch {epoch}")
        return path


class TimeLimit(keras.callbacks.Callback):
    """Stops training once a time budget is spent (checked after every batch).

    For benchmarks and recipes with a time budget ("train for at most 10
    minutes"). The clock starts at `on_train_begin`, so graph tracing counts.
    After training, `elapsed` holds the seconds trained and `stopped_early`
    says whether the budget ended it.

    Args:
        seconds: float > 0, the budget.
        clock: "wall" (default, `time.perf_counter`) or "cpu" (the process's
            CPU time over all its threads, `time.process_time`: budgets in
            CPU-minutes that other jobs on the machine do not eat into).
    """

    CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}

    def __init__(self, seconds, clock="wall"):
        super().__init__()
        checks.number(seconds, "seconds", above=0)
        if clock not in self.CLOCKS:
            raise ValueError(f"clock must be one of {sorted(self.CLOCKS)}, got {clock!r}")
        self.seconds = float(seconds)
        self.clock = clock
        self.elapsed = 0.0
        self.stopped_early = False
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = self.CLOCKS[self.clock]()
        self.stopped_early = False

    def on_train_batch_end(self, batch, logs=None):
        self.elapsed = self.CLOCKS[self.clock]() - self._start
        if self.elapsed >= self.seconds:
            self.stopped_early = True
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.elapsed = self.CLOCKS[self.clock]() - self._start


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
        reason = _non_finite_reason(logs, self._epoch, batch, "try a lower learning rate")
        if reason:
            self.reason = reason
            print("\n" + self.reason)
            self.model.stop_training = True


class TrainingCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state as snapshots and resumes from the newest whole one.

    Unlike `keras.callbacks.BackupAndRestore`, it restores every optimizer of
    a multi-player model (building them first), the noise `SeedGenerator`s,
    and resumes an interrupted epoch where it stopped: the batches of that
    epoch that were already trained on are read and skipped, so the run
    makes exactly as many updates as an uninterrupted one. (With a dataset
    reshuffled each epoch the skipped batches are the same *number* of
    batches, not necessarily the same examples; and the resumed epoch's
    logged means cover only the batches trained after the resume, since
    Keras resets the metric trackers at every epoch start.)

    Each save is a snapshot in `directory` (`epoch-000012`, see `zoo.checkpoint`),
    written atomically; the newest `keep` are kept. A resume reads the newest
    snapshot that verifies (every file's size and SHA-256); a damaged newer one is
    renamed `NAME.damaged-<time>` with a message, and training goes on from the one
    before it. A save is skipped, with a warning, when a logged value is NaN or
    infinite, so a diverged run never replaces good snapshots.

    Args:
        directory: str, the snapshot folder.
        save_freq: "epoch" (default) or an int: also save after every that many
            trained batches (counted across epoch ends).
        resume: bool, restore from `directory` at the start of `fit` if a
            checkpoint is there. Default True.
        keep: int >= 1, snapshots kept, or None for all. Default 3.
        every: int >= 1, save at the end of every that many epochs, or None for
            no epoch-end saves (with an int `save_freq`: snapshots every so many
            images, as stylegan2-ada's `--snap`). Default 1. The last epoch, and an
            epoch after which training stops early, are always saved.

    Attributes:
        tidy: bool, at the start of `fit` remove what killed writes left in `directory`
            and set damaged snapshots aside. True; `zoo.distributed` sets it False for
            the workers that read the chief's snapshots beside it.
    """

    def __init__(self, directory, save_freq="epoch", resume=True, keep=3, every=1):
        super().__init__()
        if save_freq != "epoch" and not _positive_int(save_freq):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        if keep is not None and not _positive_int(keep):
            raise ValueError(f"keep must be a positive int (snapshots to keep) or None (all), got {keep!r}")
        if every is not None and not _positive_int(every):
            raise ValueError(f"every must be a positive int (epochs between snapshots) or None, got {every!r}")
        self.directory = directory
        self.save_freq = save_freq
        self.resume = resume
        self.keep = keep
        self.every = every
        self.tidy = True
        self.restored = None
        self._epoch = 0
        self._skip = 0
        self._counted = 0
        self._unsaved = 0

    def on_train_begin(self, logs=None):
        self.restored = None
        self._unsaved = 0
        # What a kill during a save left (a run directory has one writer: these are no one's).
        if self.tidy:
            for path in files.remove_abandoned(self.directory) + files.remove_abandoned_in(self.directory):
                print(f"removed {path}, left by a checkpoint write that did not finish")
        if not (self.resume and ckpt.exists(self.directory)):
            return
        progress = ckpt.restore(self.model, self.directory)
        for folder, _ in progress["damaged"] if self.tidy else ():  # passed over (and reported) by restore
            print(f"set the damaged {folder} aside as {ckpt.set_aside(folder)}")
        self.restored = progress
        epoch, step = progress["epoch"], progress["step"]
        self.model._initial_epoch = epoch
        total = self.params.get("epochs")
        if total is not None and epoch >= total:
            print(f"{progress['read_from']} holds {epoch} finished epochs (asked for {total}): nothing to train")
        else:
            print(f"Resuming from {progress['read_from']}: epoch {epoch + 1}, batch {step + 1}")
        if step:
            self._skip = step
            self._wrap_train_function()

    def _wrap_train_function(self):
        train_function = self.model.train_function
        model = self.model
        per_call = max(1, int(getattr(model, "steps_per_execution", 1) or 1))

        def skip_then_train(*args):
            # TensorFlow's fit calls train_function(iterator), JAX's
            # train_function(state, iterator) -> (logs, state).
            iterator = args[-1]
            # Each call of fit's loop stands for `per_call` batches: read and
            # drop as many as it would have trained on.
            if self._skip > 0:
                for _ in range(min(per_call, self._skip)):
                    next(iterator)
                self._skip -= per_call
                return {} if len(args) == 1 else ({}, args[0])
            model.train_function = train_function
            return train_function(*args)

        model.train_function = skip_then_train

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._counted = max(self._skip, 0)  # batches before it were trained by an earlier run
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the last batch of the call (steps_per_execution may be > 1).
        self._batches_done = batch + 1
        if self._skip > 0:
            return
        self._unsaved += batch + 1 - self._counted
        self._counted = batch + 1
        # The epoch's last batch is saved by on_epoch_end, as the state after the epoch.
        if self._due() and batch + 1 != self.params.get("steps"):
            self._save(self._epoch, batch + 1, logs)

    def _due(self):
        return self.save_freq != "epoch" and self._unsaved >= self.save_freq

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        total = self.params.get("epochs")
        stopped = self.model.stop_training
        if stopped and steps and 0 < self._batches_done < steps:
            # Stopped mid-epoch (TimeLimit, StopOnNaN, ...): Keras still ends the
            # epoch, but a resume must continue inside it.
            self._save(epoch, self._batches_done, logs)
        elif (stopped or (total is not None and epoch + 1 >= total) or self._due()
              or (self.every and (epoch + 1) % self.every == 0)):
            self._save(epoch + 1, 0, logs)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None

    def _save(self, epoch, step, logs):
        self._unsaved = 0
        bad = _non_finite(logs)
        if bad:
            warnings.warn(
                f"not saving the checkpoint: {', '.join(sorted(bad))} is NaN or infinite; "
                f"{self.directory} keeps the last good state"
            )
            return
        _sync_state(self.model)
        try:
            ckpt.save_snapshot(self.model, self.directory, epoch=epoch, step=step, keep=self.keep)
        except ValueError as error:  # non-finite weights: keep the last good state
            warnings.warn(str(error))


# Metrics where a higher value is better; for every other logged value (losses, FID, KID, PPL,
# separability) lower is better.
_HIGHER_IS_BETTER = ("is", "accuracy", "precision", "recall", "density", "coverage")


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps `directory/best`: the training state with the best value of a logged metric so far.

    Place it after the callback that logs the metric (a `zoo.metrics.EvaluationCallback`);
    `zoo.training.train(best=...)` does. Epochs whose logs lack the metric are passed
    over. A resumed run continues from the value `best` recorded.

    Args:
        directory: str, the snapshot folder (`RUN_DIR/checkpoint`).
        monitor: a logged key, or a metric that names one: `fid` for `fid2k_full`,
            `precision` for `pr2k3_full_precision`, `ppl_w` for `ppl_w_end2k`.
        mode: "min", "max" or "auto" (max for IS, accuracy, precision, recall, density and
            coverage; min for the rest). Default "auto".
    """

    def __init__(self, directory, monitor, mode="auto"):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.directory = directory
        self.monitor = monitor
        self.mode = mode
        self.best = None

    def on_train_begin(self, logs=None):
        self.best = ckpt.best_value(self.directory, self.monitor)
        self._seen = set()

    def on_epoch_end(self, epoch, logs=None):
        key = self._key(logs or {})
        self._seen.update(logs or {})
        if key is None:
            return
        value = float(logs[key])
        higher = self.mode == "max" or (self.mode == "auto" and _higher_is_better(self.monitor))
        worse = self.best is not None and (value <= self.best if higher else value >= self.best)
        if worse or not math.isfinite(value):
            return
        _sync_state(self.model)
        ckpt.save_best(self.model, self.directory, epoch + 1, 0, self.monitor, value, "max" if higher else "min")
        self.best = value
        print(f"{key} {value:.4g} is the best so far: saved to {os.path.join(self.directory, ckpt.BEST)}")

    def on_train_end(self, logs=None):
        if self._seen and self._key(dict.fromkeys(self._seen)) is None:
            warnings.warn(f"BestCheckpoint: no epoch logged {self.monitor!r} (logged: "
                          f"{', '.join(sorted(self._seen))}); nothing was saved as best")

    def _key(self, logs):
        if self.monitor in logs:
            return self.monitor
        found = [k for k in logs
                 if not k.endswith("_std") and (k.startswith(self.monitor) or k.endswith("_" + self.monitor))]
        if len(found) > 1:
            raise ValueError(f"BestCheckpoint: monitor {self.monitor!r} matches several logged values "
                             f"({', '.join(sorted(found))}); pass one of them")
        return found[0] if found else None


def _higher_is_better(monitor):
    return any(monitor == name or monitor.endswith("_" + name) or re.match(rf"^{name}\d", monitor)
               for name in _HIGHER_IS_BETTER)


def _sync_state(model):
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:  # JAX's fit keeps the state outside the variables mid-epoch
        sync()


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _mean_pairwise_distance(samples):
    """Mean L2 distance between the flattened samples, over all pairs i < j."""
    x = np.asarray(samples, dtype="float64").reshape(len(samples), -1)
    squared = np.sum(x * x, axis=1)
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b; clipped since rounding can dip below 0.
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2.0 * x @ x.T, 0.0))
    n = len(x)
    return float((distances.sum() - np.trace(distances)) / (n * (n - 1)))


class GANDiagnostics(keras.callbacks.Callback):
    """Watches a GAN for the classic training failures and logs what it sees.

    Every `every` epochs (and after the last) it adds to the epoch's logs, so
    they reach `History`, the progress bar and CSV/TensorBoard loggers:

    - `diag_diversity`: mean pairwise L2 distance between `diversity_samples`
      generated samples (flattened), always from the same noise, drawn once.
    - `diag_d_gap`: `d_real - d_fake` (when the model logs both): how far
      apart the discriminator puts real and fake data.
    - `diag_collapse`: 1.0 when the diversity falls below `collapse_ratio`
      times the largest diversity seen so far ("likely mode collapse": the
      generator maps many noise vectors to few outputs), else 0.0.
    - `diag_d_dominates`: for the cross-entropy losses ("minimax",
      "non_saturating") only, 1.0 when the discriminator's mean probability
      on fakes `d_fake` is below `domination_threshold`: D rejects nearly all
      fakes, so the generator's gradients vanish (the minimax loss
      saturates). Else 0.0.

    A flagged collapse or domination is also reported with `warnings.warn`.
    With `stop_on_nan`, training stops at the first batch whose logs hold a
    NaN or infinite value, with a message naming it (as `StopOnNaN` does),
    kept in `reason`. `history` holds one dict per checked epoch. The record
    (noise, largest diversity, `history`) carries over between `fit` calls,
    so training in several `fit` calls is watched as one run.

    Args:
        every: int, check every `every` epochs. Default 1.
        diversity_samples: int >= 2, samples for the diversity. Default 256.
        domination_threshold: float in (0, 1), `d_fake` below which the
            discriminator dominates. Default 0.05.
        collapse_ratio: float in (0, 1), fraction of the best diversity below
            which a collapse is flagged. Default 0.5.
        stop_on_nan: bool, stop on NaN or infinite batch logs. Default True.
        seed: int, seed of the fixed noise. Default 0.
        verbose: int, 0 keeps quiet (logs and `history` only); 1 warns and
            prints the NaN message. Default 1.

    The model needs `generator`, `discriminator` and `generate(z)` (every zoo
    GAN); a conditional model (`conditional` true, `num_classes`) is sampled
    with labels cycling over the classes.

    Example:
    ```python
    diagnostics = zoo.callbacks.GANDiagnostics(every=1)
    history = gan.fit(dataset, epochs=20, callbacks=[diagnostics])
    history.history["diag_diversity"]
    ```

    Reference: Arjovsky & Bottou, "Towards Principled Methods for Training
    Generative Adversarial Networks", ICLR 2017 (vanishing generator
    gradients); Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016 (mode collapse).
    """

    CROSS_ENTROPY_LOSSES = ("minimax", "non_saturating")
    REMEDY = (
        "try a lower learning rate, a gradient penalty (gradient_penalty=10 or r1_gamma) "
        "or a spectrally normalised discriminator; under mixed precision prefer "
        "mixed_bfloat16 to mixed_float16, or train in float32"
    )

    def __init__(
        self,
        every=1,
        diversity_samples=256,
        domination_threshold=0.05,
        collapse_ratio=0.5,
        stop_on_nan=True,
        seed=0,
        verbose=1,
    ):
        super().__init__()
        checks.positive_int(every, "every")
        checks.integer(diversity_samples, "diversity_samples", at_least=2)
        for name, value in (("domination_threshold", domination_threshold), ("collapse_ratio", collapse_ratio)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be a float in (0, 1), got {value!r}")
        self.every = every
        self.diversity_samples = diversity_samples
        self.domination_threshold = float(domination_threshold)
        self.collapse_ratio = float(collapse_ratio)
        self.stop_on_nan = bool(stop_on_nan)
        self.seed = seed
        self.verbose = verbose
        self.history = []
        self.best_diversity = 0.0
        self.reason = None
        self._noise = None
        self._labels = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        for attribute in ("generator", "discriminator", "generate"):
            if not hasattr(self.model, attribute):
                raise ValueError(
                    f"GANDiagnostics needs a model with `{attribute}`; "
                    f"{type(self.model).__name__} has none"
                )
        self.reason = None
        if self._noise is not None:
            return
        from zoo.models.conditional_gan import conditional_classes

        latent_dim = getattr(self.model, "latent_dim", None)
        shape = (latent_dim,) if latent_dim else tuple(self.model.generator.inputs[0].shape[1:])
        rng = np.random.default_rng(self.seed)
        self._noise = rng.standard_normal((self.diversity_samples, *shape)).astype("float32")
        num_classes = conditional_classes(self.model)
        if num_classes:
            self._labels = (np.arange(self.diversity_samples) % num_classes).astype("int32")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not self.stop_on_nan:
            return
        reason = _non_finite_reason(logs, self._epoch, batch, self.REMEDY)
        if reason:
            self.reason = reason
            if self.verbose:
                print("\n" + reason)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == (self.params or {}).get("epochs")
        if ((epoch + 1) % self.every and not last) or self.reason:
            return
        logs = logs if logs is not None else {}
        record = self.check(epoch, logs)
        logs.update(record)
        self.history.append({"epoch": epoch + 1, **record})

    def check(self, epoch, logs):
        """Computes the diagnostics now; returns the `diag_*` values (warns if verbose)."""
        if self._labels is None:
            samples = self.model.generate(self._noise)
        else:
            samples = self.model.generate(self._noise, labels=self._labels)
        diversity = _mean_pairwise_distance(keras.ops.convert_to_numpy(samples))
        self.best_diversity = max(self.best_diversity, diversity)
        record = {"diag_diversity": diversity}
        if "d_real" in logs and "d_fake" in logs:
            record["diag_d_gap"] = float(logs["d_real"]) - float(logs["d_fake"])
        if getattr(self.model, "loss_name", None) in self.CROSS_ENTROPY_LOSSES and "d_fake" in logs:
            d_fake = float(logs["d_fake"])
            dominates = d_fake < self.domination_threshold
            record["diag_d_dominates"] = float(dominates)
            if dominates and self.verbose:
                warnings.warn(
                    f"epoch {epoch + 1}: discriminator domination: D gives fakes a mean probability "
                    f"of {d_fake:.4f} (< {self.domination_threshold}), so the generator's gradients "
                    "vanish; try the non-saturating loss, label smoothing, instance noise, a lower "
                    "discriminator learning rate or fewer d_steps"
                )
        collapsed = diversity < self.collapse_ratio * self.best_diversity
        record["diag_collapse"] = float(collapsed)
        if collapsed and self.verbose:
            warnings.warn(
                f"epoch {epoch + 1}: likely mode collapse: sample diversity {diversity:.4g} is below "
                f"{self.collapse_ratio} x the best so far ({self.best_diversity:.4g}); try minibatch "
                "features (minibatch_stddev), PacGAN packing, a gradient penalty or restarting "
                "from an earlier checkpoint"
            )
        return record


class HistoryCSV(keras.callbacks.Callback):
    """One row per epoch of the logged values in a CSV file, like Keras' `CSVLogger`.

    Unlike `CSVLogger`, whose columns are fixed by the first epoch, a value that first
    appears later (a metric scored every N epochs by `zoo.metrics.EvaluationCallback`)
    widens the file: it is rewritten, atomically, with the new column, earlier rows
    leaving it empty. With `append=True` a resumed run adds its rows to the file.

    Args:
        filename: str, the CSV file.
        append: bool, keep an existing file's rows. Default False (start a new file).
    """

    def __init__(self, filename, append=False):
        super().__init__()
        self.filename, self.append = os.fspath(filename), append

    def on_train_begin(self, logs=None):
        if not self.append and files.exists(self.filename):
            files.remove(self.filename)

    def _read(self):
        import csv
        import io

        if not files.exists(self.filename):
            return [], []
        with files.open_file(self.filename) as f:
            reader = csv.DictReader(io.StringIO(f.read(), newline=""))
            return list(reader.fieldnames or []), list(reader)

    def on_epoch_end(self, epoch, logs=None):
        import csv
        import io

        row = {"epoch": str(epoch), **{key: _csv_value(value) for key, value in (logs or {}).items()}}
        header, rows = self._read()
        new = [key for key in row if key not in header]
        # (Re)write the whole file with the wider header; object stores (a remote path) cannot append.
        if new or not header or files.is_remote(self.filename):
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=header + new, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows([*rows, row])
            files.write_text(self.filename, text.getvalue())
            return
        with open(self.filename, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=header, restval="", lineterminator="\n").writerow(row)


def _csv_value(value):
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


class LinearDecay(keras.callbacks.Callback):
    """Keeps each optimizer's learning rate, then decays it linearly to 0 at the end of training.

    CycleGAN's schedule (100 epochs at 2e-4, then 100 epochs decaying to 0),
    for every optimizer of the model (`model.optimizers` of a zoo model, or a
    plain `keras.Model`'s `optimizer`). With `epochs` total and `c =
    int(decay_start * epochs)` constant epochs, epoch `e` (0-based) trains at
    `initial * (1 - max(0, e + 1 - c) / (epochs - c + 1))`, the reference
    code's rule: the rate reaches 0 just after the last epoch.

    The rate is set at the start of each epoch from the epoch's index, so a
    resumed run (`fit(initial_epoch=...)`, `TrainingCheckpoint`) continues the
    schedule. The initial rates are read when the callback is attached to the
    model, before `TrainingCheckpoint` restores decayed ones; to resume in a
    new process from a model saved with decayed rates, pass `learning_rate`.

    Args:
        decay_start: float in [0, 1], the fraction of the epochs trained at the
            initial rates. Default 0.5.
        epochs: int or None, the epochs of the whole schedule. Default None:
            `fit`'s `epochs`.
        learning_rate: None, a float, or a list with one float per optimizer:
            the initial rates. Default None: each optimizer's rate.

    Example:
    ```python
    model.fit(data, epochs=200, callbacks=[zoo.callbacks.LinearDecay()])
    ```

    Reference: Zhu et al., "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017, section 4.
    """

    def __init__(self, decay_start=0.5, epochs=None, learning_rate=None):
        super().__init__()
        if isinstance(decay_start, bool) or not isinstance(decay_start, (int, float)) or not 0 <= decay_start <= 1:
            raise ValueError(f"decay_start must be a float in [0, 1], got {decay_start!r}")
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise ValueError(f"epochs must be a positive int or None, got {epochs!r}")
        rates = learning_rate if isinstance(learning_rate, (list, tuple)) else [learning_rate]
        if learning_rate is not None and not all(
            not isinstance(r, bool) and isinstance(r, (int, float)) and r > 0 for r in rates
        ):
            raise ValueError(
                f"learning_rate must be None, a positive float or a list of them, got {learning_rate!r}"
            )
        self.decay_start = float(decay_start)
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.initial_rates = None
        self._optimizers = None

    def set_model(self, model):
        super().set_model(model)
        optimizers = list(getattr(model, "optimizers", None) or [])
        if not optimizers and getattr(model, "optimizer", None) is not None:
            optimizers = [model.optimizer]
        if not optimizers:
            raise ValueError(f"LinearDecay needs a compiled model; {type(model).__name__} has no optimizer")
        for optimizer in optimizers:
            inner = getattr(optimizer, "inner_optimizer", optimizer)
            if isinstance(getattr(inner, "_learning_rate", None), keras.optimizers.schedules.LearningRateSchedule):
                raise ValueError(
                    f"LinearDecay sets the learning rate itself, but {type(inner).__name__} was given "
                    "a LearningRateSchedule; give it a float"
                )
        if self._optimizers is not None and [id(o) for o in optimizers] == [id(o) for o in self._optimizers]:
            return  # a later fit of the same model: keep the rates read the first time
        self._optimizers = optimizers
        if self.learning_rate is None:
            self.initial_rates = [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in optimizers]
        elif isinstance(self.learning_rate, (list, tuple)):
            if len(self.learning_rate) != len(optimizers):
                raise ValueError(
                    f"learning_rate has {len(self.learning_rate)} rates for {len(optimizers)} optimizers"
                )
            self.initial_rates = [float(r) for r in self.learning_rate]
        else:
            self.initial_rates = [float(self.learning_rate)] * len(optimizers)

    def factor(self, epoch):
        """The fraction of the initial rates used in epoch `epoch` (0-based)."""
        total = self.epochs or (self.params or {}).get("epochs")
        if not total:
            raise ValueError("LinearDecay needs the number of epochs: pass epochs=... or train with fit")
        constant = int(self.decay_start * total)
        return max(0.0, 1.0 - max(0, epoch + 1 - constant) / (total - constant + 1))

    def on_epoch_begin(self, epoch, logs=None):
        factor = self.factor(epoch)
        for optimizer, rate in zip(self._optimizers, self.initial_rates):
            optimizer.learning_rate = rate * factor


# Progressive GAN's growth schedule lives in its own module.
from zoo.progressive_growing import ProgressiveGrowing  # noqa: E402,F401
