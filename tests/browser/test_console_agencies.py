"""An administrator manages agencies in the console (issue 16): adds one with its age key and
e-mail delivery, sees it listed, then switches it to a CyberTipline-compatible API; a bad key is
refused with the reason and nothing is saved. Phone and desktop widths."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import watch
from tests.browser.test_console_casework import sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console
from tests.live import TIPLINE, LiveServer
from tests.outputs.helpers import agency_key

PASSWORD = "quiet river lantern 2047"
NAME = "Coastal Police Online Harms Unit"


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_an_administrator_adds_and_edits_an_agency(
    browser: Browser, fresh_server: LiveServer, screenshot_dir: Path, width: int
) -> None:
    server = fresh_server
    made = subprocess.run(
        [*TIPLINE, "staff", "create", "--username", "root", "--role", "admin"],
        input=PASSWORD + "\n",
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    w = watch(browser, server.url, width=width, height=900)
    page = w.page
    sign_in_and_enrol(page, server.url, "root")
    page.locator("nav.console-nav").get_by_role("link", name="Agencies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agencies")
    form = page.locator("form.agency-form")
    form.get_by_label("Name").fill(NAME)
    form.get_by_label("Country").select_option("IE")
    form.get_by_label("Contact e-mail").fill("referrals@coastal.example")
    form.get_by_label("Delivery").select_option("email")
    form.get_by_label("age public key").fill("age1-this-is-not-a-key")
    form.get_by_role("button", name="Add the agency").click()
    expect(page.locator("[role=alert]")).to_contain_text("Nothing was saved")
    page.screenshot(path=screenshot_dir / f"console-agency-refused-{width}.png", full_page=True)
    key = agency_key().recipient
    page.locator("form.agency-form").get_by_label("age public key").fill(key)
    page.locator("form.agency-form").get_by_role("button", name="Add the agency").click()
    expect(page.locator(".notice.success")).to_have_text("The agency was saved.")
    row = page.locator("table.agencies tr", has_text=NAME)
    expect(row).to_contain_text(key[:16])
    expect(row).to_contain_text("e-mail to the agency")
    page.screenshot(path=screenshot_dir / f"console-agencies-{width}.png", full_page=True)
    row.get_by_role("link", name=NAME).click()
    edit = page.locator("form.agency-form")
    edit.get_by_label("Delivery").select_option("api")
    edit.get_by_label("API address").fill("https://report.cybertip.example/ispws")
    edit.get_by_label("Credential reference").fill("TIPLINE_CYBERTIP_PASSWORD")
    edit.get_by_role("button", name="Save changes").click()
    row = page.locator("table.agencies tr", has_text=NAME)
    expect(row).to_contain_text("https://report.cybertip.example/ispws")
    check_console(w)
    w.context.close()
