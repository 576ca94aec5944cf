import inspect

import numpy as np
import pytest
import tensorflow as tf

import zoo.data
from zoo.data import pipeline


def _indexed(n=10, size=4, channels=1, labels=True):
    """n uint8 images, image i filled with the value 10 * i, labelled i (int64)."""
    images = np.repeat(np.arange(n, dtype=np.uint8) * 10, size * size * channels)
    images = images.reshape(n, size, size, channels)
    if not labels:
        return tf.data.Dataset.from_tensor_slices(images)
    return tf.data.Dataset.from_tensor_slices((images, np.arange(n, dtype=np.int64)))


def _ids(ds):
    """Image ids (undoing the scaling) in iteration order, over one pass."""
    ids = []
    for batch in ds:
        images = batch[0] if isinstance(batch, tuple) else batch
        ids += list(np.rint((images.numpy()[:, 0, 0, 0] + 1) * 127.5 / 10).astype(int))
    return ids


def test_to_signed_unit_uint8_exact_values():
    out = pipeline.to_signed_unit(tf.constant([0, 51, 255], tf.uint8))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [-1.0, 51 / 127.5 - 1.0, 1.0], atol=1e-7)
    assert out.numpy()[0] == -1.0 and out.numpy()[2] == 1.0


def test_to_signed_unit_custom_max_value_and_clipping():
    out = pipeline.to_signed_unit(tf.constant([0.0, 8.0, 16.0, 16.0001]), max_value=16.0)
    np.testing.assert_allclose(out.numpy(), [-1.0, 0.0, 1.0, 1.0], atol=1e-7)
    assert out.numpy().max() <= 1.0


def test_resize_keeps_dtype_and_constant_values():
    image = tf.fill((28, 28, 1), tf.constant(200, tf.uint8))
    out = pipeline.resize(image, 32)
    assert out.dtype == tf.uint8 and out.shape == (32, 32, 1)
    assert np.all(out.numpy() == 200)
    floats = pipeline.resize(tf.fill((2, 8, 8, 3), 0.25), (16, 12))
    assert floats.dtype == tf.float32 and floats.shape == (2, 16, 12, 3)
    np.testing.assert_allclose(floats.numpy(), 0.25, atol=1e-6)


def test_resize_same_size_is_identity():
    image = tf.constant(np.random.default_rng(0).integers(0, 256, (8, 8, 3)), tf.uint8)
    assert pipeline.resize(image, 8) is image


def test_resize_antialiases_when_downsampling():
    # A one-pixel checkerboard averages to grey with antialiasing; plain bilinear
    # sampling would keep pure black/white pixels.
    board = (np.indices((16, 16)).sum(axis=0) % 2 * 255).astype(np.uint8)[..., None]
    out = pipeline.resize(tf.constant(board), 5).numpy()
    assert np.all(np.abs(out.astype(int) - 128) <= 2)


def test_center_crop_square_takes_the_middle():
    image = np.arange(218 * 178).reshape(218, 178, 1)
    out = pipeline.center_crop_square(tf.constant(image)).numpy()
    assert out.shape == (178, 178, 1)
    np.testing.assert_array_equal(out, image[20:198])
    wide = pipeline.center_crop_square(tf.zeros((10, 16, 3)))
    assert wide.shape == (10, 10, 3)


def test_center_crop_square_dynamic_shape():
    crop = tf.function(
        pipeline.center_crop_square,
        input_signature=[tf.TensorSpec((None, None, 1), tf.int32)],
    )
    image = np.arange(6 * 4).reshape(6, 4, 1).astype(np.int32)
    np.testing.assert_array_equal(crop(image).numpy(), image[1:5])


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), (32, (32, 32)), ((64, 48), (64, 48)), ([8, 4], (8, 4)), (np.int64(5), (5, 5))],
)
def test_image_size_pair(value, expected):
    assert pipeline.image_size_pair(value) == expected


