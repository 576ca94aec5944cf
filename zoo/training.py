"""`train()`: fit with zoo's standard callbacks in a run directory.

A run directory holds `checkpoint/` (snapshots of the resumable state, see
`zoo.checkpoint`), `samples/` (a PNG grid per epoch), `history.csv`, and optionally
`tensorboard/`, and has one writer: `train` holds its lock (`zoo.locks`) while it runs.
"""

import contextlib
import os

import keras

from zoo import callbacks as zoo_callbacks
from zoo import files, locks, smoke


def standard_callbacks(
    run_dir,
    save_freq="epoch",
    sample_every=1,
    num_samples=64,
    tensorboard=False,
    resume=True,
    diagnostics=False,
    samples=True,
    keep=3,
    snapshot_every=1,
    best=None,
):
    """The callbacks `train` uses: NaN stop, snapshots/resume, sample grid, CSV log (and TensorBoard).

    `run_dir/checkpoint` gets a snapshot every `snapshot_every` epochs (None: only every
    `save_freq` batches, and at the end) of which the newest `keep` are kept
    (`zoo.callbacks.TrainingCheckpoint`); with `best` (a logged metric such as "fid"),
    also `run_dir/checkpoint/best` (`zoo.callbacks.BestCheckpoint`), which `train`
    places after the callbacks that log the metric.

    With `diagnostics=True` the NaN stop is `zoo.callbacks.GANDiagnostics()`,
    which also stops on NaN (naming GAN remedies) and adds its `diag_*` values
    to every epoch's logs before the CSV log; it needs a model with a
    `generator`, `discriminator` and `generate`. `samples=False` leaves out the
    sample grid, for models that translate images instead of sampling them
    (pass a `zoo.callbacks.TranslationGrid` to `train` instead). With
    `tensorboard=True`, `run_dir/tensorboard` gets the sample grids as images and every
    epoch's logged values as scalars (`keras.callbacks.TensorBoard`).
    """
    tensorboard_dir = os.path.join(run_dir, "tensorboard") if tensorboard else None
    grid = zoo_callbacks.SampleGrid(
        os.path.join(run_dir, "samples"), num_images=num_samples, every=sample_every, tensorboard_dir=tensorboard_dir
    )
    # Scalars: every epoch's logs (losses, and metrics that callbacks before it add) as TensorBoard curves.
    scalars = [keras.callbacks.TensorBoard(tensorboard_dir, write_graph=False, profile_batch=0)] if tensorboard else []
    snapshots = os.path.join(run_dir, "checkpoint")
    return [
        zoo_callbacks.GANDiagnostics() if diagnostics else zoo_callbacks.StopOnNaN(),
        zoo_callbacks.TrainingCheckpoint(snapshots, save_freq=save_freq, resume=resume, keep=keep,
                                         every=snapshot_every),
        *([grid] if samples else []),
        *([zoo_callbacks.BestCheckpoint(snapshots, best)] if best else []),
        zoo_callbacks.HistoryCSV(os.path.join(run_dir, "history.csv"), append=True),
        *scalars,
    ]


# Callbacks that read what the user's callbacks add to the epoch logs: `train` runs them last.
_LOGGERS = (zoo_callbacks.BestCheckpoint, zoo_callbacks.HistoryCSV, keras.callbacks.TensorBoard)


