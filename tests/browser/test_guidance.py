"""The assistant and a guidance page in a real browser, JavaScript off, on a 360 px phone.

One test doing a lot: it walks the assistant from the first question to the emergency numbers
for a chosen country by clicking links and submitting the GET form, then opens a guidance page,
checks nothing leaves the machine, and takes the screenshots reviewers look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage

WIDTH = 360


def shoot(page: Page, folder: Path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {WIDTH}px screen"
    page.screenshot(path=folder / f"guidance-{name}-{WIDTH}.png", full_page=True)


@pytest.mark.browser
def test_assistant_and_guidance_without_javascript_on_a_phone(
    open_page: OpenPage,
    screenshot_dir: Path,
) -> None:
    watched = open_page(js=False, width=WIDTH, height=780)
    page = watched.page
    page.goto(watched.url("/en/help/assistant/"))
    expect(page.locator("h1")).to_have_text("Tell us in your own words what is happening")
    expect(page.locator("h3")).to_have_text("Is someone in danger right now?")
    shoot(page, screenshot_dir, "assistant-question")
    page.get_by_role("link", name="Yes, someone could be hurt now").click()
    page.get_by_role("link", name="A child or teenager").click()
    expect(page.locator("h1")).to_have_text("Call the emergency number now")
    shoot(page, screenshot_dir, "assistant-emergency-all")
    page.select_option("#id_country", "GB")
    page.get_by_role("button", name="Show").click()
    assert "country=GB" in page.url
    expect(page.locator("a.tel[href='tel:999']").first).to_be_visible()
    shoot(page, screenshot_dir, "assistant-emergency-gb")

    page.goto(watched.url("/en/help/assistant/?node=support_stalking&country=GB"))
    expect(page.get_by_text("National Stalking Helpline (Suzy Lamplugh Trust)")).to_be_visible()
    shoot(page, screenshot_dir, "assistant-support-gb")

    page.goto(watched.url("/en/help/"))
    shoot(page, screenshot_dir, "index")
    page.get_by_role("link", name="Checking a phone for stalkerware").click()
    expect(page.locator("h1")).to_have_text("Checking a phone for stalkerware")
    expect(page.get_by_text("Last reviewed")).to_be_visible()
    shoot(page, screenshot_dir, "page")
    watched.check()
