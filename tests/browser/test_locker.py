"""End-to-end: a victim keeps an evidence locker in Chromium with JavaScript off, and hands it over.

Against a real server of its own: create a locker with the generated passphrase, import one file
of each format (H3's written fixtures), write an incident, see the merged timeline with the chart
and markers, mark the person responsible, download the PDF (rendered to images with pdftoppm) and
the ZIP (`sha256sum -c manifest.sha256` passes), lock and reopen with the passphrase, hand the log
over, and an analyst signs in with TOTP and reads the handed-over log in the case view.
No cookie, no script error, no request to another host, no horizontal overflow at 390 px.
"""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console
from tests.live import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "locker" / "fixtures"
IMPORTS = [
    "whatsapp_android.txt",
    "WhatsApp Chat - Sam Carter.zip",
    "harassment.eml",
    "telegram_chat.json",
    "instagram_message_1.json",
    "sms-20240316080000.xml",
    "screenshot.png",
]


def shoot(page: Page, folder: Path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        # Playwright's own evaluation still works with the page's JavaScript off.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
        page.screenshot(path=folder / f"locker-{name}-{width:04d}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def victim(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url, js=False)
    yield watched, fresh_server
    watched.context.close()


def nav(page: Page, name: str) -> None:
    page.locator("form.locker-nav").get_by_role("button", name=name, exact=True).click()


@pytest.mark.browser
def test_victim_keeps_a_locker_and_hands_it_over(
    victim: tuple[Watched, LiveServer], browser: Browser, screenshot_dir: Path, tmp_path: Path
) -> None:
    w, server = victim
    page = w.page
    page.goto(w.url("/en/locker/"))
    shoot(page, screenshot_dir, "home")
    page.get_by_role("link", name="Create a locker").click()
    passphrase = " ".join(page.locator("#passphrase span").all_inner_texts())
    assert len(passphrase.split()) == 7
    shoot(page, screenshot_dir, "create")
    page.get_by_role("button", name="Create my locker").click()
    expect(page.locator("#form-errors")).to_be_visible()  # must confirm it was written down
    page.get_by_label("I have written my passphrase down", exact=False).check()
    page.get_by_role("button", name="Create my locker").click()
    # A redirect to a page that shows nothing but a button (JavaScript presses it).
    expect(page.get_by_role("heading", level=1)).to_have_text("Your locker is ready")
    page.get_by_role("button", name="Continue to my locker").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your evidence locker")
    expect(page.locator(".notice.success")).to_contain_text("Your locker is ready")
    assert page.url == w.url("/en/locker/mine/")  # no secret in any address

    for name in IMPORTS:
        nav(page, "Import")
        page.locator("#id_file").set_input_files(FIXTURES / name)
        page.get_by_role("button", name="Import", exact=True).last.click()
        expect(page.locator(".notice.success")).to_contain_text("was imported")
    nav(page, "Import")
    page.locator("#id_file").set_input_files(FIXTURES / "harassment.eml")
    page.get_by_role("button", name="Import", exact=True).last.click()
    expect(page.locator(".notice.warning")).to_contain_text("already in your locker")
    page.locator("#id_file").set_input_files(
        files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}]
    )
    page.get_by_role("button", name="Import", exact=True).last.click()
    expect(page.locator(".notice.error")).to_contain_text("could not be imported")
    shoot(page, screenshot_dir, "import")

    nav(page, "Incident log")
    page.get_by_label("When did it happen?").fill("2024-03-14 19:05")
    page.get_by_label("Where did it happen?").fill("E-mail and WhatsApp")
    page.get_by_label("What happened?").fill("He wrote that he knows my new street and my bus.")
    page.get_by_label("How did it affect you?").fill("I took a taxi to work for a week.")
    page.get_by_label("harassment.eml").check()
    page.get_by_role("button", name="Add to the log").click()
    expect(page.locator(".incident")).to_contain_text("knows my new street")
    page.locator(".incident").get_by_role("button", name="Edit").click()
    page.get_by_label("What happened?").fill(
        "He wrote that he knows my street, Elm Road, and my bus."
    )
    page.get_by_role("button", name="Save the new version").click()
    expect(page.locator(".incident .history summary")).to_contain_text("2 versions")
    shoot(page, screenshot_dir, "incidents")

    nav(page, "Timeline")
    expect(page.locator(".chart svg")).to_have_count(1)
    expect(page.locator(".markers li").first).to_be_visible()
    expect(page.locator(".groups")).to_contain_text("Sam Carter")
    for source in ("whatsapp", "eml", "telegram", "meta", "sms-backup", "screenshot"):
        expect(page.locator(".timeline .meta").filter(has_text=source).first).to_be_visible()
    page.locator("summary", has_text="Mark the person responsible").click()
    page.get_by_label("Sam Carter", exact=True).check()
    page.get_by_label("s.carter.1987@example.net", exact=True).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice.success")).to_contain_text("Saved")
    page.get_by_role("button", name="Only the person responsible").click()
    expect(page.locator(".timeline .entry").first).to_have_class("entry from-responsible")
    shoot(page, screenshot_dir, "timeline")

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download the PDF report").click()
    pdf = tmp_path / "log.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(pdf), str(screenshot_dir / "locker-pdf")], check=True
    )
    with page.expect_download() as zip_download:
        page.get_by_role("button", name="Download the ZIP of originals").click()
    bundle = tmp_path / "log.zip"
    zip_download.value.save_as(bundle)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(unpacked)
    check = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"], cwd=unpacked, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") >= len(IMPORTS)

    nav(page, "Lock now")
    expect(page.locator(".notice.success")).to_contain_text("Your locker is locked")
    page.get_by_label("Your passphrase").fill(passphrase.upper())
    page.get_by_role("button", name="Open").click()
    page.get_by_role("button", name="Continue to my locker").click()
    expect(page.locator("#count-files")).to_have_text(str(len(IMPORTS)))
    shoot(page, screenshot_dir, "overview")

    nav(page, "Hand over")
    page.get_by_label("I understand that the hotline", exact=False).check()
    page.get_by_role("button", name="Send to the hotline").click()
    receipt = page.locator("#receipt").inner_text()
    assert len(receipt) >= 16
    shoot(page, screenshot_dir, "handed-over")
    nav(page, "My locker")
    expect(page.locator(".handovers")).to_contain_text(receipt)  # kept in the locker
    shoot(page, screenshot_dir, "overview-receipts")
    w.check()

    create_analyst(server, "ana")
    analyst = watch(browser, server.url)
    try:
        sign_in_and_enrol(analyst.page, analyst.base_url, "ana")
        analyst.page.goto(analyst.url("/console/queue/"))
        analyst.page.locator("table.queue .case-link").first.click()
        log = analyst.page.locator("#evidence-log")
        expect(log).to_contain_text("Evidence log handed over by the victim")
        expect(log).to_contain_text("Elm Road")
        expect(log).to_contain_text("Sam Carter")
        expect(analyst.page.locator(".files")).to_contain_text("evidence-log.pdf")
        analyst.page.screenshot(
            path=screenshot_dir / "locker-console-case-1280.png", full_page=True
        )
        check_console(analyst)
    finally:
        analyst.context.close()
