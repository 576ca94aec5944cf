"""Bad images of every common kind in a folder: converted or skipped, never a crash.

Readable but unusual files (16-bit, CMYK, grey + alpha, palette PNG and BMP) load as
PIL converts them; unreadable ones (truncated, text, huge, empty, a symlink loop) are
skipped with one warning giving their count, names and reasons, or raise with
``on_error="raise"``; the data set's size is always that of the kept files. A file
deleted after ``image_folder`` returned is not read again: the cache was filled then.
"""

import importlib.util
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from zoo.data import folder, paired
from zoo.data.folder import image_folder

_spec = importlib.util.spec_from_file_location("bad_image_kinds", Path(__file__).with_name("bad_image_kinds.py"))
kinds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kinds)

# Why each unreadable kind is skipped, as the warning says it.
REASONS = {
    "truncated_png": "Invalid PNG data",
    "truncated_jpeg": "jpeg::Uncompress failed. Invalid JPEG data",
    "text_named_png": "Unknown image file format",
    "huge": "20000x20000 pixels in its header, over MAX_PIXELS=89,478,485",
    "empty_file": "Input is empty",
    "symlink_loop": "Too many levels of symbolic links",
}
# TensorFlow decodes JPEGs with its fast integer IDCT and PIL with the accurate one: a
# few levels apart on noise. A wrong CMYK conversion is off by 60 levels or more.
JPEG_TOLERANCE = 10


def _uint8(images):
    return np.rint((np.asarray(images) + 1.0) * 127.5).astype(np.uint8)


def _load(directory, **kwargs):
    options = {"batch_size": 1, "shuffle": False, "drop_remainder": False, **kwargs}
    return _uint8(np.concatenate(list(image_folder(directory, **options).as_numpy_iterator())))


