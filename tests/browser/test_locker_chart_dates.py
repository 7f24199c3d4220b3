"""Issue 13 in a real browser at 390 px, JavaScript off: the chart's text is readable on a
phone, incident dates are typed as people say them and shown back in the locker's time zone.

Before issue 13 the 720-unit chart was scaled to about 330 px, so its 10-11 unit text was
drawn at about 5 px; and the incident form refused "yesterday 9pm" (it wanted 2024-03-14 21:30)
and kept the date in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Watched, watch
from tests.live import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "locker" / "fixtures"
PHONE = {"width": 390, "height": 844}

# Every text of the chart: its font size times the scale the page draws the SVG at.
MEASURE = """() => {
  const svg = document.querySelector('.chart svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Array.from(svg.querySelectorAll('text')).map(t => ({
    text: t.textContent,
    px: parseFloat(t.getAttribute('font-size')) * scale,
    box: t.getBoundingClientRect().height,
  }));
}"""


@pytest.fixture
def phone(browser: Browser, fresh_server: LiveServer) -> Iterator[Watched]:
    watched = watch(browser, fresh_server.url, js=False)
    watched.page.set_viewport_size(PHONE)
    yield watched
    watched.context.close()


def nav(page: Page, name: str) -> None:
    page.locator("form.locker-nav").get_by_role("button", name=name, exact=True).click()


def create_locker(w: Watched) -> Page:
    page = w.page
    page.goto(w.url("/en/locker/"))
    page.get_by_role("link", name="Create a locker").click()
    page.get_by_label("I have written my passphrase down", exact=False).check()
    page.get_by_role("button", name="Create my locker").click()
    # The answer is a page showing nothing but a button (JavaScript presses it): see test_locker.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your locker is ready")
    page.get_by_role("button", name="Continue to my locker").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your evidence locker")
    return page


@pytest.mark.browser
def test_chart_text_is_at_least_12px_on_a_390px_phone(phone: Watched, screenshot_dir: Path) -> None:
    page = create_locker(phone)
    nav(page, "Import")
    page.locator("#id_file").set_input_files(FIXTURES / "whatsapp_android.txt")
    page.get_by_role("button", name="Import", exact=True).last.click()
    expect(page.locator(".notice.success")).to_contain_text("was imported")
    nav(page, "Timeline")
    expect(page.locator(".chart svg")).to_have_count(1)
    texts = page.evaluate(MEASURE)
    assert texts, "the chart has no text"
    smallest = min(texts, key=lambda t: t["px"])
    assert smallest["px"] >= 12, f"{smallest['text']!r} is drawn at {smallest['px']:.1f} px"
    # The box the browser laid out agrees (a 12 px font has a box of about 14 px).
    assert min(t["box"] for t in texts) >= 12
    legend = [t["text"] for t in texts]
    assert "Items per day." in legend
    assert any(line.startswith("P First sign they are near you") for line in legend)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.locator(".chart").screenshot(path=screenshot_dir / "locker-chart-0390.png")


@pytest.mark.browser
def test_incident_dates_are_read_as_typed_and_shown_back_in_the_locker_zone(
    phone: Watched, screenshot_dir: Path
) -> None:
    page = create_locker(phone)
    nav(page, "Settings")
    zone = page.get_by_label("Your time zone")
    expect(zone).to_have_value("UTC")  # the server's zone, whatever the browser says
    zone.select_option("Asia/Kolkata")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice.success")).to_contain_text("Saved")

    nav(page, "Incident log")
    when = page.get_by_label("When did it happen?")
    expect(page.locator("#id_occurred_at_helptext")).to_contain_text("Asia/Kolkata")
    when.fill("yesterday 9pm")
    page.get_by_label("What happened?").fill("He stood outside my building for an hour.")
    page.get_by_role("button", name="Add to the log").click()
    shown = page.locator(".field.has-error")
    expect(shown).to_contain_text("We read this as")
    expect(shown).to_contain_text(", 21:00 IST (Asia/Kolkata)")
    expect(when).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2} 21:00$"))
    expect(page.get_by_label("What happened?")).to_have_value(
        "He stood outside my building for an hour."
    )
    page.screenshot(path=screenshot_dir / "locker-incident-confirm-0390.png", full_page=True)
    page.get_by_role("button", name="Add to the log").click()
    expect(page.locator(".notice.success")).to_contain_text("Saved")
    expect(page.locator(".incident time")).to_contain_text("21:00")

    when.fill("next year on the moon")
    page.get_by_label("What happened?").fill("x")
    page.get_by_role("button", name="Add to the log").click()
    expect(page.locator(".field.has-error")).to_contain_text("could not read this as a date")
