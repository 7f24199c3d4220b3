"""End-to-end: a staff member's first sign-in to the console in a real browser.

The account is created the way an operator does it (`tipline staff create` against the live
server's database); the browser signs in with the password, enrols the authenticator from the
secret shown on the page, reaches the console home and signs out. Public pages set no cookies;
the console's cookies must be scoped to /console/.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, Watched
from tests.factories import STAFF_PASSWORD
from tests.live import TIPLINE, LiveServer


def shoot(page: Page, folder: Path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.evaluate("window.scrollTo(0, 0)")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
        page.screenshot(path=folder / f"console-{name}-{width:04d}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def check_console(w: Watched) -> None:
    """No other host, no CSP violation or script error, and cookies only for /console/."""
    w.checked = True
    assert w.foreign_requests == []
    assert w.problems == []
    for cookie in w.context.cookies():
        assert cookie["path"] == "/console/", cookie["name"]
        assert cookie["httpOnly"], cookie["name"]
        assert cookie["sameSite"] == "Strict", cookie["name"]


@pytest.mark.browser
def test_first_sign_in_enrols_totp_and_signs_out(
    open_page: OpenPage, live_server_process: LiveServer, screenshot_dir: Path
) -> None:
    username = "ada-" + secrets.token_hex(3)
    created = subprocess.run(
        [*TIPLINE, "staff", "create", "--username", username, "--role", "supervisor"],
        input=STAFF_PASSWORD + "\n",
        env=live_server_process.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr

    w = open_page(js=True, width=1280)
    page = w.page
    response = page.goto(w.url("/console/"))
    assert response is not None
    expect(page).to_have_url(w.url("/console/sign-in/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(page, screenshot_dir, "sign-in")

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(w.url("/console/enrol/"))
    expect(page.locator("svg.qr")).to_be_visible()
    shoot(page, screenshot_dir, "enrol")

    # What a person types into their app: the key as shown, in groups of four.
    shown = page.locator("#totp-secret").inner_text()
    key = base64.b32decode("".join(shown.split()))
    code = f"{TOTP(key).token():06d}"
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page).to_have_url(w.url("/console/queue/"))
    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(w.url("/console/"))
    expect(page.get_by_role("heading", name=f"Signed in as {username}")).to_be_visible()
    expect(page.get_by_text("Supervisor")).to_be_visible()
    shoot(page, screenshot_dir, "home")
    check_console(w)

    # The public site, visited from the same browser, still sets nothing and sees nothing.
    public = page.goto(w.url("/en/"))
    assert public is not None
    assert "set-cookie" not in public.headers

    page.goto(w.url("/console/"))
    page.locator("main").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(w.url("/console/sign-in/?done=out"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(w.url("/console/"))
    expect(page).to_have_url(w.url("/console/sign-in/"))
    check_console(w)
