"""No typed words lost (issue 13), in Chromium at phone width, JavaScript on and off.

Before: a file over the limit answered with a separate "too large" page whose Back gave an empty
form (pages are no-store), and the browser cut long text at the HTML maxlength without a word.
Now: without JavaScript the server sends the form back with every word and the file field
marked; with JavaScript the size, number and type of files are checked before anything is sent,
and a counter says how long the text is; nothing is cut.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import OpenPage, Watched

JS_MODES = pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
PHONE = {"width": 390, "height": 844}
FORM = "/en/report/cyberstalking/"
WORDS = (
    "He has messaged me every night since March from new accounts, and yesterday he wrote "
    "that he knows which bus I take to work."
)
LIMIT = 20 * 1024 * 1024  # TIPLINE_MAX_FILE_BYTES of the test server (the default)


def big_file(tmp_path: Path) -> Path:
    """A 21 MB "screen recording": a PNG signature and zeros (sparse, so cheap to make)."""
    path = tmp_path / "screen-recording.png"
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.truncate(LIMIT + 1024 * 1024)
    return path


def open_form(w: Watched) -> Page:
    page = w.page
    response = page.goto(w.url(FORM))
    assert response is not None
    assert response.status == 200
    return page


def type_answers(page: Page) -> None:
    page.locator("#id_what_happened").fill(WORDS)
    page.locator("#id_when").fill("Every night since March")
    page.locator("#id_platform").fill("Instagram")


def posts_to_the_form(w: Watched) -> list[Request]:
    posts: list[Request] = []
    w.page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    return posts


def send(page: Page) -> int:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send report").click()
    response = navigation.value
    assert response is not None
    return response.status


def shoot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / name), full_page=True)


@pytest.mark.browser
@JS_MODES
def test_a_too_large_file_keeps_every_word(
    open_page: OpenPage, tmp_path: Path, screenshot_dir: Path, js: bool
) -> None:
    w = open_page(js=js, **PHONE)
    page = open_form(w)
    posts = posts_to_the_form(w)
    type_answers(page)
    page.locator("#id_attachments").set_input_files(big_file(tmp_path))
    field = page.locator(".field").filter(has=page.locator("#id_attachments"))
    message = "“screen-recording.png” is larger than 20 MB, so we cannot take it."
    if js:
        # Checked as soon as it is chosen, and never sent: a long upload that would be refused.
        expect(field).to_contain_text(message)
        page.get_by_role("button", name="Send report").click()
        page.wait_for_timeout(500)
        assert posts == []
        expect(page.locator("#id_attachments")).to_be_focused()
        expect(page).to_have_url(w.url(FORM))
        shoot(page, screenshot_dir, "no-words-lost-too-large-js-390.png")
    else:
        assert send(page) == 400
        # The form again, not a separate page: the field is marked and says what to do.
        expect(page.locator("h1")).to_have_text("Cyberstalking or online harassment")
        expect(field).to_contain_text(message)
        expect(page.locator("#form-errors")).to_contain_text("choose your files again")
        shoot(page, screenshot_dir, "no-words-lost-too-large-nojs-390.png")
    expect(page.locator("#id_what_happened")).to_have_value(WORDS)
    expect(page.locator("#id_when")).to_have_value("Every night since March")
    expect(page.locator("#id_platform")).to_have_value("Instagram")
    # Nothing wider than the phone: the long file name wraps.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    w.check()


@pytest.mark.browser
def test_a_file_of_the_wrong_type_is_refused_before_sending(
    open_page: OpenPage, tmp_path: Path
) -> None:
    w = open_page(js=True, **PHONE)
    page = open_form(w)
    posts = posts_to_the_form(w)
    type_answers(page)
    program = tmp_path / "chat-export.exe"
    program.write_bytes(b"MZ" + b"\x00" * 100)
    page.locator("#id_attachments").set_input_files(program)
    field = page.locator(".field").filter(has=page.locator("#id_attachments"))
    expect(field).to_contain_text("“chat-export.exe” is not a file type we accept.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_timeout(300)
    assert posts == []
    # Choosing a good file instead clears the message, and the report goes.
    good = tmp_path / "screenshot.txt"
    good.write_text("He wrote: I know which bus you take.\n", encoding="utf-8")
    page.locator("#id_attachments").set_input_files(good)
    expect(field).not_to_contain_text("is not a file type")
    assert send(page) == 200
    expect(page.locator("main")).to_contain_text("1 file was received and encrypted.")
    w.check()


@pytest.mark.browser
@JS_MODES
def test_long_text_is_never_cut_and_js_counts_it(
    open_page: OpenPage, screenshot_dir: Path, js: bool
) -> None:
    w = open_page(js=js, **PHONE)
    page = open_form(w)
    text = ("The same message again. " * 900)[:20_050]
    box = page.locator("#id_what_happened")
    box.fill(text)
    # Before: maxlength="20000" cut the pasted text to 20 000 characters, without a word.
    assert box.evaluate("el => el.value.length") == 20_050
    counter = page.locator("#id_what_happened_counter")
    if js:
        expect(counter).to_have_text(
            "50 characters too many. Nothing has been cut: shorten the text before sending."
        )
        expect(counter).to_have_class("counter over")
        shoot(page, screenshot_dir, "no-words-lost-counter-js-390.png")
    else:
        expect(counter).to_have_count(0)
    assert send(page) == 400
    expect(page.locator("#form-errors")).to_contain_text(
        "This is 20050 characters long and we can take 20000. Nothing has been cut"
    )
    assert box.evaluate("el => el.value.length") == 20_050
    if js:
        box.fill(text[:19_990])
        expect(counter).to_have_text("19,990 of 20,000 characters")
    shoot(page, screenshot_dir, f"no-words-lost-long-text-{'js' if js else 'nojs'}-390.png")
    w.check()
