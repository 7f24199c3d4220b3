"""Done-when walkthrough of the console issue, in a real browser against a real server.

An analyst signs in with a real TOTP code, claims a report from the queue, classifies it and
proposes a referral; the decision waits for four eyes. A second analyst, in a browser of their
own, confirms it. The reporter, with nothing but their receipt, sees the status change and the
analyst's message. Then ``tipline audit verify`` passes, one audit row is altered directly in the
database, and ``tipline audit verify`` fails naming that entry.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.live import TIPLINE, LiveServer

AGENCY = "National Police Cybercrime Unit"
CSAM = "Child sexual abuse material online"


def _watched(browser: Browser, server: LiveServer) -> Watched:
    return watch(browser, server.url)


@pytest.fixture
def two_analysts(
    browser: Browser, fresh_server: LiveServer
) -> Iterator[tuple[Watched, Watched, LiveServer]]:
    first, second = _watched(browser, fresh_server), _watched(browser, fresh_server)
    yield first, second, fresh_server
    first.context.close()
    second.context.close()


def report_as_the_public(page: Page, base: str) -> str:
    """File a report through the public form (no account, no JavaScript needed); the receipt."""
    page.goto(base + "/en/report/csam/")
    page.locator("textarea[name=what_happened]").fill(
        "A forum thread links to a folder of pictures of a young child."
    )
    page.locator("textarea[name=urls]").fill("https://files.example/folder/123")
    page.locator("form button[type=submit]").last.click()
    receipt = page.locator("#receipt").inner_text().strip()
    assert receipt, "no receipt shown"
    return receipt


def audit_verify(server: LiveServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, "audit", "verify"],
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
    )


def tamper_with_audit_row(server: LiveServer, seq: int) -> None:
    """Change one audit row the way someone with direct database access would."""
    sql = "UPDATE audit_auditentry SET actor = 'someone_else' WHERE seq = %s"
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url, autocommit=True) as conn:
            # The trigger refuses UPDATE; an attacker owning the table disables it first.
            conn.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            conn.execute(sql, [seq])
    else:
        with sqlite3.connect(server.data_dir / "tipline.sqlite3") as conn:
            conn.execute(sql.replace("%s", "?"), [seq])


@pytest.mark.browser
def test_four_eyes_referral_end_to_end(
    two_analysts: tuple[Watched, Watched, LiveServer], browser: Browser, screenshot_dir: Path
) -> None:
    ana, ben, server = two_analysts
    reporter = _watched(browser, server)
    public = reporter.page
    receipt = report_as_the_public(public, server.url)
    create_analyst(server, "ana")
    create_analyst(server, "ben")
    # A liaison account of the agency, so it can be chosen as a referral target.
    subprocess.run(
        [*TIPLINE, "staff", "create", "--username", "lee", "--role", "liaison", "--agency", AGENCY],
        input="quiet river lantern 2047\n",
        env=server.env(),
        capture_output=True,
        text=True,
        check=True,
    )

    page = ana.page
    sign_in_and_enrol(page, ana.base_url, "ana")
    page.goto(ana.base_url + "/console/queue/")
    row = page.locator("table.queue tbody tr").first
    expect(row.locator(".case-link")).to_have_text(CSAM)
    row.get_by_role("button", name=f"Claim {CSAM}").click()
    expect(row).to_contain_text("In review")
    row.locator(".case-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CSAM)

    page.get_by_label("Legal assessment").select_option("baseline")
    page.get_by_label("Severity (IWF category)").select_option("C")
    page.get_by_label("Content type").select_option("link_list")
    page.get_by_label("Site type").select_option("file_host")
    page.get_by_role("button", name="Save classification").click()
    expect(page.get_by_label("Legal assessment")).to_have_value("baseline")

    page.get_by_label("Outcome").select_option("referred")
    page.get_by_label("Refer to (for a referral)").select_option(AGENCY)
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#case-state")).to_have_text("Awaiting second review")
    expect(page.locator("#pending-decision")).to_contain_text("Proposed by ana")
    expect(page.get_by_role("button", name="Confirm decision")).to_have_count(0)
    page.get_by_label("Message to the reporter").fill(
        "Thank you. We have checked the address and passed it on."
    )
    page.get_by_role("button", name="Send to the reporter").click()
    shoot(page, screenshot_dir, "case-awaiting-review")

    second = ben.page
    sign_in_and_enrol(second, ben.base_url, "ben")
    second.goto(ben.base_url + "/console/queue/")
    second.locator("details.filters > summary").click()
    second.get_by_label("State").select_option("awaiting_second_review")
    second.get_by_role("button", name="Show").click()
    second.locator("table.queue tbody tr").first.locator(".case-link").click()
    expect(second.locator("#pending-decision")).to_contain_text("Referred to law enforcement")
    # The classification the proposer decided on is shown, read-only, to the reviewer.
    expect(second.locator("#classification")).to_contain_text("Baseline")
    shoot(second, screenshot_dir, "case-second-review")
    # Keyboard: the confirmation is reachable and works with Enter.
    second.get_by_role("button", name="Confirm decision").focus()
    second.keyboard.press("Enter")
    expect(second.locator("#case-state")).to_have_text("Actioned")
    expect(second.locator("#case-outcome")).to_contain_text(AGENCY)
    shoot(second, screenshot_dir, "case-actioned")

    public.goto(server.url + "/en/follow-up/")
    public.locator("input[name=receipt]").fill(receipt)
    public.locator("form button[type=submit]").first.click()
    expect(public.locator("#report-status")).to_have_text("Action taken")
    expect(public.locator("main")).to_contain_text("passed it on")
    expect(public.locator("main")).not_to_contain_text("ana")
    reporter.check()  # the public side: no cookie, no other host, no script error
    reporter.context.close()

    # An auditor reads who did what (no report content) in the console's audit log.
    subprocess.run(
        [*TIPLINE, "staff", "create", "--username", "aud", "--role", "auditor"],
        input="quiet river lantern 2047\n",
        env=server.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    auditor = _watched(browser, server)
    sign_in_and_enrol(auditor.page, server.url, "aud")
    auditor.page.get_by_role("link", name="Audit log").click()
    log = auditor.page.locator("table.audit")
    expect(log).to_contain_text("report.decision_confirmed")
    expect(log).to_contain_text("report.review_requested")
    expect(auditor.page.locator("main")).not_to_contain_text("folder of pictures")
    shoot(auditor.page, screenshot_dir, "audit-log")
    check_console(auditor)
    auditor.context.close()

    intact = audit_verify(server)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    tamper_with_audit_row(server, 3)
    broken = audit_verify(server)
    assert broken.returncode != 0
    assert "3" in (broken.stdout + broken.stderr)
    check_console(ana)
    check_console(ben)
