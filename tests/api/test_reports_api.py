"""The anonymous JSON API: same fields as the form, hostile bodies refused with clear errors."""

import json
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import png_bytes
from tipline.cases import categories, selectors
from tipline.cases.access import report_by_receipt
from tipline.cases.models import EvidenceFile, Message, Report
from tipline.web.report_forms import ReportForm

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports"


def post(client: Client, body: Any, url: str = URL, **extra: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", **extra)


@pytest.mark.parametrize("code", categories.CODES)
def test_each_category_can_be_reported(client: Client, code: str) -> None:
    body = {"category": code, "what_happened": "Written description.", "urls": ["https://e.org/1"]}
    response = post(client, body)
    assert response.status_code == 201, response.content
    receipt = response.json()["receipt"]
    report = report_by_receipt(receipt)
    assert report.category == code
    assert report.channel == "api"
    assert not response.cookies


def test_lists_as_arrays_or_lines_and_defaults_for_unanswered_questions(client: Client) -> None:
    response = post(
        client,
        {
            "category": "sextortion",
            "what_happened": "They want money by 9 pm.",
            "handles": ["@a", "@b"],
            "phones": "+44 20 7946 0000\n+1 613 555 0100",
            "demand": "money",
            "language": "fr",
        },
    )
    report = report_by_receipt(response.json()["receipt"])
    details = selectors.report_details(report)
    assert details["handles"] == ["@a", "@b"]
    assert details["phones"] == ["+44 20 7946 0000", "+1 613 555 0100"]
    assert details["victim_age_group"] == "unknown"
    assert details["demand"] == "money"
    assert report.language == "fr"


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ("{not json", 400, "__all__", "not valid JSON"),
        ("[1, 2]", 400, "__all__", "must be a JSON object"),
        ('"text"', 400, "__all__", "must be a JSON object"),
        ("[" * 100_000 + "]" * 100_000, 400, "__all__", "not valid JSON"),
        ({"category": "nope", "what_happened": "x"}, 400, "category", "Choose one of"),
        ({"category": 5, "what_happened": "x"}, 400, "category", "Expected a string"),
        ({"category": "other", "what_happened": 5}, 400, "what_happened", "Expected a string"),
        ({"category": "other", "what_happened": ["x"]}, 400, "what_happened", "Expected a string"),
        (
            {"category": "other", "what_happened": {"a": 1}},
            400,
            "what_happened",
            "Expected a string",
        ),
        ({"category": "other", "what_happened": "x", "urls": [1]}, 400, "urls", "list of strings"),
        ({"category": "other", "what_happened": "x", "urls": ["a\nb"]}, 400, "urls", "line breaks"),
        ({"category": "other", "what_happened": "x", "is_admin": True}, 400, "is_admin", "Unknown"),
        ({"category": "other"}, 400, "what_happened", "required"),
        ({"category": "csam", "what_happened": "x"}, 400, "urls", "required"),
        (
            {"category": "other", "what_happened": "x" * 20_001},
            400,
            "what_happened",
            "we can take 20000",
        ),
        ({"category": "other", "what_happened": "x", "emails": ["@@"]}, 400, "emails", "e-mail"),
        (
            {"category": "other", "what_happened": "x", "victim_age_group": "9"},
            400,
            "victim_age_group",
            "valid choice",
        ),
        (
            {"category": "other", "what_happened": "x", "contact_choice": "contact"},
            400,
            "contact_email",
            "e-mail address or a phone",
        ),
    ],
)
def test_bad_bodies_get_specific_errors(
    client: Client, body: Any, status: int, field: str, message: str
) -> None:
    response = post(client, body)
    assert response.status_code == status
    errors = response.json()["errors"]
    assert any(message in e for e in errors[field]), errors
    assert Report.objects.count() == 0


def test_wrong_content_type_is_415(client: Client) -> None:
    response = client.post(URL, "category=other", content_type="text/plain")
    assert response.status_code == 415


def test_huge_body_is_413(client: Client) -> None:
    body = {"category": "other", "what_happened": "x" * 2_000_000}
    assert post(client, body).status_code == 413


def test_control_characters_and_markup_are_kept_safely(client: Client) -> None:
    body = {"category": "other", "what_happened": "a\x00b\x1bc <script>alert(1)</script>"}
    report = report_by_receipt(post(client, body).json()["receipt"])
    assert selectors.report_details(report)["what_happened"] == "abc <script>alert(1)</script>"
    assert b"script" not in bytes(report.payload)


def test_multipart_with_attachments(client: Client) -> None:
    response = client.post(
        URL,
        {
            "category": "cyberstalking",
            "what_happened": "Screenshots attached.",
            "attachments": [SimpleUploadedFile("a.png", png_bytes(), "image/png")],
        },
    )
    assert response.status_code == 201
    assert EvidenceFile.objects.count() == 1


def test_multipart_refuses_files_for_csam_and_bad_files(client: Client) -> None:
    csam = client.post(
        URL,
        {
            "category": "csam",
            "what_happened": "x",
            "urls": "https://e.org/a",
            "attachments": [SimpleUploadedFile("a.png", png_bytes(), "image/png")],
        },
    )
    assert csam.status_code == 400
    assert "does not accept files" in csam.json()["errors"]["attachments"][0]
    bad = client.post(
        URL,
        {
            "category": "other",
            "what_happened": "x",
            "attachments": [SimpleUploadedFile("a.png", b"MZ\x90\x00rest", "image/png")],
        },
    )
    assert bad.status_code == 400
    assert "not a file type" in bad.json()["errors"]["attachments"][0]
    assert Report.objects.count() == 0


