"""The real app in a real Chromium: live training charts, Stop, drawing a digit, the runs list.

Starts `streamlit run app.py` on a free port with its own data directory. Screenshots
go to test-artifacts/. Timings are printed (run with -s to see them), never asserted.
"""

import re
import shutil
import time

import pytest
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, set_number, streamlit_app, wait_idle

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 120_000  # ms: the first Keras page imports TensorFlow on a shared 2-core machine


@pytest.fixture(scope="module")
def chromium_path() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    """(url, data_dir) of a fresh `streamlit run app.py` with an empty data directory."""
    data_dir = tmp_path_factory.mktemp("browser-runs")
    with streamlit_app(data_dir) as (url, _):
        yield url, data_dir
    if ARTIFACTS.exists():
        shutil.copy(data_dir / "streamlit.log", ARTIFACTS / "streamlit.log")


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    yield page
    context.close()


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


def test_training_chart_gains_points_while_it_trains(page, server):
    from dlapp.store import RunStore

    url, data_dir = server
    start_training(page, url, epochs=3, name="live mlp", batch_size=32)  # small batches: epochs of a few seconds
    page.get_by_text(re.compile(r"epoch \d of 3")).wait_for()
    store = RunStore(data_dir)
    run_id = max(run.id for run in store.runs())
    seen_points, stored_at, drawn_at = set(), {}, {}
    deadline = time.time() + 300
    while time.time() < deadline:
        now = time.perf_counter()
        stored = len(store.epochs(run_id))
        stored_at.setdefault(stored, now)
        points = chart_points(page)
        seen_points.add(points)
        drawn_at.setdefault(points // 2, now)
        if page.get_by_text(re.compile(rf"Run #{run_id} finished")).count():
            break
        page.wait_for_timeout(100)
    page.screenshot(path=ARTIFACTS / "browser-train-finished.png")
    assert page.get_by_text(re.compile(rf"Run #{run_id} finished")).count(), "the run did not finish in 300 s"
    live = sorted(p for p in seen_points if 0 < p < 6)
    assert live, f"the chart never showed a partial run while training (point counts seen: {sorted(seen_points)})"
    latencies = [drawn_at[e] - stored_at[e] for e in (1, 2) if e in drawn_at and e in stored_at]
    print(f"\nchart point counts seen while training: {sorted(seen_points)}")
    print("epoch-to-chart latency (s): " + ", ".join(f"{lat:.2f}" for lat in latencies))
    page.get_by_text("Test accuracy").first.wait_for()


def test_stop_marks_a_long_run_stopped(page, server):
    url, _ = server
    start_training(page, url, epochs=200, name="long mlp")
    page.get_by_text(re.compile(r"epoch \d+ of 200")).wait_for()
    page.screenshot(path=ARTIFACTS / "browser-train-running.png")
    # Not the toolbar's Stop; during a fragment redraw the old and the new button can both be present.
    page.locator("[class*='st-key-stop_'] button[data-testid^='stBaseButton']").first.click()
    page.get_by_text(re.compile(r"Run #\d+ stopped")).wait_for()
    page.screenshot(path=ARTIFACTS / "browser-train-stopped.png")


def draw_stroke(page, canvas, stroke: list[tuple[int, int]]) -> None:
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
    page.mouse.down()
    for x, y in stroke[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def model_input_src(page) -> str:
    """The src of the "what the model sees" image, which changes with every new drawing."""
    return page.locator("[data-testid='stImage'] img").first.get_attribute("src") or ""


def test_drawing_a_digit_shows_a_prediction(page, server):
    url, _ = server
    page.goto(f"{url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    draw_stroke(page, canvas, [(80, 60), (200, 60), (190, 90), (160, 150), (130, 220)])  # a 7
    began = time.perf_counter()
    page.get_by_text("Probability per class").wait_for()
    print(f"\nfirst stroke-to-prediction (loads the model): {time.perf_counter() - began:.2f} s")
    assert page.get_by_text(re.compile("It's a|Not sure")).count()
    page.screenshot(path=ARTIFACTS / "browser-draw.png")

    # A second stroke on the same drawing: the model is loaded, so this is the steady-state latency.
    before = model_input_src(page)
    draw_stroke(page, canvas, [(70, 150), (210, 150)])  # a bar through the 7
    began = time.perf_counter()
    page.wait_for_function(
        "before => { const img = document.querySelector(\"[data-testid='stImage'] img\");"
        " return img && img.getAttribute('src') !== before; }",
        arg=before,
    )
    # The new image lands before the chart is redrawn: wait for the probabilities to be back too.
    page.get_by_text("Probability per class").wait_for()
    page.get_by_text(re.compile("It's a|Not sure")).first.wait_for()
    print(f"next stroke-to-prediction: {time.perf_counter() - began:.2f} s")


def test_runs_page_lists_both_runs(page, server):
    url, _ = server
    page.goto(f"{url}/runs")
    wait_idle(page)
    page.get_by_text("One run").wait_for()
    page.get_by_role("button", name=re.compile("Download model")).wait_for()
    page.get_by_label("Run", exact=True).click()
    for name in ("live mlp", "long mlp"):
        page.get_by_role("option", name=re.compile(name)).wait_for()
    page.keyboard.press("Escape")
    page.screenshot(path=ARTIFACTS / "browser-runs.png")


@pytest.mark.parametrize("path", ["", "data", "train", "evaluate", "draw", "runs"])
def test_every_page_fits_a_phone_screen(browser, server, path):
    """At 390x844 (a phone) every page renders without an error and without sideways scrolling."""
    url, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(SLOW)
    try:
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
    finally:
        context.close()
