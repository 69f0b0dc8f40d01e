"""What the browser tests share: Debian's Chromium, a fresh `streamlit run app.py`, page helpers."""

from __future__ import annotations

import os
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
def streamlit_app(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of `streamlit run app.py` on a free port, storing runs in `data_dir`, one job at a time."""
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
            process.wait(timeout=20)


def _wait_healthy(url: str, data_dir: Path, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer /_stcore/health within {seconds:.0f} s; see {data_dir / 'streamlit.log'}")


def wait_idle(page) -> None:
    """Until Streamlit has finished running the script (its 'Running…' widget is gone)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")


def set_number(page, label: str, value: float | str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


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
def chromium_browser() -> Iterator:
    """Debian's Chromium driven by Playwright (its own browser download is never used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
