"""Reading request bodies (tipline.web.body): one reader, one answer, and no typed word lost.

Regression tests for issue 13 ("No typed words lost": a file that is too large answered with a
separate page, and Back gave an empty form; the browser cut long text at maxlength) and issue 14
items 4 and 8 on the web side (300 fields answered with an empty 400; bytes that are not UTF-8).
The API side is in tests/api/test_hostile_bodies.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import png_bytes
from tests.live import LiveServer
from tests.web.multipart import CONTENT_TYPE, multipart
from tipline.cases import selectors
from tipline.cases.access import report_by_receipt
from tipline.cases.models import Message, Report

pytestmark = pytest.mark.django_db
WORDS = "He said he would post the photos tonight unless I paid, and sent my school's name."
RECEIPT = re.compile(r'id="receipt"[^>]*>([0-9A-Z-]{19})<')


def answers(**extra: object) -> dict[str, object]:
    return {
        "what_happened": WORDS,
        "when": "yesterday at 9pm",
        "platform": "A chat app",
        "contact_choice": "contact",
        "contact_email": "me@example.org",
        "contact_notes": "after 6 only",
        **extra,
    }


def _kept_everything(html: str) -> None:
    assert "said he would post the photos tonight" in html
    assert "yesterday at 9pm" in html
    # Fields sent after the file part are kept too (the parser skipped only the file).
    assert 'value="me@example.org"' in html
    assert "after 6 only" in html


def test_a_too_large_file_brings_the_form_back_with_every_word(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_MAX_FILE_BYTES = 10_000
    big = SimpleUploadedFile("video.png", b"\x89PNG" + b"\x00" * 20_000, "image/png")
    response = client.post("/en/report/cyberstalking/", answers(attachments=big))
    assert response.status_code == 400
    html = response.content.decode()
    _kept_everything(html)
    errors = response.context["form"].errors["attachments"]
    assert errors == [
        "“video.png” is larger than 0 MB, so we cannot take it. Choose a smaller file, or "
        "leave it out and describe it in words."
    ]
    assert "choose your files again" in html
    assert Report.objects.count() == 0


def test_one_too_large_file_among_good_ones_refuses_the_report_but_keeps_the_words(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_MAX_FILE_BYTES = 10_000
    good = SimpleUploadedFile("a.png", png_bytes(), "image/png")
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 20_000, "image/png")
    response = client.post("/en/report/cyberstalking/", answers(attachments=[good, big]))
    assert response.status_code == 400
    assert "“big.png” is larger than" in response.content.decode()
    _kept_everything(response.content.decode())
    assert Report.objects.count() == 0


def test_more_files_than_a_report_takes_bring_the_form_back(client: Client) -> None:
    files = [SimpleUploadedFile(f"{i}.png", png_bytes(), "image/png") for i in range(11)]
    response = client.post("/en/report/cyberstalking/", answers(attachments=files))
    assert response.status_code == 400
    _kept_everything(response.content.decode())
    assert response.context["form"].errors["attachments"] == [
        "You chose 11 files; at most 10 can be sent at once."
    ]
    assert Report.objects.count() == 0


def test_a_too_large_file_in_a_follow_up_keeps_the_message(
    client: Client, settings: LazySettings
) -> None:
    created = client.post("/en/report/cyberstalking/", answers())
    receipt = RECEIPT.search(created.content.decode()).group(1)  # type: ignore[union-attr]
    settings.TIPLINE_MAX_FILE_BYTES = 10_000
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 20_000, "image/png")
    response = client.post(
        "/en/follow-up/message/",
        {"receipt": receipt, "body": "He wrote again this morning.", "attachments": big},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "He wrote again this morning." in html
    assert "“big.png” is larger than" in html
    assert Message.objects.count() == 0


def test_text_fields_never_carry_an_html_maxlength(client: Client) -> None:
    # A browser cuts pasted text at maxlength without a word; the limit goes to the counter.
    html = client.get("/en/report/cyberstalking/").content.decode()
    textarea = re.search(r"<textarea[^>]*name=\"what_happened\"[^>]*>", html)
    assert textarea
    assert 'data-maxlength="20000"' in textarea.group(0)
    assert 'maxlength="' not in re.sub(r"data-maxlength", "", html.split("<form", 1)[1])


def test_text_over_the_limit_comes_back_whole_with_a_message(client: Client) -> None:
    long = "a" * 20_050
    response = client.post("/en/report/other/", answers(what_happened=long))
    assert response.status_code == 400
    assert long in response.content.decode()
    assert (
        "This is 20050 characters long and we can take 20000. Nothing has been cut"
        in response.content.decode()
    )


def test_the_file_field_tells_the_script_its_limits(client: Client, settings: LazySettings) -> None:
    settings.TIPLINE_MAX_FILE_BYTES = 5 * 1024 * 1024
    html = client.get("/fr/report/cyberstalking/").content.decode()
    field = re.search(r'<input type="file"[^>]*>', html)
    assert field
    tag = field.group(0)
    assert 'data-max-bytes="5242880"' in tag
    assert 'data-max-files="10"' in tag
    assert 'accept=".jpg,' in tag
    assert 'data-mb="5"' in tag
    assert "%(name)s" in tag  # a placeholder the script fills in with the chosen file's name
    assert "dépasse %(mb)s Mo" in tag  # in the page's language


def test_the_too_large_page_is_in_the_readers_language_and_private(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_MAX_REQUEST_BYTES = 5000
    response = client.post("/fr/report/other/", b"x" * 6000, content_type="text/plain")
    assert response.status_code == 413
    assert '<html lang="fr">' in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_file_name_of_ten_thousand_characters_gets_a_page(client: Client) -> None:
    raw = multipart(
        {"what_happened": WORDS, "contact_choice": "anonymous"},
        [("attachments", "a" * 10_000 + ".png", png_bytes())],
    )
    response = client.generic("POST", "/en/report/cyberstalking/", raw, CONTENT_TYPE)
    assert response.status_code == 400
    assert "file name of hundreds of characters" in response.content.decode()
    assert Report.objects.count() == 0


def test_bytes_that_are_not_utf8_are_replaced_not_a_500(client: Client) -> None:
    # %ED%A0%80 is a UTF-16 surrogate written as UTF-8: not text. Django decodes form posts with
    # errors="replace", so it is stored as U+FFFD replacement characters (documented).
    response = client.post(
        "/en/report/other/",
        b"what_happened=a%ED%A0%80b&contact_choice=anonymous",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    report = report_by_receipt(RECEIPT.search(response.content.decode()).group(1))  # type: ignore[union-attr]
    stored = selectors.report_details(report)["what_happened"]
    assert stored.startswith("a\ufffd")
    assert stored.endswith("b")
    raw = multipart({"what_happened": b"c\xed\xa0\x80d", "contact_choice": "anonymous"})
    answer = client.generic("POST", "/en/report/other/", raw, CONTENT_TYPE)
    assert answer.status_code == 200


@pytest.mark.parametrize("path", ["/en/follow-up/message/", "/en/report/other/?x=1"])
def test_errors_without_a_body_become_pages(client: Client, path: str) -> None:
    # A wrong method (405) and a cross-site post (403) used to answer with an empty body.
    if "message" in path:
        response = client.get(path)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
    else:
        response = client.post(path, answers(), HTTP_SEC_FETCH_SITE="cross-site")
        assert response.status_code == 403
    html = response.content.decode()
    assert "Something was wrong with that request" in html
    assert "Quick exit" in html
    assert response["Cache-Control"] == "no-store"


def _chunked(raw: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


@pytest.fixture(scope="module")
def gunicorn_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`tipline serve --no-front`: gunicorn on the port, the way it decodes chunked bodies."""
    server = LiveServer(root=tmp_path_factory.mktemp("no-front"))
    server.setup()
    server.start(extra_args=["--no-front"])
    yield server
    server.stop()


