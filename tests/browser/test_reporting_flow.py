"""End-to-end: a reporter in a real browser, with and without JavaScript, against the real server.

Each test drives Debian's Chromium through Playwright against ``live_server_process`` (gunicorn
and the task worker in a subprocess). The ``open_page`` fixture fails any test whose browser
talks to a host other than 127.0.0.1, breaks the Content-Security-Policy, throws a JavaScript
error or ends up holding a cookie.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation
from PIL import Image
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import OpenPage, Watched

CODES = ("child_in_danger", "csam", "luring", "sextortion", "ncii", "cyberstalking", "other")
# Crockford base32 (no I, L, O, U), four groups of four.
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}$")
JS_MODES = pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
WIDTHS = (390, 320, 1280)
PAGE_BUDGET = 60_000  # bytes: HTML + CSS + JS of a report form, for slow and metered phones

CATEGORY_ANSWERS: dict[str, dict[str, str]] = {
    "child_in_danger": {
        "child_location": "Outside Riverside school, Leeds",
        "emergency_called": "yes",
    },
    "csam": {},
    "luring": {"meeting_planned": "yes"},
    "sextortion": {"demand": "money", "deadline": "by 9 pm tonight"},
    "ncii": {},
    "cyberstalking": {"threats_made": "yes", "knows_location": "unknown"},
    "other": {},
}
CONTACT_ME = {"sextortion", "cyberstalking"}
UPLOAD = {"luring", "cyberstalking"}


def category_label(code: str) -> str:
    from tipline.cases import categories

    with translation.override("en"):
        return str(categories.get(code).label)


def small_png(tmp_path: Path) -> Path:
    image = Image.new("RGB", (64, 40), (31, 95, 139))
    for x in range(64):
        image.putpixel((x, 20), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path = tmp_path / "screenshot-of-chat.png"
    path.write_bytes(buffer.getvalue())
    return path


def check_page_basics(page: Page, lang: str = "en") -> None:
    """What every public page must offer: the quick exit, in the reporter's language."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    # One quick exit, leaving for another site without telling it where the reporter came from:
    # a link, or on the receipt page a button that first tells Tipline never to show the receipt
    # again (intake/_quick_exit.html), then leaves for the same site.
    link = page.locator('a.quick-exit[href^="https://"][rel="noreferrer"]')
    button = page.locator('form.quick-exit-form[data-exit-url^="https://"] button.quick-exit')
    expect(page.locator(".quick-exit")).to_have_count(1)
    assert link.count() + button.count() == 1
    expect(page.locator(".quick-exit")).to_be_visible()


def goto(w: Watched, path: str, status: int = 200) -> Response:
    response = w.page.goto(w.url(path))
    assert response is not None
    assert response.status == status, f"{path}: {response.status}"
    return response


def submit(page: Page, name: str, status: int) -> None:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name).click()
    response = navigation.value
    assert response is not None
    assert response.status == status, f"{name}: {response.status} at {page.url}"


def open_contact_details(w: Watched) -> None:
    page = w.page
    page.locator("#id_contact_choice_1").check()
    details = page.locator("details.contact-details")
    if w.js:
        # site.js opens the contact details when the reporter chooses to be contacted.
        expect(details).to_have_attribute("open", "")
    else:
        expect(details).not_to_have_attribute("open", "")
        details.locator("summary").click()
    expect(page.locator("#id_contact_email")).to_be_visible()


@dataclass
class Answers:
    what_happened: str
    urls: str = "https://example.com/profile/bad_actor_42\nexample.org/posts/123"
    texts: dict[str, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)


def answers_for(code: str) -> Answers:
    extras = CATEGORY_ANSWERS[code]
    texts = {
        "when": "Yesterday around 9 pm",
        "platform": "Instagram and Snapchat",
        "handles": "@bad_actor_42\nsnap: anon_friend_99",
        "emails": "bad.actor@example.com",
        "phones": "+1 555 010 9999",
    }
    choices = {"victim_age_group": "13-15", "reporter_relation": "parent"}
    for name, value in extras.items():
        if name in ("child_location", "deadline"):
            texts[name] = value
        else:
            choices[name] = value
    return Answers(
        what_happened=f"[{code}] An adult keeps messaging my 13-year-old daughter at night.",
        texts=texts,
        choices=choices,
    )


def fill_report(page: Page, answers: Answers, *, urls: bool = True) -> None:
    page.locator("#id_what_happened").fill(answers.what_happened)
    if urls:
        page.locator("#id_urls").fill(answers.urls)
    for name, value in answers.texts.items():
        page.locator(f"#id_{name}").fill(value)
    for name, value in answers.choices.items():
        page.locator(f"#id_{name}").select_option(value)


