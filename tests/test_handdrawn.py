"""The procedural drawings: deterministic, inked, canvas-like, and readable by a briefly trained CNN."""

from __future__ import annotations

import numpy as np
import pytest

from dlapp.preprocess import canvas_to_mnist
from dlapp.tools.handdrawn import accuracy, accuracy_by_style, train_cnn
from dlapp.tools.procedural_drawings import STYLES, draw_digit, drawings


def test_same_seed_same_drawings_other_seed_other_drawings():
    first = [canvas for canvas, _, _ in drawings(12, seed=3)]
    again = [canvas for canvas, _, _ in drawings(12, seed=3)]
    other = [canvas for canvas, _, _ in drawings(12, seed=4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_labels_are_balanced_and_styles_named():
    labels = [label for _, label, _ in drawings(30)]
    assert labels == list(range(10)) * 3
    assert all(style in STYLES[label] for _, label, style in drawings(30))


@pytest.mark.parametrize("digit", range(10))
def test_every_style_of_every_digit_draws_ink_like_a_transparent_canvas(digit):
    rng = np.random.default_rng(digit)
    for style in STYLES[digit]:
        canvas = draw_digit(digit, rng, style)
        assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
        assert not canvas[..., :3].any()  # ink only in alpha, as streamlit-drawable-canvas exports it
        assert 0.005 < (canvas[..., 3] > 127).mean() < 0.4, style
        assert canvas_to_mnist(canvas).shape == (28, 28)


def test_drawings_vary_in_size_and_place():
    boxes = []
    for canvas, _, _ in drawings(40, seed=1):
        rows, cols = np.nonzero(canvas[..., 3])
        boxes.append((rows.max() - rows.min(), (rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2))
    heights, centre_rows, centre_cols = np.array(boxes).T
    assert heights.max() > 1.8 * heights.min()
    assert np.ptp(centre_rows) > 60 and np.ptp(centre_cols) > 60


@pytest.mark.slow
def test_briefly_trained_cnn_reads_the_drawings_far_above_chance():
    model, test_accuracy = train_cnn(epochs=1)
    assert test_accuracy > 0.8
    result = accuracy(model, n=100, seed=5)
    assert result["canvas_to_mnist"] > 0.6  # chance is 0.1
    assert result["canvas_to_mnist"] > result["naive_resize"]
    assert set(accuracy_by_style(model, n=30, seed=5)) <= {f"{d} {s}" for d in STYLES for s in STYLES[d]}
