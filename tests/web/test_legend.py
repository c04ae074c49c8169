"""The legend folds on a short screen (a 1280x720 laptop: open, it hides a third of the map) and opens on click."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import LiveServer


def _legend_open(browser: Any, url: str, height: int) -> tuple[bool, bool]:
    page = browser.new_context(viewport={"width": 1280, "height": height}).new_page()
    page.set_default_timeout(20000)
    page.goto(f"{url}/")
    page.wait_for_selector("body[data-ready='1']")
    body = page.locator("[data-testid=legend] .legend-body")
    before = body.is_visible()
    page.locator("[data-testid=legend] .legend-toggle").click()
    after = body.is_visible()
    page.context.close()
    return before, after


def test_the_legend_starts_folded_on_a_short_screen_and_open_on_a_tall_one(live_server: LiveServer, browser: Any):
    assert _legend_open(browser, live_server.url, 720) == (False, True)
    assert _legend_open(browser, live_server.url, 900) == (True, False)