def read_receipt(page: Page) -> str:
    expect(page.locator("h1")).to_contain_text("Your report was received")
    receipt = page.locator("#receipt").inner_text().strip()
    assert RECEIPT.match(receipt), receipt
    return receipt


def open_followup(w: Watched, typed_receipt: str) -> None:
    page = w.page
    page.locator("main").get_by_role("link", name="Check your report").click()
    expect(page).to_have_url(w.url("/en/follow-up/"))
    check_page_basics(page)
    page.locator("#id_receipt").fill(typed_receipt)
    submit(page, "Open", 200)
    check_page_basics(page)


def send_message(page: Page, body: str) -> None:
    page.locator("#id_body").fill(body)
    submit(page, "Send", 200)
    expect(page.locator(".notice.success")).to_contain_text("Your message was sent")
    last = page.locator(".thread .msg").last
    for line in body.splitlines():  # shown with <br>, so check line by line
        expect(last).to_contain_text(line)


@pytest.mark.browser
@JS_MODES
@pytest.mark.parametrize("code", CODES)
def test_report_and_follow_up(open_page: OpenPage, tmp_path: Path, code: str, js: bool) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/")
    check_page_basics(page)
    page.locator(f"button.category[value={code}]").click()
    expect(page).to_have_url(w.url("/en/report/"))  # the address names no category
    expect(page.locator("h1")).to_have_text(category_label(code))
    check_page_basics(page)

    answers = answers_for(code)
    fill_report(page, answers)
    if code in CONTACT_ME:
        open_contact_details(w)
        page.locator("#id_contact_email").fill("worried.parent@example.net")
        page.locator("#id_contact_notes").fill("Weekdays after 6 pm")
    if code in UPLOAD:
        page.locator("#id_attachments").set_input_files(small_png(tmp_path))
    submit(page, "Send report", 200)
    check_page_basics(page)

    receipt = read_receipt(page)
    if code in UPLOAD:
        expect(page.locator("main")).to_contain_text("1 file was received and encrypted.")
    if code == "child_in_danger":
        expect(page.locator(".notice.warning")).to_contain_text(
            "If the child is still in danger, call now"
        )

    # Type it the way a person copying from paper might: lower case, spaces instead of dashes.
    typed = receipt.lower().replace("-", " ") if not js else receipt
    open_followup(w, typed)
    expect(page.locator("#report-status")).to_have_text("Received")
    expect(page.locator("dl.status")).to_contain_text(category_label(code))
    if code in UPLOAD:
        expect(page.locator("main")).to_contain_text("1 file sent with the report.")
    expect(page.locator(".thread")).to_have_count(0)

    body = f"More information for {code}: the account changed its name to @new_name_7."
    send_message(page, body)
    expect(page.locator("#report-status")).to_have_text("Received")
    assert code != "csam" or page.locator("input[type=file]").count() == 0

    # The receipt travels only in POST bodies: never in an address, so never in history.
    assert not [url for url in w.requests if receipt in url.upper().replace("%2D", "-")]
    w.check()


@pytest.mark.browser
@JS_MODES
def test_missing_url_for_csam_keeps_the_other_answers(open_page: OpenPage, js: bool) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/report/csam/")
    answers = answers_for("csam")
    fill_report(page, answers, urls=False)
    submit(page, "Send report", 400)
    check_page_basics(page)

    summary = page.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Please check your answers")
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_contain_text("Web addresses (URLs)")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_urls")
    expect(page.locator("#id_urls")).to_have_attribute("aria-invalid", "true")
    if js:
        expect(summary).to_be_focused()

    expect(page.locator("#id_what_happened")).to_have_value(answers.what_happened)
    for name, value in answers.texts.items():
        expect(page.locator(f"#id_{name}")).to_have_value(value)
    for name, value in answers.choices.items():
        expect(page.locator(f"#id_{name}")).to_have_value(value)

    # Correcting the one answer is enough.
    page.locator("#id_urls").fill("https://example.com/gallery/77")
    submit(page, "Send report", 200)
    read_receipt(page)
    w.check()


