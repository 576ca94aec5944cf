"""Paired (pix2pix) and unpaired (CycleGAN) data on tiny synthetic images and mocked tfds."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import zoo.data
from zoo.data import paired, pipeline, tfds_loaders


def _gradient(height, width, channels=3):
    """uint8 image whose every pixel differs from the others in a 16x16 window."""
    y, x = np.mgrid[:height, :width]
    planes = [(y * 16 + x) % 256, (y * 7 + x * 3) % 256, (y * 3 + x * 11) % 256]
    return np.stack(planes[:channels], axis=-1).astype(np.uint8)


def _windows(image, height, width):
    """Every (height, width) window of image, as a set of bytes."""
    return {
        np.ascontiguousarray(image[top : top + height, left : left + width]).tobytes()
        for top in range(image.shape[0] - height + 1)
        for left in range(image.shape[1] - width + 1)
    }


def _write_png(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(image))


def _pair_folder(tmp_path, count=4, height=12, half_width=10, same_halves=False):
    """Files with A (left) = gradient + i, B (right) = 255 - A (or A again)."""
    for i in range(count):
        left = (_gradient(height, half_width).astype(int) + i) % 256
        right = left if same_halves else 255 - left
        _write_png(tmp_path / f"{i:02d}.png", np.concatenate([left, right], axis=1).astype(np.uint8))
    return tmp_path


def _to_uint8(images):
    return np.round((np.asarray(images) + 1.0) * 127.5).astype(np.uint8)


# --- random_jitter -----------------------------------------------------------------------


def test_jitter_size_keeps_the_286_over_256_ratio():
    assert paired.jitter_size(256) == (286, 286)
    assert paired.jitter_size(64) == (72, 72)
    assert paired.jitter_size((128, 256)) == (143, 286)
    with pytest.raises(ValueError, match="image_size"):
        paired.jitter_size(None)


def test_random_jitter_crops_and_mirrors_both_images_alike():
    image = _gradient(14, 14)
    loaded = pipeline.resize(image, paired.jitter_size(14)).numpy()  # 16x16
    plain, mirror = _windows(loaded, 14, 14), _windows(loaded[:, ::-1], 14, 14)
    assert not plain & mirror
    mirrored = 0
    for seed in range(12):
        source, target = paired.random_jitter(image, image[..., :2], 14, seed=seed)
        assert source.shape == (14, 14, 3) and target.shape == (14, 14, 2)
        assert source.dtype == tf.uint8  # dtype kept, so jitter can run before scaling
        np.testing.assert_array_equal(source.numpy()[..., :2], target.numpy())  # the same crop and flip
        assert source.numpy().tobytes() in plain | mirror
        mirrored += source.numpy().tobytes() in mirror
    assert 0 < mirrored < 12


def test_random_jitter_seeds():
    image = tf.constant(_gradient(32, 32), tf.float32)
    a = paired.random_jitter(image, image, 32, seed=5)
    b = paired.random_jitter(image, image, 32, seed=tf.constant([5, 0]))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())  # an int seed is (seed, 0)
    outputs = {paired.random_jitter(image, image, 32, seed=s)[0].numpy().tobytes() for s in range(8)}
    assert len(outputs) > 4
    unseeded = paired.random_jitter(image, image, (24, 28))  # global stream; non-square
    assert unseeded[0].shape == (24, 28, 3) and unseeded[0].dtype == tf.float32


def test_random_jitter_bad_inputs():
    with pytest.raises(ValueError, match=r"source must be one image \(height, width, channels\)"):
        paired.random_jitter(tf.zeros((2, 8, 8, 3)), tf.zeros((2, 8, 8, 3)), 8)
    with pytest.raises(ValueError, match="the same dtype; got uint8 and float32"):
        paired.random_jitter(tf.zeros((8, 8, 3), tf.uint8), tf.zeros((8, 8, 3)), 8)
    for size in (0, None, (8,)):
        with pytest.raises(ValueError, match="image_size"):
            paired.random_jitter(tf.zeros((8, 8, 3)), tf.zeros((8, 8, 3)), size)


# --- paired_folder -----------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_paired_folder_splits_the_halves(tmp_path, direction):
    folder = _pair_folder(tmp_path)
    ds = paired.paired_folder(folder, direction=direction, image_size=None, jitter=False, batch_size=4, shuffle=False)
    assert [tuple(s.shape) for s in ds.element_spec] == [(4, 12, 10, 3)] * 2
    source, target = next(iter(ds))
    assert source.dtype == tf.float32 and target.dtype == tf.float32
    left = np.stack([(_gradient(12, 10).astype(int) + i) % 256 for i in range(4)]).astype(np.uint8)
    a, b = (source, target) if direction == "AtoB" else (target, source)
    np.testing.assert_array_equal(_to_uint8(a), left)
    np.testing.assert_array_equal(_to_uint8(b), 255 - left)
    assert source.numpy().min() >= -1.0 and source.numpy().max() <= 1.0


def test_paired_folder_jitter_is_the_same_for_both_halves(tmp_path):
    folder = _pair_folder(tmp_path, count=6, height=16, half_width=16, same_halves=True)
    ds = paired.paired_folder(folder, image_size=8, batch_size=3, seed=0)
    assert [tuple(s.shape) for s in ds.element_spec] == [(3, 8, 8, 3)] * 2
    batches = list(ds)
    assert len(batches) == 2
    for source, target in batches:
        np.testing.assert_array_equal(source.numpy(), target.numpy())
        assert -1.0 <= source.numpy().min() and source.numpy().max() <= 1.0


def test_paired_folder_is_reproducible_and_jitters_every_epoch(tmp_path):
    folder = _pair_folder(tmp_path, count=4, height=16, half_width=16)

    def epoch(ds):
        return np.concatenate([np.concatenate([s.numpy(), t.numpy()], -1) for s, t in ds])

    ds = paired.paired_folder(folder, image_size=16, batch_size=2, seed=3)
    first, second = epoch(ds), epoch(ds)
    np.testing.assert_array_equal(first, epoch(paired.paired_folder(folder, image_size=16, batch_size=2, seed=3)))
    assert not np.array_equal(first, second)
    plain = paired.paired_folder(folder, image_size=16, batch_size=2, jitter=False, shuffle=False)
    np.testing.assert_array_equal(epoch(plain), epoch(plain))


def test_paired_folder_limit_channels_and_resize(tmp_path):
    folder = _pair_folder(tmp_path, count=5)
    ds = paired.paired_folder(
        folder, image_size=(6, 4), jitter=False, batch_size=2, limit=3, drop_remainder=False, channels=1
    )
    assert [s.shape[0] for s, _ in ds] == [2, 1]
    assert ds.element_spec[0].shape[1:] == (6, 4, 1)


def test_paired_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        paired.paired_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no images found in"):
        paired.paired_folder(tmp_path)
    with pytest.raises(ValueError, match="direction must be one of"):
        paired.paired_folder(tmp_path, direction="AB")
    with pytest.raises(ValueError, match="jitter must be True or False"):
        paired.paired_folder(tmp_path, jitter="yes")
    with pytest.raises(ValueError, match="batch_size"):
        paired.paired_folder(tmp_path, batch_size=0)
    _write_png(tmp_path / "odd.png", _gradient(8, 9))
    with pytest.raises(ValueError, match=r"width must be even; 1 file\(s\) .* an odd width .*odd\.png \(9x8\)"):
        paired.paired_folder(tmp_path)


def test_paired_folder_sizes_and_bad_files(tmp_path):
    _write_png(tmp_path / "a.png", _gradient(8, 8))
    _write_png(tmp_path / "b.png", _gradient(8, 12))
    with pytest.raises(ValueError, match="2 different sizes .* pass image_size"):
        paired.paired_folder(tmp_path, image_size=None)
    assert next(iter(paired.paired_folder(tmp_path, image_size=4, batch_size=2)))[0].shape == (2, 4, 4, 3)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="1 unreadable image file"):
        paired.paired_folder(tmp_path, on_error="raise")
    with pytest.warns(UserWarning, match="skipping 1 unreadable"):
        ds = paired.paired_folder(tmp_path, image_size=4, batch_size=2)
    assert len(list(ds)) == 1


# --- paired_arrays -------------------------------------------------------------------


def test_paired_arrays_without_jitter_is_the_scaled_input():
    rng = np.random.default_rng(0)
    sources = rng.integers(0, 256, (6, 8, 8, 1), dtype=np.uint8)
    targets = rng.integers(0, 256, (6, 8, 8, 2), dtype=np.uint8)
    ds = paired.paired_arrays(sources, targets, jitter=False, shuffle=False, batch_size=3)
    assert [tuple(s.shape) for s in ds.element_spec] == [(3, 8, 8, 1), (3, 8, 8, 2)]
    got = list(ds)
    np.testing.assert_array_equal(_to_uint8(np.concatenate([s for s, _ in got])), sources)
    np.testing.assert_array_equal(_to_uint8(np.concatenate([t for _, t in got])), targets)


def test_paired_arrays_jitter_seed_and_shuffle():
    images = np.stack([_gradient(16, 16)] * 2 + [255 - _gradient(16, 16)] * 2)
    ds = paired.paired_arrays(images, images[..., :1], batch_size=2, seed=1)
    again = paired.paired_arrays(images, images[..., :1], batch_size=2, seed=1)
    first = [s.numpy() for s, _ in ds]
    np.testing.assert_array_equal(first, [s.numpy() for s, _ in again])
    for source, target in ds:
        np.testing.assert_array_equal(source.numpy()[..., :1], target.numpy())


def test_paired_arrays_float_inputs_and_resize():
    sources = np.random.default_rng(0).random((4, 10, 10, 3)).astype(np.float32)
    targets = (np.random.default_rng(1).random((4, 20, 20, 3)) * 255).astype(np.uint8) / 255.0
    ds = paired.paired_arrays(sources, targets, image_size=8, max_value=1.0, batch_size=4)
    source, target = next(iter(ds))
    assert source.shape == target.shape == (4, 8, 8, 3)
    assert source.dtype == target.dtype == tf.float32
    assert -1.0 <= min(source.numpy().min(), target.numpy().min())
    assert max(source.numpy().max(), target.numpy().max()) <= 1.0


def test_paired_arrays_errors():
    with pytest.raises(ValueError, match="same number of images; got 3 and 2"):
        paired.paired_arrays(np.zeros((3, 4, 4, 3)), np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"sources must be images \(N, height, width, channels\)"):
        paired.paired_arrays(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="sources are 4x4 but targets 8x8; pass image_size"):
        paired.paired_arrays(np.zeros((2, 4, 4, 3)), np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="batch_size=4 is larger than the 2 examples"):
        paired.paired_arrays(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 3)), batch_size=4)
    with pytest.raises(ValueError, match="seed"):
        paired.paired_arrays(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 3)), seed=1.5)


# --- unpaired ------------------------------------------------------------------------


def _numbers(count, start=0):
    return tf.data.Dataset.range(start, start + count).map(lambda i: tf.fill((2, 2, 1), tf.cast(i, tf.float32)))


def test_unpaired_repeats_the_shorter_domain():
    ds = paired.unpaired(_numbers(3), _numbers(5, start=10))
    assert int(ds.cardinality()) == 5
    pairs = [(int(a[0, 0, 0]), int(b[0, 0, 0])) for a, b in ds]
    assert [a for a, _ in pairs] == [0, 1, 2, 0, 1] and [b for _, b in pairs] == [10, 11, 12, 13, 14]
    shuffled = paired.unpaired(_numbers(5).shuffle(5, seed=0), _numbers(2))
    assert sorted(int(a[0, 0, 0]) for a, _ in shuffled) == [0, 1, 2, 3, 4]


def test_unpaired_with_infinite_and_unknown_sizes():
    assert len(list(paired.unpaired(_numbers(2).repeat(), _numbers(3)))) == 3
    unknown = _numbers(4).filter(lambda x: True)
    assert len(list(paired.unpaired(unknown, _numbers(6)))) == 4  # unknown: stops at the shorter


def test_unpaired_errors():
    with pytest.raises(ValueError, match="dataset_a must be a tf.data.Dataset of images"):
        paired.unpaired(np.zeros((2, 2)), _numbers(2))
    labelled = tf.data.Dataset.from_tensor_slices((np.zeros((2, 2, 2, 1)), np.zeros(2)))
    with pytest.raises(ValueError, match="dataset_b must be a tf.data.Dataset of images"):
        paired.unpaired(_numbers(2), labelled)
    with pytest.raises(ValueError, match="dataset_a is empty"):
        paired.unpaired(_numbers(0), _numbers(2))


# --- cycle_gan (tfds, mocked) ----------------------------------------------------------


@pytest.fixture
def mock_tfds():
    with tfds.testing.mock_data(num_examples=5):
        yield


def test_cycle_gan_both_domains(mock_tfds):
    ds = zoo.data.cycle_gan("horse2zebra", batch_size=2, image_size=16, seed=0)
    assert [tuple(s.shape) for s in ds.element_spec] == [(2, 16, 16, 3)] * 2
    batches = list(ds)
    assert len(batches) == 2
    for a, b in batches:
        assert a.dtype == b.dtype == tf.float32
        assert -1.0 <= min(a.numpy().min(), b.numpy().min()) and max(a.numpy().max(), b.numpy().max()) <= 1.0
    again = [a.numpy() for a, _ in zoo.data.cycle_gan("horse2zebra", batch_size=2, image_size=16, seed=0)]
    np.testing.assert_array_equal([a.numpy() for a, _ in batches], again)


def test_cycle_gan_one_domain_without_jitter(mock_tfds):
    ds = zoo.data.cycle_gan(
        "facades", "test", domain="B", batch_size=5, image_size=(8, 12), jitter=False, shuffle=False
    )
    assert ds.element_spec.shape == (5, 8, 12, 3)
    first, second = next(iter(ds)).numpy(), next(iter(ds)).numpy()
    np.testing.assert_array_equal(first, second)


def test_cycle_gan_asks_tfds_for_the_domain_splits(monkeypatch):
    requested = []

    def fake_load(name, split, data_dir, as_supervised):
        requested.append((name, split))
        images = np.zeros((3, 10, 10, 3), np.uint8)
        return tf.data.Dataset.from_tensor_slices((images, np.zeros(3, np.int64)))

    monkeypatch.setattr(tfds_loaders, "_load", fake_load)
    tfds_loaders.cycle_gan("maps", "test[:2]", image_size=8)
    tfds_loaders.cycle_gan("maps", domain="A", image_size=8)
    assert requested == [("cycle_gan/maps", "testA[:2]"), ("cycle_gan/maps", "testB[:2]"), ("cycle_gan/maps", "trainA")]


def test_cycle_gan_bad_arguments_fail_before_loading():
    with pytest.raises(ValueError, match="name must be one of the cycle_gan sets"):
        zoo.data.cycle_gan("horses2zebras")
    with pytest.raises(ValueError, match="domain must be one of"):
        zoo.data.cycle_gan("horse2zebra", domain="C")
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        zoo.data.cycle_gan("horse2zebra", split="trainA")
    with pytest.raises(ValueError, match="image_size must be an int"):
        zoo.data.cycle_gan("horse2zebra", image_size=None)
    with pytest.raises(ValueError, match="batch_size"):
        zoo.data.cycle_gan("horse2zebra", batch_size=-1)
    assert set(zoo.data.CYCLE_GAN_NAMES) >= {"horse2zebra", "facades", "maps"}
