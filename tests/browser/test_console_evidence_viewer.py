"""Done-when walkthrough of issue 15's "evidence that can be read safely", in a real browser.

A reporter sends a PDF, a text file and a photo through the API. An analyst opens the case,
reads the PDF page by page and the text file inside the console, reveals the photo and zooms it
to full resolution -- every rendition drawn on the server, blurred and grey until revealed, and
the browser never asked for an original (no request to any ``/original`` URL, no CSP
violation, no script run from the text file). Screenshots at 390 and 1280 px.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.browser.conftest import Watched, wait_until
from tests.browser.test_accessibility import axe_source, describe, run_axe
from tests.browser.test_console_casework import console, create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.evidence import pdfs, videos
from tests.live import LiveServer

__all__ = ["console"]  # the fixture, imported for pytest

CHAT = (
    "21:04 new account again: <script>alert('read me')</script>\n"
    "21:05 « tu as une heure » — he says one hour left\n"
)


def _photo() -> bytes:
    img = Image.new("RGB", (2400, 1600), "#f4efe6")
    draw = ImageDraw.Draw(img)
    for i in range(0, 2400, 160):
        draw.rectangle((i, 200 + i // 4, i + 120, 1400 - i // 5), fill=(30 + i // 20, 90, 140))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _axe(page: Page, name: str) -> None:
    """axe-core finds nothing on this page (blurred or revealed, as it is now)."""
    assert describe(name, run_axe(page, axe_source())) == []


@pytest.mark.browser
def test_an_analyst_reads_a_pdf_and_a_text_file_and_zooms_a_photo(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    letter = pdfs.text_pages(["He wrote on Monday", "He wrote again on Friday"])
    filed = httpx.post(
        server.url + "/api/v1/reports",
        data={"category": "cyberstalking", "what_happened": "He writes from new accounts."},
        files=[
            ("attachments", ("letter.pdf", letter, "application/pdf")),
            ("attachments", ("chat.txt", CHAT.encode(), "text/plain")),
            ("attachments", ("photo.png", _photo(), "image/png")),
        ],
    )
    assert filed.status_code == 201, filed.text
    create_analyst(server, "ana")
    page = w.page
    sign_in_and_enrol(page, w.base_url, "ana")
    page.goto(w.base_url + "/console/queue/")
    page.locator("table.queue tbody tr").first.locator(".case-link").click()
    expect(page).to_have_url(re.compile(r"/console/reports/[0-9a-f-]+/$"))
    case_url = page.url

    # The case: a blurred first-page thumbnail of the PDF, a link to read the text.
    files = page.locator("#files")
    expect(files.locator('[data-kind="pdf"] img.evidence-preview')).to_have_count(1)
    expect(files.locator('[data-kind="pdf"] img.evidence-preview.revealed')).to_have_count(0)
    shoot(page, screenshot_dir, "case-files")
    _axe(page, "case")

    # The PDF, page by page.
    page.get_by_role("link", name="Read the PDF letter.pdf").click()
    expect(page.locator("#evidence-image")).to_have_class("evidence-preview")
    expect(page.get_by_text("Page 1 of 2").first).to_be_visible()
    _axe(page, "pdf viewer, blurred")
    page.locator('[data-action="reveal"]').click()
    expect(page.locator("#evidence-image")).to_have_class("evidence-preview revealed")
    page.locator('[data-action="next-page"]').click()
    expect(page.get_by_text("Page 2 of 2").first).to_be_visible()
    expect(page.locator("#evidence-image")).to_have_class("evidence-preview revealed")
    shoot(page, screenshot_dir, "file-pdf")
    _axe(page, "pdf viewer, revealed")

    # The text file: escaped characters, blurred until revealed; its script never runs.
    page.goto(case_url)
    page.get_by_role("link", name="Read the text chat.txt").click()
    expect(page.locator("#evidence-text")).to_have_class("evidence-text")
    _axe(page, "text viewer, blurred")
    page.locator('[data-action="reveal"]').click()
    text = page.locator("#evidence-text")
    expect(text).to_have_class("evidence-text revealed")
    expect(text).to_contain_text("<script>alert('read me')</script>")
    expect(text).to_contain_text("« tu as une heure »")
    shoot(page, screenshot_dir, "file-text")
    _axe(page, "text viewer, revealed")

    # The photo: revealed on the case page, then zoomed to full resolution in the viewer.
    page.goto(case_url)
    page.locator('[data-kind="image"] [data-action="reveal"]').click()
    expect(page.locator('[data-kind="image"] img.evidence-preview.revealed')).to_have_count(1)
    page.get_by_role("link", name="Open and zoom photo.png").click()
    # The case page has a Reveal button too: act only once the viewer has replaced it.
    expect(page).to_have_url(re.compile(r"/console/files/[0-9a-f-]+/$"))
    page.wait_for_load_state("load")
    page.locator('[data-action="reveal"]').click()
    _shows_width(page, 1024)
    page.locator('[data-action="zoom"][data-size="2048"]').click()
    _shows_width(page, 2048)
    page.locator('[data-action="zoom"][data-size="0"]').click()
    expect(page.locator("#evidence-image")).to_have_class("evidence-preview revealed")
    _shows_width(page, 2400)
    shoot(page, screenshot_dir, "file-image-full")
    _axe(page, "image viewer, full size")

    assert not [url for url in w.requests if "/original" in url]
    check_console(w)


def _shows_width(page: Page, width: int) -> None:
    # A zoom swaps the image's address; the new rendition arrives a moment later.
    wait_until(
        page,
        "w => { const img = document.getElementById('evidence-image');"
        " return img !== null && img.complete && img.naturalWidth === w; }",
        width,
    )


# Files a report holding a video the way a partner's import would (intake takes no video).
_FILE_VIDEO = """
import hashlib, sys
import django
django.setup()
from tipline.cases import actions
from tipline.cases.states import Channel
from tipline.evidence.validate import ValidatedUpload
data = sys.stdin.buffer.read()
upload = ValidatedUpload(
    name="clip.mp4", content_type="video/mp4", data=data, sha256=hashlib.sha256(data).hexdigest()
)
actions.report_create(
    category="cyberstalking", channel=Channel.WEB, language="en",
    details={"what_happened": "He films outside my house.", "urls": [], "handles": []},
    contact=None, uploads=[upload],
)
"""


@pytest.mark.browser
def test_a_video_preview_plays_muted_only_when_asked(
    console: tuple[Watched, LiveServer], screenshot_dir: Path
) -> None:
    w, server = console
    filed = subprocess.run(
        [sys.executable, "-c", _FILE_VIDEO],
        input=videos.pattern_mp4(seconds=2),
        env=server.env(),
        capture_output=True,
        check=False,
    )
    assert filed.returncode == 0, filed.stderr.decode()
    create_analyst(server, "ana")
    page = w.page
    sign_in_and_enrol(page, w.base_url, "ana")
    page.goto(w.base_url + "/console/queue/")
    page.locator("table.queue tbody tr").first.locator(".case-link").click()
    page.get_by_role("link", name="Watch, muted clip.mp4").click()
    video = page.locator("#evidence-video")
    assert video.evaluate("v => v.muted && !v.autoplay && v.preload === 'none'")
    assert not [url for url in w.requests if url.endswith("/video")]  # nothing until play
    page.locator('[data-action="reveal"]').click()
    video = page.locator("#evidence-video")
    video.evaluate("v => v.play()")
    wait_until(page, "() => document.getElementById('evidence-video').readyState >= 2", timeout=60)
    assert video.evaluate("v => v.videoWidth") == 480
    assert video.evaluate("v => v.muted")
    assert [url for url in w.requests if url.endswith("/video")]
    _axe(page, "video viewer, revealed")
    shoot(page, screenshot_dir, "file-video")
    check_console(w)
