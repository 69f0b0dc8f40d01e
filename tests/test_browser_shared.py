"""Shared mode in a real Chromium: two visitors (two browser contexts) on one shared server.

A trains; B sees A's run but cannot stop, rename or delete it; after a refresh A still owns it
(the owner token lives in a cookie, not in the session or the URL). Screenshots go to test-artifacts/.
"""

import re
import shutil

import pytest
from streamlit_server import CHROMIUM_ARGS, ROOT, chromium_or_skip, set_number, streamlit_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
SLOW = 120_000  # ms: the first Keras page imports TensorFlow on a shared 2-core machine
STOP = "[class*='st-key-stop_'] button[data-testid^='stBaseButton']"
NOT_YOURS = "Someone else started this; only they or the teacher (admin) can change it."


@pytest.fixture
def shared_server(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAPP_SHARED", "1")
    with streamlit_app(tmp_path) as (url, _):
        yield url, tmp_path
    if ARTIFACTS.exists():
        shutil.copy(tmp_path / "streamlit.log", ARTIFACTS / "streamlit-shared.log")


def _visitor(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    return context, page


def test_a_stranger_sees_a_run_but_cannot_stop_rename_or_delete_it(shared_server):
    from playwright.sync_api import sync_playwright

    url, data_dir = shared_server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        a_context, a = _visitor(browser)
        b_context, b = _visitor(browser)

        a.goto(f"{url}/train")
        wait_idle(a)
        a.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
        set_number(a, "Epochs", 200)  # long enough to still train while B looks; stopped by A below
        a.get_by_label("Run name (optional)").fill("a's run")
        a.get_by_label("Run name (optional)").press("Enter")
        wait_idle(a)
        a.get_by_role("button", name="Train").click()
        a.get_by_text(re.compile(r"epoch \d+ of 200")).wait_for()
        assert not a.locator(STOP).first.is_disabled()

        b.goto(f"{url}/train")  # B watches A's run: Stop is there but disabled, with the reason
        b.get_by_text(re.compile(r"epoch \d+ of 200")).wait_for()
        assert b.locator(STOP).first.is_disabled()
        b.screenshot(path=ARTIFACTS / "shared-train-stranger.png")

        b.goto(f"{url}/runs")
        b.get_by_text(NOT_YOURS).wait_for()
        assert b.get_by_role("button", name="Delete run").is_disabled()
        assert b.get_by_role("button", name="Rename").is_disabled()
        b.screenshot(path=ARTIFACTS / "shared-runs-stranger.png", full_page=True)

        a.reload()  # a new Streamlit session: ownership comes back from the cookie
        a.get_by_text(re.compile(r"epoch \d+ of 200")).wait_for()
        assert not a.locator(STOP).first.is_disabled()
        a.locator(STOP).first.click()
        a.get_by_text(re.compile(r"Run #\d+ stopped")).wait_for()

        a.goto(f"{url}/runs")
        wait_idle(a)
        a.get_by_role("button", name="Rename").wait_for()
        assert not a.get_by_role("button", name="Rename").is_disabled()
        assert a.get_by_text(NOT_YOURS).count() == 0
        assert "dlapp_owner" not in a.url  # the token is not in the URL
        a.screenshot(path=ARTIFACTS / "shared-runs-owner.png", full_page=True)
        a_context.close()
        b_context.close()
        browser.close()
