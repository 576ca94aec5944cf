import gzip
import hashlib
import struct

import numpy as np
import pytest
import tensorflow as tf

from zoo.data.mnist_idx import IMAGES_FILE, LABELS_FILE, idx_folder, mnist_idx, read_idx


def _idx_bytes(array, type_code=0x08):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _write(path, data, compress):
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _fake_mnist(directory, n=10_000, size=2, compress=True):
    """n images of size x size, image i filled with i % 256, label i % 10."""
    images = np.repeat(np.arange(n) % 256, size * size).astype(np.uint8).reshape(n, size, size)
    labels = (np.arange(n) % 10).astype(np.uint8)
    suffix = ".gz" if compress else ""
    _write(directory / f"{IMAGES_FILE}{suffix}", _idx_bytes(images), compress)
    _write(directory / f"{LABELS_FILE}{suffix}", _idx_bytes(labels), compress)
    return images, labels


# --- idx_folder: which data-source names mean a folder of IDX files ---------------------


def test_idx_folder_reads_the_prefix_and_bare_folders_but_never_a_registered_name(tmp_path, monkeypatch):
    for name in ("mnist", "my_digits", "empty"):
        (tmp_path / name).mkdir()
    _fake_mnist(tmp_path / "mnist", n=10)
    _fake_mnist(tmp_path / "my_digits", n=10)
    monkeypatch.chdir(tmp_path)
    assert idx_folder("mnist_idx:mnist") == "mnist"
    assert idx_folder("my_digits") == "my_digits"
    assert idx_folder(tmp_path / "my_digits") == str(tmp_path / "my_digits")  # a Path too
    assert idx_folder("./mnist") == "./mnist"
    # "mnist" beside ./mnist/ still names the registered data set, as everywhere else.
    assert idx_folder("mnist") is None
    assert idx_folder("empty") is None and idx_folder("missing") is None and idx_folder(None) is None


def test_a_registered_name_beats_a_folder_of_that_name_in_every_loader(tmp_path, monkeypatch):
    from zoo import cli
    from zoo.data import arrays
    from zoo.metrics import loading

    (tmp_path / "mnist").mkdir()
    _fake_mnist(tmp_path / "mnist")
    monkeypatch.chdir(tmp_path)
    assert loading._idx_name("mnist") == "mnist" and loading._idx_name("./mnist") == "mnist_idx:./mnist"
    assert arrays.supports("mnist_idx:mnist") and arrays.supports("mnist")
    loaded = []
    monkeypatch.setattr("zoo.data.load", lambda name, **options: loaded.append(name) or "registered")
    assert cli._dataset("mnist", 8, None, 0, None) == "registered" and loaded == ["mnist"]
    assert cli._dataset("./mnist", 8, None, 0, None).class_names == [str(d) for d in range(10)]


# --- read_idx -------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    got_images = read_idx(_write(tmp_path / "images", _idx_bytes(images), compress))
    got_labels = read_idx(_write(tmp_path / "labels", _idx_bytes(labels), compress))
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 4, 3)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_read_idx_magic_numbers(tmp_path):
    images = _idx_bytes(np.zeros((2, 3, 3), np.uint8))
    labels = _idx_bytes(np.zeros((2,), np.uint8))
    assert struct.unpack(">I", images[:4])[0] == 2051
    assert struct.unpack(">I", labels[:4])[0] == 2049


def test_read_idx_big_endian_ints(tmp_path):
    values = np.array([[1, -2], [70000, 5]], dtype=">i4")
    got = read_idx(_write(tmp_path / "ints", _idx_bytes(values, type_code=0x0C), False))
    np.testing.assert_array_equal(got, [[1, -2], [70000, 5]])


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_bad_magic(tmp_path, compress):
    data = struct.pack(">I", 0x12345678) + b"\x00" * 16
    with pytest.raises(ValueError, match="bad magic number 305419896"):
        read_idx(_write(tmp_path / "bad", data, compress))


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_truncated_data(tmp_path, compress):
    data = _idx_bytes(np.zeros((4, 5, 5), np.uint8))[:-7]
    with pytest.raises(ValueError, match="truncated.*100 data bytes, found 93"):
        read_idx(_write(tmp_path / "short", data, compress))


def test_read_idx_truncated_header(tmp_path):
    data = _idx_bytes(np.zeros((4, 5, 5), np.uint8))[:10]
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(_write(tmp_path / "short", data, False))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(_write(tmp_path / "tiny", b"\x00\x00", False))


