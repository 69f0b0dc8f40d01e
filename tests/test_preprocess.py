"""canvas_to_mnist against real MNIST digits, hand-made arrays and every canvas convention."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dlapp.data import load_raw
from dlapp.errors import EmptyCanvas
from dlapp.preprocess import MAX_SIDE, canvas_to_mnist, naive_resize


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    raw = load_raw("mnist-sample")
    return raw.x_test[::100][:10]  # (10, 28, 28) uint8, one of each class


def enlarged_on_canvas(digit: np.ndarray, size: int = 150, top: int = 110, left: int = 15) -> np.ndarray:
    """A white-on-black MNIST digit scaled up and placed off-centre on a 280x280 grey canvas."""
    big = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    canvas = np.zeros((280, 280), np.uint8)
    canvas[top : top + size, left : left + size] = big
    return canvas


def conventions(grey: np.ndarray) -> dict[str, np.ndarray]:
    """The same white-on-black drawing as each canvas convention delivers it."""
    opaque = np.full(grey.shape, 255, np.uint8)
    transparent = np.zeros((*grey.shape, 4), np.uint8)
    transparent[..., 3] = grey  # ink only in alpha, RGB all zero
    dark_on_white = 255 - grey
    return {
        "grey white on black": grey,
        "RGBA white on black": np.dstack([grey, grey, grey, opaque]),
        "RGBA transparent": transparent,
        "RGB dark on white": np.dstack([dark_on_white] * 3),
        "RGBA dark on white": np.dstack([dark_on_white] * 3 + [opaque]),
    }


def best_alignment(out: np.ndarray, original: np.ndarray) -> tuple[float, float]:
    """(correlation, mean abs difference) at the best shift of at most one pixel.

    The centre of mass is rounded to whole pixels, as MNIST did, so a digit whose
    centre sits near a half pixel may land one pixel away from where MNIST put it.
    """
    shifted = [np.roll(out, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    correlation, closest = max((np.corrcoef(s.ravel(), original.ravel())[0, 1], s) for s in shifted)
    return correlation, float(np.abs(closest - original).mean())


def test_real_digit_enlarged_off_centre_comes_back_close_to_the_original(digits):
    correlations = []
    for digit in digits:
        out = canvas_to_mnist(enlarged_on_canvas(digit))
        original = digit / 255.0
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() == pytest.approx(1.0)
        correlation, difference = best_alignment(out, original)
        assert correlation > 0.95 and difference < 0.05
        correlations.append(np.corrcoef(out.ravel(), original.ravel())[0, 1])
    assert np.median(correlations) > 0.95  # most digits land on exactly MNIST's pixel grid


def test_all_canvas_conventions_give_the_same_digit(digits):
    outputs = {name: canvas_to_mnist(image) for name, image in conventions(enlarged_on_canvas(digits[3])).items()}
    reference = outputs.pop("grey white on black")
    for name, out in outputs.items():
        np.testing.assert_allclose(out, reference, atol=2e-2, err_msg=name)


def test_coloured_ink_on_transparent_canvas_counts_as_full_ink(digits):
    grey = enlarged_on_canvas(digits[5])
    canvas = np.zeros((*grey.shape, 4), np.uint8)
    canvas[..., 0] = 200  # red pen
    canvas[..., 3] = grey
    np.testing.assert_allclose(canvas_to_mnist(canvas), canvas_to_mnist(grey), atol=2e-2)


def test_centred_bar_matches_a_hand_made_mnist_array():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[40:240, 100:140, 3] = 255  # a 200 x 40 px upright bar, left of centre
    expected = np.zeros((28, 28), np.float32)
    expected[4:24, 12:16] = 1.0  # scaled to 20 x 4 px, centre of mass at (14, 14)
    np.testing.assert_allclose(canvas_to_mnist(canvas), expected, atol=1e-5)


def test_wide_shape_is_scaled_by_its_longer_side():
    canvas = np.zeros((100, 300), np.uint8)
    canvas[40:60, 50:250] = 255  # 20 x 200 px horizontal bar
    out = canvas_to_mnist(canvas)
    rows, cols = np.nonzero(out > 0.5)
    assert cols.max() - cols.min() + 1 == 20
    assert rows.max() - rows.min() + 1 == 2


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((280, 280, 4), np.uint8),  # transparent, nothing drawn
        np.full((280, 280, 4), 255, np.uint8),  # opaque white, nothing drawn
        np.zeros((280, 280), np.uint8),
    ],
)
def test_empty_canvas_is_reported_not_predicted(canvas):
    with pytest.raises(EmptyCanvas, match="The canvas is empty: draw a digit first."):
        canvas_to_mnist(canvas)
    with pytest.raises(EmptyCanvas):
        naive_resize(canvas)


def test_a_stray_dot_counts_as_empty():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[100:103, 100:103, 3] = 255
    with pytest.raises(EmptyCanvas):
        canvas_to_mnist(canvas)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros(280, np.uint8), "height, width"),
        (np.zeros((2, 280, 280, 4), np.uint8), "height, width"),
        (np.zeros((280, 280, 5), np.uint8), "channels"),
        (np.array([["a", "b"], ["c", "d"]]), "numbers"),
        (np.zeros((0, 280), np.uint8), "px"),
        (np.full((28, 28), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_arrays_raise_one_sentence(array, words):
    with pytest.raises(ValueError, match=words) as info:
        canvas_to_mnist(array)
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_huge_array_is_refused_before_any_work():
    # A broadcast view: 10000 x 10000 x 4 without allocating 400 MB.
    huge = np.broadcast_to(np.zeros(1, np.uint8), (10_000, 10_000, 4))
    with pytest.raises(ValueError, match=f"1 to {MAX_SIDE} px"):
        canvas_to_mnist(huge)


def test_naive_resize_keeps_position_and_size(digits):
    canvas = enlarged_on_canvas(digits[0], size=80, top=0, left=0)  # small digit in the top-left corner
    naive = naive_resize(canvas)
    assert naive.shape == (28, 28) and naive.dtype == np.float32
    assert naive[14:, :].sum() < 0.05 * naive.sum()  # stays in the top half
    rows, _ = np.nonzero(canvas_to_mnist(canvas) > 0.3)
    assert rows.max() - rows.min() >= 17  # while canvas_to_mnist scales it to ~20 px
