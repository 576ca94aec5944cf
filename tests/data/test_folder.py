import re

import numpy as np
import pytest
from PIL import Image

from zoo.data.folder import IMAGE_EXTENSIONS, image_folder


def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


def _rgb(seed, h=8, w=6):
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    array[0, 0] = 0  # both ends of the range present in every image
    array[0, 1] = 255
    return array


def _grey(seed, h=8, w=6):
    return _rgb(seed, h, w)[..., 0]


def _all(ds):
    batches = list(ds)
    if isinstance(batches[0], tuple):
        images = np.concatenate([b[0].numpy() for b in batches])
        return images, np.concatenate([b[1].numpy() for b in batches])
    return np.concatenate([b.numpy() for b in batches])


def test_flat_png_folder(tmp_path):
    arrays = [_rgb(i) for i in range(5)]
    for i, array in enumerate(arrays):
        _save(tmp_path / f"img{i}.png", array)
    ds = image_folder(tmp_path, batch_size=5, shuffle=False)
    assert ds.element_spec.shape == (5, 8, 6, 3)
    assert ds.class_names == []
    images = _all(ds)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images, np.stack(arrays) / 127.5 - 1.0, atol=1e-6)
    assert images.min() == -1.0 and images.max() == 1.0


def test_recursive_and_extensions(tmp_path):
    _save(tmp_path / "a.png", _rgb(0))
    _save(tmp_path / "b.JPG", _rgb(1), "JPEG")
    _save(tmp_path / "nested" / "deeper" / "c.jpeg", _rgb(2), "JPEG")
    _save(tmp_path / "d.bmp", _rgb(3), "BMP")
    _save(tmp_path / "e.tiff", _rgb(4), "TIFF")  # not an accepted extension
    (tmp_path / "notes.txt").write_text("not an image")
    _save(tmp_path / ".hidden.png", _rgb(5))
    ds = image_folder(tmp_path, batch_size=1, drop_remainder=False)
    assert len(_all(ds)) == 4


