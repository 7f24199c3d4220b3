"""The installable app and leave-no-trace, in a real browser with service workers allowed.

One test, one browser context, in order: the service worker registers with the whole site in
its scope; guidance is readable offline; a half-filled report leaves nothing in any storage;
the neutral tab title follows the reporter; the quick exit leaves no history entry behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import Watched, wait_until
from tests.live import LiveServer

QUICK_EXIT = "https://www.google.com/search?q=weather"
SEARCH = "https://www.google.com/search?q=report+online+harassment"
SECRET = "A stranger sent threats to my sister on Discord"

_STORAGE = """async () => {
  const cached = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const body = await (await cache.match(request)).text();
      cached.push({url: new URL(request.url).pathname, body});
    }
  }
  return {
    local: localStorage.length,
    session: Object.keys(sessionStorage),
    databases: (await indexedDB.databases()).map((db) => db.name),
    cached,
  };
}"""


@pytest.fixture
def app(browser: Browser, live_server_process: LiveServer) -> Iterator[Watched]:
    """Like ``open_page``, but with service workers allowed and the neutral site stubbed."""
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, locale="en-GB", service_workers="allow"
    )
    context.set_default_timeout(10_000)

    def neutral_site(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>Sunny")

    context.route("https://www.google.com/**", neutral_site)
    page = context.new_page()
    w = Watched(context=context, page=page, base_url=live_server_process.url, js=True)
    page.on("request", w.on_request)
    page.on("console", w.on_console)
    page.on("pageerror", w.on_page_error)
    yield w
    context.close()


def storage(page: Page) -> dict[str, object]:
    result: dict[str, object] = page.evaluate(_STORAGE)
    return result


@pytest.mark.browser
def test_installable_offline_and_leaves_no_trace(app: Watched, screenshot_dir: Path) -> None:
    w, page = app, app.page
    base = w.base_url

    # Installable: the manifest is linked, the worker registers with the whole site in scope.
    page.goto(w.url("/en/"))
    manifest = page.locator('link[rel="manifest"]').get_attribute("href")
    assert manifest == "/manifest.webmanifest?lang=en"
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == base + "/"
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    # Chromium itself judges the app installable: the manifest parses, the icons load.
    devtools = w.context.new_cdp_session(page)
    parsed = devtools.send("Page.getAppManifest")
    assert parsed["errors"] == [], parsed["errors"]
    # Playwright's contexts are incognito, where Chromium never offers to install: that one only.
    errors = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors
    devtools.detach()

    # Guidance opened once online is readable offline; a page never saved shows the offline page.
    page.goto(w.url("/en/help/"))
    guidance_title = page.locator("h1").inner_text()
    w.context.set_offline(True)
    page.goto(w.url("/en/help/"))
    expect(page.locator("h1")).to_have_text(guidance_title)
    page.goto(w.url("/hi/help/"))  # never opened: precached when the worker installed
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator("main h1")).to_be_visible()
    page.goto(w.url("/fr/emergency/"))
    expect(page.locator(".numbers")).to_contain_text("112")
    page.goto(w.url("/en/report/other/"))
    expect(page.locator("h1")).to_have_text("You are offline")
    page.screenshot(path=str(screenshot_dir / "pwa-offline-390.png"), full_page=True)
    w.context.set_offline(False)

    # An unfinished report lives only in the page's memory: nothing in any storage or cache.
    page.goto(w.url("/en/report/cyberstalking/"))
    page.locator("#id_what_happened").fill(SECRET)
    page.locator("#id_handles").fill("@stalker_account_1")
    page.locator("#id_contact_choice_1").check()
    page.locator("#id_contact_email").fill("me@example.org")
    page.locator("#id_what_happened").press("Tab")
    found = storage(page)
    assert found["local"] == 0
    assert found["session"] == []
    assert found["databases"] == []
    cached = found["cached"]
    assert isinstance(cached, list)
    paths = {entry["url"] for entry in cached}
    assert "/en/help/" in paths
    for entry in cached:
        path = entry["url"]
        assert path.startswith("/static/") or path.split("/")[2] in ("help", "emergency", "offline")
        assert "/help/assistant/" not in path
        assert SECRET not in entry["body"]
    # A sent report (a POST) and its receipt are never cached either.
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    expect(page.locator("#receipt")).to_be_visible()
    after = storage(page)
    assert after["local"] == 0
    assert after["session"] == []
    assert isinstance(after["cached"], list)
    assert {e["url"] for e in after["cached"]} == paths

    # Neutral tab title: the footer link turns it on; it follows links and survives a page
    # reached without it (kept for this tab in sessionStorage); the quick exit forgets it.
    page.goto(w.url("/en/emergency/"))
    with page.expect_navigation():
        page.locator("[data-neutral-toggle]").click()
    expect(page).to_have_title("Notes")
    assert "neutral=1" in page.url
    with page.expect_navigation():
        page.locator(".site-nav").get_by_role("link", name="Get help").click()
    expect(page).to_have_title("Notes")
    page.goto(w.url("/en/follow-up/"))
    expect(page).to_have_title("Notes")
    expect(page.locator("[data-neutral-toggle]")).to_have_text("Show the usual tab title")
    icon = page.locator("link[data-icon]").get_attribute("href")
    assert icon == "/static/tipline/neutral.svg"
    page.screenshot(path=str(screenshot_dir / "pwa-neutral-390.png"))

    # Quick exit, in a fresh tab that came to Tipline from a search page: moving between our
    # pages by link adds no history entry, and the exit replaces the current one, so "Back"
    # returns to the search page, not to Tipline. The tab's neutral preference is forgotten.
    page = w.context.new_page()
    page.on("request", w.on_request)
    page.on("console", w.on_console)
    page.on("pageerror", w.on_page_error)
    page.goto(SEARCH)
    page.goto(w.url("/en/?neutral=1"))
    start = page.evaluate("() => history.length")
    for name in ("Get help", "Evidence locker", "Emergency numbers"):
        with page.expect_navigation():
            page.locator(".site-nav").get_by_role("link", name=name).click()
    expect(page).to_have_title("Notes")
    assert page.evaluate("() => history.length") == start
    assert storage(page)["session"] == ["tipline.neutral"]
    page.keyboard.press("Escape")
    with page.expect_navigation():
        page.keyboard.press("Escape")
    assert page.url == QUICK_EXIT
    assert page.evaluate("() => history.length") == start
    page.go_back()
    assert page.url == SEARCH
    page.go_forward()
    assert page.url == QUICK_EXIT
    # The button does the same; the neutral preference did not outlive the exit.
    page.goto(w.url("/en/emergency/"))
    expect(page).not_to_have_title("Notes")
    assert storage(page)["session"] == []
    with page.expect_navigation():
        page.locator("a.quick-exit").click()
    assert page.url == QUICK_EXIT

    # The only other site the browser ever asked for is the neutral site of the quick exit.
    assert set(w.foreign_requests) <= {QUICK_EXIT, SEARCH}
    w.foreign_requests.clear()
    w.check()
