"""The instruments in a real Chromium: the forward pass of a drawn digit, and the gradient chart that
shows an 8-layer sigmoid MLP's vanishing gradient next to the same network with batch norm.

Screenshots go to test-artifacts/ (browser-forward-pass.png, browser-gradients-*.png, browser-first-layer.png).
"""

from __future__ import annotations

import re

import pytest
from streamlit_server import ARTIFACTS, SEVEN, chromium_or_skip, draw_strokes, rerun, streamlit_app, wait_idle

from dlapp.config import RunConfig
from dlapp.jobs import TrainingJob
from dlapp.store import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUNS = {
    "small cnn": {"arch": "cnn", "conv_filters": (8, 16), "dense_units": 32},
    "sigmoid x8": {"arch": "mlp", "hidden_units": (32,) * 8, "activation": "sigmoid", "dropout": 0.0},
    "sigmoid x8 + batch norm": {
        "arch": "mlp",
        "hidden_units": (32,) * 8,
        "activation": "sigmoid",
        "dropout": 0.0,
        "batch_norm": True,
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, {run name: run id}) of `streamlit run app.py` over a store with the three runs, trained for real."""
    chromium_or_skip()
    data_dir = tmp_path_factory.mktemp("browser-instruments")
    store = RunStore(data_dir)
    ids = {}
    for name, settings in RUNS.items():
        config = RunConfig.from_flat(train_subset=600, epochs=2, batch_size=32, **settings)
        job = TrainingJob(config, store, name=name).start()
        assert job.wait(timeout=600) == "finished", job.error
        ids[name] = job.run_id
    with streamlit_app(data_dir) as (url, _):
        yield url, ids


def choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    with rerun(page):
        page.get_by_role("option", name=re.compile(rf"^#\d+ {re.escape(option)} · ")).first.click()


def test_the_forward_pass_of_a_drawn_digit_shows_feature_maps(page, server):
    url, _ = server
    page.goto(f"{url}/draw")
    wait_idle(page)
    choose(page, "Model", "small cnn")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    draw_strokes(page, canvas, [SEVEN])
    page.get_by_text("Probability per class").first.wait_for()
    expander = page.locator("[data-testid='stExpander']", has_text="The forward pass of your drawing")
    expander.locator("summary").click()
    expander.get_by_text(re.compile(r"Conv2D · \(28, 28, 8\)")).first.wait_for()
    images = expander.locator("[data-testid='stImage'] img")
    images.nth(3).wait_for()
    assert images.count() >= 5  # the input, conv and pooling maps, the dense strips
    assert page.evaluate("img => img.naturalWidth > 0", images.nth(1).element_handle())  # really decoded
    expander.get_by_text(re.compile(r"Conv2D · \(28, 28, 8\)")).first.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "browser-forward-pass.png")


@pytest.mark.parametrize(("name", "vanishing"), [("sigmoid x8", True), ("sigmoid x8 + batch norm", False)])
def test_the_runs_page_shows_the_vanishing_gradient_at_a_glance(page, server, name, vanishing):
    url, ids = server
    page.goto(f"{url}/runs")
    wait_idle(page)
    choose(page, "Run", name)
    chart = page.locator(".js-plotly-plot", has_text="Gradient norm per layer").first
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    caption = page.get_by_text(re.compile("smaller than the output layer's"))
    assert (caption.count() > 0) is vanishing
    slug = "batch-norm" if "batch norm" in name else "sigmoid"
    page.screenshot(path=ARTIFACTS / f"browser-gradients-{slug}.png")


def test_evaluate_shows_what_the_first_layer_looks_for(page, server):
    url, _ = server
    page.goto(f"{url}/evaluate")
    wait_idle(page)
    choose(page, "Run", "small cnn")
    heading = page.get_by_text("What the first layer looks for")
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    page.locator(".js-plotly-plot", has_text="strongest of 8 kernels").wait_for()
    page.screenshot(path=ARTIFACTS / "browser-first-layer.png")
