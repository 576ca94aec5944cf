"""The growth schedule of a Progressive GAN, as a pure function and as a `fit` callback.

`zoo.callbacks.ProgressiveGrowing` is re-exported from here.
"""

import math
import os

import keras
import numpy as np

from zoo import checks
from zoo.plotting import save_grid


def progressive_lod(images_seen, max_lod, stabilize_images=800_000, fade_images=800_000, start_resolution=4):
    """The level of detail after `images_seen` real images, by the paper's schedule.

    Training starts at `start_resolution` and trains there for
    `stabilize_images`; then each phase fades the next resolution in over
    `fade_images` (the level falls linearly by 1) and stabilises it for
    `stabilize_images`, until the full resolution (`lod = 0`), which then
    trains for good. As in the reference code:
    `lod = start_lod - phase - max(images_in_phase - stabilize_images, 0) / fade_images`
    with phases of `stabilize_images + fade_images` images.

    Args:
        images_seen: int >= 0, real images shown to the critic so far.
        max_lod: int >= 0, the nets' coarsest level (`log2(resolution) - 2`).
        stabilize_images: int >= 1. Default 800,000 (the paper).
        fade_images: int >= 0 (0: no fade, the resolution doubles at once).
            Default 800,000 (the paper).
        start_resolution: int, power of 2 >= 4. Default 4.

    Returns:
        float in [0, start_lod].

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, appendix A.1.
    """
    images_seen = checks.integer(images_seen, "images_seen", at_least=0)
    stabilize_images = checks.integer(stabilize_images, "stabilize_images", at_least=1)
    fade_images = checks.integer(fade_images, "fade_images", at_least=0)
    start_lod = max_lod - (int(math.log2(checks.power_of_two(start_resolution, "start_resolution"))) - 2)
    if start_lod < 0:
        raise ValueError(
            f"start_resolution={start_resolution} is above the nets' resolution {2 ** (max_lod + 2)}"
        )
    period = stabilize_images + fade_images
    phase, within = divmod(images_seen, period)
    lod = float(start_lod - phase)
    if fade_images:
        lod -= max(within - stabilize_images, 0) / fade_images
    return max(lod, 0.0)


def lod_resolution(lod, max_lod):
    """The side of the resolution trained at `lod` (the finer one during a fade)."""
    return 2 ** (max_lod + 2 - int(math.floor(lod)))


