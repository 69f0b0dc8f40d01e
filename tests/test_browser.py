"""The real app in a real Chromium: live training charts, Stop, drawing a digit, the runs list.

Starts `streamlit run app.py` on a free port with its own data directory, holding two tiny
runs trained beforehand, so every test stands alone (none needs an earlier test's run), and
tests wait on what the page shows, never on elapsed time. Screenshots go to test-artifacts/.
Timings are printed (run with -s to see them), never asserted.
"""

import re
import time

import pytest
from streamlit_server import (
    ARTIFACTS,
    PHONE,
    SEVEN,
    app_with_tiny_runs,
    browser_page,
    draw_strokes,
    model_input_src,
    open_canvas,
    set_number,
    wait_for_new_drawing,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, data_dir) of a fresh `streamlit run app.py` whose store holds two finished tiny MLPs."""
    with app_with_tiny_runs(tmp_path_factory.mktemp("browser-runs"), ["tiny one", "tiny two"], "streamlit.log") as app:
        yield app


def open_expander(page, title: str) -> None:
    page.locator("[data-testid='stExpander'] summary", has_text=title).click()


def chart_points(page) -> int:
    """Markers in the first Plotly chart (the loss chart): train and validation points, one per epoch each."""
    return page.evaluate(
        "() => { const c = document.querySelector('.js-plotly-plot');"
        " return c ? c.querySelectorAll('.scatterlayer path.point').length : 0; }"
    )


def start_training(page, url: str, epochs: int, name: str, batch_size: int = 128) -> None:
    page.goto(f"{url}/train")
    wait_idle(page)
    page.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
    set_number(page, "Epochs", epochs)
    set_number(page, "Batch size", batch_size)
    page.get_by_label("Run name (optional)").fill(name)
    page.get_by_label("Run name (optional)").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Train").click()


def test_home_page_is_interactive_quickly(page, server):
    url, _ = server
    began = time.perf_counter()
    page.goto(url)
    page.get_by_text("Latest runs").wait_for()
    page.get_by_role("link", name=re.compile("Train")).first.wait_for()
    print(f"\nhome page time-to-interactive: {time.perf_counter() - began:.2f} s")
    page.screenshot(path=ARTIFACTS / "browser-home.png")


def test_live_chart_gains_points_then_stop_keeps_the_run(page, server):
    url, _ = server
    # 500 epochs (the most allowed) of small batches: still training when Stop is pressed on any machine.
    start_training(page, url, epochs=500, name="long mlp", batch_size=32)
    heading = page.get_by_text(re.compile(r"Run #\d+: long mlp"))
    heading.wait_for()
    began = time.perf_counter()
    # Events, not time: the live chart shows the first finished epoch (train and validation points).
    page.wait_for_function(
        "() => { const c = document.querySelector('.js-plotly-plot');"
        " return c ? c.querySelectorAll('.scatterlayer path.point').length >= 2 : false; }"
    )
    print(f"\nfirst epoch on the live chart {time.perf_counter() - began:.1f} s after the run appeared")
    page.get_by_text(re.compile(r"^epoch \d+ of 500")).wait_for()  # still training
    page.screenshot(path=ARTIFACTS / "browser-train-running.png")
    # Not the toolbar's Stop; during a fragment redraw the old and the new button can both be present.
    page.locator("[class*='st-key-stop_'] button[data-testid^='stBaseButton']").first.click()
    stopped = page.get_by_text(re.compile(r"Run #\d+ stopped after \d+ epoch"))
    stopped.wait_for()
    epochs_done = int(re.search(r"after (\d+) epoch", stopped.inner_text()).group(1))
    page.get_by_text("Test accuracy").first.wait_for()  # a stopped run is still tested
    page.wait_for_function(
        f"() => document.querySelector('.js-plotly-plot')"
        f"?.querySelectorAll('.scatterlayer path.point').length === {2 * epochs_done}"
    )
    page.screenshot(path=ARTIFACTS / "browser-train-stopped.png")
    assert 0 < epochs_done < 500
    assert chart_points(page) == 2 * epochs_done  # every trained epoch, train and validation


def test_drawing_a_digit_shows_a_prediction(page, server):
    url, _ = server
    canvas = open_canvas(page, url)
    draw_strokes(page, canvas, [SEVEN])
    began = time.perf_counter()
    page.get_by_text(re.compile("It's a|Not sure")).first.wait_for()  # the empty chart shows before any stroke
    print(f"\nfirst stroke-to-prediction (loads the model): {time.perf_counter() - began:.2f} s")
    assert page.get_by_text(re.compile("It's a|Not sure")).count()
    page.screenshot(path=ARTIFACTS / "browser-draw.png")

    # A second stroke on the same drawing: the model is loaded, so this is the steady-state latency.
    before = model_input_src(page)
    draw_strokes(page, canvas, [[(70, 150), (210, 150)]])  # a bar through the 7
    began = time.perf_counter()
    wait_for_new_drawing(page, before)
    # The new image lands before the chart is redrawn: wait for the probabilities to be back too.
    page.get_by_text("Probability per class").first.wait_for()
    page.get_by_text(re.compile("It's a|Not sure")).first.wait_for()
    print(f"next stroke-to-prediction: {time.perf_counter() - began:.2f} s")


def test_runs_page_lists_the_runs(page, server):
    url, _ = server
    page.goto(f"{url}/runs")
    wait_idle(page)
    page.get_by_text("One run").wait_for()
    page.get_by_role("button", name=re.compile("Download model")).wait_for()
    page.get_by_label("Run", exact=True).click()
    for name in ("tiny one", "tiny two"):
        page.get_by_role("option", name=re.compile(name)).wait_for()
    page.keyboard.press("Escape")
    page.screenshot(path=ARTIFACTS / "browser-runs.png")


@pytest.mark.parametrize("path", ["", "data", "train", "evaluate", "draw", "runs"])
def test_every_page_fits_a_phone_screen(browser, server, path):
    """At 390x844 (a phone) every page renders without an error and without sideways scrolling."""
    url, _ = server
    with browser_page(browser, PHONE) as page:
        page.goto(f"{url}/{path}")
        wait_idle(page)
        page.locator("h1").first.wait_for()
        # The phone layout hides Streamlit's "Running" widget; wait for the placeholders to be filled instead.
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
        page.wait_for_timeout(500)
        assert not page.locator("[data-testid='stException']").count()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=ARTIFACTS / f"browser-phone-{path or 'home'}.png", full_page=True)
        assert overflow <= 1, f"/{path} is {overflow} px wider than the phone screen"