def test_multipart_file_too_large_is_413(client: Client, settings: LazySettings) -> None:
    settings.TIPLINE_MAX_FILE_BYTES = 1000
    response = client.post(
        URL,
        {
            "category": "other",
            "what_happened": "x",
            "attachments": [SimpleUploadedFile("a.png", b"\x89PNG" + b"0" * 5000, "image/png")],
        },
    )
    assert response.status_code == 413
    assert Report.objects.count() == 0


def _receipt(client: Client) -> str:
    body = {"category": "other", "what_happened": "A description."}
    return str(post(client, body).json()["receipt"])


def test_follow_up_status_and_messages(client: Client) -> None:
    receipt = _receipt(client)
    sent = post(client, {"receipt": receipt, "body": "More details."}, "/api/v1/followup/messages")
    assert sent.status_code == 201
    status = post(client, {"receipt": receipt}, "/api/v1/followup/status")
    assert status.status_code == 200
    data = status.json()
    assert data["status"] == "received"
    assert data["category"] == "other"
    assert [(m["author"], m["body"]) for m in data["messages"]] == [("reporter", "More details.")]


@pytest.mark.parametrize("url", ["/api/v1/followup/status", "/api/v1/followup/messages"])
def test_unknown_malformed_and_wrong_type_receipts_get_the_same_answer(
    client: Client, url: str
) -> None:
    _receipt(client)
    answers = {
        (r.status_code, r.content)
        for r in (
            post(client, {"receipt": "AAAA-AAAA-AAAA-AAAA", "body": "x"}, url),
            post(client, {"receipt": "garbage", "body": "x"}, url),
            post(client, {"receipt": 12345, "body": "x"}, url),
            post(client, {"receipt": None, "body": "x"}, url),
            post(client, {"body": "x"}, url),
        )
    }
    assert len(answers) == 1
    assert next(iter(answers))[0] == 404
    assert Message.objects.count() == 0


def test_follow_up_message_validation(client: Client) -> None:
    receipt = _receipt(client)
    url = "/api/v1/followup/messages"
    assert post(client, {"receipt": receipt, "body": 7}, url).status_code == 400
    assert post(client, {"receipt": receipt, "body": ""}, url).status_code == 400
    assert post(client, {"receipt": receipt, "body": "x" * 10_001}, url).status_code == 400
    assert Message.objects.count() == 0


def test_openapi_describes_every_form_field(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {
        "/api/v1/reports",
        "/api/v1/followup/status",
        "/api/v1/followup/messages",
        "/api/v1/match",
        # The partner API (issue 17): bulk reports, their status and files, bank changes.
        "/api/v1/partner/reports",
        "/api/v1/partner/reports/{report_id}",
        "/api/v1/partner/reports/{report_id}/files",
        "/api/v1/banks/{name}/changes",
        "/api/v1/banks/{name}/vics",
        # Forwarding between hotlines: partner hotlines' documents and outcomes.
        "/api/v1/exchange/inbound",
    }
    properties = spec["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]
    assert set(ReportForm.base_fields) - {"attachments", "submission"} <= set(properties)
    assert properties["category"]["enum"] == list(categories.CODES)


def test_methods_other_than_post_are_refused(client: Client) -> None:
    assert client.get(URL).status_code == 405
    assert client.put(URL, "{}", content_type="application/json").status_code == 405


def test_a_retry_with_the_same_idempotency_key_returns_the_same_receipt(client: Client) -> None:
    body = {"category": "other", "what_happened": "Sent from a phone on a bad network."}
    key = "phone-app-retry-key-0001"
    first = post(client, body, HTTP_IDEMPOTENCY_KEY=key)
    again = post(client, body, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Report.objects.count() == 1
    other = post(client, body, HTTP_IDEMPOTENCY_KEY="another-key-0000000002")
    assert other.json() != first.json()


def test_the_sealed_receipt_needs_the_key_to_open(client: Client) -> None:
    from tipline.cases.models import SubmissionToken

    key = "phone-app-retry-key-0002"
    receipt = post(client, {"category": "other", "what_happened": "x"}, HTTP_IDEMPOTENCY_KEY=key)
    row = SubmissionToken.objects.get()
    assert receipt.json()["receipt"].encode() not in bytes(row.sealed_receipt)
    assert key not in row.digest


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space in it here", "ünïcödé-ünïcödé-x"])
def test_a_malformed_idempotency_key_is_refused(client: Client, key: str) -> None:
    response = post(client, {"category": "other", "what_happened": "x"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Report.objects.count() == 0


def test_a_retried_follow_up_message_is_added_once(client: Client) -> None:
    receipt = _receipt(client)
    url = "/api/v1/followup/messages"
    body = {"receipt": receipt, "body": "Retry me."}
    for _ in range(3):
        assert (
            post(client, body, url, HTTP_IDEMPOTENCY_KEY="message-retry-key-01").status_code == 201
        )
    assert Message.objects.count() == 1


def test_the_country_is_stored_on_the_report_and_an_unknown_one_refused(client: Client) -> None:
    body = {"category": "cyberstalking", "what_happened": "Daily messages.", "country": "GB"}
    response = post(client, body)
    assert response.status_code == 201, response.content
    assert report_by_receipt(response.json()["receipt"]).country == "GB"
    for bad in ("XX", "gb'; --", "G" * 5000):
        refused = post(client, {**body, "country": bad})
        assert refused.status_code == 400
        assert "country" in refused.json()["errors"]
