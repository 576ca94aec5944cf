"""The ProGAN growth schedule: lod as a function of images seen, logs, stage grids, resume."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import callbacks, nets
from zoo.models import GAN, ProgressiveGAN
from zoo.progressive_growing import lod_resolution, progressive_lod

SIDE = 8  # levels 1 (4x4) and 0 (8x8)


def tiny_gan(seed=0):
    generator = nets.progan_generator(4, (SIDE, SIDE, 1), fmap_base=8, fmap_max=4)
    critic = nets.progan_discriminator((SIDE, SIDE, 1), fmap_base=8, fmap_max=4)
    gan = ProgressiveGAN(generator, critic, seed=seed)
    gan.compile(run_eagerly=True)  # tracing would be most of this file's time
    return gan


def dataset(n=12, batch=4):
    x = np.random.default_rng(0).uniform(-1, 1, (n, SIDE, SIDE, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch)


def test_the_papers_schedule_for_128_pixels():
    # 800k images at 4x4, then per resolution 800k fading in and 800k stabilising.
    lod = lambda images: progressive_lod(images, max_lod=5)  # noqa: E731
    assert lod(0) == 5.0 and lod(799_999) == 5.0
    assert lod(800_000) == 5.0 and lod(1_000_000) == pytest.approx(4.75) and lod(1_200_000) == 4.5
    assert lod(1_600_000) == 4.0 and lod(2_399_999) == 4.0 and lod(2_800_000) == 3.5
    assert lod(7_600_000) == 0.5 and lod(8_000_000) == 0.0 and lod(50_000_000) == 0.0
    assert [lod_resolution(lod(n), 5) for n in (0, 900_000, 1_600_000, 7_999_999, 8_000_000)] == [4, 8, 8, 128, 128]


def test_schedule_options():
    assert progressive_lod(0, 5, start_resolution=16) == 3.0
    assert progressive_lod(10, 3, stabilize_images=10, fade_images=0) == 2.0  # no fade: one step
    assert progressive_lod(19, 3, stabilize_images=10, fade_images=0) == 2.0
    assert progressive_lod(25, 3, stabilize_images=10, fade_images=20) == 2.25
    growing = callbacks.ProgressiveGrowing(stabilize_images=10, fade_images=20)
    assert growing.images_to_full_resolution(3) == 90 and progressive_lod(90, 3, 10, 20) == 0.0
    assert progressive_lod(89, 3, 10, 20) > 0.0
    for kwargs, message in (
        ({"stabilize_images": 0}, "stabilize_images must be an int >= 1"),
        ({"fade_images": -1}, "fade_images must be an int >= 0"),
        ({"start_resolution": 12}, "start_resolution must be a power of two >= 4"),
        ({"reset_optimizers": 1}, "reset_optimizers must be True or False"),
    ):
        with pytest.raises(ValueError, match=message):
            callbacks.ProgressiveGrowing(**kwargs)
    with pytest.raises(ValueError, match="start_resolution=64 is above"):
        progressive_lod(0, 3, start_resolution=64)


def test_sets_lod_per_batch_logs_it_and_resumes_from_images_seen(tmp_path):
    keras.utils.set_random_seed(1)
    schedule = dict(stabilize_images=4, fade_images=16)
    gan = tiny_gan()
    seen = []
    probe = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(gan.lod))
    growing = callbacks.ProgressiveGrowing(sample_dir=str(tmp_path / "stages"), num_samples=4, **schedule)
    checkpoint = callbacks.TrainingCheckpoint(str(tmp_path / "checkpoint"))
    history = gan.fit(dataset(), epochs=1, verbose=0, callbacks=[checkpoint, growing, probe]).history
    # The probe runs after the callback: the lod used by each batch (images 0, 4, 8).
    assert seen == [1.0, 1.0, 0.75]
    assert history["lod"] == [0.75] and history["resolution"] == [8.0]
    # Optimizers reset at the start (lod 0 -> 1) and when the fade began (1 -> 0.75).
    assert int(gan.d_optimizer.iterations) == 1
    # 4x4 ended when the fade began; the 8x8 grid is written at the end of training.
    assert sorted(os.listdir(tmp_path / "stages")) == ["stage_0004.png", "stage_0008.png"]

    # A new process: the restored images_seen (12) puts the next batch at lod 0.5.
    resumed = tiny_gan()
    assert resumed.lod == 0.0
    seen.clear()
    probe = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(resumed.lod))
    growing = callbacks.ProgressiveGrowing(**schedule)
    checkpoint = callbacks.TrainingCheckpoint(str(tmp_path / "checkpoint"))
    history = resumed.fit(dataset(8), epochs=2, verbose=0, callbacks=[checkpoint, growing, probe]).history
    assert int(resumed.images_seen) == 20
    assert seen == [progressive_lod(n, 1, **schedule) for n in (12, 16)] == [0.5, 0.25]
    assert history["lod"] == [0.25]
    # The restored level (0.75) is the previous batch's: the fade goes on without a reset.
    assert int(resumed.d_optimizer.iterations) == 3


def test_needs_a_progressive_gan():
    gan = GAN(nets.mlp_generator(4, (SIDE, SIDE, 1)), nets.mlp_discriminator((SIDE, SIDE, 1)))
    gan.compile(run_eagerly=True)
    with pytest.raises(ValueError, match="ProgressiveGrowing needs a zoo.models.ProgressiveGAN"):
        gan.fit(dataset(4), epochs=1, verbose=0, callbacks=[callbacks.ProgressiveGrowing(4, 4)])
