"""What the browser tests share: Debian's Chromium, a fresh `streamlit run app.py`, page and canvas helpers.

The `browser` and `page` fixtures that use these live in tests/conftest.py; every browser
module uses them, so no module starts a Playwright of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots and server logs, for a person to look at
SLOW = 120_000  # ms: a page's first Keras step imports TensorFlow on a shared 2-core machine
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> str:
    """Debian's Chromium; missing, the test is skipped - except on CI, where that is a failure."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} is not installed; install Debian's chromium to run the browser tests.")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_app(data_dir: Path, log_name: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of `streamlit run app.py` on a free port, storing runs in `data_dir`, one job at a time.

    With `log_name`, the server's log is copied to test-artifacts/ when it stops.
    """
    port = free_port()
    env = {**os.environ, "DLAPP_DATA_DIR": str(data_dir), "DLAPP_MAX_JOBS": "1"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    with open(data_dir / "streamlit.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://localhost:{port}"
            _wait_healthy(url, data_dir)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # on a loaded machine the exit can hang; the test is over anyway
                process.kill()
                process.wait()
            if log_name:
                ARTIFACTS.mkdir(exist_ok=True)
                shutil.copy(data_dir / "streamlit.log", ARTIFACTS / log_name)


def _wait_healthy(url: str, data_dir: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer /_stcore/health within {seconds:.0f} s; see {data_dir / 'streamlit.log'}")


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # the script run has finished


def wait_idle(page) -> None:
    """Until Streamlit has finished running the script, as its root element says (`data-test-script-state`).

    That attribute is what Streamlit's own browser tests wait on; its "Running" widget is not shown on a
    phone, nor for a short run. The short pause first covers an action whose rerun is not requested yet
    (a canvas stroke reaches Streamlit from the component's frame a moment later).
    """
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE)


# Flags the first change of the script state after it is installed: the rerun an action asked for has begun.
_WATCH_RERUN = """() => {
    window.__rerunBegan = false;
    const app = document.querySelector("[data-testid='stApp']");
    const watch = new MutationObserver(() => { window.__rerunBegan = true; watch.disconnect(); });
    watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RERUN_START = 10_000  # ms: a widget's rerun begins within this even on the loaded machine, or never will


@contextmanager
def rerun(page) -> Iterator[None]:
    """Around a widget action: afterwards, until the script run that action asked for has finished.

    A widget change leaves the script state at "notRunning" until the server starts the rerun, which
    on a loaded machine can take longer than `wait_idle`'s pause; so the state is watched from before
    the action, and the wait ends only once it has changed and settled again. An action that asks for
    no rerun (a value typed again) waits RERUN_START, then as `wait_idle` does.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(IDLE)
    page.evaluate(_WATCH_RERUN)
    yield
    try:
        page.wait_for_function("() => window.__rerunBegan === true", timeout=RERUN_START)
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(IDLE)


def set_number(page, label: str, value: float | str) -> None:
    field = page.get_by_label(label, exact=True)
    with rerun(page):
        field.fill(str(value))
        field.press("Enter")


def train_tiny_runs(data_dir: Path, names: list[str], **flat) -> list[int]:
    """Train one tiny finished MLP per name into `data_dir` (300 images, 1 epoch), as a test's own runs.

    A browser test makes the runs it needs with the engine, never relying on an earlier test's.
    """
    from dlapp.config import RunConfig
    from dlapp.jobs import TrainingJob
    from dlapp.store import RunStore

    store = RunStore(data_dir)
    settings = {"arch": "mlp", "hidden_units": (16,), "train_subset": 300, "epochs": 1, "batch_size": 64, **flat}
    ids = []
    for name in names:
        job = TrainingJob(RunConfig.from_flat(**settings), store, name=name).start()
        assert job.wait(timeout=300) == "finished", job.error
        ids.append(job.run_id)
    return ids


@contextmanager
def app_with_tiny_runs(data_dir: Path, names: list[str], log_name: str | None = None) -> Iterator[tuple[str, Path]]:
    """(url, data_dir) of a fresh server whose store holds one finished tiny MLP per name, oldest first."""
    chromium_or_skip()  # skips (or fails on CI) before training anything when Chromium is missing
    train_tiny_runs(data_dir, names)
    with streamlit_app(data_dir, log_name) as (url, _):
        yield url, data_dir


@contextmanager
def chromium_browser() -> Iterator:
    """Debian's Chromium driven by Playwright (its own browser download is never used).

    Only one can be open at a time in a process: Playwright's sync API refuses to start inside
    another's event loop. Tests get theirs from the `browser` fixture (tests/conftest.py).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(browser, viewport: dict = WIDE, timeout: int = SLOW, **options) -> Iterator:
    """A page in a fresh browser context (its own cookies: a new visitor), closed afterwards."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport["width"] < 600, **options)
    page = context.new_page()
    page.set_default_timeout(timeout)
    try:
        yield page
    except BaseException:
        screenshot_failure(context)
        raise
    finally:
        context.close()


def screenshot_failure(context) -> None:
    """Every page of a context, as it was when a test failed: test-artifacts/failed-<time>-<n>.png."""
    stamp = time.strftime("%H%M%S")
    for index, page in enumerate(context.pages):
        try:
            page.screenshot(path=ARTIFACTS / f"failed-{stamp}-{index}.png", full_page=True, timeout=10_000)
        except Exception as exc:  # a crashed page: the test's own error is what matters
            print(f"no failure screenshot of page {index}: {exc}")


def no_exception(page) -> None:
    """The page shows no Streamlit exception box (a traceback)."""
    errors = page.locator("[data-testid='stException']")
    assert not errors.count(), errors.first.inner_text()


def selectbox_text(page, label: str) -> str:
    """What a selectbox shows: its value, or its placeholder when nothing is chosen."""
    field = page.locator("[data-testid='stSelectbox']", has_text=label).first.locator("input").first
    return field.input_value() or (field.get_attribute("placeholder") or "")


# --- the drawing canvas -------------------------------------------------------------------------

SEVEN = [(80, 60), (200, 60), (190, 90), (160, 150), (130, 220)]  # one stroke, in px of the 280x280 canvas


def open_canvas(page, url: str):
    """The Draw page's canvas (`canvas.upper-canvas`, 280x280), scrolled into view, ready for strokes."""
    page.goto(f"{url}/draw")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    wait_idle(page)
    canvas.scroll_into_view_if_needed()
    return canvas


def draw_strokes(page, canvas, strokes: list[list[tuple[float, float]]], steps: int = 8) -> None:
    """Draw with the mouse: each stroke is a list of canvas px points, pressed from the first to the last.

    The whole canvas is brought on screen first: a click elsewhere (Save, say) may have scrolled part
    of it away, and a stroke that starts outside the viewport draws nothing.
    """
    canvas.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_function(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
        arg=canvas.element_handle(),
    )
    box = canvas.bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
        page.mouse.up()


def model_input_src(page) -> str:
    """The src of the "what the model sees" image ("" when none is shown): it changes with every drawing."""
    image = page.locator("[data-testid='stImage'] img")
    return (image.first.get_attribute("src") or "") if image.count() else ""


def wait_for_new_drawing(page, before: str) -> None:
    """Until the page shows the model's view of a drawing other than the one whose image src was `before`."""
    page.wait_for_function(
        "before => { const img = document.querySelector(\"[data-testid='stImage'] img\");"
        " return img && img.getAttribute('src') !== before; }",
        arg=before,
    )
