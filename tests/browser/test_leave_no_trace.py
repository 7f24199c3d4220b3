"""Leave no trace (issue 13): after Lock now or Quick exit, Back, Reload and resubmitting show
nothing of the locker, and nothing opens it without its passphrase; after a report, Quick exit
then Back does not show which form was used. JavaScript on and off, on a 390 px wide phone.

Back or Reload to a page that answered a POST shows Chromium's "Confirm Form Resubmission".
Each context here routes every request through Playwright (passing it on unchanged), and with
requests intercepted Chromium sends the form again without asking, as if the person had pressed
"Continue": so every step of the walk through the history below is also a resubmission.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import Watched, watch
from tests.live import LiveServer

MESSAGE = "I will be waiting outside your door tonight"
CHAT = (
    "12/03/2026, 21:04 - Alex: I know where you live\n"
    f"12/03/2026, 21:05 - Alex: {MESSAGE}\n"
    "12/03/2026, 21:06 - Me: please stop writing to me\n"
).encode()
REPORT = "He says he will post my pictures unless I pay him tonight"


class _NeutralSite(BaseHTTPRequestHandler):
    """The site a quick exit leads to, and the search page a visit starts from."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Weather</title><p>Sunny</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def neutral() -> Iterator[str]:
    # A real server on loopback rather than a Playwright route: routes do not see the second
    # request of a redirect, and without JavaScript the locker's quick exit is a redirect.
    site = ThreadingHTTPServer(("127.0.0.1", 0), _NeutralSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, neutral: str) -> Iterator[LiveServer]:
    """A Tipline whose quick exit leads to the neutral site above."""
    live = LiveServer(root=tmp_path_factory.mktemp("leave-no-trace"))
    os.environ["TIPLINE_QUICK_EXIT_URL"] = f"{neutral}/search?q=weather"
    try:
        live.setup()
        live.start()
    finally:
        del os.environ["TIPLINE_QUICK_EXIT_URL"]
    yield live
    live.stop()


Phone = Callable[..., Watched]


def _pass_on(route: Route) -> None:
    route.continue_()


@pytest.fixture
def phone(browser: Browser, server: LiveServer, neutral: str) -> Iterator[Phone]:
    """A fresh 390 px wide browser context, JavaScript on or off, watched like ``open_page``."""
    opened: list[Watched] = []

    def factory(*, js: bool) -> Watched:
        w = watch(browser, server.url, js=js, width=390, height=844)
        w.context.route("**/*", _pass_on)  # resubmit: see the docstring
        opened.append(w)
        return w

    yield factory
    for w in opened:
        try:
            if not w.checked:
                w.check()
        finally:
            w.context.close()


def _nav(page: Page, name: str) -> None:
    page.locator("form.locker-nav").get_by_role("button", name=name, exact=True).click()


def _continue(w: Watched, heading: str = "Your evidence locker") -> None:
    """After a right passphrase: the page with only "Continue" (JavaScript presses it)."""
    # Either page, once loaded (the code before this fix showed the locker at once).
    expect(w.page.get_by_role("heading", level=1)).to_have_text(
        re.compile(f"^({heading}|Your locker is ready|Your locker is open)$")
    )
    onward = w.page.get_by_role("button", name="Continue to my locker")
    if not w.js and onward.count():
        onward.click()
    expect(w.page.get_by_role("heading", level=1)).to_have_text(heading)


def _create(w: Watched) -> str:
    page = w.page
    page.goto(w.url("/en/locker/create/"))
    phrase = " ".join(page.locator("#passphrase span").all_inner_texts())
    page.get_by_label("I have written my passphrase down", exact=False).check()
    page.get_by_role("button", name="Create my locker").click()
    _continue(w)
    return phrase


def _locker_with_a_chat(w: Watched, search: str) -> tuple[str, str]:
    """A locker holding a chat, reopened with its passphrase, showing its timeline."""
    page = w.page
    page.goto(search)
    phrase = _create(w)
    _nav(page, "Import")
    page.locator("#id_file").set_input_files(
        files=[{"name": "WhatsApp Chat with Alex.txt", "mimeType": "text/plain", "buffer": CHAT}]
    )
    page.get_by_role("button", name="Import", exact=True).last.click()
    expect(page.locator(".notice.success")).to_contain_text("was imported")
    _nav(page, "Lock now")
    page.get_by_label("Your passphrase").fill(phrase)
    page.get_by_role("button", name="Open").click()
    _continue(w)
    _nav(page, "Timeline")
    expect(page.locator(".timeline")).to_contain_text(MESSAGE)
    token = page.locator("form.locker-nav input[name=session]").get_attribute("value")
    assert token
    return phrase, token


