"""The decision form's "right tier" (issue 20) in a real browser: laid out at a phone's and a
desk's width, chosen, recorded, and shown in the decision history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_accessibility import axe_source, run_axe
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.browser.test_console_triage import file_report
from tests.live import LiveServer

CATEGORY = "Cyberstalking or online harassment"


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url)
    yield watched, fresh_server
    watched.context.close()


@pytest.mark.browser
def test_the_right_tier_is_chosen_recorded_and_shown(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    page = w.page
    file_report(server, category="cyberstalking", what_happened="He keeps messaging me at night.")
    create_analyst(server, "ana")
    sign_in_and_enrol(page, w.base_url, "ana")
    row = page.locator("table.queue tbody tr").first
    row.get_by_role("button", name=f"Claim {CATEGORY}").click()
    expect(row).to_contain_text("In review")
    row.locator(".case-link").click()

    form = page.locator("#decision-form")
    tier = page.get_by_label("Right tier")
    expect(tier).to_have_value("")
    expect(form).to_contain_text("Leave as triaged")
    expect(form.locator("#id_right_tier-help")).to_be_visible()
    assert run_axe(page, axe_source()) == [], "the case page with the decision form fails axe"
    tier.select_option("P2")
    page.get_by_label("Outcome").select_option("not_actionable")
    form.scroll_into_view_if_needed()
    shoot(page, screenshot_dir, "decision-right-tier")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        box = form.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width, f"the form overflows a {width}px screen"
        # Below the sticky case bar, so the screenshot shows the whole form.
        page.evaluate("(y) => window.scrollTo(0, y)", box["y"] + page.evaluate("scrollY") - 70)
        form.screenshot(path=screenshot_dir / f"console-decision-form-{width:04d}.png")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#case-outcome")).to_contain_text("Not actionable")
    page.locator("details.decisions summary").click()
    expect(page.locator("details.decisions")).to_contain_text("Right tier: P2.")
    check_console(w)