def test_greyscale_channels_auto_and_forced(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", _grey(i))
    grey = image_folder(tmp_path, batch_size=3, shuffle=False)
    assert grey.element_spec.shape == (3, 8, 6, 1)
    images = _all(grey)
    np.testing.assert_allclose(images[0, ..., 0], _grey(0) / 127.5 - 1.0, atol=1e-6)
    rgb = _all(image_folder(tmp_path, batch_size=3, shuffle=False, channels=3))
    assert rgb.shape == (3, 8, 6, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    np.testing.assert_allclose(rgb[..., :1], images, atol=1e-6)


def test_mixed_modes_follow_the_first_image(tmp_path):
    _save(tmp_path / "a.png", _rgb(0))
    _save(tmp_path / "b.png", _grey(1))
    _save(tmp_path / "c.png", np.dstack([_rgb(2), np.full((8, 6), 128, np.uint8)]))  # RGBA
    _save(tmp_path / "d.bmp", _grey(3), "BMP")
    ds = image_folder(tmp_path, batch_size=4, shuffle=False)
    images = _all(ds)
    assert images.shape == (4, 8, 6, 3)
    np.testing.assert_allclose(images[2], _rgb(2) / 127.5 - 1.0, atol=1e-6)  # alpha dropped
    grey = _all(image_folder(tmp_path, batch_size=4, shuffle=False, channels=1))
    assert grey.shape == (4, 8, 6, 1)
    np.testing.assert_allclose(grey[1, ..., 0], _grey(1) / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_allclose(grey[3, ..., 0], _grey(3) / 127.5 - 1.0, atol=1e-6)


def test_different_sizes_need_image_size(tmp_path):
    _save(tmp_path / "small.png", _rgb(0, 8, 6))
    _save(tmp_path / "big.png", _rgb(1, 20, 10))
    with pytest.raises(ValueError, match="different sizes.*pass image_size"):
        image_folder(tmp_path, batch_size=2)
    ds = image_folder(tmp_path, image_size=16, batch_size=2)
    assert ds.element_spec.shape == (2, 16, 16, 3)
    assert next(iter(ds)).shape == (2, 16, 16, 3)


def test_class_subfolders_give_sorted_labels(tmp_path):
    for i in range(3):
        _save(tmp_path / "dog" / f"{i}.png", _rgb(i))
    for i in range(2):
        _save(tmp_path / "cat" / "sub" / f"{i}.png", _rgb(10 + i))
    (tmp_path / "empty").mkdir()
    ds = image_folder(tmp_path, batch_size=5, shuffle=False, with_labels=True)
    assert ds.class_names == ["cat", "dog"]
    images, labels = _all(ds)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(images[0], _rgb(10) / 127.5 - 1.0, atol=1e-6)
    shuffled = image_folder(tmp_path, batch_size=5, seed=2, with_labels=True)
    images, labels = _all(shuffled)
    for image, label in zip(images, labels):  # labels travel with their images
        seed = int(np.rint((image[1, 1, 0] + 1) * 127.5))
        assert seed in {int(_rgb(s)[1, 1, 0]) for s in ((10, 11) if label == 0 else (0, 1, 2))}


def test_with_labels_on_flat_folder_is_an_error(tmp_path):
    _save(tmp_path / "a.png", _rgb(0))
    _save(tmp_path / "sub" / "b.png", _rgb(1))
    with pytest.raises(ValueError, match="with_labels=True needs one subfolder per class"):
        image_folder(tmp_path, batch_size=1, with_labels=True)


def _corrupt_folder(tmp_path):
    _save(tmp_path / "good.png", _rgb(0))
    _save(tmp_path / "good2.png", _rgb(1))
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "text.jpg").write_text("this is not a JPEG")
    return tmp_path


def test_corrupt_files_are_skipped_with_a_warning(tmp_path):
    _corrupt_folder(tmp_path)
    with pytest.warns(UserWarning, match="skipping 2 unreadable") as record:
        ds = image_folder(tmp_path, batch_size=1, drop_remainder=False, seed=0)
    message = str(record[0].message)
    assert "truncated.png" in message and "text.jpg" in message and "good" not in message
    for _ in range(2):  # every epoch runs through without an error
        images = _all(ds)
        assert images.shape == (2, 8, 6, 3)


def test_corrupt_files_raise_when_asked(tmp_path):
    _corrupt_folder(tmp_path)
    with pytest.raises(ValueError, match="2 unreadable") as info:
        image_folder(tmp_path, batch_size=1, on_error="raise")
    assert "truncated.png" in str(info.value) and "text.jpg" in str(info.value)


def test_all_files_corrupt(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG broken")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="none of the 1 image files"):
        image_folder(tmp_path, batch_size=1)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        image_folder(tmp_path / "no_such_folder")


def test_empty_folder(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValueError, match=f"no images found in {re.escape(str(tmp_path))}.*png") as info:
        image_folder(tmp_path)
    assert all(ext in str(info.value) for ext in IMAGE_EXTENSIONS)


def test_limit_seed_and_drop_remainder(tmp_path):
    for i in range(7):
        _save(tmp_path / f"{i}.png", _rgb(i))
    assert [b.shape[0] for b in image_folder(tmp_path, batch_size=3)] == [3, 3]
    kept = image_folder(tmp_path, batch_size=3, drop_remainder=False, shuffle=False)
    assert [b.shape[0] for b in kept] == [3, 3, 1]
    limited = _all(image_folder(tmp_path, batch_size=1, limit=2, seed=1))
    as_uint8 = np.rint((limited + 1.0) * 127.5).astype(np.uint8)
    assert sorted(a.tobytes() for a in as_uint8) == sorted(_rgb(i).tobytes() for i in (0, 1))
    a = _all(image_folder(tmp_path, batch_size=7, seed=9))
    b = _all(image_folder(tmp_path, batch_size=7, seed=9))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"channels": 2}, "channels"),
        ({"channels": True}, "channels"),
        ({"on_error": "ignore"}, "on_error"),
        ({"batch_size": 0}, "batch_size"),
        ({"image_size": -4}, "image_size"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    _save(tmp_path / "a.png", _rgb(0))
    with pytest.raises(ValueError, match=match):
        image_folder(tmp_path, **kwargs)
