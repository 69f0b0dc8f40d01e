"""What a first user hit (issue 9), replayed in Chromium so each stays fixed.

One server per module with its own data directory and three tiny runs trained into it
beforehand (alpha, beta, gamma); each test makes anything else it needs itself.
Screenshots go to test-artifacts/ at 1400x900 unless the test is about the phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from streamlit_server import (
    ARTIFACTS,
    PHONE,
    SEVEN,
    WIDE,
    app_with_tiny_runs,
    browser_page,
    draw_strokes,
    no_exception,
    open_canvas,
    rerun,
    selectbox_text,
    set_number,
    train_tiny_runs,
    wait_for_new_drawing,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, data_dir) of a fresh `streamlit run app.py` whose store holds three finished tiny MLPs."""
    data_dir = tmp_path_factory.mktemp("first-user")
    with app_with_tiny_runs(data_dir, ["alpha", "beta", "gamma"], "streamlit-first-user.log") as app:
        yield app


def legend(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('.legendtext')).map(e => e.textContent)")


def wait_for_legend(page, shown: list[str], gone: list[str] = ()) -> None:
    """Until the charts' legends name every run in `shown` and none in `gone`.

    Names, not a count of legend entries: the chart from before a tick can already have enough entries.
    """
    page.wait_for_function(
        "([shown, gone]) => { const names = Array.from(document.querySelectorAll('.legendtext'), e => e.textContent);"
        " return shown.every(n => names.includes(n)) && !gone.some(n => names.includes(n)); }",
        arg=[list(shown), list(gone)],
    )


def tick_row(page, row: int) -> None:
    """Click the selection box of a row of the first table (rows 35 px, after a 35 px header)."""
    box = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    with rerun(page):
        page.mouse.click(box["x"] + 17, box["y"] + 35 + 34.5 * (row + 0.5))


# --- 1 and 10: the Runs table ------------------------------------------------------------------


def test_ticked_runs_survive_a_delete_a_new_run_and_a_rename(page, server):
    url, data_dir = server
    page.goto(f"{url}/runs")
    page.get_by_text("One run").wait_for()
    tick_row(page, 0)  # gamma, newest first
    tick_row(page, 2)  # alpha
    wait_for_legend(page, ["#3 gamma (train)", "#1 alpha (train)"])
    assert {"#3 gamma (train)", "#1 alpha (train)"} <= set(legend(page))

    page.get_by_text("Yes, delete run #3").click()  # the picker offers the ticked runs, gamma first
    wait_idle(page)
    page.get_by_role("button", name="Delete run").click()
    page.get_by_text("Yes, delete run #1").wait_for()  # the page now manages alpha, still ticked
    no_exception(page)
    wait_for_legend(page, ["#1 alpha (train)"], gone=["#3 gamma (train)"])
    assert "#1 alpha (train)" in legend(page) and "#3 gamma (train)" not in legend(page)

    train_tiny_runs(data_dir, ["delta"])  # another session adds a run: every row moves down one
    page.locator("[data-testid='stButtonGroup'] button", has_text="accuracy").click()  # any rerun
    page.locator(".gtitle", has_text="Accuracy per epoch").first.wait_for()  # the rerun has drawn the chart
    no_exception(page)
    wait_for_legend(page, ["#1 alpha (train)"], gone=["#4 delta (train)", "#3 gamma (train)"])
    assert [t for t in legend(page) if "train" in t] == ["#1 alpha (train)"]

    page.get_by_label("Name", exact=True).fill("alpha, renamed")
    page.get_by_role("button", name="Rename").click()
    wait_idle(page)
    page.get_by_text("#1 alpha, renamed (train)").wait_for()
    assert "#1 alpha, renamed" in selectbox_text(page, "Run"), "the Run picker still shows the old name"
    no_exception(page)
    page.screenshot(path=ARTIFACTS / "first-user-runs.png", full_page=True)


# --- 2, 3, 9: bad numbers are never silently replaced ---------------------------------------------


def error_texts(page) -> list[str]:
    return [e.inner_text() for e in page.locator("[data-testid='stAlertContentError']").all()]


def train_disabled(page) -> bool:
    return page.get_by_role("button", name="Train", exact=True).is_disabled()


