"""Issue 15, in a real browser against a real server: nothing a reporter says goes unseen.

A cyberstalking report is actioned (a takedown notice) and leaves the queue. The reporter then
writes again through the public API, "new account, says he knows where I live and will kill me
tonight"; the task worker re-runs triage, the tier rises to P1 and the report is back in the queue.
The analyst sees the count beside "Inbox", the entry in the inbox, the rise on the queue row and
the explanation in the case view; the queue tabs work; an administrator reads the audit log in
words and the case's own trail. axe-core finds no violation on the pages this issue added, and
every page is looked at 390 px and 1280 px wide.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import watch
from tests.browser.test_accessibility import axe_source, describe, run_axe
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.factories import STAFF_PASSWORD
from tests.live import TIPLINE, LiveServer

CALM = "He keeps sending me messages."
URGENT = "New account again. He says he knows where I live and he will kill me tonight."
CATEGORY = "Cyberstalking or online harassment"


def create_staff(server: LiveServer, username: str, role: str) -> None:
    subprocess.run(
        [*TIPLINE, "staff", "create", "--username", username, "--role", role],
        input=STAFF_PASSWORD + "\n",
        env=server.env(),
        capture_output=True,
        text=True,
        check=True,
    )


def reload_until(page: Page, url: str, check: str, seconds: float = 40) -> None:
    """The task worker runs triage shortly after a message arrives: reload until it has."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if page.evaluate(check):
            return
        assert time.monotonic() < deadline, f"not reached: {check}"
        time.sleep(0.5)


def no_axe_violations(page: Page, source: str, name: str) -> None:
    assert describe(name, run_axe(page, source)) == []


@pytest.mark.browser
def test_a_follow_up_on_an_actioned_report_surfaces_in_inbox_and_queue(
    browser: Browser, fresh_server: LiveServer, screenshot_dir: Path
) -> None:
    server = fresh_server
    axe = axe_source()
    filed = httpx.post(
        server.url + "/api/v1/reports",
        json={"category": "cyberstalking", "what_happened": CALM, "platform": "Instagram"},
    )
    assert filed.status_code == 201, filed.text
    receipt = filed.json()["receipt"]
    create_analyst(server, "ana")
    create_staff(server, "adm", "admin")

    w = watch(browser, server.url)
    page = w.page
    sign_in_and_enrol(page, w.base_url, "ana")
    # Caseworkers land on the queue, with its tabs and the time left on every row.
    expect(page).to_have_url(w.base_url + "/console/queue/")
    tabs = page.get_by_role("navigation", name="Queue views")
    for label in ("Open", "Mine", "Awaiting my second review", "Overdue", "New information"):
        expect(tabs.get_by_role("link", name=label)).to_be_visible()
    row = page.locator("table.queue tbody tr").first
    expect(row.locator(".time-left")).to_contain_text(re.compile(r"left$"))
    expect(row.locator("time").first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
    expect(page.get_by_label("Received from (YYYY-MM-DD)")).to_have_attribute(
        "placeholder", "YYYY-MM-DD"
    )
    shoot(page, screenshot_dir, "queue-tabs")
    no_axe_violations(page, axe, "queue")

    # Work it to the end: claim, record a takedown notice (no second review for this category).
    row.get_by_role("button", name=f"Claim {CATEGORY}").click()
    tabs.get_by_role("link", name="Mine").click()
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    page.locator("table.queue .case-link").first.click()
    # A notice needs its legal assessment first (issue 15); harassment is "not illegal" content.
    page.get_by_label("Legal assessment").select_option("not_illegal")
    page.get_by_role("button", name="Save classification").click()
    page.get_by_label("Outcome").select_option("notice_sent")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#case-state")).to_have_text("Actioned")
    page.goto(w.base_url + "/console/queue/")
    expect(page.get_by_text("No reports match.")).to_be_visible()

    # The reporter writes again, on the actioned report.
    sent = httpx.post(
        server.url + "/api/v1/followup/messages", json={"receipt": receipt, "body": URGENT}
    )
    assert sent.status_code == 201, sent.text
    reload_until(
        page,
        w.base_url + "/console/queue/",
        "() => !!document.querySelector('table.queue .raised')",
    )
    inbox_link = page.get_by_role("navigation", name="Console").get_by_role(
        "link", name=re.compile(r"^Inbox")
    )
    expect(inbox_link.locator(".count")).to_have_text("1")
    row = page.locator("table.queue tbody tr").first
    expect(row.locator(".tier")).to_have_text("P1")
    expect(row.locator(".raised")).to_have_text(re.compile(r"^raised from P\d to P1, .+ ago$"))
    shoot(page, screenshot_dir, "queue-raised")

    inbox_link.click()
    expect(page).to_have_url(w.base_url + "/console/inbox/")
    entry = page.locator(".inbox-list li").first
    expect(entry).to_contain_text("New message")
    expect(entry).to_contain_text("Nobody has read it yet")
    expect(entry).to_contain_text("tier raised from")
    expect(page.locator("main")).not_to_contain_text("kill")  # the words stay in the case view
    shoot(page, screenshot_dir, "inbox")
    no_axe_violations(page, axe, "inbox")

    entry.get_by_role("link", name=CATEGORY).click()
    notice = page.locator("#tier-raised")
    expect(notice).to_contain_text("re-opened it")
    expect(page.locator("#case-state")).to_have_text("In review")
    expect(page.locator("#thread")).to_contain_text(URGENT)
    shoot(page, screenshot_dir, "case-reopened")
    # Opening it read the thread: the count is gone.
    page.goto(w.base_url + "/console/inbox/")
    expect(page.get_by_text("Nothing unread.")).to_be_visible()
    expect(inbox_link.locator(".count")).to_have_count(0)

    # The account page: a time zone of one's own, and every time follows it.
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Your time zone").select_option("Asia/Kolkata")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text("Asia/Kolkata")
    shoot(page, screenshot_dir, "account-time-zone")
    no_axe_violations(page, axe, "account")
    page.goto(w.base_url + "/console/queue/?view=new")
    page.goto(w.base_url + "/console/queue/")
    expect(page.locator("table.queue time").first).to_have_text(re.compile(r" IST$"))
    check_console(w)
    w.context.close()

    # An administrator reads the log in words, and the case's own trail from its case view.
    admin = watch(browser, server.url)
    sign_in_and_enrol(admin.page, server.url, "adm")
    admin.page.get_by_role("link", name="Audit log").click()
    log = admin.page.locator("table.audit")
    expect(log).to_contain_text(re.compile(r"ana opened report [0-9a-f]{8} \(\d entries\)"))
    expect(log).to_contain_text("New information from the reporter raised report")
    expect(log).to_contain_text("ana changed their time zone")
    shoot(admin.page, screenshot_dir, "audit-words")
    no_axe_violations(admin.page, axe, "audit")
    admin.page.get_by_role("link", name="Queue").click()
    admin.page.locator("table.queue .case-link").first.click()
    admin.page.get_by_role("link", name="Audit trail of this report").click()
    trail = admin.page.locator("table.audit")
    expect(trail).to_contain_text("ana claimed report")
    expect(trail).to_contain_text("New information from the reporter raised report")
    expect(trail).to_contain_text(
        re.compile(r"Triage scored report [0-9a-f]{8}: \d+ points, tier P\d")
    )
    group = trail.locator("details.audit-json").first
    group.locator("summary").click()
    expect(group.locator("code").first).to_be_visible()
    shoot(admin.page, screenshot_dir, "case-audit")
    no_axe_violations(admin.page, axe, "case audit")
    check_console(admin)
    admin.context.close()
