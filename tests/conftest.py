"""Fixtures every browser test module shares: one Chromium per module, a fresh page per test.

One Playwright per module, not per session: while Playwright's sync API is open it marks an
asyncio loop as running on the main thread, which the non-browser modules collected between
the browser ones should not inherit. Every browser module takes its browser from here, so two
never overlap (a second sync Playwright started inside the first one fails).
"""

from __future__ import annotations

import pytest
from streamlit_server import ARTIFACTS, SLOW, browser_page, chromium_browser


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for this module (skipped, or failed on CI, when it is missing)."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=SLOW)  # expect(...) waits as long as a locator does (5 s by default)
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A 1400x900 page in its own browser context, closed after the test."""
    with browser_page(browser) as page:
        yield page