def test_an_out_of_range_number_is_explained_in_the_widgets_words_and_blocks_train(page, server):
    url, _ = server
    page.goto(f"{url}/train")
    page.get_by_text("parameters").first.wait_for()
    set_number(page, "Epochs", 0)
    page.get_by_text("Epochs must be at least 1 and at most 500; you typed 0.").wait_for()
    assert train_disabled(page)
    assert page.get_by_label("Epochs", exact=True).input_value() == "0", "the browser replaced the typed value"

    set_number(page, "Epochs", 5)
    for typed in ("0", "-1", "50"):
        set_number(page, "Learning rate", typed)
    page.get_by_text("you typed 50.").wait_for()  # the error for the last value, not an earlier one
    assert [text.splitlines()[-1] for text in error_texts(page)] == [  # the first line is the icon's name
        "Learning rate must be greater than 0 and at most 10; you typed 50."
    ]
    assert train_disabled(page)
    # The sentence spans the settings column, not the half-width column of its box.
    error_box = page.locator("[data-testid='stAlertContentError']").first.bounding_box()
    input_box = page.get_by_label("Learning rate", exact=True).bounding_box()
    assert error_box["width"] > 1.5 * input_box["width"], (error_box, input_box)
    page.screenshot(path=ARTIFACTS / "first-user-bad-number.png")

    set_number(page, "Learning rate", "0.001")
    page.get_by_role("textbox", name="Hidden layer sizes").fill("128,,64")
    page.get_by_role("textbox", name="Hidden layer sizes").press("Enter")
    wait_idle(page)
    page.get_by_text("you typed 128,,64.").wait_for()
    assert train_disabled(page)


# --- 4: settings kept for the whole session --------------------------------------------------------


def nav(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    wait_idle(page)


def test_settings_are_kept_across_pages_and_architectures(page, server):
    url, _ = server
    page.goto(f"{url}/train")
    page.get_by_text("parameters").first.wait_for()
    set_number(page, "Epochs", 20)
    page.get_by_role("textbox", name="Hidden layer sizes").fill("256, 64")
    page.get_by_role("textbox", name="Hidden layer sizes").press("Enter")
    wait_idle(page)
    nav(page, "Data")
    page.get_by_text("Training images").first.wait_for()
    nav(page, "Train")
    page.get_by_text("parameters").first.wait_for()
    assert page.get_by_label("Epochs", exact=True).input_value() == "20"
    assert page.get_by_role("textbox", name="Hidden layer sizes").input_value() == "256, 64"

    page.get_by_role("combobox", name="Architecture").click()
    page.get_by_role("option", name=re.compile("CNN")).click()
    wait_idle(page)
    nav(page, "Home")
    page.get_by_text("Latest runs").wait_for()
    nav(page, "Train")
    page.get_by_text("parameters").first.wait_for()
    assert "CNN" in selectbox_text(page, "Architecture")
    page.screenshot(path=ARTIFACTS / "first-user-settings-kept.png")


# --- 5: a click on a confusion-matrix cell ---------------------------------------------------------


def test_clicking_a_confusion_cell_shows_that_cell(page, server):
    url, _ = server
    page.goto(f"{url}/evaluate")
    page.get_by_text("Images in one cell").wait_for()
    wait_idle(page)
    before = (selectbox_text(page, "True class"), selectbox_text(page, "Predicted as"))
    true, predicted = (5, 6) if not before[0].endswith("5") else (2, 8)
    # The confusion chart by its key: the first-layer weights below it are a heatmap too, and may be drawn first.
    cells = page.locator(".st-key-confusion .js-plotly-plot .nsewdrag").first  # the plotting area: 10 x 10 cells
    cells.scroll_into_view_if_needed()
    area = cells.bounding_box()
    # A click at a spot inside the element: Playwright scrolls it into view and checks nothing covers it.
    cells.click(
        position={"x": (predicted + 0.5) * area["width"] / 10, "y": (true + 0.5) * area["height"] / 10}
    )  # true 0: top row
    wait_idle(page)
    page.wait_for_function(
        "t => document.querySelector(\"input[aria-label='True class']\")?.value === t", arg=str(true)
    )
    assert selectbox_text(page, "Predicted as") == str(predicted)
    page.screenshot(path=ARTIFACTS / "first-user-confusion-click.png", full_page=True)


# --- 6: a watched run stays shown when it finishes ------------------------------------------------


def open_data_settings(page) -> None:
    page.locator("[data-testid='stExpander'] summary", has_text="Data").click()


def start_small_run(page, url: str, epochs: int, subset: int) -> None:
    page.goto(f"{url}/train")
    page.get_by_text("parameters").first.wait_for()
    set_number(page, "Epochs", epochs)
    set_number(page, "Batch size", 64)
    open_data_settings(page)
    set_number(page, "Training subset size (0 = all)", subset)
    page.get_by_role("button", name="Train", exact=True).click()


def test_a_run_watched_after_a_refresh_shows_its_result_when_it_finishes(page, server):
    url, _ = server
    # 50 short epochs: a 3-epoch run could end between the first progress line and the reload.
    start_small_run(page, url, epochs=50, subset=1000)
    page.get_by_text(re.compile(r"^epoch \d+ of 50")).wait_for()
    page.reload()
    heading = page.get_by_text(re.compile(r"Run #(\d+): .* \(started elsewhere\)"))
    heading.wait_for()
    run_id = re.search(r"#(\d+)", heading.inner_text()).group(1)
    page.get_by_text(re.compile(rf"Run #{run_id} finished after")).wait_for()
    page.get_by_text("Test accuracy").first.wait_for()
    page.screenshot(path=ARTIFACTS / "first-user-watched-finished.png")


# --- 10: the training chart at 20 epochs, wide and on a phone ---------------------------------------


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def chart_boxes(page) -> list[dict]:
    """Per chart on the page: the x tick labels, the x-axis title and the legend, as client rectangles."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => {
            const rect = e => { const r = e.getBoundingClientRect();
                return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
            return {ticks: Array.from(plot.querySelectorAll('.xtick text')).map(rect),
                    title: Array.from(plot.querySelectorAll('.g-xtitle text')).map(rect),
                    legend: Array.from(plot.querySelectorAll('.legend .bg')).map(rect)}; })"""
    )


