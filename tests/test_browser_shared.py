"""Shared mode in a real Chromium: two visitors (two browser contexts) on one shared server.

A trains; B sees A's run but cannot stop, rename or delete it; after a refresh A still owns it
(the owner token lives in a cookie, not in the session or the URL). Screenshots go to test-artifacts/.
"""

import re

import pytest
from streamlit_server import ARTIFACTS, SLOW, browser_page, set_number, streamlit_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STOP = "[class*='st-key-stop_'] button[data-testid^='stBaseButton']"
VISITOR = {"width": 1280, "height": 900}
NOT_YOURS = "Someone else started this; only they or the teacher (admin) can change it."


@pytest.fixture
def shared_server(tmp_path, monkeypatch, request):
    monkeypatch.setenv("DLAPP_SHARED", "1")
    with streamlit_app(tmp_path, log_name=f"streamlit-shared-{request.node.name[5:40]}.log") as (url, _):
        yield url, tmp_path


def test_a_stranger_sees_a_run_but_cannot_stop_rename_or_delete_it(browser, shared_server):
    url, data_dir = shared_server
    with browser_page(browser, VISITOR) as a, browser_page(browser, VISITOR) as b:  # two contexts: two visitors
        a.goto(f"{url}/train")
        wait_idle(a)
        a.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
        set_number(a, "Epochs", 500)  # the most allowed: still training while B looks, however fast; A stops it
        a.get_by_label("Run name (optional)").fill("a's run")
        a.get_by_label("Run name (optional)").press("Enter")
        wait_idle(a)
        a.get_by_role("button", name="Train").click()
        a.get_by_text(re.compile(r"^epoch \d+ of 500")).wait_for()
        assert not a.locator(STOP).first.is_disabled()

        b.goto(f"{url}/train")  # B watches A's run: Stop is there but disabled, with the reason
        b.get_by_text(re.compile(r"^epoch \d+ of 500")).wait_for()
        assert b.locator(STOP).first.is_disabled()
        b.screenshot(path=ARTIFACTS / "shared-train-stranger.png")

        b.goto(f"{url}/runs")
        b.get_by_text(NOT_YOURS).wait_for()
        assert b.get_by_role("button", name="Delete run").is_disabled()
        assert b.get_by_role("button", name="Rename").is_disabled()
        b.screenshot(path=ARTIFACTS / "shared-runs-stranger.png", full_page=True)

        a.reload()  # a new Streamlit session: ownership comes back from the cookie
        a.get_by_text(re.compile(r"^epoch \d+ of 500")).wait_for()
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


def _train(page, url: str, epochs: int, waiting_for: re.Pattern) -> None:
    page.goto(f"{url}/train")
    wait_idle(page)
    page.get_by_text("parameters").first.wait_for()  # the model summary: Keras is ready
    set_number(page, "Epochs", epochs)
    page.get_by_role("button", name="Train").click()
    page.get_by_text(waiting_for).first.wait_for()


def test_a_newcomers_run_waits_behind_one_run_of_a_busy_owner_not_all_of_them(browser, shared_server):
    url, _ = shared_server
    with browser_page(browser, VISITOR) as a, browser_page(browser, VISITOR) as b:
        a_second_tab = a.context.new_page()  # same browser, same owner cookie: A's second run
        a_second_tab.set_default_timeout(SLOW)

        _train(a, url, 500, re.compile(r"^epoch \d+ of 500"))  # the server's one trainer is busy with A's first
        _train(a_second_tab, url, 3, re.compile("position 1 in the queue"))
        _train(b, url, 3, re.compile("position 1 in the queue"))  # B goes ahead of A's second run
        b.screenshot(path=ARTIFACTS / "shared-train-newcomer-queued.png")
        a_second_tab.get_by_text("position 2 in the queue").wait_for()  # A's second now waits behind B's

        a.locator(STOP).first.click()  # A's first ends: B's run trains next, A's second after it
        b.get_by_text(re.compile(r"epoch \d+ of 3|finished after")).first.wait_for()
        a_second_tab.get_by_text(re.compile(r"position 1 in the queue|epoch \d+ of 3|finished after")).first.wait_for()


def test_a_forged_owner_cookie_is_a_new_owner_with_nothing_to_manage(browser, shared_server):
    from streamlit_server import train_tiny_runs
    from test_sharing_pages import snapshot

    from dlapp.store import RunStore

    url, data_dir = shared_server
    (run_id,) = train_tiny_runs(data_dir, ["someone's run"])
    RunStore(data_dir).owners.set("run", run_id, "t-" + "a" * 32)
    before = snapshot(data_dir)
    forged = ["../../etc/passwd", "t-" + "0" * 32, "<script>alert(1)</script>", ""]
    for value in forged:
        with browser_page(browser, VISITOR) as page:
            context = page.context
            context.add_cookies([{"name": "dlapp_owner", "value": value, "url": url}])
            page.goto(f"{url}/runs")
            page.get_by_text(NOT_YOURS).wait_for()  # a page, never an error page
            assert page.locator("[data-testid='stException']").count() == 0
            assert page.get_by_role("button", name="Delete run").is_disabled()
            page.wait_for_function("/(^|; )dlapp_owner=t-[0-9a-f]{32}(;|$)/.test(document.cookie)")  # replaced
            kept = next(c["value"] for c in context.cookies() if c["name"] == "dlapp_owner")
            assert re.fullmatch(r"t-[0-9a-f]{32}", kept) and kept != "t-" + "a" * 32, kept
    assert snapshot(data_dir) == before
