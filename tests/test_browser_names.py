"""Hostile run names in a real Chromium: Home, Train, Evaluate, Draw and Runs show them as text.

One server, one browser. The runs are written straight into the server's data directory
with RunStore (one of them really trained, so Evaluate and Draw have a model); every URL in
the corpus points at 127.0.0.1:9 or example.com, so any request for one came from a name.
"""

import re

import pytest
from hostile_names import HOSTILE_NAMES, MAY_BE_REFUSED, URL_MARKERS, add_named_run, is_one_sentence
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, streamlit_app, wait_idle

from dlapp.config import RunConfig
from dlapp.store import RunStore

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 120_000  # ms: the first Keras page imports TensorFlow on a shared 2-core machine
TRAINED = "html img"  # this name goes to a really trained run, which Evaluate and Draw show
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


def train_tiny_run(store: RunStore, name: str) -> None:
    from dlapp.jobs import TrainingJob

    config = RunConfig.from_flat(arch="mlp", hidden_units=(16,), dataset="mnist-sample", train_subset=200, epochs=1)
    job = TrainingJob(config, store).start()
    assert job.wait(timeout=300) == "finished", job.error
    store.rename(job.run_id, name)


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
    chromium_or_skip()
    data_dir = tmp_path_factory.mktemp("hostile-names")
    train_tiny_run(RunStore(data_dir), HOSTILE_NAMES[TRAINED])
    with streamlit_app(data_dir) as (url, _):
        yield url, RunStore(data_dir)


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


def visit(page, url: str, shot: str | None = None) -> str:
    """Open `url`, wait for the script to finish, check the bar; returns the page's visible text."""
    page.goto(url)
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
    url, store = server
    remaining = [label for label in HOSTILE_NAMES if label != TRAINED]
    # Home lists the latest six runs, so the names go in in batches, with a look at Home after each.
    batches = [remaining[: HOME_SHOWS - 1]]  # with the trained run: six
    batches += [remaining[i : i + HOME_SHOWS] for i in range(HOME_SHOWS - 1, len(remaining), HOME_SHOWS)]
    stored = [TRAINED]
    for number, batch in enumerate(batches):
        stored += add_runs(store, batch)
        home = " ".join(visit(page, url, shot="names-home.png" if number == 0 else None).split())
        for label in stored[-HOME_SHOWS:]:
            assert " ".join(HOSTILE_NAMES[label].split()) in home, f"Home shows {label!r} literally"

    train = visit(page, f"{url}/train")
    assert HOSTILE_NAMES[RUNNING] in train, "the Train page shows the running run's name literally"
    for path in ("evaluate", "draw"):
        visit(page, f"{url}/{path}")
        assert (
            page.locator("[data-testid='stSelectbox'] input")
            .first.input_value()
            .startswith(f"#1 {HOSTILE_NAMES[TRAINED]}")
        ), f"{path} picks the trained run by its literal name"
    visit(page, f"{url}/runs", shot="names-runs.png")
