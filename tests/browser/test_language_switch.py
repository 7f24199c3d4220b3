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
