"""Hostile and unusual API bodies get a clear JSON answer naming the field (issue 14, 4 and 8).

Each test here reproduced an attack first: a lone surrogate (``"\\ud800"``) in any text field
was a 500 from sealing; a list as ``language`` was taken; 11 files or a 10,000-character file
name got Django's HTML error page; unknown addresses and wrong methods answered HTML or nothing.
(A chunked body read as empty is tested against the real server in tests/web/test_body.py.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import png_bytes
from tests.web.multipart import CONTENT_TYPE, multipart
from tipline.cases.models import Message, Report
from tipline.partners import actions as partner_actions
from tipline.partners.models import Scope
from tipline.web.report_forms import ReportForm

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports"
LONE = "\ud800"


def post_json(client: Client, url: str, raw: str | bytes, **extra: Any) -> Any:
    return client.post(url, raw, content_type="application/json", **extra)


def _errors(response: Any) -> dict[str, list[str]]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return dict(response.json()["errors"])


TEXT_FIELDS = sorted(
    name
    for name, field in ReportForm.base_fields.items()
    if name not in ("attachments", "submission", "contact_email") and not hasattr(field, "choices")
)


@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_a_lone_surrogate_in_any_report_field_is_a_400_naming_it(
    client: Client, field: str
) -> None:
    body = {"category": "cyberstalking", "what_happened": "Written.", field: f"a{LONE}b"}
    if field in ReportForm.LIST_FIELDS:
        body[field] = ["fine", f"x{LONE}"]
    response = post_json(client, URL, json.dumps(body))  # json escapes it as \ud800
    assert response.status_code == 400
    errors = _errors(response)
    assert list(errors) == [field if field not in ReportForm.LIST_FIELDS else f"{field}.1"]
    assert "unpaired surrogate" in errors[next(iter(errors))][0]
    assert Report.objects.count() == 0


@pytest.mark.parametrize("where", ["category", "language", "contact_email", "country"])
def test_a_lone_surrogate_in_a_choice_field_is_named_too(client: Client, where: str) -> None:
    body = {"category": "other", "what_happened": "Written.", where: "\udfff"}
    response = post_json(client, URL, json.dumps(body))
    assert response.status_code == 400
    assert list(_errors(response)) == [where]


def test_a_lone_surrogate_in_a_key_is_named_escaped(client: Client) -> None:
    response = post_json(client, URL, '{"category": "other", "what\\ud800": "x"}')
    assert response.status_code == 400
    assert list(_errors(response)) == ["what\\ud800"]


def test_a_paired_surrogate_escape_is_ordinary_text(client: Client) -> None:
    # "\ud83d\ude00" is the escaped form of one emoji: valid, and kept.
    raw = '{"category": "other", "what_happened": "He sent \\ud83d\\ude00 then threats."}'
    assert post_json(client, URL, raw).status_code == 201


def _receipt(client: Client) -> str:
    body = {"category": "other", "what_happened": "A description."}
    return str(post_json(client, URL, json.dumps(body)).json()["receipt"])


def test_a_lone_surrogate_in_a_follow_up_message_is_a_400(client: Client) -> None:
    receipt = _receipt(client)
    raw = json.dumps({"receipt": receipt, "body": f"more {LONE}"})
    response = post_json(client, "/api/v1/followup/messages", raw)
    assert response.status_code == 400
    assert list(_errors(response)) == ["body"]
    assert Message.objects.count() == 0


def test_a_lone_surrogate_in_a_receipt_is_a_400_not_a_lookup(client: Client) -> None:
    for url in ("/api/v1/followup/status", "/api/v1/followup/messages"):
        response = post_json(client, url, json.dumps({"receipt": f"7KQ2{LONE}"}))
        assert response.status_code == 400
        assert list(_errors(response)) == ["receipt"]


def test_a_lone_surrogate_in_a_match_query_is_a_400_naming_the_item(client: Client) -> None:
    token = partner_actions.credential_create(
        actor="tester", name="Platform", kind="partner", scopes=[Scope.MATCH]
    ).token
    raw = json.dumps({"hashes": [{"type": "md5", "value": "a" * 31 + LONE}]})
    response = post_json(client, "/api/v1/match", raw, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert list(_errors(response)) == ["hashes.0.value"]


@pytest.mark.parametrize("language", [["en"], {"code": "en"}, 1, "xx", ""])
def test_language_must_be_one_of_the_sites_languages(client: Client, language: Any) -> None:
    body = {"category": "other", "what_happened": "Written.", "language": language}
    response = post_json(client, URL, json.dumps(body))
    assert response.status_code == 400
    assert _errors(response)["language"] == ["Choose one of: en, fr, hi."]
    assert Report.objects.count() == 0


def test_a_valid_language_is_kept(client: Client) -> None:
    body = {"category": "other", "what_happened": "Écrit.", "language": "fr"}
    assert post_json(client, URL, json.dumps(body)).status_code == 201
    assert Report.objects.get().language == "fr"
    multipart_answer = client.post(URL, {**body, "language": ["en", "hi"]})
    assert multipart_answer.status_code == 201
    assert Report.objects.latest("created_at").language == "hi"


def test_eleven_files_are_a_400_naming_attachments(client: Client) -> None:
    files = [SimpleUploadedFile(f"{i}.png", png_bytes(), "image/png") for i in range(11)]
    response = client.post(URL, {"category": "other", "what_happened": "x", "attachments": files})
    assert response.status_code == 400
    assert _errors(response) == {
        "attachments": ["You chose 11 files; at most 10 can be sent at once."]
    }
    assert Report.objects.count() == 0


def test_a_ten_thousand_character_file_name_is_json(client: Client) -> None:
    raw = multipart(
        {"category": "other", "what_happened": "x"},
        [("attachments", "a" * 10_000 + ".png", png_bytes())],
    )
    response = client.generic("POST", URL, raw, CONTENT_TYPE)
    assert response.status_code == 400
    assert "file name of hundreds of characters" in _errors(response)["__all__"][0]


def test_too_many_multipart_fields_are_json(client: Client) -> None:
    raw = multipart({f"f{i}": "x" for i in range(300)})
    response = client.generic("POST", URL, raw, CONTENT_TYPE)
    assert response.status_code == 400
    assert "far more fields" in _errors(response)["__all__"][0]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", URL, 405, "method_not_allowed"),
        ("get", "/api/v1/followup/messages", 405, "method_not_allowed"),
        ("post", "/api/v1/openapi.json", 405, "method_not_allowed"),
        ("get", "/api/v1/nothing-here", 404, "not_found"),
        ("post", "/api/v2/reports", 404, "not_found"),
    ],
)
def test_every_api_error_is_json(
    client: Client, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == code
    assert response.json()["message"]
    if status == 405:
        assert response["Allow"]


def test_a_cross_site_post_to_the_api_is_json(client: Client) -> None:
    response = post_json(client, URL, "{}", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


# Chunked bodies depend on the server in front: tests/web/test_body.py runs them against it.
