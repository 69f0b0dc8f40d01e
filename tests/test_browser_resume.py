"""Chromium: a server killed mid-run keeps the run's checkpoint; after a restart the run is continued
from the Runs page and finishes, its curves going on. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import signal
import time

import pytest
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, set_number, streamlit_app, wait_idle

from dlapp.checkpoints import read_checkpoint_info
from dlapp.store import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 120_000  # ms: the first Keras page imports TensorFlow on a shared 2-core machine


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"waited {seconds:.0f} s for {what}")


def checkpointed_epochs(data_dir) -> int:
    store = RunStore(data_dir)
    runs = store.runs()
    info = read_checkpoint_info(runs[0].model_path) if runs and runs[0].model_path else None
    return info.epochs_trained if info else 0


def test_a_run_killed_with_its_server_is_continued_from_the_runs_page_and_finishes(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()
    ARTIFACTS.mkdir(exist_ok=True)
    monkeypatch.setenv("DLAPP_CHECKPOINT_SECONDS", "0")  # a checkpoint every epoch: the kill lands after some
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(SLOW)

        with streamlit_app(tmp_path) as (url, server):
            page.goto(f"{url}/train")
            wait_idle(page)
            page.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
            set_number(page, "Epochs", 30)
            page.get_by_role("button", name="Train").click()
            wait_for(lambda: checkpointed_epochs(tmp_path) >= 3, 240, "three checkpointed epochs")
            os.kill(server.pid, signal.SIGKILL)
            server.wait()

        with streamlit_app(tmp_path) as (url, _):
            (run,) = RunStore(tmp_path).runs()
            assert run.status == "interrupted"
            kept = read_checkpoint_info(run.model_path).epochs_trained
            assert 3 <= kept < 30 and not any(p.name.startswith(".tmp") for p in (tmp_path / "models").iterdir())

            page.goto(f"{url}/runs")
            wait_idle(page)
            note = page.get_by_text(f"Model from epoch {kept} of 30.")
            note.wait_for()
            wait_idle(page)
            assert page.get_by_role("button", name="Download model (.keras)").is_enabled()  # the model is offered
            note.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "resume-1-runs-interrupted.png"))
            page.get_by_label("Further epochs", exact=True).fill(str(30 - kept + 2))  # a little past the plan: 32
            # (no Enter: in a form it would submit before the click below)
            page.get_by_role("button", name="Continue training").click()

            page.get_by_text(f"Run #{run.id} finished after 32 epoch(s).").wait_for(timeout=600_000)
            wait_idle(page)
            continued = page.get_by_text(f"Epochs {kept + 1}-32 came from a continuation.")
            continued.wait_for()
            page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "resume-2-train-finished-curves.png"))
            continued.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "resume-3-train-finished-note.png"))

        browser.close()
    finished = RunStore(tmp_path).run(run.id)
    assert (finished.status, finished.epochs_completed) == ("finished", 32)
    assert [row["epoch"] for row in RunStore(tmp_path).epochs(run.id)] == list(range(32))
    assert read_checkpoint_info(finished.model_path).epochs_trained == 32
