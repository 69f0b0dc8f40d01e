"""A fresh server whose first visitor opens a page URL still shows the app's navigation.

Streamlit treats an app with a `pages/` folder as a legacy multipage app until `st.navigation`
first runs; `dlapp.ui.page_setup` clears that flag (a Streamlit internal). If an upgrade moves
it, /train opened first would show the bare page without the sidebar: this test fails loudly.
"""

from __future__ import annotations

import pytest
from streamlit_server import chromium_browser, streamlit_app, wait_idle

pytestmark = pytest.mark.browser


def test_opening_train_first_on_a_fresh_server_shows_the_navigation(tmp_path):
    with chromium_browser() as browser, streamlit_app(tmp_path) as (url, _):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/train")  # the very first script run of this server
        page.get_by_role("heading", name="Train").wait_for()
        wait_idle(page)
        links = page.locator("[data-testid='stSidebarNav'] a")
        titles = [link.inner_text().strip().splitlines()[-1] for link in links.all()]  # after the icon's name
        assert titles == ["Home", "Learn", "Data", "Train", "Evaluate", "Draw", "Runs", "Experiments"], titles
        assert page.get_by_text("Settings").first.is_visible()  # app.py routed to the Train page itself