def train(
    model, dataset, epochs, run_dir, steps_per_epoch=None, callbacks=(), verbose="auto", strategy=None, minutes=None,
    **options
):
    """Fits `model` on `dataset`, resuming from `run_dir/checkpoint` if present.

    Args:
        model: a compiled zoo model.
        dataset: `tf.data.Dataset` or `keras.utils.PyDataset` (such as
            `zoo.data.in_memory`) of image batches (or (images, labels)).
        epochs: int, total epochs (a resumed run trains only the rest).
        run_dir: str, folder for checkpoint, samples and logs.
        steps_per_epoch: int or None, batches per epoch. Default: one pass.
        callbacks: extra Keras callbacks.
        verbose: passed to `fit` ("auto": progress bar).
        strategy: None or the `tf.distribute.Strategy` the model was built
            and compiled under (see `zoo.distributed.make_strategy`). Default
            None: the model's own. A multi-worker strategy trains with
            `zoo.distributed.distributed_fit`, since Keras' `fit` fails there
            (keras-team/keras#20585): every worker calls `train` alike, on the
            same global batches, and the chief alone writes to `run_dir`.
            Any other strategy trains with `model.fit`.
        minutes: None, or a wall-time budget: a `zoo.callbacks.TimeLimit` stops
            training when it is spent (the history's `train_seconds` then holds
            the seconds trained).
        **options: `save_freq`, `sample_every`, `num_samples`, `tensorboard`,
            `resume`, `diagnostics`, `samples`, `keep`, `snapshot_every`, `best`
            for `standard_callbacks`.

    Returns:
        The `keras.callbacks.History` of this call.

    Raises:
        zoo.locks.RunDirectoryBusy: if another live process trains in `run_dir`.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    epochs, steps_per_epoch = smoke.epochs(epochs), smoke.steps(steps_per_epoch)  # ZOO_SMOKE (docs' examples)
    if strategy is not None:
        from zoo import distributed  # tf.distribute: imported only when a strategy is given

        distributed.check_model(model, strategy)
    files.makedirs(run_dir)
    multi_worker = False
    if strategy is not None or keras.backend.backend() == "tensorflow":
        from zoo import distributed

        multi_worker = distributed.is_multi_worker(strategy or model.distribute_strategy)
    # One writer per run directory; of a multi-worker run's processes, the chief writes.
    writes = not multi_worker or distributed.is_chief(strategy or model.distribute_strategy)
    with locks.run_directory_lock(run_dir) if writes else contextlib.nullcontext():
        if writes:  # what writes killed mid-way left (history.csv, sample grids); the checkpoint's own
            for path in files.remove_abandoned_in(run_dir) + files.remove_abandoned_in(
                    os.path.join(run_dir, "samples")):
                print(f"removed {path}, left by a write that did not finish")
        return _fit(model, dataset, epochs, run_dir, steps_per_epoch, callbacks, verbose, strategy, minutes,
                    multi_worker, options)


def _fit(model, dataset, epochs, run_dir, steps_per_epoch, callbacks, verbose, strategy, minutes, multi_worker,
         options):
    # User callbacks (e.g. zoo.metrics.EvaluationCallback) run before the CSV
    # and TensorBoard logs and after the checkpoint, so values they add to the
    # epoch logs reach both while TimeLimit-style stops still leave a saved state.
    standard = standard_callbacks(run_dir, **options)
    loggers = [c for c in standard if isinstance(c, _LOGGERS)]
    budget = []
    if minutes is not None:
        from zoo.callbacks import TimeLimit

        budget = [TimeLimit(minutes * 60)]
    all_callbacks = [c for c in standard if not isinstance(c, _LOGGERS)] + list(callbacks) + budget + loggers
    # tf.distribute's multi-worker loop; on JAX, keras.distribution shards inside fit.
    if multi_worker:
        from zoo import distributed

        history = distributed.distributed_fit(
            model, dataset, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=all_callbacks,
            strategy=strategy, verbose=verbose,
        )
    else:
        history = model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,  # tf.data pipelines shuffle themselves
        )
    if budget:
        history.train_seconds = budget[0].elapsed
    return history


def train_phases(phases, dataset, epochs, run_dir, callbacks=(), phase_callbacks=None, minutes=None, **kwargs):
    """Trains a preset's phases (`zoo.presets.Preset.build_phases`) in order, each with `train`.

    Earlier phases (a pre-training) train for their own epochs in `run_dir/<name>`; the last,
    the model itself, trains for `epochs` in `run_dir`, where `zoo sample` and `zoo export` look,
    and alone gets `callbacks`. Each phase resumes from its own checkpoint, so a rerun skips
    finished phases.

    Args:
        phase_callbacks: None, or `folder -> list of callbacks` that every phase gets for its
            folder (a sample grid).
        minutes: None, or a wall-time budget shared by the phases in proportion to their epochs.
        **kwargs: the other arguments of `train`.

    Returns:
        `{phase name: keras.callbacks.History}`, in training order.
    """
    plan = [(phase, phase.epochs if index < len(phases) - 1 else epochs) for index, phase in enumerate(phases)]
    total = sum(phase_epochs for _, phase_epochs in plan)
    histories = {}
    for index, (phase, phase_epochs) in enumerate(plan):
        last = index == len(plan) - 1
        folder = run_dir if last else os.path.join(run_dir, phase.name)
        extra = list(phase_callbacks(folder)) if phase_callbacks else []
        histories[phase.name] = train(
            phase.model, dataset, epochs=phase_epochs, run_dir=folder, minutes=minutes and minutes * phase_epochs / total,
            callbacks=[*extra, *(callbacks if last else ())], **kwargs,
        )
    return histories
