import numpy as np
import pytest
import tensorflow as tf

from zoo import data


def labels_of(n=200, classes=4, seed=0):
    return np.random.default_rng(seed).integers(0, classes, n)


def test_labelled_subset_has_per_class_of_each_class_chosen_by_the_seed():
    labels = labels_of()
    keep = data.labelled_subset(labels, per_class=5, seed=1)
    assert keep.dtype == np.int64 and len(set(keep.tolist())) == 20
    np.testing.assert_array_equal(np.bincount(labels[keep]), [5, 5, 5, 5])
    np.testing.assert_array_equal(keep, data.labelled_subset(labels, per_class=5, seed=1))
    assert set(keep) != set(data.labelled_subset(labels, per_class=5, seed=2))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"per_class": 0}, "per_class"),
        ({"per_class": 1000}, "fewer than per_class"),
        ({"per_class": 2, "seed": 1.5}, "seed"),
        ({"per_class": 2, "num_classes": 0}, "num_classes"),
    ],
)
def test_labelled_subset_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.labelled_subset(labels_of(), **kwargs)


def test_dataset_zips_label_free_images_with_repeated_labelled_examples():
    images = np.random.default_rng(0).uniform(-1, 1, (20, 4, 4, 1)).astype("float32")
    labels = labels_of(20, classes=2)
    keep = data.labelled_subset(labels, per_class=3, seed=0)
    ds = data.semi_supervised_dataset(images, images[keep], labels[keep], batch_size=8, seed=0)
    unlabelled_spec, image_spec, label_spec = ds.element_spec
    # The unlabelled stream is a bare image tensor: there is no label to read.
    assert isinstance(unlabelled_spec, tf.TensorSpec) and unlabelled_spec.shape == (8, 4, 4, 1)
    assert image_spec.shape == (8, 4, 4, 1) and label_spec.dtype == tf.int32
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 2  # one pass over the 20 unlabelled images, remainder dropped
    allowed = {images[i].tobytes(): labels[i] for i in keep}
    for _, labelled, batch_labels in batches:
        for image, label in zip(labelled, batch_labels):
            assert allowed[image.tobytes()] == label
    # Every epoch reshuffles the unlabelled images.
    second = list(ds.as_numpy_iterator())
    assert not np.array_equal(batches[0][0], second[0][0])


def test_dataset_rejects_mismatched_inputs():
    images = np.zeros((10, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match="same image shape"):
        data.semi_supervised_dataset(images, np.zeros((2, 5, 5, 1)), [0, 1], batch_size=4)
    with pytest.raises(ValueError, match="labelled_labels"):
        data.semi_supervised_dataset(images, images[:2], [0, 1, 2], batch_size=4)
    with pytest.raises(ValueError, match="batch_size=11"):
        data.semi_supervised_dataset(images, images[:2], [0, 1], batch_size=11)
    with pytest.raises(ValueError, match="empty"):
        data.semi_supervised_dataset(images, images[:0], np.zeros(0, int), batch_size=4)


def test_dataset_arrays_collects_batches():
    images, labels = data.dataset_arrays(
        data.digits(image_size=None, with_labels=True, shuffle=False, drop_remainder=False, batch_size=500)
    )
    assert images.shape == (1797, 8, 8, 1) and labels.shape == (1797,)
    assert images.min() >= -1 and images.max() <= 1