@pytest.mark.server
def test_chunked_bodies_are_read_when_gunicorn_takes_them(gunicorn_alone: LiveServer) -> None:
    # Regression (issue 14): a chunked body has no Content-Length and Django read it as empty
    # ("not valid JSON"). web.body.read_chunked now buffers it, bounded, and gives it a length.
    url = gunicorn_alone.url
    form = b"what_happened=Sent+in+chunks.&contact_choice=anonymous"
    page = httpx.post(
        url + "/en/report/other/",
        content=_chunked(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert page.status_code == 200, page.text[:500]
    assert RECEIPT.search(page.text)
    json_type = {"Content-Type": "application/json"}
    body = json.dumps({"category": "other", "what_happened": "Sent in chunks."}).encode()
    created = httpx.post(url + "/api/v1/reports", content=_chunked(body), headers=json_type)
    assert created.status_code == 201, created.text
    # Over the 1 MB limit for bodies held in memory: refused while reading, as JSON.
    huge = json.dumps({"category": "other", "what_happened": "x" * 1_100_000}).encode()
    refused = httpx.post(url + "/api/v1/reports", content=_chunked(huge, 65_536), headers=json_type)
    assert refused.status_code == 413
    assert "too large" in refused.json()["errors"]["__all__"][0]
    # And a lone surrogate sent in chunks is named like any other.
    raw = b'{"category": "other", "what_happened": "a\\ud800"}'
    named = httpx.post(url + "/api/v1/reports", content=_chunked(raw), headers=json_type)
    assert named.status_code == 400
    assert list(named.json()["errors"]) == ["what_happened"]


@pytest.mark.server
def test_the_front_refuses_chunked_bodies_with_a_reason(live_server_process: LiveServer) -> None:
    # Behind the front (nginx, the default) a chunked body is refused outright, with a reason,
    # rather than reaching Tipline as an empty body.
    body = json.dumps({"category": "other", "what_happened": "Sent in chunks."}).encode()
    answer = httpx.post(
        live_server_process.url + "/api/v1/reports",
        content=_chunked(body),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 411
    assert "Content-Length" in answer.text