@pytest.mark.browser
@JS_MODES
def test_invalid_contact_email_keeps_answers_and_asks_for_files_again(
    open_page: OpenPage, tmp_path: Path, js: bool
) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/report/other/")
    answers = answers_for("other")
    fill_report(page, answers)
    open_contact_details(w)
    page.locator("#id_contact_email").fill("not-an-email")
    page.locator("#id_contact_phone").fill("+44 20 7946 0000")
    page.locator("#id_attachments").set_input_files(small_png(tmp_path))
    submit(page, "Send report", 400)

    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("E-mail")
    expect(summary).to_contain_text("valid email address")
    expect(summary).to_contain_text("files are not kept")
    expect(page.locator("details.contact-details")).to_have_attribute("open", "")
    expect(page.locator("#id_contact_choice_1")).to_be_checked()
    expect(page.locator("#id_contact_email")).to_have_value("not-an-email")
    expect(page.locator("#id_contact_phone")).to_have_value("+44 20 7946 0000")
    expect(page.locator("#id_what_happened")).to_have_value(answers.what_happened)
    expect(page.locator("#id_urls")).to_have_value(answers.urls)
    expect(page.locator("#id_attachments")).to_have_value("")

    page.locator("#id_contact_email").fill("worried.parent@example.net")
    submit(page, "Send report", 200)
    read_receipt(page)
    w.check()


@pytest.mark.browser
def test_reloading_the_receipt_page_does_not_file_the_report_twice(open_page: OpenPage) -> None:
    w = open_page(js=False)
    page = w.page
    goto(w, "/en/report/other/")
    fill_report(page, answers_for("other"))
    submit(page, "Send report", 200)
    first = read_receipt(page)
    page.reload()
    w.check()
    second = page.locator("#receipt")
    assert second.count() == 0 or second.inner_text().strip() == first


@pytest.mark.browser
@JS_MODES
def test_csam_form_takes_no_files_and_warns_first(open_page: OpenPage, js: bool) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/report/csam/")
    check_page_basics(page)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.locator("#id_victim_name")).to_have_count(0)
    warning = page.locator(".notice.warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Never download, screenshot, save, forward or upload")
    first = page.locator(".notice.warning, form.report-form").first
    assert "notice" in (first.get_attribute("class") or ""), "the warning must come before the form"
    expect(page.locator("#id_urls")).to_have_attribute("required", "")
    w.check()


@pytest.mark.browser
@JS_MODES
def test_child_in_danger_shows_emergency_numbers_before_the_form(
    open_page: OpenPage, js: bool
) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/report/child_in_danger/")
    banner = page.locator("main .danger-banner")
    expect(banner).to_be_visible()
    # The list is one tap away (collapsed so the form's first question fits a phone's screen).
    banner.get_by_text("Emergency numbers by country").click()
    for number in ("911", "999", "112", "000", "111"):
        # Tappable on a phone: one touch starts the call.
        expect(banner.locator(f'a[href="tel:{number}"]').first).to_be_visible()
    first = page.locator("main .danger-banner, form.report-form").first
    assert "danger-banner" in (first.get_attribute("class") or "")
    banner_box, form_box = banner.bounding_box(), page.locator("form.report-form").bounding_box()
    assert banner_box is not None
    assert form_box is not None
    assert banner_box["y"] + banner_box["height"] <= form_box["y"]

    goto(w, "/en/emergency/")
    check_page_basics(page)
    expect(page.locator(".numbers")).to_contain_text("911")
    w.check()


@pytest.mark.browser
@JS_MODES
def test_quick_exit_on_every_public_page(open_page: OpenPage, js: bool) -> None:
    w = open_page(js=js, width=390, height=700)
    page = w.page
    paths = [
        "/en/",
        *[f"/en/report/{code}/" for code in CODES],
        "/en/follow-up/",
        "/en/emergency/",
    ]
    for path in paths:
        goto(w, path)
        check_page_basics(page)
        # The header stays on screen: the exit is one tap away even at the bottom of a long form.
        page.locator("footer.bottom").scroll_into_view_if_needed()
        box = page.locator("a.quick-exit").bounding_box()
        assert box is not None
        assert 0 <= box["y"] < 700, f"quick exit scrolled away on {path}"
    goto(w, "/en/no-such-page/", status=404)
    check_page_basics(page)
    expect(page.locator("main").get_by_role("link", name="Go to the start page")).to_have_attribute(
        "href", "/en/"
    )
    for lang in ("fr", "hi"):
        goto(w, f"/{lang}/")
        check_page_basics(page, lang)
    w.check()


@pytest.mark.browser
@JS_MODES
def test_wrong_receipt_is_not_found(open_page: OpenPage, js: bool) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/follow-up/")
    page.locator("#id_receipt").fill("7KQ2-M9XF-TR2B-8HZP")
    submit(page, "Open", 404)
    check_page_basics(page)
    expect(page.locator("main")).to_contain_text("We could not find a report with this receipt")
    expect(page.locator("#id_receipt")).to_have_value("7KQ2-M9XF-TR2B-8HZP")
    expect(page.locator("#report-status")).to_have_count(0)

    page.locator("#id_receipt").fill("")
    submit(page, "Open", 400)
    expect(page.locator("main .errorlist")).to_contain_text("This field is required")
    w.check()


