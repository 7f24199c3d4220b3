"""Submitting through the web form, including hostile and malformed input."""

import io
import re

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import png_bytes
from tipline.cases import selectors
from tipline.cases.access import report_by_receipt
from tipline.cases.models import EvidenceFile, Message, Report

pytestmark = pytest.mark.django_db
RECEIPT = re.compile(r'id="receipt"[^>]*>([0-9A-Z-]{19})<')


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "what_happened": "An adult keeps asking my daughter to keep their chats secret.",
        "when": "last week",
        "platform": "A game chat",
        "urls": "example.com/profile/1\nhttps://example.org/x",
        "handles": "@someone\n@someone",
        "emails": "a@example.org",
        "phones": "+1 613 555 0100",
        "victim_age_group": "13-15",
        "reporter_relation": "parent",
        "meeting_planned": "yes",
        "contact_choice": "anonymous",
    }
    data.update(overrides)
    return data


def receipt_of(html: str) -> str:
    match = RECEIPT.search(html)
    assert match, html[:2000]
    return match.group(1)


def test_a_report_is_received_with_a_receipt_and_stored(client: Client) -> None:
    response = client.post("/en/report/luring/", form())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    receipt = receipt_of(response.content.decode())
    report = report_by_receipt(receipt)
    details = selectors.report_details(report)
    assert details["urls"] == ["http://example.com/profile/1", "https://example.org/x"]
    assert details["handles"] == ["@someone"]
    assert details["meeting_planned"] == "yes"
    assert report.channel == "web"
    assert report.language == "en"
    assert selectors.report_contact(report) is None


