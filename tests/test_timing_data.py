"""The timing set: the sample's digits moved and turned, at the size asked for."""

from __future__ import annotations

import numpy as np
import pytest

from dlapp.data import load_raw
from dlapp.timing_data import _moved, timing_prepared, timing_set


def test_no_rotation_and_no_shift_gives_the_digit_back():
    digits = load_raw("mnist-sample").x_train[:20]
    assert np.array_equal(_moved(digits, np.zeros(20), np.zeros((20, 2))), digits)


def test_a_shift_moves_a_pixel_by_whole_pixels_down_and_right():
    dot = np.zeros((1, 28, 28), dtype=np.uint8)
    dot[0, 10, 10] = 255
    moved = _moved(dot, np.zeros(1), np.array([[2.0, 3.0]]))
    assert np.argwhere(moved[0]).tolist() == [[12, 13]]


def test_a_quarter_turn_keeps_the_ink_and_moves_it():
    bar = np.zeros((1, 28, 28), dtype=np.uint8)
    bar[0, 4:24, 13:15] = 255  # an upright bar through the centre
    turned = _moved(bar, np.array([np.pi / 2]), np.zeros((1, 2)))[0]
    assert turned[13:15, 4:24].min() == 255 and turned[4:12, 13:15].max() == 0


def test_the_timing_set_has_the_size_asked_for_balanced_labels_and_the_real_test_set():
    sample = load_raw("mnist-sample")
    timing = timing_set(2_000, seed=3)
    assert timing.x_train.shape == (2_000, 28, 28) and timing.x_train.dtype == np.uint8
    assert len(timing.y_train) == 2_000 and set(np.unique(timing.y_train)) == set(range(10))
    assert np.array_equal(timing.x_test, sample.x_test)
    assert not np.array_equal(timing.x_train[:50], sample.x_train[:50])  # moved copies, not the originals
    assert timing.x_train.reshape(2_000, -1).max(axis=1).min() > 100  # every copy still has its ink


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError, match="size must be at least 1"):
        timing_set(0)


def test_the_prepared_timing_set_is_shaped_for_the_architecture_with_no_validation():
    prepared = timing_prepared("cnn", 300)
    assert prepared.x_train.shape == (300, 28, 28, 1) and prepared.x_train.dtype == np.float32
    assert prepared.x_train.max() <= 1.0 and len(prepared.x_val) == 0 and len(prepared.x_test) == 1_000