def _nothing_of_the_locker(page: Page, phrase: str) -> None:
    html = page.content()
    text = page.locator("body").inner_text() if page.locator("body").count() else ""
    where = page.url
    assert MESSAGE not in html, where
    assert " ".join(phrase.split()[:2]) not in html, where
    assert "Your evidence locker" not in text, where
    assert page.locator("form.locker-nav").count() == 0, where
    assert page.locator("#count-files").count() == 0, where


def _walk_the_history(page: Page, phrase: str) -> list[str]:
    """Back to the start and Forward to the end, reloading every page on the way."""
    seen = []
    for move in (page.go_back, page.go_forward):
        for _ in range(15):
            _nothing_of_the_locker(page, phrase)
            page.reload()
            _nothing_of_the_locker(page, phrase)
            seen.append(page.url)
            before = page.url
            if move() is None and page.url == before:
                break
    return seen


def _session_is_dead(w: Watched, token: str) -> None:
    deadline = time.monotonic() + 5  # a beacon may arrive just after the page has left
    while True:
        answer = httpx.post(w.url("/en/locker/timeline/"), data={"session": token})
        if answer.status_code == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert answer.status_code == 403
    assert MESSAGE not in answer.text


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_after_lock_now_nothing_of_the_locker_comes_back(
    phone: Phone, neutral: str, js: bool, screenshot_dir: Path
) -> None:
    w = phone(js=js)
    phrase, token = _locker_with_a_chat(w, f"{neutral}/search?q=harassment")
    _nav(w.page, "Lock now")
    expect(w.page.locator(".notice.success")).to_contain_text("Your locker is locked")
    landed = w.page.url
    w.page.screenshot(path=screenshot_dir / f"locker-locked-{'js' if js else 'nojs'}-0390.png")
    _session_is_dead(w, token)
    seen = _walk_the_history(w.page, phrase)
    assert w.url("/en/locker/timeline/") in seen  # the walk did go through the locker's pages
    assert landed == w.url("/en/locker/open/?problem=locked")  # a redirect: Reload sends nothing
    w.check()


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_after_quick_exit_nothing_of_the_locker_comes_back(
    phone: Phone, neutral: str, js: bool, screenshot_dir: Path
) -> None:
    w = phone(js=js)
    phrase, token = _locker_with_a_chat(w, f"{neutral}/search?q=harassment")
    quick_exit = f"{neutral}/search?q=weather"
    with w.page.expect_navigation(url=quick_exit):
        w.page.locator(".quick-exit").click()
    _session_is_dead(w, token)
    if js:
        # The visit's later entries are gone: Back lands on the site's home page at most.
        w.page.go_back()
        assert w.page.url == w.url("/en/")
        expect(w.page.get_by_role("heading", level=1)).not_to_contain_text("locker")
        w.page.go_forward()
        assert w.page.url == quick_exit
    _walk_the_history(w.page, phrase)
    # Whatever history kept, the locker opens with its passphrase only.
    w.page.goto(w.url("/en/locker/timeline/"))
    expect(w.page.get_by_role("heading", level=1)).to_have_text("Open your locker")
    w.page.screenshot(path=screenshot_dir / f"locker-closed-{'js' if js else 'nojs'}-0390.png")
    w.check()


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_the_language_switch_inside_the_locker_keeps_it_open(
    phone: Phone, js: bool, screenshot_dir: Path
) -> None:
    w = phone(js=js)
    page = w.page
    _create(w)
    _nav(page, "Timeline")
    page.locator(".langs").get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("form.locker-nav")).to_be_visible()
    assert page.url == w.url("/fr/locker/timeline/")
    page.screenshot(path=screenshot_dir / f"locker-timeline-fr-{'js' if js else 'nojs'}-0390.png")
    # A GET on the same address (Reload after the switch is a POST; a typed address is not).
    page.goto(w.url("/fr/locker/timeline/"))
    expect(page.locator("form.locker-nav")).to_have_count(0)
    expect(page.locator("form[action='/fr/locker/open/']")).to_be_visible()
    w.check()


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_the_receipt_stays_and_the_locker_can_be_deleted(
    phone: Phone, js: bool, screenshot_dir: Path
) -> None:
    w = phone(js=js)
    page = w.page
    phrase = _create(w)
    _nav(page, "Hand over")
    page.get_by_label("I understand that the hotline", exact=False).check()
    page.get_by_role("button", name="Send to the hotline").click()
    receipt = page.locator("#receipt").inner_text()
    _nav(page, "My locker")
    expect(page.locator(".handovers")).to_contain_text(receipt)
    page.screenshot(path=screenshot_dir / f"locker-receipts-{'js' if js else 'nojs'}-0390.png")
    # Asked twice: the Settings button, then the passphrase.
    _nav(page, "Settings")
    page.get_by_role("button", name="Delete this locker…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete this locker for ever?")
    page.screenshot(path=screenshot_dir / f"locker-delete-{'js' if js else 'nojs'}-0390.png")
    page.get_by_label("Type your passphrase").fill("not the right words at all here")
    page.get_by_role("button", name="Delete my locker for ever").click()
    expect(page.locator("#form-errors")).to_contain_text("Nothing was deleted")
    page.get_by_label("Type your passphrase").fill(phrase)
    page.get_by_role("button", name="Delete my locker for ever").click()
    expect(page.locator(".notice.success")).to_contain_text("Your locker was deleted")
    page.go_back()  # resubmitting the confirmation deletes nothing more and shows nothing
    _nothing_of_the_locker(page, phrase)
    page.goto(w.url("/en/locker/open/"))
    page.get_by_label("Your passphrase").fill(phrase)
    page.get_by_role("button", name="Open").click()
    expect(page.locator("#form-errors")).to_contain_text("No locker opens with this passphrase")
    w.check()


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_after_a_report_quick_exit_then_back_does_not_show_the_form(
    phone: Phone, neutral: str, js: bool, screenshot_dir: Path
) -> None:
    w = phone(js=js)
    page = w.page
    search = f"{neutral}/search?q=sextortion"
    page.goto(search)
    page.goto(w.url("/en/"))
    # A button: the form opens at /en/report/, which names no category (intake/views.start).
    page.locator("button.category[value=sextortion]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sextortion")
    assert page.url == w.url("/en/report/")
    page.locator("#id_what_happened").fill(REPORT)
    page.get_by_role("button", name="Send report").click()
    receipt = page.locator("#receipt").inner_text()
    with page.expect_navigation(url=f"{neutral}/search?q=weather"):
        page.locator(".quick-exit").click()
    seen = []
    for _ in range(5):
        page.go_back()
        seen.append(page.url)
        html = page.content()
        # The home page lists every category; no page may show the one that was used.
        assert page.locator("form.report-form").count() == 0, page.url
        assert "Sextortion" not in page.locator("h1").all_inner_texts(), page.url
        assert "/report/" not in page.url
        assert receipt not in html, page.url
        assert REPORT not in html, page.url
        if page.url == search:
            break
    assert page.url == search, seen
    shot = f"report-back-after-exit-{'js' if js else 'nojs'}-0390.png"
    page.screenshot(path=screenshot_dir / shot)
    w.check()


