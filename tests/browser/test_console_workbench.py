"""Issue 15's done-when, in a real browser against a real server: the daily loop with the keyboard
only (next case → claim → reveal → classify → propose), a referral refused until the report is
classified, the shortcut help, reply templates with and without JavaScript, and axe on each page.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_accessibility import axe_source, describe, focused, run_axe, tab_to
from tests.browser.test_console_casework import (
    benign_png,
    create_analyst,
    sign_in_and_enrol,
    wait_for_preview,
)
from tests.browser.test_console_sign_in import check_console, shoot
from tests.live import LiveServer

URGENT = "A child is in danger right now"
AGENCY = "Child Protection Investigations Team"  # first in the list (sorted)
SHOTS = Path("/tmp/decide15-shots")


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url)
    _patient(watched)
    yield watched, fresh_server
    watched.context.close()


def _patient(w: Watched) -> None:
    # Each step is a full page load on a shared two-core machine: allow for a busy one.
    w.context.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)


def _shoot(page: Page, screenshot_dir: Path, name: str) -> None:
    shoot(page, screenshot_dir, name)
    SHOTS.mkdir(exist_ok=True)
    for width in (390, 1280):
        found = screenshot_dir / f"console-{name}-{width:04d}.png"
        shutil.copy(found, SHOTS / found.name)


def _plant(server: LiveServer) -> None:
    api = server.url + "/api/v1/reports"
    routine = httpx.post(api, json={"category": "other", "what_happened": "Cruel comments."})
    assert routine.status_code == 201, routine.text
    urgent = httpx.post(
        api,
        data={
            "category": "child_in_danger",
            "what_happened": "He said he will meet her after school today.",
        },
        files=[("attachments", ("chat-screenshot.png", benign_png(), "image/png"))],
    )
    assert urgent.status_code == 201, urgent.text


def _no_axe_violations(page: Page, where: str) -> None:
    problems = describe(where, run_axe(page, axe_source()))
    assert not problems, "\n" + "\n".join(problems)


def _press(page: Page, key: str) -> None:
    # Shortcuts act on the document, never while a field has focus: start from the page itself.
    # A navigation may have just committed: the shortcuts script runs before "load".
    page.wait_for_load_state("load")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)


@pytest.mark.browser
def test_the_daily_loop_with_the_keyboard_only(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    page = w.page
    _plant(server)
    create_analyst(server, "ana")
    sign_in_and_enrol(page, w.base_url, "ana")

    # Next case: the urgent report, not the older routine one.
    _press(page, "n")
    expect(page.get_by_role("heading", level=1)).to_have_text(URGENT)
    expect(page.locator("#case-assignee")).to_have_text("Nobody")
    claim = page.get_by_role("button", name="Claim this report")
    expect(claim).to_have_attribute("aria-keyshortcuts", "c")

    # Claim.
    _press(page, "c")
    expect(page.locator("#case-assignee")).to_have_text("ana")

    # Reveal: the key moves focus to the Reveal button; Enter reveals (a deliberate second key).
    wait_for_preview(page)
    _press(page, "r")
    info = focused(page)
    assert info["text"].startswith("Reveal"), info
    assert page.evaluate("document.activeElement.getAttribute('aria-keyshortcuts')") == "r"
    page.keyboard.press("Enter")
    expect(page.locator("img.evidence-preview.revealed")).to_have_count(1)

    # Propose a referral before classifying: refused, and the form says what is missing.
    _press(page, "p")
    assert focused(page)["name"] == "outcome"
    page.keyboard.press("ArrowDown")  # "Referred to law enforcement", the first outcome
    expect(page.get_by_label("Outcome")).to_have_value("referred")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Refer to (for a referral)")).to_have_value(AGENCY)
    tab_to(page, lambda i: i["text"] == "Record decision")
    page.keyboard.press("Enter")
    errors = page.locator("#decision-form .notice.error")
    expect(errors).to_contain_text("Classify the report first")
    expect(errors).to_contain_text("Legal assessment")
    expect(page.locator("#case-state")).to_have_text("In review")
    _no_axe_violations(page, "case view, referral refused")
    _shoot(page, screenshot_dir, "decide15-referral-refused")

    # Classify.
    _press(page, "l")
    assert focused(page)["name"] == "legal_assessment"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Legal assessment")).to_have_value("national")
    tab_to(page, lambda i: i["text"] == "Save classification")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Legal assessment")).to_have_value("national")
    expect(page.locator("#still-to-classify")).to_have_count(0)

    # Shortcuts do not fire while typing.
    box = page.get_by_label("Message to the reporter")
    box.focus()
    page.keyboard.type("n c r l p ?")
    expect(box).to_have_value("n c r l p ?")
    expect(page.locator("#shortcuts-help")).not_to_be_visible()
    box.fill("")

    # Propose again: now it goes to the second analyst.
    _press(page, "p")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    tab_to(page, lambda i: i["text"] == "Record decision")
    page.keyboard.press("Enter")
    expect(page.locator("#case-state")).to_have_text("Awaiting second review")

    # The help: "?" opens it, Esc closes it and focus comes back.
    _press(page, "?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next case")
    _no_axe_violations(page, "shortcut help")
    _shoot(page, screenshot_dir, "decide15-shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    # And from its button, reachable with Tab like any other.
    tab_to(page, lambda i: i["text"] == "Keyboard shortcuts")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    assert focused(page)["text"] == "Keyboard shortcuts"

    # Nothing left: "next case" says so calmly.
    _press(page, "n")
    expect(page.get_by_role("heading", level=1)).not_to_have_text(URGENT)
    if page.get_by_role("heading", level=1).inner_text() == "Nothing is waiting to be claimed":
        _no_axe_violations(page, "next case, nothing waiting")
    check_console(w)


@pytest.mark.browser
def test_reply_templates_and_suggestions(
    browser: Browser, fresh_server: LiveServer, screenshot_dir: Path
) -> None:
    answer = httpx.post(
        fresh_server.url + "/api/v1/reports",
        json={
            "category": "sextortion",
            "what_happened": "Someone says they will share pictures unless I pay tonight.",
            "platform": "Instagram",
            "demand": "money",
            "victim_age_group": "13-15",
        },
    )
    assert answer.status_code == 201, answer.text
    # Playwright cannot evaluate scripts in a page with JavaScript off, so axe and the
    # screenshots run in the JavaScript pass.
    for js, username in ((True, "ana"), (False, "bea")):
        create_analyst(fresh_server, username)
        w = watch(browser, fresh_server.url, js=js)
        _patient(w)
        page = w.page
        sign_in_and_enrol(page, w.base_url, username)
        page.goto(w.base_url + "/console/queue/")
        page.locator("table.queue .case-link").first.click()
        box = page.get_by_label("Message to the reporter")
        box.fill("Hello.")
        page.get_by_label("Reply template").select_option("sextortion_support")
        page.get_by_label("Template language").select_option("fr")
        before = page.url
        page.get_by_role("button", name="Use template").click()
        expect(box).to_have_value(re.compile(r"^Hello\.\n\nMerci de nous avoir écrit", re.S))
        expect(box).to_be_focused()
        if not js:
            assert page.url.endswith("/message/"), "the no-JavaScript round trip"
            check_console(w)
            w.context.close()
            continue
        assert page.url == before, "filled in place"
        expect(page.locator("#reply-status")).to_contain_text("Template text added")
        _no_axe_violations(page, "case view, reply template used")
        page.get_by_role("button", name="Claim this report").click()
        # Suggested from the reporter's answers, marked, not yet saved.
        expect(page.get_by_label("Platform")).to_have_value("instagram")
        expect(page.get_by_label("Motive")).to_have_value("financial")
        expect(page.get_by_label("Victim's age")).to_have_value("13_15")
        _no_axe_violations(page, "case view, sextortion suggestions")
        _shoot(page, screenshot_dir, "decide15-sextortion")
        check_console(w)
        w.context.close()
