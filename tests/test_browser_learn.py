"""Lesson 1 in a real Chromium: one click runs it to the end; the curves, the script and the observation appear.

The lesson trains on 200 images for 2 epochs (DLAPP_LESSON_SUBSET / DLAPP_LESSON_EPOCHS).
Screenshots at 1400x900 and at a phone's 390x844 go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from streamlit_server import ARTIFACTS, PHONE, browser_page, chromium_or_skip, streamlit_app, wait_idle

from dlapp.lessons import EPOCHS_ENV, SUBSET_ENV

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLOW = 180_000  # ms: TensorFlow starts and the lesson trains on a shared 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chromium_or_skip()
    data_dir = tmp_path_factory.mktemp("learn-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SUBSET_ENV, "200")
        patch.setenv(EPOCHS_ENV, "2")
        with streamlit_app(data_dir, log_name="streamlit-learn.log") as (url, _):
            yield url


def test_lesson_one_runs_to_the_end_with_curves_code_and_observation(browser, server):
    with browser_page(browser, timeout=SLOW) as page:
        page.goto(f"{server}/learn")
        wait_idle(page)
        page.get_by_role("button", name="Run this lesson's experiment").click()
        observation = page.get_by_text("What your runs showed")
        observation.wait_for()
        wait_idle(page)
        page.locator(".js-plotly-plot").first.wait_for()  # Plotly draws after the script is idle: wait, not count
        assert "layers.Dense(128" in page.locator("[data-testid='stCode']").first.inner_text()
        text = page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
        assert "Training loss" in text and "after epoch 2" in text
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=ARTIFACTS / "browser-learn-lesson1.png")
        page.locator("[data-testid='stCode']").first.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "browser-learn-lesson1-curves.png")
        observation.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "browser-learn-lesson1-observation.png")


def test_learn_page_fits_a_phone_screen(browser, server):
    with browser_page(browser, PHONE, SLOW) as page:
        page.goto(f"{server}/learn")
        page.locator("h1").first.wait_for()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
        page.wait_for_timeout(1500)
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=ARTIFACTS / "browser-phone-learn.png", full_page=True)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"/learn is {overflow} px wider than the phone screen"