def test_contact_details_are_kept_only_when_chosen(client: Client) -> None:
    response = client.post(
        "/en/report/luring/",
        form(contact_choice="contact", contact_email="me@example.org", contact_notes="after 6"),
    )
    report = report_by_receipt(receipt_of(response.content.decode()))
    assert selectors.report_contact(report) == {
        "contact_email": "me@example.org",
        "contact_notes": "after 6",
    }
    assert "contact_email" not in selectors.report_details(report)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"what_happened": ""}, "what_happened", "This field is required"),
        ({"urls": "not a url at all"}, "urls", "Line 1 does not look like a web address"),
        ({"emails": "x@"}, "emails", "does not look like an e-mail address"),
        ({"phones": "call me"}, "phones", "does not look like a phone number"),
        ({"what_happened": "x" * 20_001}, "what_happened", "we can take 20000"),
        ({"urls": "\n".join(f"http://e.org/{i}" for i in range(51))}, "urls", "at most 50"),
        ({"victim_age_group": "42"}, "victim_age_group", "Select a valid choice"),
        ({"contact_choice": "contact"}, "contact_email", "Give an e-mail address or a phone"),
        ({"contact_email": "me@example.org"}, "contact_choice", "You chose to stay anonymous"),
    ],
)
def test_bad_answers_get_specific_messages_and_keep_the_rest(
    client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    response = client.post("/en/report/luring/", form(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert response.context["form"].errors[field]
    assert "A game chat" in html  # other answers kept
    assert Report.objects.count() == 0


def test_csam_requires_a_url_and_accepts_no_files(client: Client) -> None:
    response = client.post("/en/report/csam/", form(urls=""))
    assert response.status_code == 400
    response = client.post(
        "/en/report/csam/",
        form(attachments=SimpleUploadedFile("a.png", png_bytes(), "image/png")),
    )
    assert response.status_code == 200
    report = report_by_receipt(receipt_of(response.content.decode()))
    assert EvidenceFile.objects.filter(report=report).count() == 0


def test_html_and_script_are_stored_sealed_and_shown_escaped(client: Client) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post("/en/report/other/", form(what_happened=payload))
    receipt = receipt_of(response.content.decode())
    page = client.post(
        "/en/follow-up/message/", {"receipt": receipt, "body": payload}
    ).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    report = report_by_receipt(receipt)
    assert selectors.report_details(report)["what_happened"] == payload


def test_control_characters_are_removed_but_scripts_kept(client: Client) -> None:
    text = "line one\x00\x1b[2J\x07\r\nline two \u0915\u094d\u200d\u0937"  # ZWJ kept for Hindi
    response = client.post("/en/report/other/", form(what_happened=text))
    report = report_by_receipt(receipt_of(response.content.decode()))
    assert selectors.report_details(report)["what_happened"] == (
        "line one[2J\nline two \u0915\u094d\u200d\u0937"
    )


def test_uploaded_screenshots_are_received(client: Client) -> None:
    files = [
        SimpleUploadedFile(f"s{i}.png", png_bytes(colour="red"), "image/png") for i in range(3)
    ]
    response = client.post("/en/report/cyberstalking/", form(attachments=files))
    assert response.status_code == 200
    assert "3 files were received and encrypted" in response.content.decode()
    assert EvidenceFile.objects.count() == 3


def test_a_disguised_file_is_refused_and_nothing_is_saved(client: Client) -> None:
    fake = SimpleUploadedFile("holiday.png", b"MZ\x90\x00" + b"\x00" * 100, "image/png")
    response = client.post("/en/report/cyberstalking/", form(attachments=fake))
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a file type we accept" in html
    assert "choose your files again" in html
    assert Report.objects.count() == 0


def test_more_files_than_the_hard_cap_get_the_too_large_page(
    client: Client, settings: LazySettings
) -> None:
    # Past DATA_UPLOAD_MAX_NUMBER_FILES nothing is read (tests/web/test_body.py has the files
    # over the per-report limit, which bring the form back instead).
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.png", png_bytes(), "image/png") for i in range(3)]
    response = client.post("/en/report/cyberstalking/", form(attachments=files))
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert Report.objects.count() == 0


def test_oversized_body_is_refused_before_reading(client: Client, settings: LazySettings) -> None:
    settings.TIPLINE_MAX_REQUEST_BYTES = 5000
    response = client.post(
        "/en/report/other/", io.BytesIO(b"x" * 6000).read(), content_type="text/plain"
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_too_many_fields_is_refused_with_a_page(client: Client) -> None:
    # Regression (issue 14): Django's field limit answered 400 with an empty body.
    data = form(**{f"junk{i}": "x" for i in range(300)})
    response = client.post("/en/report/other/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "far more fields than our forms have" in html
    assert "Quick exit" in html
    assert response["Cache-Control"] == "no-store"
    assert Report.objects.count() == 0


def test_cross_site_posts_are_refused(client: Client) -> None:
    assert (
        client.post("/en/report/other/", form(), HTTP_SEC_FETCH_SITE="cross-site").status_code
        == 403
    )
    assert (
        client.post("/en/report/other/", form(), HTTP_ORIGIN="https://evil.example").status_code
        == 403
    )
    assert Report.objects.count() == 0
    same = client.post("/en/report/other/", form(), HTTP_ORIGIN="http://testserver")
    assert same.status_code == 200


def test_follow_up_shows_status_and_thread(client: Client) -> None:
    receipt = receipt_of(client.post("/en/report/luring/", form()).content.decode())
    page = client.post("/en/follow-up/", {"receipt": receipt.lower()})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "Received" in page.content.decode()
    sent = client.post(
        "/en/follow-up/message/",
        {
            "receipt": receipt,
            "body": "He wrote again tonight.",
            "attachments": SimpleUploadedFile("n.png", png_bytes(), "image/png"),
        },
    )
    html = sent.content.decode()
    assert "Your message was sent" in html
    assert "He wrote again tonight." in html
    assert "n.png" in html
    assert Message.objects.count() == 1
    assert receipt not in client.get("/en/follow-up/").content.decode()


@pytest.mark.parametrize("receipt", ["AAAA-AAAA-AAAA-AAAA", "short", "<b>x</b>"])
def test_follow_up_with_a_wrong_receipt_says_so_calmly(client: Client, receipt: str) -> None:
    response = client.post("/en/follow-up/", {"receipt": receipt})
    assert response.status_code == 404
    assert "We could not find a report with this receipt" in response.content.decode()
    message = client.post("/en/follow-up/message/", {"receipt": receipt, "body": "hello"})
    assert message.status_code == 404
    assert Message.objects.count() == 0


def test_sending_the_same_form_twice_files_one_report(client: Client) -> None:
    page = client.get("/en/report/luring/").content.decode()
    token = re.search(r'name="submission" value="([^"]+)"', page)
    assert token
    data = form(submission=token.group(1))
    first = receipt_of(client.post("/en/report/luring/", data).content.decode())
    again = client.post("/en/report/luring/", data).content.decode()  # Reload re-sends the POST
    assert receipt_of(again) == first
    assert "had already reached us" in again
    assert Report.objects.count() == 1


def test_a_new_form_gets_a_new_token_and_a_new_report(client: Client) -> None:
    tokens = {
        re.search(
            r'name="submission" value="([^"]+)"', client.get("/en/report/other/").content.decode()
        ).group(1)  # type: ignore[union-attr]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_a_malformed_token_is_ignored_not_fatal(client: Client) -> None:
    for token in ("short", "x" * 300, "<script>", ""):
        assert client.post("/en/report/other/", form(submission=token)).status_code == 200
    assert Report.objects.count() == 4


def test_resending_a_follow_up_message_adds_it_once(client: Client) -> None:
    receipt = receipt_of(client.post("/en/report/luring/", form()).content.decode())
    thread = client.post("/en/follow-up/", {"receipt": receipt}).content.decode()
    token = re.search(r'name="submission" value="([^"]+)"', thread).group(1)  # type: ignore[union-attr]
    data = {"receipt": receipt, "body": "Once only.", "submission": token}
    client.post("/en/follow-up/message/", data)
    page = client.post("/en/follow-up/message/", data).content.decode()
    assert page.count("Once only.") == 1
    assert Message.objects.count() == 1
