"""Eight people train at once on one server: they queue, every run completes, nobody gets another's run.

One Chromium, eight browser contexts (eight independent Streamlit sessions) against one
`streamlit run app.py` with DLAPP_MAX_JOBS=1. Each session opens the Train page, asks for a
tiny run (MLP, 200 images, 1 epoch) and clicks Train. The server's peak memory (VmHWM) is
printed (run with -s), never asserted.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit_server import CHROMIUM_ARGS, chromium_or_skip, set_number, streamlit_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSIONS = 8
SLOW = 120_000  # ms: the first Train page imports TensorFlow, on a shared 2-core machine
RUN_ID = re.compile(r"Run #(\d+):")
POSITION = re.compile(r"position (\d+) in the queue")
DRAIN_SECONDS = 150  # eight tiny runs take about 5 s each when nobody is watching
STATE = re.compile(r"position \d+ in the queue|epoch \d+ of|finished after")  # queued, training, done


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, data_dir, pid) of a fresh `streamlit run app.py` training one job at a time."""
    chromium_or_skip()
    data_dir = tmp_path_factory.mktemp("load-runs")
    with streamlit_app(data_dir) as (url, process):
        yield url, data_dir, process.pid


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def text_of(page) -> str:
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.innerText || ''")


def test_eight_sessions_queue_and_each_gets_its_own_finished_run(server):
    from playwright.sync_api import sync_playwright

    from dlapp.store import RunStore

    url, data_dir, pid = server
    began = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(SESSIONS)]
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(SLOW)
            page.goto(f"{url}/train", wait_until="commit")  # all eight sessions open together
        for page in pages:
            page.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
            wait_idle(page)
            set_number(page, "Epochs", 1)
            page.locator("[data-testid='stExpander'] summary", has_text="Data").click()
            set_number(page, "Training subset size (0 = all)", 200)
        ready = time.perf_counter()

        # Everyone clicks Train; right after each click, the session shows its own run and its place.
        seen: list[dict] = []
        for page in pages:
            page.get_by_role("button", name="Train", exact=True).click()
            page.get_by_text(RUN_ID).first.wait_for()
            text, deadline = text_of(page), time.time() + 60
            while not STATE.search(text) and time.time() < deadline:
                page.wait_for_timeout(200)
                text = text_of(page)
            if not STATE.search(text):
                page.screenshot(path=data_dir / f"session-{len(seen) + 1}.png", full_page=True)
            assert STATE.search(text), f"session {len(seen) + 1} shows no queue place or progress: {text[-400:]!r}"
            position = POSITION.search(text)
            seen.append(
                {"run_id": int(RUN_ID.search(text).group(1)), "position": int(position.group(1)) if position else None}
            )
        clicked = time.perf_counter()

        # Every run finishes, and every session ends up showing its own run as finished.
        store = RunStore(data_dir)
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline:
            runs = store.runs()
            if len(runs) == SESSIONS and all(run.status not in ("queued", "running") for run in runs):
                break
            time.sleep(0.5)
        runs = sorted(store.runs(), key=lambda run: run.id)
        took = [(run.id, run.status, None if run.seconds is None else round(run.seconds)) for run in runs]
        assert all(run.status == "finished" for run in runs), (
            f"the queue did not drain within {DRAIN_SECONDS} s; (run, status, seconds): {took}; "
            f"server peak RSS {peak_rss_mb(pid):,.0f} MB"
        )
        for page, mine in zip(pages, seen, strict=True):
            page.get_by_text(re.compile(rf"Run #{mine['run_id']} finished")).wait_for(timeout=60_000)
            assert [int(i) for i in RUN_ID.findall(text_of(page))] == [mine["run_id"]]
        done = time.perf_counter()
        browser.close()

    runs = store.runs()
    assert len(runs) == SESSIONS and {run.status for run in runs} == {"finished"}, [(r.id, r.status) for r in runs]
    run_ids = [s["run_id"] for s in seen]
    assert sorted(run_ids) == sorted(run.id for run in runs)  # all distinct, one per session
    assert all(run.config.data.train_subset == 200 and run.config.train.epochs == 1 for run in runs)
    # Only one trains at a time, so everyone after the first click waits, and is told where in the queue.
    queued = [s["position"] for s in seen[1:]]
    assert all(position is not None and position >= 1 for position in queued), seen
    assert all(position <= SESSIONS - 1 for position in queued), seen
    print(
        f"\n{SESSIONS} sessions: pages ready in {ready - began:.1f} s, all clicked after {clicked - ready:.1f} s, "
        f"all finished after {done - clicked:.1f} s; queue positions seen {queued}; "
        f"server peak RSS {peak_rss_mb(pid):,.0f} MB"
    )
