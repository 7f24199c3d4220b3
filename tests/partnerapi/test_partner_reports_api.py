"""`/api/v1/partner/reports`: batches, idempotency by reference, status, files, and refusals."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from tests import factories
from tests.partnerapi.conftest import bearer, make_token
from tests.queued import queued
from tipline.audit.models import AuditEntry
from tipline.cases.models import EvidenceFile, Report
from tipline.cases.states import Outcome, ReportState
from tipline.cases.tasks import triage_report
from tipline.partnerapi.models import PartnerReport
from tipline.partners.models import Scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/partner/reports"


def item(reference: str, **fields: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "category": "other",
        "what_happened": "An account keeps sending threatening messages to a pupil.",
        "urls": ["https://example.org/post/1"],
        **fields,
    }


def post(client: Client, token: str, body: Any) -> Any:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", headers=bearer(token))


def test_a_batch_files_ordinary_reports_linked_to_the_partner(
    client: Client, reports_token: str
) -> None:
    response = post(client, reports_token, {"reports": [item("a-1"), item("a-2")]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert [r["reference"] for r in results] == ["a-1", "a-2"]
    ids = {uuid.UUID(r["id"]) for r in results}
    assert set(Report.objects.values_list("id", flat=True)) == ids
    assert set(PartnerReport.objects.values_list("report_id", flat=True)) == ids
    report = Report.objects.get(id=results[0]["id"])
    assert report.state == ReportState.NEW
    assert report.category == "other"
    assert report.channel == "partner"
    # Triage is queued like for any report.
    assert len(queued(triage_report)) == 2
    audit = AuditEntry.objects.get(action="partner.reports")
    assert sorted(audit.details["created"]) == sorted(str(i) for i in ids)


def test_resending_returns_the_same_ids_and_files_nothing(
    client: Client, reports_token: str
) -> None:
    first = post(client, reports_token, {"reports": [item("r-1"), item("r-2")]}).json()
    again = post(client, reports_token, {"reports": [item("r-2"), item("r-3"), item("r-1")]})
    results = again.json()["results"]
    by_ref = {r["reference"]: r for r in results}
    assert by_ref["r-1"]["id"] == first["results"][0]["id"]
    assert by_ref["r-2"]["id"] == first["results"][1]["id"]
    assert [r["status"] for r in results] == ["existing", "created", "existing"]
    assert Report.objects.count() == 3


def test_references_are_per_partner(client: Client, reports_token: str, other_token: str) -> None:
    mine = post(client, reports_token, {"reports": [item("same")]}).json()["results"][0]
    theirs = post(client, other_token, {"reports": [item("same")]}).json()["results"][0]
    assert theirs["status"] == "created"
    assert theirs["id"] != mine["id"]


def test_one_bad_item_does_not_sink_the_others(client: Client, reports_token: str) -> None:
    body = {
        "reports": [
            item("ok-1"),
            item("bad-cat", category="nope"),
            "not an object",
            item("bad-field", what_happened=5),
            {"category": "other", "what_happened": "No reference."},
            item("has space"),
            item("extra", colour="red"),
            item("ok-2"),
        ]
    }
    results = post(client, reports_token, body).json()["results"]
    assert [r["status"] for r in results] == [
        "created",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "created",
    ]
    assert "category" in results[1]["errors"]
    assert "__all__" in results[2]["errors"]
    assert "what_happened" in results[3]["errors"]
    assert "reference" in results[4]["errors"]
    assert "reference" in results[5]["errors"]
    assert "colour" in results[6]["errors"]
    assert Report.objects.count() == 2


def test_duplicate_references_in_one_batch_are_refused_each_time(
    client: Client, reports_token: str
) -> None:
    body = {"reports": [item("dup"), item("solo"), item("dup", what_happened="Second copy.")]}
    results = post(client, reports_token, body).json()["results"]
    assert [r["status"] for r in results] == ["invalid", "created", "invalid"]
    assert "more than once" in results[0]["errors"]["reference"][0]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"reports": []}, 400, "reports"),
        ({"reports": [item(f"n-{i}") for i in range(101)]}, 400, "reports"),
        ({"reports": "x"}, 400, "reports"),
        ({"reports": [item("a")], "more": 1}, 400, "more"),
        ([item("a")], 400, "__all__"),
        ("{not json", 400, "__all__"),
        (
            '{"reports": [{"reference": "s-1", "category": "other", "what_happened": "\\ud800"}]}',
            400,
            "reports.0.what_happened",
        ),
    ],
)
def test_malformed_bodies_are_refused_whole(
    client: Client, reports_token: str, body: Any, status: int, field: str
) -> None:
    response = post(client, reports_token, body)
    assert response.status_code == status
    assert field in response.json()["errors"]
    assert Report.objects.count() == 0


def test_an_oversized_batch_is_refused(client: Client, reports_token: str) -> None:
    big = [item(f"b-{i}", what_happened="x" * 12_000) for i in range(100)]
    response = post(client, reports_token, {"reports": big})
    assert response.status_code == 413
    assert Report.objects.count() == 0


def test_wrong_content_type_and_credentials(client: Client, reports_token: str) -> None:
    body = json.dumps({"reports": [item("c-1")]})
    assert (
        client.post(URL, body, content_type="text/plain", headers=bearer(reports_token)).status_code
        == 415
    )
    assert client.post(URL, body, content_type="application/json").status_code == 401
    match_only = make_token("Matcher", Scope.MATCH)
    assert post(client, match_only, {"reports": [item("c-1")]}).status_code == 403
    assert Report.objects.count() == 0


def _filed(client: Client, token: str, reference: str, **fields: Any) -> str:
    return str(
        post(client, token, {"reports": [item(reference, **fields)]}).json()["results"][0]["id"]
    )


def test_status_shows_the_coarse_state_and_outcome_only_to_its_partner(
    client: Client, reports_token: str, other_token: str
) -> None:
    report_id = _filed(client, reports_token, "s-1")
    answer = client.get(f"{URL}/{report_id}", headers=bearer(reports_token))
    assert answer.status_code == 200
    assert answer.json()["status"] == "received"
    assert answer.json()["outcome"] is None
    assert answer.json()["reference"] == "s-1"
    Report.objects.filter(id=report_id).update(state=ReportState.ACTIONED, outcome=Outcome.REFERRED)
    decided = client.get(f"{URL}/{report_id}", headers=bearer(reports_token)).json()
    assert decided["status"] == "action_taken"
    assert decided["outcome"] == "referred"
    foreign = client.get(f"{URL}/{report_id}", headers=bearer(other_token))
    missing = client.get(f"{URL}/{uuid.uuid4()}", headers=bearer(reports_token))
    junk = client.get(f"{URL}/not-a-uuid", headers=bearer(reports_token))
    assert foreign.status_code == missing.status_code == junk.status_code == 404
    assert foreign.content == missing.content == junk.content
    assert client.get(f"{URL}/{report_id}").status_code == 401


def test_a_public_report_is_not_a_partner_report(client: Client, reports_token: str) -> None:
    public = factories.report().report
    assert client.get(f"{URL}/{public.id}", headers=bearer(reports_token)).status_code == 404


def _files(
    client: Client, token: str, report_id: str, files: list[tuple[str, bytes]], **extra: Any
) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data: dict[str, Any] = {"files": [SimpleUploadedFile(n, b) for n, b in files], **extra}
    return client.post(f"{URL}/{report_id}/files", data, headers=bearer(token))


def test_files_are_added_validated_and_only_to_own_reports(
    client: Client, reports_token: str, other_token: str
) -> None:
    report_id = _filed(client, reports_token, "f-1")
    png = factories.png_bytes()
    created = _files(client, reports_token, report_id, [("one.png", png), ("two.png", png)])
    assert created.status_code == 201, created.content
    assert EvidenceFile.objects.filter(report_id=report_id).count() == 2
    foreign = _files(client, other_token, report_id, [("one.png", png)])
    assert foreign.status_code == 404
    bad = _files(client, reports_token, report_id, [("fake.png", b"MZ\x90\x00 not an image")])
    assert bad.status_code == 400
    assert "files" in bad.json()["errors"]
    none = client.post(f"{URL}/{report_id}/files", {}, headers=bearer(reports_token))
    assert none.status_code == 400
    extra = _files(client, reports_token, report_id, [("one.png", png)], note="hello")
    assert extra.status_code == 400
    assert "note" in extra.json()["errors"]
    as_json = client.post(
        f"{URL}/{report_id}/files",
        "{}",
        content_type="application/json",
        headers=bearer(reports_token),
    )
    assert as_json.status_code == 415
    assert EvidenceFile.objects.filter(report_id=report_id).count() == 2


def test_files_are_refused_for_a_category_without_files(client: Client, reports_token: str) -> None:
    report_id = _filed(client, reports_token, "csam-1", category="csam")
    answer = _files(client, reports_token, report_id, [("one.png", factories.png_bytes())])
    assert answer.status_code == 400
