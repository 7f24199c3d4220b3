"""`POST /api/v1/exchange/inbound`, driven by a partner written from the published format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests import factories
from tests.exchange.client import PartnerSide, encode
from tests.exchange.conftest import Configured
from tipline.audit.models import AuditEntry
from tipline.cases.models import Report
from tipline.cases.states import Channel
from tipline.cases.triage_step import report_triage
from tipline.exchange.models import Forwarding, ForwardState, InboundForward
from tipline.partners.actions import credential_create
from tipline.partners.models import CredentialKind, Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/exchange/inbound"


def post(body: bytes, *, token: str | None, signature: str | None, **headers: Any) -> Any:
    extra: dict[str, Any] = {}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if signature is not None:
        extra["HTTP_TIPLINE_SIGNATURE"] = signature
    extra.update(headers)
    return Client().post(URL, data=body, content_type="application/json", **extra)


def send(partner: Configured, document: dict[str, Any]) -> Any:
    body = encode(document)
    return post(body, token=partner.token, signature=partner.side.sign(body))


def test_a_forwarded_report_is_filed_once_without_any_reporter_identity(
    partner: Configured,
) -> None:
    doc = partner.side.report("FR-2026-0001", ["https://host.example/gallery/1"])
    first = send(partner, doc)
    assert first.status_code == 200, first.content
    answer = first.json()
    assert answer["status"] == "filed"
    inbound = InboundForward.objects.get(pk=answer["reference"])
    report = inbound.report
    assert report.channel == Channel.HOTLINE
    assert report.contact is None
    assert report.country == "GB"
    # The same document again (a retry): the same reference, no second report.
    again = send(partner, doc)
    assert again.json() == {"reference": answer["reference"], "status": "already"}
    assert Report.objects.count() == 1
    assert AuditEntry.objects.filter(action="report.forward_received").count() == 1


def test_a_forward_naming_an_open_reports_url_is_linked_not_filed(partner: Configured) -> None:
    here = factories.report(
        category="csam", text="Found this.", details={"urls": ["https://host.example/gallery/7"]}
    ).report
    report_triage(here.id)  # records the report's identifiers, as the triage worker does
    answer = send(partner, partner.side.report("FR-7", ["HTTPS://HOST.example/gallery/7"])).json()
    assert answer["status"] == "linked"
    assert InboundForward.objects.get(pk=answer["reference"]).report_id == here.id
    assert Report.objects.count() == 1


def test_without_credentials_or_with_another_scope_nothing_is_read(partner: Configured) -> None:
    body = encode(partner.side.report("FR-1", ["https://a.example/"]))
    assert post(body, token=None, signature=partner.side.sign(body)).status_code == 401
    assert post(body, token="tl_" + "a" * 52, signature=partner.side.sign(body)).status_code == 401
    other = credential_create(
        actor="t", name="matcher", kind=CredentialKind.PARTNER, scopes=[Scope.MATCH]
    )
    assert post(body, token=other.token, signature=partner.side.sign(body)).status_code == 403
    # The exchange scope without a configured hotline behind it is not enough either.
    loose = credential_create(
        actor="t", name="loose", kind=CredentialKind.PARTNER, scopes=[Scope.EXCHANGE]
    )
    assert post(body, token=loose.token, signature=partner.side.sign(body)).status_code == 403
    assert Report.objects.count() == 0


def test_a_stolen_token_without_the_partners_key_cannot_file(partner: Configured) -> None:
    body = encode(partner.side.report("FR-1", ["https://a.example/"]))
    impostor = PartnerSide()
    for signature in (None, "", impostor.sign(body), partner.side.sign(body + b" ")):
        answer = post(body, token=partner.token, signature=signature)
        assert answer.status_code == 400, signature
        assert answer.json()["error"] == "refused"
    # A key id that matches but a signature from another key.
    forged = partner.side.sign(body).split(",")[0] + "," + impostor.sign(body).split(",")[1]
    assert post(body, token=partner.token, signature=forged).status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format": "tipline-exchange", "format": "x"}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe",
    ],
    ids=["empty", "text", "array", "duplicate-key", "deep", "not-utf8"],
)
def test_malformed_bodies_are_refused_with_a_reason(partner: Configured, raw: bytes) -> None:
    answer = post(raw, token=partner.token, signature=partner.side.sign(raw))
    # The test client sends no content type with an empty body: that is refused as such (415).
    assert answer.status_code == (415 if not raw else 400)
    assert answer.json()["message"]


def _mutations(side: PartnerSide) -> dict[str, dict[str, Any]]:
    base = side.report("FR-9", ["https://a.example/"])
    cases: dict[str, dict[str, Any]] = {}
    cases["version 2"] = {**base, "version": 2}
    cases["unknown field"] = {**base, "reporter_email": "someone@example.org"}
    cases["contact in report"] = {**base, "report": {**base["report"], "contact": {"name": "x"}}}
    cases["bad hash"] = {
        **base,
        "report": {**base["report"], "hashes": [{"kind": "sha256", "value": "zz"}]},
    }
    cases["too many urls"] = {
        **base,
        "report": {**base["report"], "urls": ["https://a.example/"] * 201},
    }
    cases["surrogate"] = {**base, "report": {**base["report"], "reference": "\ud800"}}
    cases["naive time"] = {**base, "sent_at": "2026-12-01T10:00:00"}
    cases["unknown category"] = {**base, "report": {**base["report"], "category": "weather"}}
    cases["outcome and report"] = {**base, "outcome": {}}
    return cases


def test_schema_violations_are_refused(partner: Configured) -> None:
    for name, doc in _mutations(partner.side).items():
        body = json.dumps(doc).encode()
        answer = post(body, token=partner.token, signature=partner.side.sign(body))
        assert answer.status_code == 400, name
    assert Report.objects.count() == 0


def test_a_document_over_the_size_limit_is_refused_before_reading(partner: Configured) -> None:
    body = b"{}"
    answer = post(
        body, token=partner.token, signature=partner.side.sign(body), CONTENT_LENGTH="99999999999"
    )
    # The site's body limit answers first (413), before the view reads anything.
    assert answer.status_code == 413


def test_an_outcome_update_reaches_the_forwarding_it_names(partner: Configured) -> None:
    report = factories.report(category="csam", text="A gallery.").report
    user = factories.staff("sup", "supervisor").user
    from tipline.exchange import actions

    forwarding = actions.forward_create(actor=user, report=report, hotline=partner.hotline)
    assert forwarding.state == ForwardState.QUEUED
    answer = send(
        partner, partner.side.outcome("FR-42", str(forwarding.id), "actioned", "notice_sent")
    )
    assert answer.status_code == 200, answer.content
    forwarding.refresh_from_db()
    assert (forwarding.outcome_state, forwarding.outcome) == ("actioned", "notice_sent")
    assert forwarding.their_reference == "FR-42"
    # An outcome about a report we never sent them is refused.
    stranger = send(
        partner, partner.side.outcome("FR-43", "6b7a8f52-0000-4000-8000-000000000000", "closed")
    )
    assert stranger.status_code == 400
    assert Forwarding.objects.count() == 1


def test_files_that_travel_are_validated_and_must_match_their_hash(partner: Configured) -> None:
    import base64

    png = factories.png_bytes()
    item = {"name": "shot.png", "sha256": factories.upload(data=png).sha256}
    good = {**item, "data": base64.b64encode(png).decode()}
    doc = partner.side.report("FR-F1", [], files=[good])
    doc["report"]["category"] = "sextortion"
    answer = send(partner, doc)
    assert answer.json()["status"] == "filed", answer.content
    assert InboundForward.objects.get(pk=answer.json()["reference"]).report.files.count() == 1
    tampered = {**item, "data": base64.b64encode(png + b"x").decode()}
    doc = partner.side.report("FR-F2", [], files=[tampered])
    doc["report"]["category"] = "sextortion"
    assert send(partner, doc).status_code == 400
    script = {"name": "a.html", "data": base64.b64encode(b"<script>x</script>").decode()}
    script["sha256"] = __import__("hashlib").sha256(b"<script>x</script>").hexdigest()
    doc = partner.side.report("FR-F3", [], files=[script])
    doc["report"]["category"] = "sextortion"
    assert send(partner, doc).status_code == 400
