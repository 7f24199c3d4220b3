"""End-to-end: an analyst works a report in the console, in a real browser, against a real server.

Reports are planted the way a reporter sends them (the public API), with HTML and script in every
free-text field. The analyst signs in with a real TOTP code, sees the child-in-danger report at
the top of the queue, claims it, opens it, reveals the blurred image and writes to the reporter,
who reads the answer through their receipt. Throughout, no script may run: no dialog, no console
error, no request to any host but 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django_otp.oath import TOTP
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_sign_in import check_console, shoot
from tests.factories import STAFF_PASSWORD
from tests.live import TIPLINE, LiveServer

HOSTILE = '<script>alert("xss")</script><img src=x onerror="alert(1)">'
URGENT = "A child is in danger right now"


def benign_png() -> bytes:
    """A generated picture (shapes on a gradient), so the blur and the reveal are visible."""
    image = Image.new("RGB", (480, 320), (40, 90, 140))
    draw = ImageDraw.Draw(image)
    for x in range(0, 480, 8):
        draw.line([(x, 0), (x, 320)], fill=(40 + x // 4, 120, 160 - x // 4))
    draw.ellipse([150, 70, 330, 250], fill=(240, 200, 60), outline=(20, 20, 20), width=6)
    draw.rectangle([30, 30, 120, 110], fill=(200, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def plant_reports(server: LiveServer) -> str:
    """A routine report, then an urgent one with hostile text and an image; returns its receipt."""
    api = server.url + "/api/v1/"
    routine = httpx.post(
        api + "reports",
        json={"category": "other", "what_happened": "A forum keeps posting cruel comments."},
    )
    assert routine.status_code == 201, routine.text
    urgent = httpx.post(
        api + "reports",
        data={
            "category": "child_in_danger",
            "what_happened": f"He said he will meet her after school. {HOSTILE}",
            "platform": HOSTILE,
            "handles": f"@{HOSTILE}\n@meetme_2009",
            "urls": 'https://chat.example/room/42?x="><script>alert(2)</script>',
            "child_location": HOSTILE,
        },
        files=[("attachments", ("chat-screenshot.png", benign_png(), "image/png"))],
    )
    assert urgent.status_code == 201, urgent.text
    receipt: str = urgent.json()["receipt"]
    message = httpx.post(
        api + "followup/messages", json={"receipt": receipt, "body": f"More: {HOSTILE}"}
    )
    assert message.status_code == 201, message.text
    return receipt


def create_analyst(server: LiveServer, username: str) -> None:
    created = subprocess.run(
        [*TIPLINE, "staff", "create", "--username", username, "--role", "analyst"],
        input=STAFF_PASSWORD + "\n",
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr


def sign_in_and_enrol(page: Page, base: str, username: str) -> None:
    page.goto(base + "/console/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(base + "/console/enrol/")
    key = base64.b32decode("".join(page.locator("#totp-secret").inner_text().split()))
    page.get_by_label("6-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()
    # Each role lands on its work (issue 15): the queue, or the audit log for an auditor.
    expect(page).to_have_url(re.compile(re.escape(base) + r"/console/(queue|audit)/$"))


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    """A watched page against a server of this test's own, so the queue holds only its reports."""
    watched = watch(browser, fresh_server.url)
    yield watched, fresh_server
    watched.context.close()


def wait_for_preview(page: Page) -> None:
    """The task worker makes the preview shortly after intake; reload until it is there."""
    deadline = time.monotonic() + 30
    while page.locator("img.evidence-preview").count() == 0:
        assert time.monotonic() < deadline, "no preview was made"
        time.sleep(0.5)
        page.reload()


@pytest.mark.browser
def test_analyst_claims_opens_reveals_and_answers(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    page = w.page
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    receipt = plant_reports(server)
    create_analyst(server, "ana")
    sign_in_and_enrol(page, w.base_url, "ana")

    expect(page).to_have_url(w.base_url + "/console/queue/")
    # Keyboard: the first Tab reaches the skip link, then the console's own navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Queue"
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".case-link")).to_have_text(URGENT)
    expect(rows.first.locator(".tier")).to_have_text("P1")
    shoot(page, screenshot_dir, "queue")

    rows.first.get_by_role("button", name=f"Claim {URGENT}").click()
    expect(page).to_have_url(w.base_url + "/console/queue/")
    expect(rows.first).to_contain_text("ana")
    expect(rows.first).to_contain_text("In review")

    rows.first.locator(".case-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(URGENT)
    wait_for_preview(page)
    preview = page.locator("img.evidence-preview")
    expect(preview).to_have_attribute("alt", "Preview, blurred")
    assert "blur" in preview.evaluate("img => getComputedStyle(img).filter")
    assert "grayscale" in preview.evaluate("img => getComputedStyle(img).filter")
    # Lazily loaded and decoded off the main thread: wait until the browser has it, then check
    # that it decoded (a broken image is complete too, with no natural width).
    preview.scroll_into_view_if_needed()
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => img.naturalWidth") > 0
    # Hostile text is shown as text, identifiers are not links.
    expect(page.locator("main")).to_contain_text('<script>alert("xss")</script>')
    expect(page.locator("main a[href*='chat.example']")).to_have_count(0)
    expect(page.locator("main img")).to_have_count(1)
    shoot(page, screenshot_dir, "case")

    page.get_by_role("button", name="Reveal chat-screenshot.png").click()
    revealed = page.locator("img.evidence-preview.revealed")
    expect(revealed).to_have_count(1)
    assert revealed.evaluate("img => getComputedStyle(img).filter") == "none"
    shoot(page, screenshot_dir, "case-revealed")

    page.get_by_label("Message to the reporter").fill("Thank you. Is she safe now?")
    page.get_by_role("button", name="Send to the reporter").click()
    expect(page.locator("#thread .msg-hotline")).to_contain_text("Thank you. Is she safe now?")

    status = httpx.post(server.url + "/api/v1/followup/status", json={"receipt": receipt}).json()
    assert status["status"] == "in_review"
    assert [m["body"] for m in status["messages"]][-1] == "Thank you. Is she safe now?"

    assert dialogs == [], "a script ran in the console"
    check_console(w)
