"""The tf.data input: every image once per epoch, reshuffled each epoch, the same for the same seed."""

from __future__ import annotations

import numpy as np

from dlapp.config import ARCHITECTURES
from dlapp.input_pipeline import USE_TF_DATA, training_input, validation_input


def _epochs(dataset, count: int) -> list[list[int]]:
    return [[int(i) for batch_x, _ in dataset for i in batch_x.numpy()] for _ in range(count)]


def test_every_architecture_has_a_measured_choice():
    assert set(USE_TF_DATA) == set(ARCHITECTURES)


def test_the_pipeline_gives_every_image_once_per_epoch_in_a_new_order():
    x, y = np.arange(100), np.arange(100) % 10
    dataset = training_input(x, y, batch_size=32, seed=7, use_tf_data=True)["x"]
    first, second = _epochs(dataset, 2)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != second  # shuffled again for the second epoch
    assert [len(bx) for bx, _ in dataset] == [32, 32, 32, 4]  # Keras's own batching of 100 images
    again = training_input(x, y, batch_size=32, seed=7, use_tf_data=True)["x"]
    assert _epochs(again, 2) == [first, second]  # same seed, same order


def test_labels_stay_with_their_images():
    x, y = np.arange(50), np.arange(50) * 3
    dataset = training_input(x, y, batch_size=8, seed=1, use_tf_data=True)["x"]
    for batch_x, batch_y in dataset:
        assert np.array_equal(batch_y.numpy(), batch_x.numpy() * 3)


def test_without_the_pipeline_fit_gets_the_arrays():
    x, y = np.zeros((4, 28, 28)), np.zeros(4)
    fed = training_input(x, y, batch_size=2, seed=0, use_tf_data=False)
    assert fed["x"] is x and fed["y"] is y and fed["batch_size"] == 2
    assert validation_input(x, y, 2, use_tf_data=False) == (x, y)
    validation = validation_input(np.arange(5), np.arange(5), 2, use_tf_data=True)
    assert [int(i) for bx, _ in validation for i in bx.numpy()] == [0, 1, 2, 3, 4]  # in order, every epoch
