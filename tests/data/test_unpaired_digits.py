import gzip
import struct

import numpy as np
import pytest

import zoo.data
from zoo.data.mnist_idx import IMAGES_FILE
from zoo.data.unpaired_digits import transform_digits, unpaired_digits


def everything(ds):
    """All `(images_a, images_b)` of a dataset as two numpy arrays."""
    batches = list(ds)
    return tuple(np.concatenate([np.asarray(b[i]) for b in batches]) for i in range(2))


# -- transforms ------------------------------------------------------------------------


def test_negative_is_minus_x():
    x = np.linspace(-1, 1, 18, dtype="float32").reshape(2, 3, 3, 1)
    np.testing.assert_array_equal(transform_digits(x, "negative").numpy(), -x)


def test_edges_are_the_dilation_minus_the_digit():
    x = -np.ones((1, 7, 7, 1), "float32")
    x[0, 2:5, 2:5] = 1.0  # a 3x3 square of full ink
    x[0, 3, 3] = 0.0  # with a half-ink centre
    edges = transform_digits(x, "edges").numpy()[0, ..., 0]
    ring = np.zeros((7, 7), bool)
    ring[1:6, 1:6] = True
    ring[2:5, 2:5] = False
    assert (edges[ring] == 1.0).all()  # the one-pixel ring around the stroke lights up
    outside = np.ones((7, 7), bool)
    outside[1:6, 1:6] = False
    assert (edges[outside] == -1.0).all()  # background stays black
    full_ink = np.zeros((7, 7), bool)
    full_ink[2:5, 2:5] = True
    full_ink[3, 3] = False
    assert (edges[full_ink] == -1.0).all()  # inside the stroke: dilate(u) - u = 1 - 1
    # The centre has ink 0.5 and neighbours of ink 1: dilate - u = 0.5, i.e. 0 in [-1, 1].
    assert edges[3, 3] == pytest.approx(0.0)
    single = transform_digits(x[0], "edges").numpy()
    np.testing.assert_array_equal(single[..., 0], edges)


def test_transform_rejects_bad_arguments():
    with pytest.raises(ValueError, match="transform"):
        transform_digits(np.zeros((1, 4, 4, 1)), "rotate")
    with pytest.raises(ValueError, match="images"):
        transform_digits(np.zeros((4, 4)), "edges")


# -- the two domains --------------------------------------------------------------------


@pytest.mark.parametrize("transform", ["negative", "edges"])
def test_digits_are_halved_in_order_and_b_is_transformed(transform):
    from sklearn.datasets import load_digits

    raw = load_digits().images.astype("float32")[..., None] / 8.0 - 1.0  # 16 -> 1, 0 -> -1
    ds = unpaired_digits(
        "digits", transform, image_size=None, batch_size=2000, shuffle=False, drop_remainder=False
    )
    images_a, images_b = everything(ds)
    assert images_a.shape == (898, 8, 8, 1) and images_b.shape == (899, 8, 8, 1)
    np.testing.assert_allclose(images_a, raw[:898], atol=1e-6)
    np.testing.assert_allclose(images_b, transform_digits(raw[898:], transform).numpy(), atol=1e-6)
    if transform == "negative":
        # Disjoint: no digit of A is shown in B (the sklearn digits hold no exact duplicates).
        seen = {image.tobytes() for image in np.round(images_a, 4)}
        assert not any(image.tobytes() in seen for image in np.round(-images_b, 4))


def write_fake_idx(directory, n=10_000):
    """Image i is a 4x4 image filled with i // 40 (0..249), so the halves are told apart."""
    values = (np.arange(n) // 40).astype(np.uint8)
    images = np.repeat(values, 16).reshape(n, 4, 4)
    header = struct.pack(">BBBB", 0, 0, 0x08, 3) + struct.pack(">3I", n, 4, 4)
    (directory / f"{IMAGES_FILE}.gz").write_bytes(gzip.compress(header + images.tobytes()))
    return values


def test_idx_source_halves_the_8000_training_digits(tmp_path):
    values = write_fake_idx(tmp_path)
    ds = unpaired_digits(
        "idx", "negative", data_dir=tmp_path, image_size=None, batch_size=500, shuffle=True, seed=3
    )
    images_a, images_b = everything(ds)
    assert images_a.shape == images_b.shape == (4000, 4, 4, 1)
    got_a = np.round((images_a[:, 0, 0, 0] + 1) * 127.5).astype(int)
    got_b = np.round((1 - images_b[:, 0, 0, 0]) * 127.5).astype(int)  # undo the negative
    np.testing.assert_array_equal(np.sort(got_a), values[:4000])
    np.testing.assert_array_equal(np.sort(got_b), values[4000:8000])
    assert got_a.max() < got_b.min()  # first half in A, second half in B: disjoint
    assert not np.array_equal(got_a, np.sort(got_a))  # shuffled
    again_a, again_b = everything(
        unpaired_digits("idx", "negative", data_dir=tmp_path, image_size=None, batch_size=500, seed=3)
    )
    np.testing.assert_array_equal(again_a, images_a)  # a seed reproduces both orders
    np.testing.assert_array_equal(again_b, images_b)
    _, test_b = everything(
        unpaired_digits("idx", "negative", split="test", data_dir=tmp_path, image_size=None,
                        batch_size=1000, shuffle=False)
    )
    np.testing.assert_array_equal(np.round((1 - test_b[:, 0, 0, 0]) * 127.5).astype(int), values[9000:])


def test_edges_domain_at_mnist_size_from_the_embedded_digits():
    ds = unpaired_digits("digits", "edges", batch_size=8, limit=40, seed=0)
    assert zoo.data.unpaired_digits is unpaired_digits
    images_a, images_b = next(iter(ds))
    assert images_a.shape == images_b.shape == (8, 28, 28, 1)
    b = np.asarray(images_b)
    assert -1.0 <= b.min() and b.max() <= 1.0 and b.max() > b.min()
    assert b.mean() < np.asarray(images_a).mean()  # contours are thinner than the strokes
    assert len(list(ds)) == 2  # 20 images per domain, batches of 8


def test_tfds_source(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        ds = unpaired_digits("mnist", "edges", batch_size=3, seed=0)
        images_a, images_b = next(iter(ds))
        assert len(list(ds)) == 2  # 6 digits per domain
    assert images_a.shape == images_b.shape == (3, 28, 28, 1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"source": "svhn"}, "source"),
        ({"source": "digits", "transform": "rotate"}, "transform"),
        ({"source": "idx"}, "data_dir"),
        ({"source": "digits", "batch_size": 0}, "batch_size"),
        ({"source": "digits", "split": "test"}, "split"),
        ({"source": "digits", "cache": "/tmp/cache"}, "cache"),
        ({"source": "digits", "batch_size": 1000}, "batch_size"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        unpaired_digits(**kwargs)
