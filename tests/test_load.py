"""Eight people train at once on one server: they queue, every run completes, nobody gets another's run.

One Chromium, eight browser contexts (eight independent Streamlit sessions) against one
`streamlit run app.py` with DLAPP_MAX_JOBS=1. Each session opens the Train page, asks for a
tiny run (MLP, 200 images, 1 epoch) and clicks Train. The server's peak memory (VmHWM) is
printed (run with -s), never asserted.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SESSIONS = 8
SLOW = 120_000  # ms: the first Train page imports TensorFlow, on a shared 2-core machine
RUN_ID = re.compile(r"Run #(\d+):")
POSITION = re.compile(r"position (\d+) in the queue")
DRAIN_SECONDS = 150  # eight tiny runs take about 5 s each when nobody is watching
STATE = re.compile(r"position \d+ in the queue|epoch \d+ of|finished after")  # queued, training, done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} is not installed; install Debian's chromium to run the load test.")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory, chromium_path):
    """(url, data_dir, pid) of a fresh `streamlit run app.py` training one job at a time."""
    data_dir = tmp_path_factory.mktemp("load-runs")
    port = free_port()
    env = {**os.environ, "DLAPP_DATA_DIR": str(data_dir), "DLAPP_MAX_JOBS": "1"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    log = open(data_dir / "streamlit.log", "w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail(f"streamlit did not answer /_stcore/health within 60 s; see {data_dir / 'streamlit.log'}")
    yield url, data_dir, process.pid
    process.terminate()
    process.wait(timeout=20)
    log.close()


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_idle(page) -> None:
    """Until Streamlit has finished running the script (its 'Running…' widget is gone)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def text_of(page) -> str:
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.innerText || ''")


def test_eight_sessions_queue_and_each_gets_its_own_finished_run(server):
    from playwright.sync_api import sync_playwright

    from dlapp.store import RunStore

    url, data_dir, pid = server
    began = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
