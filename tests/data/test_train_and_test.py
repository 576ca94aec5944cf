"""zoo.data.train_and_test: training data and held-out arrays, the recipes' split."""

import numpy as np

from zoo import data
from zoo.data.mnist_idx import mnist_idx_arrays


def test_a_dataset_without_splits_holds_every_image_out():
    train, images, labels = data.train_and_test("digits", 16, seed=0, with_labels=True, image_size=28, limit=48)
    assert data.image_shape(train) == (28, 28, 1) and sum(1 for _ in train) == 3
    assert images.shape == (1797, 28, 28, 1) and labels.shape == (1797,) and set(np.unique(labels)) == set(range(10))
    batch = next(iter(data.train_and_test("digits", 8, seed=0)[0]))
    assert tuple(batch.shape) == (8, 8, 8, 1)  # images only without with_labels (the digits' own size)


def test_an_idx_folder_trains_on_8000_and_holds_out_2000(shared_mnist):
    train, images, labels = data.train_and_test(str(shared_mnist), 100, seed=0, with_labels=True)
    assert sum(int(b[0].shape[0]) for b in train) == 8000
    held, held_labels = mnist_idx_arrays(str(shared_mnist), "test")
    assert images.shape == (2000, 28, 28, 1)
    np.testing.assert_array_equal(labels, held_labels)
    np.testing.assert_allclose(images, held.astype("float32") / 127.5 - 1.0, atol=1e-6)