@pytest.mark.parametrize("value", [0, -3, 2.5, "32", True, (32,), (32, 0), (1, 2, 3)])
def test_image_size_pair_rejects(value):
    with pytest.raises(ValueError, match="image_size must be"):
        pipeline.image_size_pair(value)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -1}, "batch_size"),
        ({"batch_size": 2.0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"batch_size": "64"}, "batch_size"),
        ({"image_size": 0}, "image_size"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"seed": 1.5}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"with_labels": 1}, "with_labels"),
        ({"drop_remainder": None}, "drop_remainder"),
        ({"cache": ""}, "cache"),
        ({"cache": 1}, "cache"),
        ({"limit": 0}, "limit"),
        ({"limit": 3.0}, "limit"),
    ],
)
def test_check_options_names_the_bad_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        pipeline.check_options(**kwargs)


def test_check_options_normalises():
    options = pipeline.check_options(batch_size=np.int32(8), image_size=16, seed=np.int64(3))
    assert options["batch_size"] == 8 and type(options["batch_size"]) is int
    assert options["image_size"] == (16, 16)
    assert options["seed"] == 3


def test_common_options_validates_the_shared_names_and_ignores_the_rest():
    namespace = dict(pipeline.check_options(), image_size=16, split="train", data_dir=None)
    assert pipeline.common_options(namespace) == pipeline.check_options(image_size=16)
    with pytest.raises(ValueError, match="^limit must be"):
        pipeline.common_options(dict(namespace, limit=0))


def test_every_loader_takes_the_common_options():
    # Loaders validate with common_options(locals()), so each must keep all these keywords.
    for loader in [zoo.data.image_folder, zoo.data.mnist_idx, *(entry.loader for entry in zoo.data.DATASETS.values())]:
        params = inspect.signature(loader).parameters
        assert set(pipeline.COMMON_OPTIONS) <= set(params), loader.__name__


def test_finalize_shapes_dtypes_and_range():
    ds = pipeline.finalize(_indexed(size=4, channels=3), batch_size=4, image_size=6)
    assert ds.element_spec.shape == (4, 6, 6, 3)
    assert ds.element_spec.dtype == tf.float32
    values = np.concatenate([batch.numpy().ravel() for batch in ds])
    assert values.min() >= -1.0 and values.max() <= 1.0


def test_finalize_reaches_both_ends():
    images = np.zeros((4, 2, 2, 1), np.uint8)
    images[1] = 255
    ds = pipeline.finalize(tf.data.Dataset.from_tensor_slices(images), batch_size=4)
    batch = next(iter(ds)).numpy()
    assert batch.min() == -1.0 and batch.max() == 1.0


def test_finalize_labels_are_int32_and_follow_images():
    ds = pipeline.finalize(_indexed(), batch_size=5, with_labels=True, seed=0)
    images, labels = next(iter(ds))
    assert labels.dtype == tf.int32 and labels.shape == (5,)
    ids = np.rint((images.numpy()[:, 0, 0, 0] + 1) * 127.5 / 10).astype(int)
    np.testing.assert_array_equal(ids, labels.numpy())


def test_finalize_drops_labels_by_default():
    ds = pipeline.finalize(_indexed(), batch_size=5)
    assert isinstance(ds.element_spec, tf.TensorSpec)


def test_finalize_with_labels_needs_labels():
    with pytest.raises(ValueError, match="with_labels"):
        pipeline.finalize(_indexed(labels=False), batch_size=2, with_labels=True)


def test_no_shuffle_keeps_order():
    assert _ids(pipeline.finalize(_indexed(), batch_size=2, shuffle=False)) == list(range(10))


def test_seeded_shuffle_is_reproducible_and_reshuffles():
    first = pipeline.finalize(_indexed(n=20), batch_size=20, seed=7)
    again = pipeline.finalize(_indexed(n=20), batch_size=20, seed=7)
    other = pipeline.finalize(_indexed(n=20), batch_size=20, seed=8)
    epoch1, epoch2 = _ids(first), _ids(first)
    assert sorted(epoch1) == list(range(20))
    assert epoch1 != list(range(20))
    assert epoch1 != epoch2  # reshuffled each iteration
    assert _ids(again) == epoch1 and _ids(again) == epoch2
    assert _ids(other) != epoch1


def test_limit_takes_first_examples_before_shuffling():
    ds = pipeline.finalize(_indexed(n=10), batch_size=1, limit=4, seed=1)
    assert sorted(_ids(ds)) == [0, 1, 2, 3]


