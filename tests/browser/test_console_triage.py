"""Done-when walkthrough of the triage issue, in a real browser against a real server.

Reports arrive through the public API. The task worker scores them: a report that a child will
meet an adult tonight rises to P1 at the top of the queue, and its case view highlights the words
that fired the rules. Three reports naming one handle in three spellings form one cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.live import LiveServer

MEETING = "A man online told my 12 year old daughter he will meet her tonight at the park."


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url)
    yield watched, fresh_server
    watched.context.close()


def file_report(server: LiveServer, **fields: str) -> None:
    answer = httpx.post(server.url + "/api/v1/reports", json=fields)
    assert answer.status_code == 201, answer.text


def wait_for_tier(page: Page, base: str, tier: str) -> None:
    """The worker scores reports shortly after intake; reload the queue until it has."""
    deadline = time.monotonic() + 40
    while True:
        page.goto(base + "/console/queue/")
        first = page.locator("table.queue tbody tr").first.locator(".tier")
        if first.count() and first.inner_text() == tier:
            return
        assert time.monotonic() < deadline, "the report was not scored"
        time.sleep(0.5)


@pytest.mark.browser
def test_a_meeting_tonight_rises_to_p1_with_its_words_highlighted(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    page = w.page
    # Routine and same-day reports first, so the urgent one has to climb past them.
    file_report(server, category="other", what_happened="A forum posts cruel comments.")
    file_report(
        server,
        category="cyberstalking",
        what_happened="He keeps messaging me.",
        handles="@Night_Owl",
    )
    file_report(
        server,
        category="cyberstalking",
        what_happened="Same person, new account.",
        handles="night_owl",
        platform="Instagram",
    )
    file_report(
        server,
        category="cyberstalking",
        what_happened="He posted my address.",
        urls="https://www.instagram.com/Night_Owl/?igshid=abc123",
        platform="Instagram",
    )
    file_report(server, category="luring", what_happened=MEETING, platform="a chat app")
    create_analyst(server, "ana")
    sign_in_and_enrol(page, w.base_url, "ana")
    wait_for_tier(page, w.base_url, "P1")
    first = page.locator("table.queue tbody tr").first
    expect(first.locator(".case-link")).to_have_text("Online luring or grooming of a child")
    shoot(page, screenshot_dir, "queue-triaged")

    first.locator(".case-link").click()
    marks = page.locator(".answers mark.triage-span")
    expect(marks.first).to_be_visible()
    # Adjacent marks (a rule's span and the starter model's words inside it) read as one.
    highlighted = " ".join(" ".join(marks.all_inner_texts()).lower().split())
    assert "tonight" in highlighted
    assert "12 year old" in highlighted
    expect(page.locator("#triage")).to_contain_text("P1")
    shoot(page, screenshot_dir, "case-triage")

    page.goto(w.base_url + "/console/queue/?category=cyberstalking")
    page.locator("table.queue tbody tr").first.locator(".case-link").click()
    expect(page.locator("#cluster-heading")).to_have_text("Cluster of 3 reports")
    expect(page.locator(".cluster-timeline li")).to_have_count(3)
    shoot(page, screenshot_dir, "case-cluster")
    check_console(w)