@pytest.mark.parametrize("kind", kinds.READABLE)
def test_unusual_files_are_converted(tmp_path, kind):
    path = kinds.make_bad_images(tmp_path, kinds=[kind])[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converted quietly: nothing is skipped
        images = _load(tmp_path, channels=3)
    assert images.shape == (1, 16, 16, 3)
    tolerance = JPEG_TOLERANCE if kind == "cmyk_jpeg" else 0
    np.testing.assert_allclose(images[0], kinds.expected_pixels(path), atol=tolerance)


@pytest.mark.parametrize("kind", ["png16_grey", "grey_alpha_png"])
def test_grey_files_give_one_channel(tmp_path, kind):
    path = kinds.make_bad_images(tmp_path, kinds=[kind])[kind]
    images = _load(tmp_path)  # channels from the file
    assert images.shape == (1, 16, 16, 1)
    np.testing.assert_array_equal(images[0, ..., 0], kinds.expected_pixels(path)[..., 0])


def test_16_bit_keeps_the_high_byte(tmp_path):
    path = kinds.make_bad_images(tmp_path, kinds=["png16_grey"])["png16_grey"]
    raw = np.asarray(Image.open(path), np.int64)
    loaded = _load(tmp_path)[0, ..., 0].astype(np.int64)
    np.testing.assert_array_equal(loaded, raw >> 8)
    assert np.any(loaded != np.rint(raw / 257))  # truncation, not rounding


@pytest.mark.parametrize("kind", kinds.UNREADABLE)
def test_unreadable_files_are_skipped_with_their_reason(tmp_path, kind):
    paths = kinds.make_bad_images(tmp_path, kinds=["good_0", "good_1", kind])
    with pytest.warns(UserWarning, match=r"skipping 1 unreadable image file\(s\) in ") as record:
        images = _load(tmp_path)
    message = str(record[0].message)
    assert f"{paths[kind]} ({REASONS[kind]}" in message
    assert "good" not in message
    assert images.shape == (2, 16, 16, 3)
    np.testing.assert_array_equal(images, [kinds.expected_pixels(paths[k]) for k in ("good_0", "good_1")])


@pytest.mark.parametrize("kind", kinds.UNREADABLE)
def test_unreadable_files_raise_when_asked(tmp_path, kind):
    paths = kinds.make_bad_images(tmp_path, kinds=["good_0", kind])
    with pytest.raises(ValueError, match=r"1 unreadable image file\(s\) in ") as info:
        image_folder(tmp_path, batch_size=1, on_error="raise")
    assert f"{paths[kind]} ({REASONS[kind]}" in str(info.value)


def _all_kinds(tmp_path):
    paths = kinds.make_bad_images(tmp_path)
    return paths, len(kinds.GOOD) + len(kinds.READABLE)


def test_every_kind_in_one_folder(tmp_path):
    paths, kept = _all_kinds(tmp_path)
    with pytest.warns(UserWarning) as record:
        ds = image_folder(tmp_path, batch_size=2, seed=0)
    message = str(record[0].message)
    unreadable = len(kinds.UNREADABLE)
    assert message.startswith(f"skipping {unreadable} unreadable image file(s) in {tmp_path}: ")
    assert message.endswith(f" and {unreadable - folder._SHOW} more")
    listed = re.findall(r"(\S+) \(", message)
    assert len(listed) == folder._SHOW
    assert {Path(p).name for p in listed} <= {kinds.FILES[k] for k in kinds.UNREADABLE}
    # The size follows the kept files, every epoch.
    assert int(ds.cardinality()) == kept // 2
    for _ in range(2):
        batches = list(ds)
        assert len(batches) == kept // 2
        assert all(batch.shape == (2, 16, 16, 3) for batch in batches)
    with pytest.warns(UserWarning, match=f"skipping {unreadable} unreadable"):
        everything = _load(tmp_path, channels=3)
    assert len(everything) == kept


def test_every_kind_raises_naming_them(tmp_path):
    _all_kinds(tmp_path)
    unreadable = len(kinds.UNREADABLE)
    with pytest.raises(ValueError, match=rf"^{unreadable} unreadable image file\(s\) in .* and 1 more$"):
        image_folder(tmp_path, on_error="raise")


def test_symlink_loop_is_no_class(tmp_path):
    for label in ("a", "b"):
        kinds.make_bad_images(tmp_path / label, kinds=["good_0"])
    os.symlink(".", tmp_path / "cycle", target_is_directory=True)
    os.symlink("..", tmp_path / "a" / "up", target_is_directory=True)
    ds = image_folder(tmp_path, batch_size=2, with_labels=True, shuffle=False)
    assert ds.class_names == ["a", "b"]
    np.testing.assert_array_equal(next(iter(ds))[1], [0, 1])


def test_a_file_that_vanishes_after_the_check_is_not_read_again(tmp_path):
    paths = kinds.make_bad_images(tmp_path, kinds=kinds.GOOD)
    expected = np.stack([kinds.expected_pixels(paths[k]) for k in kinds.GOOD])
    ds = image_folder(tmp_path, batch_size=3, shuffle=False)
    kinds.make_vanish(paths["good_1"])
    for _ in range(2):
        np.testing.assert_array_equal(_uint8(next(iter(ds))), expected)


def test_a_file_that_vanishes_before_the_check_is_skipped(tmp_path):
    paths = kinds.make_bad_images(tmp_path, kinds=kinds.GOOD)
    kinds.make_vanish(paths["good_1"])
    probed = folder._probe([paths["good_0"], paths["good_1"]])
    assert probed[0].shape == (16, 16, 3) and not probed[0].reason
    assert probed[1].shape is None and probed[1].reason == "No such file or directory"


def test_without_cache_a_vanished_file_stops_the_epoch_naming_it(tmp_path):
    paths = kinds.make_bad_images(tmp_path, kinds=kinds.GOOD)
    ds = image_folder(tmp_path, batch_size=3, shuffle=False, cache=False)
    kinds.make_vanish(paths["good_1"])
    with pytest.raises(tf.errors.NotFoundError, match=re.escape(str(paths["good_1"]))):
        next(iter(ds))


def test_file_cache_is_filled_too(tmp_path):
    paths = kinds.make_bad_images(tmp_path / "images", kinds=kinds.GOOD)
    ds = image_folder(tmp_path / "images", batch_size=3, shuffle=False, cache=str(tmp_path / "cache"))
    kinds.make_vanish(paths["good_2"])
    assert next(iter(ds)).shape == (3, 16, 16, 3)


def test_paired_folder_skips_and_converts(tmp_path):
    made = ["good_0", "good_1", "palette_bmp", "png16_rgb", "truncated_png"]
    paths = kinds.make_bad_images(tmp_path, size=(16, 32), kinds=made)
    with pytest.warns(UserWarning, match=r"skipping 1 unreadable image file\(s\)") as record:
        ds = paired.paired_folder(tmp_path, image_size=None, jitter=False, shuffle=False, drop_remainder=False)
    assert f"{paths['truncated_png']} ({REASONS['truncated_png']}" in str(record[0].message)
    pairs = [(_uint8(a[0]), _uint8(b[0])) for a, b in ds.as_numpy_iterator()]
    assert len(pairs) == 4
    for (left, right), kind in zip(pairs, made[:4]):
        whole = kinds.expected_pixels(paths[kind])
        np.testing.assert_array_equal(left, whole[:, :16])
        np.testing.assert_array_equal(right, whole[:, 16:])
    with pytest.raises(ValueError, match=re.escape(f"{paths['truncated_png']} (")):
        paired.paired_folder(tmp_path, on_error="raise")