@pytest.mark.browser
@JS_MODES
def test_language_switcher(open_page: OpenPage, js: bool) -> None:
    w = open_page(js=js)
    page = w.page
    goto(w, "/en/report/csam/")
    nav = page.locator("nav.langs")
    expect(nav.locator("[aria-current]")).to_have_text("English")
    for lang, name in (("fr", "Français"), ("hi", "हिन्दी"), ("en", "English")):
        # On a report form the switch is buttons that carry what was typed (issue 13).
        with page.expect_navigation():
            nav.get_by_role("button", name=name).click()
        expect(page).to_have_url(w.url(f"/{lang}/report/csam/"))
        check_page_basics(page, lang)
        expect(nav.locator("[aria-current]")).to_have_text(name)
    goto(w, "/fr/follow-up/")
    with page.expect_navigation():
        nav.get_by_role("link", name="हिन्दी").click()
    expect(page).to_have_url(w.url("/hi/follow-up/"))
    check_page_basics(page, "hi")
    w.check()


@pytest.mark.browser
@pytest.mark.parametrize("code", CODES)
def test_report_form_weighs_less_than_60_kb(open_page: OpenPage, code: str) -> None:
    w = open_page(js=True)
    page = w.page
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    goto(w, f"/en/report/{code}/")
    page.wait_for_load_state("load")
    kinds = {r.request.resource_type for r in responses}
    assert {"document", "stylesheet", "script"} <= kinds, kinds
    decoded = sum(len(r.body()) for r in responses)
    transferred = sum(max(r.request.sizes()["responseBodySize"], 0) for r in responses)
    # Judge the larger of the two: bodies as decoded, and bodies as they crossed the network.
    assert max(decoded, transferred) < PAGE_BUDGET, f"{code}: {decoded}/{transferred} bytes"
    w.check()


def shoot(page: Page, folder: Path, width: int, name: str) -> None:
    # From the top, so the sticky header is drawn where the reporter first sees it.
    page.evaluate("window.scrollTo(0, 0)")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
    page.screenshot(path=folder / f"{width:04d}-{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_every_public_page(
    open_page: OpenPage, screenshot_dir: Path, tmp_path: Path, width: int
) -> None:
    """Side effect: full-page screenshots for a human to look at. Asserts only no side-scroll."""
    w = open_page(js=True, width=width, height=800)
    page = w.page
    goto(w, "/en/")
    shoot(page, screenshot_dir, width, "home")
    for code in CODES:
        goto(w, f"/en/report/{code}/")
        shoot(page, screenshot_dir, width, f"form-{code}")

    goto(w, "/en/report/csam/")
    fill_report(page, answers_for("csam"), urls=False)
    page.locator("#id_contact_email").evaluate("e => e.closest('details').open = true")
    page.locator("#id_contact_email").fill("not-an-email")
    submit(page, "Send report", 400)
    shoot(page, screenshot_dir, width, "form-errors")

    goto(w, "/en/report/cyberstalking/")
    fill_report(page, answers_for("cyberstalking"))
    page.locator("#id_attachments").set_input_files(small_png(tmp_path))
    submit(page, "Send report", 200)
    receipt = read_receipt(page)
    shoot(page, screenshot_dir, width, "receipt")

    goto(w, "/en/follow-up/")
    shoot(page, screenshot_dir, width, "followup-login")
    page.locator("#id_receipt").fill("7KQ2-M9XF-TR2B-8HZP")
    submit(page, "Open", 404)
    shoot(page, screenshot_dir, width, "followup-not-found")
    page.locator("#id_receipt").fill(receipt)
    submit(page, "Open", 200)
    shoot(page, screenshot_dir, width, "followup-empty")
    send_message(page, "He has now made a second account: @bad_actor_43. Same picture.")
    send_message(page, "He also wrote to her school friend.\nShe has blocked both accounts.")
    shoot(page, screenshot_dir, width, "followup-thread")

    goto(w, "/en/emergency/")
    shoot(page, screenshot_dir, width, "emergency")
    goto(w, "/en/no-such-page/", status=404)
    shoot(page, screenshot_dir, width, "not-found")
    goto(w, "/hi/")
    shoot(page, screenshot_dir, width, "home-hi")
    w.check()