WORDS = "Someone is blackmailing me and wants money or he will send my photos to my friends"


@pytest.mark.browser
@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_own_words_lead_to_a_filled_form_and_leave_no_trace(
    phone: Phone, neutral: str, js: bool, screenshot_dir: Path
) -> None:
    """Issue 20's free-text help: the assistant reads the words, offers the form with them in it,
    and after Quick exit on its answer, Back, Reload and resending show nothing of them."""
    w = phone(js=js)
    page = w.page
    search = f"{neutral}/search?q=help"
    page.goto(search)
    page.goto(w.url("/en/help/assistant/"))
    page.get_by_label("What is happening?").fill(WORDS)
    page.get_by_role("button", name="Read my words").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("This sounds like: Sextortion")
    assert "/assistant/" in page.url
    assert "blackmail" not in page.url
    page.screenshot(path=screenshot_dir / f"words-answer-{'js' if js else 'nojs'}-0390.png")
    # Continue: the form, at an address naming no category, with the words already in it.
    page.get_by_role("button", name="Continue to the report form").click()
    expect(page.locator("#id_what_happened")).to_have_value(WORDS)
    assert page.url == w.url("/en/report/")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("This sounds like")
    with page.expect_navigation(url=f"{neutral}/search?q=weather"):
        page.locator(".quick-exit").click()
    seen = []
    for _ in range(6):
        page.go_back()
        seen.append(page.url)
        page.reload()
        html = page.content()
        assert "blackmailing" not in html, page.url
        assert page.locator("#words-choice").count() == 0, page.url
        assert page.locator("form.report-form").count() == 0, page.url
        if page.url == search:
            break
    assert page.url == search, seen
    w.check()
