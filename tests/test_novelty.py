"""The "this doesn't look like a digit" check, on real MNIST test digits and scribbles drawn like on the canvas."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dlapp.data import load_raw
from dlapp.novelty import DigitReference, ink_aspect, mnist_reference
from dlapp.preprocess import canvas_to_mnist


@pytest.fixture(scope="module")
def reference() -> DigitReference:
    return mnist_reference()


def drawn(*strokes: list[tuple[float, float]]) -> np.ndarray:
    """Strokes with the app's 18 px pen on a transparent 280x280 canvas, prepared like the Draw page."""
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen = ImageDraw.Draw(canvas)
    for stroke in strokes:
        pen.line(stroke, fill=(0, 0, 0, 255), width=18, joint="curve")
    return canvas_to_mnist(np.asarray(canvas))


def test_real_test_digits_mostly_look_like_digits(reference):
    test = load_raw("mnist-sample").x_test.astype(np.float32) / 255.0  # never in the reference
    flagged = np.mean([not check.looks_like_digit for check in reference.check_many(test)])
    assert flagged < 0.05, f"{flagged:.1%} of real MNIST test digits were called not a digit"


@pytest.mark.parametrize(
    "strokes",
    [
        [[(40, 140), (240, 140)]],  # a horizontal bar: the "It's a 4, 100% confident"
        [[(x, 140 + 30 * np.sin(x / 15)) for x in np.linspace(30, 250, 60)]],  # a wave
        [[(x, 60 if i % 2 else 220) for i, x in enumerate(np.linspace(30, 250, 12))]],  # a zigzag
        [[(80, 40), (80, 240)], [(180, 40), (180, 240)], [(40, 100), (240, 100)], [(40, 180), (240, 180)]],  # #
        [[(60 + 10 * i, 60), (60 + 10 * i, 220)] for i in range(17)],  # a filled blob
    ],
    ids=["bar", "wave", "zigzag", "hash", "blob"],
)
def test_scribbles_do_not_look_like_digits(reference, strokes):
    check = reference.check(drawn(*strokes))
    assert not check.looks_like_digit and check.reason, check


def test_a_drawn_seven_looks_like_a_digit(reference):
    seven = drawn([(80, 60), (200, 60), (190, 90), (160, 150), (130, 220)])
    assert reference.check(seven).looks_like_digit


def test_ink_aspect_is_height_over_width_of_the_inked_box():
    image = np.zeros((28, 28), np.float32)
    image[10:14, 4:24] = 1.0  # 4 rows by 20 columns
    assert ink_aspect(image) == pytest.approx(4 / 20)
