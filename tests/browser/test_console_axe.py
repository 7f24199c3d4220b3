"""Every console page an administrator and an analyst can reach passes axe-core (issue 15).

Each helper's browser test checks the pages it built; this one crawls the console as its users
would find it, from the navigation and every same-site link under /console/ (GET only: nothing
is changed by following a link), with a report in the queue so the case view, its audit trail and
its file viewer are among the pages.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import watch
from tests.browser.test_accessibility import axe_source, describe, run_axe
from tests.browser.test_console_casework import sign_in_and_enrol
from tests.browser.test_console_inbox import create_staff
from tests.factories import png_bytes
from tests.live import LiveServer

MAX_PAGES = 60
# Links that leave the console's pages for something that is not a page (CSV files) or that
# sign out; they are checked by their own tests.
NOT_PAGES = ("/csv/", "/sign-out")


def console_links(page: Page, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if url.startswith(base + "/console/") and not any(p in parts.path for p in NOT_PAGES):
            found.append(url)
    return found


def crawl(page: Page, base: str, source: str, start: str) -> tuple[list[str], set[str]]:
    problems: list[str] = []
    seen: set[str] = {start}
    todo = deque([start])
    while todo and len(seen) <= MAX_PAGES:
        url = todo.popleft()
        response = page.goto(url)
        if (
            response is None
            or response.status != 200
            or "text/html" not in (response.headers.get("content-type", ""))
        ):
            continue
        problems += describe(urlsplit(url).path, run_axe(page, source))
        for link in console_links(page, base):
            if link not in seen:
                seen.add(link)
                todo.append(link)
    return problems, seen


@pytest.mark.browser
@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_every_console_page_passes_axe(
    browser: Browser, fresh_server: LiveServer, role: str, screenshot_dir: Path
) -> None:
    server = fresh_server
    filed = httpx.post(
        server.url + "/api/v1/reports",
        data={"category": "cyberstalking", "what_happened": "He follows me from school."},
        files={"attachments": ("screenshot.png", png_bytes(), "image/png")},
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    create_staff(server, "someone", role)
    w = watch(browser, server.url)
    sign_in_and_enrol(w.page, w.base_url, "someone")
    problems, seen = crawl(w.page, w.base_url, axe_source(), w.base_url + "/console/")
    # The crawl reached the pages that matter: the queue, a case and (admin) the audit log.
    paths = {urlsplit(u).path for u in seen}
    assert "/console/queue/" in paths
    assert any(p.startswith("/console/reports/") for p in paths), sorted(paths)
    if role == "admin":
        assert "/console/audit/" in paths
    print(f"{role}: {len(paths)} console pages checked: {sorted(paths)}")
    assert problems == []
    w.context.close()