def test_drop_remainder():
    kept = pipeline.finalize(_indexed(n=10), batch_size=4, shuffle=False, drop_remainder=False)
    assert [b.shape[0] for b in kept] == [4, 4, 2]
    assert kept.element_spec.shape[0] is None
    dropped = pipeline.finalize(_indexed(n=10), batch_size=4, shuffle=False)
    assert [b.shape[0] for b in dropped] == [4, 4]
    assert dropped.element_spec.shape[0] == 4


def test_batch_larger_than_data_is_an_error_only_when_dropping():
    with pytest.raises(ValueError, match="batch_size=16"):
        pipeline.finalize(_indexed(n=10), batch_size=16)
    with pytest.raises(ValueError, match="batch_size=8"):
        pipeline.finalize(_indexed(n=10), batch_size=8, limit=5)
    ds = pipeline.finalize(_indexed(n=10), batch_size=16, drop_remainder=False)
    assert [b.shape[0] for b in ds] == [10]


def _counting_preprocess(counter):
    def count(image):
        counter.append(1)
        return image

    def preprocess(image):
        out = tf.py_function(count, [image], image.dtype)
        out.set_shape(image.shape)
        return out

    return preprocess


@pytest.mark.parametrize("cache, calls", [(True, 6), (False, 12)])
def test_cache_runs_preprocess_once(cache, calls):
    counter = []
    ds = pipeline.finalize(
        _indexed(n=6), batch_size=3, cache=cache, preprocess=_counting_preprocess(counter)
    )
    for _ in range(2):
        for _ in ds:
            pass
    assert len(counter) == calls


def test_cache_to_file(tmp_path):
    prefix = str(tmp_path / "cache")
    ds = pipeline.finalize(_indexed(n=6), batch_size=3, cache=prefix, shuffle=False)
    assert _ids(ds) == list(range(6))
    assert any(p.name.startswith("cache") for p in tmp_path.iterdir())


def test_finalize_rejects_bad_shuffle_buffer():
    with pytest.raises(ValueError, match="shuffle_buffer"):
        pipeline.finalize(_indexed(), batch_size=2, shuffle_buffer=0)


def test_image_shape_reads_images_and_labelled_batches():
    import numpy as np
    import tensorflow as tf

    from zoo.data import image_shape

    images = np.zeros((4, 12, 10, 3), "float32")
    assert image_shape(tf.data.Dataset.from_tensor_slices(images).batch(2)) == (12, 10, 3)
    labelled = tf.data.Dataset.from_tensor_slices((images, np.zeros(4, "int32"))).batch(2)
    assert image_shape(labelled) == (12, 10, 3)


def test_random_shift_moves_each_image_by_its_own_offset_and_fills_the_background():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, 6, 5, 2)).astype("float32")
    shifted = zoo.data.random_shift(images, 2, seed=3)
    assert isinstance(shifted, np.ndarray) and shifted.shape == images.shape
    seen = set()
    for original, moved in zip(images, shifted):
        padded = np.pad(original, ((2, 2), (2, 2), (0, 0)), constant_values=-1.0)
        matches = [
            (dy, dx) for dy in range(5) for dx in range(5) if np.array_equal(padded[dy:dy + 6, dx:dx + 5], moved)
        ]
        assert len(matches) == 1, matches  # a whole-pixel translation with -1 moved in
        seen.add(matches[0])
    assert len(seen) > 10  # offsets differ between images
    np.testing.assert_array_equal(zoo.data.random_shift(images, 2, seed=3), shifted)  # seeded
    np.testing.assert_array_equal(zoo.data.random_shift(images, 0), images)
    as_tensor = zoo.data.random_shift(tf.constant(images), 1)
    assert isinstance(as_tensor, tf.Tensor) and as_tensor.shape == images.shape


def test_random_shift_names_bad_arguments():
    with pytest.raises(ValueError, match="max_shift must be an int >= 0"):
        zoo.data.random_shift(np.zeros((1, 4, 4, 1)), -1)
    with pytest.raises(ValueError, match="max_shift must be an int >= 0"):
        zoo.data.random_shift(np.zeros((1, 4, 4, 1)), 1.5)
    with pytest.raises(ValueError, match=r"batch \(n, height, width, channels\)"):
        zoo.data.random_shift(np.zeros((4, 4, 1)), 1)