def test_read_idx_truncated_gzip(tmp_path):
    data = gzip.compress(_idx_bytes(np.arange(600, dtype=np.uint8).reshape(6, 10, 10)))
    with pytest.raises(ValueError, match="gzip"):
        read_idx(_write(tmp_path / "cut.gz", data[: len(data) // 2], False))


def test_read_idx_trailing_bytes(tmp_path):
    data = _idx_bytes(np.zeros((3,), np.uint8)) + b"\x00"
    with pytest.raises(ValueError, match="trailing"):
        read_idx(_write(tmp_path / "long", data, False))


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


# --- mnist_idx on synthetic files -----------------------------------------------------


@pytest.mark.parametrize(
    "split, expected", [("train", range(0, 8000)), ("test", range(8000, 10_000))]
)
def test_mnist_idx_split_protocol(tmp_path, split, expected):
    _fake_mnist(tmp_path)
    ds = mnist_idx(tmp_path, split, batch_size=1000, shuffle=False, with_labels=True)
    assert ds.element_spec[0].shape == (1000, 2, 2, 1)
    images = np.concatenate([b[0].numpy() for b in ds])
    labels = np.concatenate([b[1].numpy() for b in ds])
    assert len(images) == len(expected)
    values = np.rint((images[:, 0, 0, 0] + 1.0) * 127.5).astype(int)
    np.testing.assert_array_equal(values, np.array(expected) % 256)
    np.testing.assert_array_equal(labels, np.array(expected) % 10)
    assert labels.dtype == np.int32


def test_mnist_idx_all_and_uncompressed(tmp_path):
    _fake_mnist(tmp_path, n=30, compress=False)
    ds = mnist_idx(tmp_path, "all", batch_size=8, drop_remainder=False, image_size=4)
    assert sum(b.shape[0] for b in ds) == 30
    assert ds.element_spec.shape == (None, 4, 4, 1)


def test_mnist_idx_protocol_needs_10000_images(tmp_path):
    _fake_mnist(tmp_path, n=30)
    with pytest.raises(ValueError, match="split='all'"):
        mnist_idx(tmp_path, "train", batch_size=4)


def test_mnist_idx_count_mismatch(tmp_path):
    _fake_mnist(tmp_path, n=30)
    _write(tmp_path / f"{LABELS_FILE}.gz", _idx_bytes(np.zeros(29, np.uint8)), True)
    with pytest.raises(ValueError, match=r"\(30, 2, 2\) and \(29,\)"):
        mnist_idx(tmp_path, "all", batch_size=4)


def test_mnist_idx_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        mnist_idx(tmp_path, "validation")
    with pytest.raises(ValueError, match="batch_size"):
        mnist_idx(tmp_path, batch_size=0)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        mnist_idx(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=IMAGES_FILE):
        mnist_idx(tmp_path)


# --- the real data in ../shared -------------------------------------------------------


@pytest.fixture(scope="module")
def real_mnist(shared_mnist):
    return shared_mnist


def test_real_files_match_the_published_checksums(real_mnist):
    checksums = {
        IMAGES_FILE: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        LABELS_FILE: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }
    for name, digest in checksums.items():
        raw = gzip.decompress((real_mnist / f"{name}.gz").read_bytes())
        assert hashlib.sha256(raw).hexdigest() == digest
    images = read_idx(real_mnist / f"{IMAGES_FILE}.gz")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8


def test_real_split_sizes_and_labels(real_mnist):
    labels = read_idx(real_mnist / f"{LABELS_FILE}.gz")
    sizes = {}
    for split, part in (("train", slice(None, 8000)), ("test", slice(8000, None))):
        ds = mnist_idx(real_mnist, split, batch_size=500, shuffle=False, with_labels=True)
        got = np.concatenate([b[1].numpy() for b in ds])
        sizes[split] = len(got)
        np.testing.assert_array_equal(got, labels[part])
        assert set(np.unique(got)) == set(range(10))
        assert np.bincount(got).min() > len(got) / 20  # every digit well represented
    assert sizes == {"train": 8000, "test": 2000}


def test_real_images_range(real_mnist):
    ds = mnist_idx(real_mnist, "test", batch_size=2000, shuffle=False)
    images = next(iter(ds)).numpy()
    assert images.shape == (2000, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    # MNIST digits are white strokes on black: most pixels are background
    assert np.mean(images == -1.0) > 0.7
    assert tf.reduce_mean(images).numpy() < -0.6