class ProgressiveGrowing(keras.callbacks.Callback):
    """Grows a `zoo.models.ProgressiveGAN` during `fit`: sets its level of detail before every batch.

    The level is `progressive_lod(model.images_seen, ...)`: a function of the
    real images trained on so far, which the model counts and saves with its
    weights, so a run resumed by `zoo.callbacks.TrainingCheckpoint` (or
    continued by a later `fit`) goes on at the right level. Setting the
    level is a variable assignment: the traced step is not retraced.

    When a resolution starts and when it finishes fading in, the
    optimizers' moments and step counts are reset (the reference code's
    `reset_opt_for_new_lod`).

    Adds `lod` and `resolution` (the side being trained) to the batch and
    epoch logs. With `sample_dir`, writes `stage_<side>.png`, a grid of
    samples from fixed noise, when a resolution's stabilisation ends (before
    the next one fades in) and at the end of training.

    Args:
        stabilize_images: int >= 1, images trained at each resolution before
            the next fades in. Default 800,000 (the paper).
        fade_images: int >= 0, images over which a new resolution fades in.
            Default 800,000 (the paper).
        start_resolution: int, power of 2 >= 4. Default 4.
        reset_optimizers: bool, zero the optimizers' state
            (`model.reset_optimizers()`) whenever a fade starts or ends, as
            the reference code does. Default True.
        sample_dir: str or None, folder for the per-stage grids. Default None.
        num_samples: int, images per grid. Default 64.
        seed: int, seed of the grids' fixed noise. Default 0.

    Example:
    ```python
    growing = zoo.callbacks.ProgressiveGrowing(stabilize_images=800_000, fade_images=800_000)
    gan.fit(dataset, epochs=600, steps_per_epoch=1000, callbacks=[growing])
    ```

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, sec. 2 and appendix A.1.
    """

    def __init__(
        self,
        stabilize_images=800_000,
        fade_images=800_000,
        start_resolution=4,
        reset_optimizers=True,
        sample_dir=None,
        num_samples=64,
        seed=0,
    ):
        super().__init__()
        checks.boolean(reset_optimizers, "reset_optimizers")
        self.reset_optimizers = reset_optimizers
        self.stabilize_images = checks.integer(stabilize_images, "stabilize_images", at_least=1)
        self.fade_images = checks.integer(fade_images, "fade_images", at_least=0)
        self.start_resolution = checks.power_of_two(start_resolution, "start_resolution")
        checks.positive_int(num_samples, "num_samples")
        self.sample_dir = sample_dir
        self.num_samples = num_samples
        self.seed = seed
        self._resolution = None
        self._lod = None
        self._noise = None

    def lod_at(self, images_seen):
        """The scheduled level of detail after `images_seen` images."""
        return progressive_lod(
            images_seen, self.model.max_lod, self.stabilize_images, self.fade_images, self.start_resolution
        )

    def images_to_full_resolution(self, max_lod):
        """Images after which the schedule reaches the full resolution (`lod = 0`)."""
        start_lod = max(0, max_lod - (int(math.log2(self.start_resolution)) - 2))
        return start_lod * (self.stabilize_images + self.fade_images)

    def on_train_begin(self, logs=None):
        for attribute in ("images_seen", "set_lod", "max_lod", "lod", "reset_optimizers"):
            if not hasattr(self.model, attribute):
                raise ValueError(
                    f"ProgressiveGrowing needs a zoo.models.ProgressiveGAN (with `{attribute}`); "
                    f"{type(self.model).__name__} has none"
                )
        self.lod_at(0)  # checks start_resolution against the nets
        # Read at the first batch: TrainingCheckpoint may restore images_seen after this.
        self._resolution = self._lod = None
        if self.sample_dir and self._noise is None:
            rng = np.random.default_rng(self.seed)
            self._noise = rng.standard_normal((self.num_samples, self.model.latent_dim)).astype("float32")

    def _sync(self):
        """Puts the trainer's state on the model's variables (JAX; a no-op on TensorFlow).

        Keras' JAX trainer carries the variables' values from step to step
        outside the variables and writes them back only at an epoch's end:
        in between, `images_seen` would read stale and `set_lod` /
        `reset_optimizers` would assign values the next step never sees. Once
        synced, the trainer takes the next step's state from the variables,
        assignments included.
        """
        sync = getattr(self.model, "jax_state_sync", None)
        if sync is not None:
            sync()

    def on_train_batch_begin(self, batch, logs=None):
        self._sync()
        images = int(keras.ops.convert_to_numpy(self.model.images_seen))
        lod = self.lod_at(images)
        resolution = lod_resolution(lod, self.model.max_lod)
        if self._resolution is not None and resolution != self._resolution:
            self.write_grid()  # the finished stage, at its last level
        self._resolution = resolution
        if lod != self._lod:
            # The model's level is the last trained batch's, also after a restore.
            previous = self.model.lod
            if self.reset_optimizers and (
                math.floor(lod) != math.floor(previous) or math.ceil(lod) != math.ceil(previous)
            ):
                self.model.reset_optimizers()
            self.model.set_lod(lod)
            self._lod = lod

    def on_train_batch_end(self, batch, logs=None):
        self._sync()  # the level and the counter as this step left them, for this and later callbacks
        if logs is not None:
            logs.update(self._logs())

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self._logs())

    def on_train_end(self, logs=None):
        if self._resolution is not None:
            self.write_grid()

    def _logs(self):
        lod = self.model.lod
        return {"lod": lod, "resolution": float(lod_resolution(lod, self.model.max_lod))}

    def write_grid(self):
        """Writes `stage_<side>.png` for the current level; returns its path (None without `sample_dir`)."""
        if not self.sample_dir:
            return None
        if self._noise is None:
            rng = np.random.default_rng(self.seed)
            self._noise = rng.standard_normal((self.num_samples, self.model.latent_dim)).astype("float32")
        lod = self.model.lod
        side = lod_resolution(lod, self.model.max_lod)
        os.makedirs(self.sample_dir, exist_ok=True)
        path = os.path.join(self.sample_dir, f"stage_{side:04d}.png")
        save_grid(self.model.generate(self._noise), path, title=f"{side}x{side} (lod {lod:.2f})")
        return path
