"""The Draw page on a fresh install, in a real Chromium, drawn with the mouse.

No run is trained: the page must use the starter model shipped in dlapp/assets/. A fixed
set of digits (one template style each, from the drawing report) is drawn with
`page.mouse` on the canvas; after each, the page must show a prediction. Between
digits the canvas toolbar's own reset button clears it and the next stroke follows at
once: that stroke must count. Accuracy and timings are printed (-s), never asserted.
"""

import re
import statistics
import time

import pytest
from streamlit_server import (
    ARTIFACTS,
    PHONE,
    browser_page,
    chromium_or_skip,
    draw_strokes,
    model_input_src,
    open_canvas,
    streamlit_app,
    wait_for_new_drawing,
)

from dlapp.tools.sketches import STYLES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOX = (70, 40, 150, 200)  # where each digit is drawn on the 280x280 canvas: left, top, width, height
GUESS = re.compile(r"It's a|Not sure")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chromium_or_skip()
    with streamlit_app(tmp_path_factory.mktemp("draw-fresh")) as (url, _):
        yield url


def digit_strokes(digit: int) -> list[list[tuple[float, float]]]:
    """The digit's first template style in canvas px, inside BOX."""
    left, top, width, height = BOX
    return [[(left + x * width, top + y * height) for x, y in stroke] for stroke in next(iter(STYLES[digit].values()))]


def shown_guess(page) -> str:
    """The digit the page shows, once the prediction for the current drawing is on screen."""
    page.get_by_text(GUESS).first.wait_for()
    page.get_by_text("Probability per class").first.wait_for()
    return page.locator("[data-testid='stMetricValue']").first.inner_text().strip().rstrip("?")


def test_fresh_install_draws_with_the_starter_model(page, server):
    canvas = open_canvas(page, server)
    page.get_by_text(re.compile("starter model", re.I)).first.wait_for()
    page.screenshot(path=ARTIFACTS / "draw-fresh-1400.png", full_page=True)
    guesses, seconds = {}, []
    for digit in range(10):
        before = model_input_src(page)
        if digit:
            page.get_by_role("button", name="Reset canvas & history").click()
        draw_strokes(page, canvas, digit_strokes(digit), steps=3)  # at once after the reset: this drawing must count
        began = time.perf_counter()
        wait_for_new_drawing(page, before)
        guesses[digit] = shown_guess(page)
        seconds.append(time.perf_counter() - began)
        assert guesses[digit] in {str(d) for d in range(10)}
        if digit == 7:
            page.screenshot(path=ARTIFACTS / "draw-starter-7.png", full_page=True)
    right = sum(guesses[d] == str(d) for d in guesses)
    timing = f"median {statistics.median(seconds):.2f} s, first {seconds[0]:.2f} s"
    print(f"\nstarter model on the canvas: {right}/10 right {guesses}; stroke to probabilities {timing}")


def test_draw_page_fits_a_phone(browser, server):
    with browser_page(browser, PHONE) as page:
        canvas = open_canvas(page, server)
        draw_strokes(page, canvas, digit_strokes(3), steps=3)
        assert shown_guess(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=ARTIFACTS / "draw-phone-390.png", full_page=True)
        assert overflow <= 1