def assert_tidy(charts: list[dict]) -> None:
    assert charts
    for chart in charts:
        ticks = sorted(chart["ticks"], key=lambda r: r["left"])
        for left, right in zip(ticks, ticks[1:], strict=False):
            assert left["right"] <= right["left"] + 1, f"x tick labels overlap: {left} {right}"
        for legend_box in chart["legend"]:
            for other in chart["ticks"] + chart["title"]:
                assert not overlaps(legend_box, other), f"the legend covers an axis label: {legend_box} {other}"


def test_the_training_chart_stays_readable_at_20_epochs(browser, server):
    url, _ = server
    for name, viewport in (("wide", WIDE), ("phone", PHONE)):
        with browser_page(browser, viewport) as page:
            start_small_run(page, url, epochs=20, subset=200)
            page.get_by_text(re.compile(r"Run #\d+ finished after 20")).wait_for()
            wait_idle(page)  # the finished run's page is drawn once more; scrolling a chart being replaced fails
            page.wait_for_timeout(500)  # Plotly lays out after the element lands
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / f"first-user-20-epochs-{name}.png")
            assert_tidy(chart_boxes(page))


# --- 7 and 8: Draw ------------------------------------------------------------------------------


def save_button(page):
    """The Save button of the latest script run: during a rerun the old one stays a moment, marked stale."""
    fresh = page.locator("[data-testid='stElementContainer']:not([data-stale='true'])")
    return fresh.get_by_role("button", name="Save drawing", exact=True).filter(visible=True)


def test_draw_save_waits_for_a_new_drawing_and_clear_forgets_the_label(page, server):
    url, _ = server
    canvas = open_canvas(page, url)
    draw_strokes(page, canvas, [SEVEN])
    page.get_by_text(re.compile("It's a|Not sure")).first.wait_for()  # the empty chart shows before any stroke
    wait_idle(page)
    label = page.get_by_role("combobox", name="This drawing is a")
    label.click()
    label.press_sequentially("7")
    label.press("Enter")
    wait_idle(page)
    assert selectbox_text(page, "This drawing is a") == "7"
    save_button(page).click()
    expect(save_button(page), "Save stays enabled for a drawing already saved").to_be_disabled()

    before = page.locator("[data-testid='stImage'] img").first.get_attribute("src")
    draw_strokes(page, canvas, [[(120, 140), (190, 140)]])  # a bar through it: a new drawing
    wait_for_new_drawing(page, before)
    expect(save_button(page), "Save stays disabled for a new drawing").to_be_enabled()

    page.get_by_role("button", name="Reset canvas & history").click()  # the canvas toolbar's bin
    page.get_by_text("Draw a digit on the left").wait_for()  # the canvas reports the reset a moment later
    wait_idle(page)
    assert "pick its digit" in selectbox_text(page, "This drawing is a")
    expect(save_button(page), "Save stays enabled after Clear").to_be_disabled()


def test_a_bar_is_not_called_a_confident_digit(page, server):
    url, _ = server
    canvas = open_canvas(page, url)
    draw_strokes(page, canvas, [[(40, 140), (240, 140)]])  # a plain horizontal bar
    page.get_by_text("This doesn't look like a digit").wait_for()
    assert page.get_by_text("A classifier always shares 100%").count()
    page.screenshot(path=ARTIFACTS / "first-user-not-a-digit.png")


# --- 11: nothing fetched from a font server -------------------------------------------------------


def test_no_page_fetches_anything_from_another_server(page, server):
    url, _ = server
    outside, failed = [], []
    page.on("request", lambda r: None if r.url.startswith(("http://localhost", "data:")) else outside.append(r.url))
    # Streamlit first probes /<page>/_stcore/ (404) before /_stcore/; leaving a page aborts its loads.
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "/_stcore/" not in r.url else None)
    page.on("requestfailed", lambda r: None if "ABORTED" in (r.failure or "") else failed.append(r.url))
    for path in ("", "data", "train", "evaluate", "draw", "runs"):
        page.goto(f"{url}/{path}")
        page.locator("h1").first.wait_for()
        wait_idle(page)
    assert outside == [], f"fetched from outside: {outside[:5]}"
    assert failed == [], failed[:5]
    icon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\")?.href || ''")
    assert icon.startswith("data:") or icon.startswith(url), icon
