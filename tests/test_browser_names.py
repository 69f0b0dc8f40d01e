"""Hostile run names in a real Chromium: Home, Train, Evaluate, Draw and Runs show them as text.

One server, one browser. The runs are written straight into the server's data directory
with RunStore (one of them gets a really trained model, so Evaluate and Draw show it); every URL in
the corpus points at 127.0.0.1:9 or example.com, so any request for one came from a name.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile_names import HOSTILE_NAMES, MAY_BE_REFUSED, URL_MARKERS, add_named_run, is_one_sentence
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, streamlit_app, wait_idle

from dlapp.config import RunConfig
from dlapp.store import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 120_000  # ms: the first Keras page imports TensorFlow on a shared 2-core machine
TRAINED = "html img"  # this run gets a really trained model, so Evaluate and Draw show it
RUNNING = "markdown image"  # this run is "running" in another process, so the Train page shows it
HOME_SHOWS = 6  # the Home page lists the latest six runs
INVISIBLE = re.compile("[\u2060\u2068\u2069]")  # marks escape_markdown adds: not part of what a reader sees

# Markup a name could smuggle in: elements that fetch or link, rendered LaTeX, anything that points at the corpus.
MARKUP_FROM_NAMES = """() => {
    const hits = [];
    for (const el of document.querySelectorAll('[data-testid="stMain"] img, a, script, iframe, .katex')) {
        const html = el.outerHTML;
        if (el.classList.contains('katex') || /127\\.0\\.0\\.1:9|example\\.com|javascript:|onerror/i.test(html)) {
            hits.push(html.slice(0, 160));
        }
    }
    return hits;
}"""
SIDEWAYS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return Math.max(document.scrollingElement.scrollWidth - innerWidth, main ? main.scrollWidth - main.clientWidth : 0);
}"""


def train_tiny_model(data_dir):
    """A really trained one-epoch MLP (trained in its own store, loaded back from its .keras file)."""
    from dlapp.jobs import TrainingJob
    from dlapp.modelfile import load_model_file

    store = RunStore(data_dir)
    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), dataset="mnist-sample", train_subset=200, epochs=1)
    job = TrainingJob(config, store).start()
    assert job.wait(timeout=300) == "finished", job.error
    return load_model_file(store.run(job.run_id).model_path)


def add_runs(store: RunStore, labels: list[str]) -> list[str]:
    """Store a run for each label's name; returns the labels stored (the names rule may refuse some)."""
    stored = []
    for label in labels:
        run = add_named_run(store, HOSTILE_NAMES[label])
        if isinstance(run, str):
            assert label in MAY_BE_REFUSED and is_one_sentence(run), run
            continue
        if label == RUNNING:
            store.set_status(run.id, "running")  # by this live pytest process: not "interrupted"
        stored.append(label)
    return stored


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, store, future model): the model trains in a thread while the browser looks at Home."""
    chromium_or_skip()
    data_dir = tmp_path_factory.mktemp("hostile-names")
    with ThreadPoolExecutor(max_workers=1) as pool, streamlit_app(data_dir) as (url, _):
        model = pool.submit(train_tiny_model, tmp_path_factory.mktemp("training"))
        yield url, RunStore(data_dir), model


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.set_default_timeout(SLOW)
        page.requests_from_names = []
        page.on(
            "request",
            lambda r: page.requests_from_names.append(r.url) if any(m in r.url for m in URL_MARKERS) else None,
        )
        yield page
        browser.close()


def visit(page, url: str, ready: str, shot: str | None = None) -> str:
    """Open `url`, wait for the `ready` text and the script's end, check the bar; returns the visible text."""
    page.goto(url)
    page.get_by_text(ready).first.wait_for()
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    page.wait_for_timeout(800)  # images and charts a name could have planted get their chance to load
    if shot:
        page.screenshot(path=ARTIFACTS / shot)
    assert not page.locator("[data-testid='stException']").count(), url
    assert page.evaluate(MARKUP_FROM_NAMES) == [], url
    assert page.requests_from_names == [], url
    assert page.evaluate(SIDEWAYS) <= 1, f"{url} scrolls sideways"
    return INVISIBLE.sub("", page.evaluate("() => document.body.innerText"))


def test_hostile_names_are_plain_text_on_every_page(page, server):
    url, store, model = server
    # Home lists the latest six runs, so the names go in in batches, with a look at Home after each.
    labels = list(HOSTILE_NAMES)
    batches = [labels[i : i + HOME_SHOWS] for i in range(0, len(labels), HOME_SHOWS)]
    stored = []
    for number, batch in enumerate(batches):
        stored += add_runs(store, batch)
        home = " ".join(visit(page, url, "Latest runs", shot="names-home.png" if number == 0 else None).split())
        for label in stored[-HOME_SHOWS:]:
            assert " ".join(HOSTILE_NAMES[label].split()) in home, f"Home shows {label!r} literally"

    trained = next(run for run in store.runs() if run.name == HOSTILE_NAMES[TRAINED])
    store.save_model(trained.id, model.result())  # now Evaluate and Draw have a model to show
    train = visit(page, f"{url}/train", "(started elsewhere)", shot="names-train.png")
    assert HOSTILE_NAMES[RUNNING] in train, "the Train page shows the running run's name literally"
    for path, ready in (("evaluate", "Most confident mistakes"), ("draw", "Your own test set")):
        visit(page, f"{url}/{path}", ready)
        assert (
            page.locator("[data-testid='stSelectbox'] input")
            .first.input_value()
            .startswith(f"#{trained.id} {HOSTILE_NAMES[TRAINED]}")
        ), f"{path} picks the trained run by its literal name"
    visit(page, f"{url}/runs", "Import a model", shot="names-runs.png")

    # Select every row (the table's header checkbox): the overlay chart's legend names each run.
    table = page.locator("[data-testid='stDataFrame']").first.bounding_box()
    page.mouse.click(table["x"] + 16, table["y"] + 17)
    page.locator(".js-plotly-plot .legendtext").first.wait_for()
    wait_idle(page)
    legend = page.evaluate("() => [...document.querySelectorAll('.legendtext')].map(t => t.textContent)")
    page.screenshot(path=ARTIFACTS / "names-runs-overlay.png", full_page=True)
    assert any(HOSTILE_NAMES["script"][:30] in text for text in legend), legend
    assert page.evaluate(MARKUP_FROM_NAMES) == [] and page.requests_from_names == []
