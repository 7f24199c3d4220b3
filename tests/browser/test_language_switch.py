"""Switching language mid-form keeps every word, JavaScript on and off, on a phone (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenPage

pytestmark = pytest.mark.browser
WORDS = "He writes every night from new accounts and says he knows where I live."


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
def test_switching_language_keeps_what_was_typed(
    open_page: OpenPage, screenshot_dir: Path, js: bool
) -> None:
    watched = open_page(js=js, width=390, height=844)
    page = watched.page
    page.goto(watched.url("/en/report/cyberstalking/"))
    page.locator("#id_what_happened").fill(WORDS)
    page.locator("#id_platform").fill("A photo app")
    page.select_option("#id_country", "FR")
    page.locator("nav.langs button[lang=fr]").click()
    page.wait_for_url("**/fr/report/cyberstalking/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#id_what_happened")).to_have_value(WORDS)
    expect(page.locator("#id_platform")).to_have_value("A photo app")
    expect(page.locator("#id_country")).to_have_value("FR")
    assert page.locator("[role=alert]").count() == 0
    page.screenshot(path=str(screenshot_dir / f"language-switch-{'js' if js else 'nojs'}-390.png"))
    watched.check()


MESSAGE = "He wrote again tonight from a new account and says he knows my school."


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
def test_switching_language_on_the_thread_keeps_the_message(
    open_page: OpenPage, screenshot_dir: Path, js: bool
) -> None:
    watched = open_page(js=js, width=390, height=844)
    page = watched.page
    page.goto(watched.url("/en/report/cyberstalking/"))
    page.locator("#id_what_happened").fill(WORDS)
    page.get_by_role("button", name="Send report").click()
    receipt = page.locator("#receipt").inner_text().strip()
    page.goto(watched.url("/en/follow-up/"))
    page.locator("#id_receipt").fill(receipt)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("h1")).to_have_text("Your report")
    page.locator("#id_body").fill(MESSAGE)
    page.locator("nav.langs button[lang=fr]").click()
    page.wait_for_url("**/fr/follow-up/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#id_body")).to_have_value(MESSAGE)
    assert page.locator("[role=alert]").count() == 0
    page.screenshot(path=str(screenshot_dir / f"thread-switch-{'js' if js else 'nojs'}-390.png"))
    # And back to Hindi, then send: the message arrives once, in the thread.
    page.locator("nav.langs button[lang=hi]").click()
    page.wait_for_url("**/hi/follow-up/")
    expect(page.locator("#id_body")).to_have_value(MESSAGE)
    page.locator("#followup-form button[type=submit]").click()
    expect(page.locator(".notice.success")).to_be_visible()
    expect(page.locator("ol.thread")).to_contain_text(MESSAGE)
    expect(page.locator("ol.thread .msg")).to_have_count(1)
    watched.check()
