"""Referral to a CyberTipline-compatible service: XML valid against NCMEC's XSD, and the whole
open → upload → fileinfo → finish sequence against Tipline's own /ispws on loopback (served by
pytest-django's live server thread; /ispws itself is held to the protocol by
tests/interop/test_ispws_live.py, whose client knows nothing of Tipline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from tests import factories
from tests.outputs.helpers import AGENCY, referred_report
from tipline import crypto
from tipline.audit.models import AuditEntry
from tipline.cases.models import Referral, Report
from tipline.cases.sealing import report_key
from tipline.cases.states import Channel, KeyPurpose
from tipline.cybertipline.models import Submission, SubmissionState
from tipline.outputs import cybertipline
from tipline.partners.actions import basic_username, credential_create

XSD = Path("/work/shared/data/cybertipline/cybertipline-report.xsd")
SHARED_SCHEMA = etree.XMLSchema(etree.parse(str(XSD))) if XSD.is_file() else None


def _details(report: Report) -> dict[str, Any]:
    key = report_key(report.id, KeyPurpose.CONTENT)
    return crypto.open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )  # type: ignore[no-any-return]


@pytest.mark.django_db
@pytest.mark.skipif(SHARED_SCHEMA is None, reason="the shared XSD is not present")
def test_built_documents_are_valid_against_the_published_xsd() -> None:
    created = factories.report(
        "luring",
        text="An adult asked a 12-year-old to keep their chats secret & meet <tomorrow>.",
        details={
            "urls": ["https://chat.example/u/77"],
            "emails": ["adult@mail.example"],
            "phones": ["+1 202 555 0143"],
            "handles": ["@adult77", "@adult77_backup"],
            "platform": "Chat Example",
            "when": "last Tuesday evening",
        },
    )
    body = cybertipline.report_document(created.report, _details(created.report))
    doc = etree.fromstring(body)
    assert SHARED_SCHEMA is not None
    assert SHARED_SCHEMA.validate(doc), SHARED_SCHEMA.error_log
    assert doc.findtext("incidentSummary/incidentType") == (
        "Online Enticement of Children for Sexual Acts"
    )
    assert doc.findtext("internetDetails/webPageIncident/url") == "https://chat.example/u/77"
    assert doc.findtext("personOrUserReported/screenName") == "@adult77"
    assert "meet <tomorrow>" in (doc.findtext("additionalInfo") or "")
    # The reporter's contact details never leave: the hotline reports as itself.
    assert b"contact" not in body.lower()
    details = cybertipline.file_details_document(
        report_id=5,
        file_id="a" * 32,
        meta={"name": "x.png", "sha256": "0" * 64, "md5": "1" * 32},
        industry="B1",
    )
    assert SHARED_SCHEMA.validate(etree.fromstring(details)), SHARED_SCHEMA.error_log


@pytest.mark.django_db
@pytest.mark.skipif(SHARED_SCHEMA is None, reason="the shared XSD is not present")
@pytest.mark.parametrize("category", ["csam", "child_in_danger", "sextortion", "ncii", "other"])
def test_every_category_maps_to_a_valid_incident_type(category: str) -> None:
    created = factories.report(category, text="Described in words only.")
    body = cybertipline.report_document(created.report, _details(created.report))
    assert SHARED_SCHEMA is not None
    assert SHARED_SCHEMA.validate(etree.fromstring(body))


def _service(live_server: Any, password: str | None = None) -> cybertipline.Service:
    created = credential_create(
        actor="test", name="Receiving hotline", kind="partner", scopes=["cybertipline"]
    )
    return cybertipline.Service(
        base_url=f"{live_server.url}/ispws",
        username=basic_username(created.credential),
        password=password or created.secret,
    )


@pytest.mark.django_db(transaction=True)
def test_submit_a_referral_to_ispws_on_loopback(live_server: Any) -> None:
    report = referred_report(files=2, category="sextortion")
    factories.run_tasks(report)  # the media worker: MD5 and SHA-1 join the file metadata
    service = _service(live_server)
    submitted = cybertipline.referral_submit(
        actor="cli", report=report, agency=AGENCY, service=service
    )
    assert submitted.files == 2
    referral = Referral.objects.get(report=report, agency=AGENCY)
    assert referral.external_id == submitted.external_id
    assert referral.submitted_at is not None
    # What arrived at the receiving end is an ordinary report, with both files.
    submission = Submission.objects.get(pk=int(submitted.external_id))
    assert submission.state == SubmissionState.FINISHED
    received = submission.report
    assert received is not None
    assert received.channel == Channel.CYBERTIPLINE
    assert received.category == "sextortion"
    assert received.files.count() == 2
    sent_xml = _details(received)["cybertipline"]["xml"]
    assert SHARED_SCHEMA is None or SHARED_SCHEMA.validate(etree.fromstring(sent_xml.encode()))
    entry = AuditEntry.objects.filter(action="referral.cybertipline").get()
    assert entry.details["external_id"] == submitted.external_id
    assert entry.details["agency"] == AGENCY
    # The case view says where it went and under which id.
    from tests.console.helpers import signed_in

    supervisor, _user = signed_in("sue", "supervisor")
    page = supervisor.get(f"/console/reports/{report.id}/").content.decode()
    assert 'id="cybertipline-referrals"' in page
    assert f"their report id {submitted.external_id}" in page
    # Once submitted, never twice.
    with pytest.raises(cybertipline.SubmitRefused, match="already submitted"):
        cybertipline.referral_submit(actor="cli", report=report, agency=AGENCY, service=service)


@pytest.mark.django_db(transaction=True)
def test_a_refusal_keeps_nothing_and_is_audited(live_server: Any) -> None:
    report = referred_report(files=1)
    bad = _service(live_server, password="tlb_" + "a" * 52)
    with pytest.raises(cybertipline.SubmitRefused, match="code 1000"):
        cybertipline.referral_submit(actor="cli", report=report, agency=AGENCY, service=bad)
    assert Referral.objects.get(report=report).external_id == ""
    refusal = AuditEntry.objects.filter(action="referral.refused").last()
    assert refusal is not None
    assert refusal.details["via"] == "cybertipline"
    # Not referred to this agency: refused before anything is sent.
    with pytest.raises(cybertipline.SubmitRefused, match="not referred"):
        cybertipline.referral_submit(actor="cli", report=report, agency="Someone Else", service=bad)
    # A service that is not there.
    gone = cybertipline.Service(base_url="http://127.0.0.1:9/ispws", username="u", password="p")
    with pytest.raises(cybertipline.SubmitRefused, match="could not be reached"):
        cybertipline.referral_submit(actor="cli", report=report, agency=AGENCY, service=gone)


class _NetworkDropsOnUpload(httpx.HTTPTransport):
    """The real service, reached over a network that fails during the file upload."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/upload"):
            raise httpx.ConnectError("connection reset", request=request)
        return super().handle_request(request)


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_retracts_the_half_sent_report(live_server: Any) -> None:
    report = referred_report(files=1)
    factories.run_tasks(report)
    service = _service(live_server)
    with pytest.raises(
        cybertipline.SubmitRefused, match="upload: the service could not be reached"
    ):
        cybertipline.referral_submit(
            actor="cli",
            report=report,
            agency=AGENCY,
            service=service,
            transport=_NetworkDropsOnUpload(),
        )
    opened = Submission.objects.get()
    assert opened.state == SubmissionState.RETRACTED
    assert opened.document is None
    assert opened.wrapped_key is None
    assert Referral.objects.get(report=report).external_id == ""


@pytest.mark.django_db
def test_the_command_takes_the_service_from_the_agencys_settings() -> None:
    """Without --endpoint/--username, `referral submit-cybertipline` uses the API address and
    the USER:PASSWORD in the environment variable named by an agency reached by the API; an
    agency delivered to otherwise is refused, and an override needs both options."""
    from django.core.management.base import CommandError

    from tests.outputs.helpers import agency
    from tipline.cases.models import AgencyDelivery
    from tipline.outputs.management.commands.referral import _service

    row = agency()
    row.api_url, row.api_credential = "https://report.example.org/ispws", "NCMEC_API"
    row.save(update_fields=["api_url", "api_credential"])
    options = {"agency": row.name, "endpoint": None, "username": None}
    environ = {"NCMEC_API": "esp-42:s3cret:with:colons"}
    with pytest.raises(cybertipline.SubmitRefused, match="does not take reports"):
        _service(options, environ)  # its delivery is e-mail: the API address is not used
    row.delivery = AgencyDelivery.API
    row.save(update_fields=["delivery"])
    service = _service(options, environ)
    assert (service.base_url, service.username, service.password) == (
        "https://report.example.org/ispws",
        "esp-42",
        "s3cret:with:colons",
    )
    with pytest.raises(cybertipline.SubmitRefused, match="NCMEC_API"):
        _service(options, {})
    explicit = {**options, "endpoint": "https://other.example/ispws", "username": "me"}
    with pytest.raises(CommandError, match="TIPLINE_CYBERTIPLINE_PASSWORD"):
        _service(explicit, environ)
    overridden = _service(explicit, {"TIPLINE_CYBERTIPLINE_PASSWORD": "p"})
    assert (overridden.base_url, overridden.username, overridden.password) == (
        "https://other.example/ispws",
        "me",
        "p",
    )
    with pytest.raises(CommandError, match="both --endpoint and --username"):
        _service({**options, "endpoint": "https://other.example/ispws"}, environ)
    with pytest.raises(cybertipline.SubmitRefused, match="https://"):
        _service(
            {**explicit, "endpoint": "http://other.example/ispws"},
            {"TIPLINE_CYBERTIPLINE_PASSWORD": "p"},
        )


def _api_agency(live_server: Any, monkeypatch: pytest.MonkeyPatch, password: str = "") -> None:
    """The referral's agency reached by the API: Tipline's own /ispws, its credential in the
    environment variable the agency's settings name (as a deployment holds it)."""
    from tests.outputs.helpers import agency
    from tipline.cases.models import AgencyDelivery

    service = _service(live_server)
    row = agency()
    row.delivery = AgencyDelivery.API
    row.api_url, row.api_credential = service.base_url, "TEST_CYBERTIPLINE_API"
    row.save(update_fields=["delivery", "api_url", "api_credential"])
    monkeypatch.setenv(
        "TEST_CYBERTIPLINE_API", f"{service.username}:{password or service.password}"
    )


@pytest.mark.django_db(transaction=True)
def test_the_console_button_submits_once_and_shows_the_id(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.console.helpers import signed_in

    report = referred_report(files=1, category="sextortion")
    factories.run_tasks(report)
    _api_agency(live_server, monkeypatch)
    cara, _user = signed_in("cara")
    case = f"/console/reports/{report.id}/"
    page = cara.get(case).content.decode()
    assert 'id="referral-api"' in page
    assert "Submit the report with its files" in page
    answer = cara.post(case + "referral-api/", {"agency": AGENCY})
    assert answer.status_code == 302
    assert answer["Location"].endswith("#referral-api")
    referral = Referral.objects.get(report=report, agency=AGENCY)
    assert referral.external_id.isdigit()
    assert Submission.objects.get(pk=int(referral.external_id)).state == SubmissionState.FINISHED
    page = cara.get(case).content.decode()
    assert f"their report id {referral.external_id}" in page
    assert "Submit the report with its files" not in page
    entry = AuditEntry.objects.filter(action="referral.cybertipline").get()
    assert entry.actor == "cara"
    # A second press (a double click, a stale page) is refused with the reason: never twice.
    again = cara.post(case + "referral-api/", {"agency": AGENCY})
    assert again.status_code == 403
    assert "already submitted" in again.content.decode()
    assert Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_console_shows_a_refusal_on_the_referral_and_offers_it_again(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.console.helpers import signed_in

    report = referred_report(files=1)
    _api_agency(live_server, monkeypatch, password="tlb_" + "a" * 52)
    cara, _user = signed_in("cara")
    case = f"/console/reports/{report.id}/"
    refused = cara.post(case + "referral-api/", {"agency": AGENCY})
    assert refused.status_code == 403
    assert "code 1000" in refused.content.decode()
    assert Referral.objects.get(report=report).external_id == ""  # the claim was released
    page = cara.get(case).content.decode()
    assert "code 1000" in page
    assert "Try again" in page


@pytest.mark.django_db
def test_the_console_refuses_an_agency_without_the_api_or_its_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.console.helpers import signed_in
    from tests.outputs.helpers import agency
    from tipline.cases.models import AgencyDelivery

    report = referred_report(files=0)
    cara, _user = signed_in("cara")
    url = f"/console/reports/{report.id}/referral-api/"
    answer = cara.post(url, {"agency": AGENCY})
    assert answer.status_code == 403
    assert "does not take reports through a CyberTipline-compatible API" in answer.content.decode()
    row = agency()
    row.delivery = AgencyDelivery.API
    row.api_url, row.api_credential = "https://report.example.org/ispws", "NO_SUCH_VARIABLE_X"
    row.save(update_fields=["delivery", "api_url", "api_credential"])
    answer = cara.post(url, {"agency": AGENCY})
    assert "NO_SUCH_VARIABLE_X" in answer.content.decode()
    assert cara.post(url, {"agency": "x" * 500}).status_code == 403
    assert Referral.objects.get(report=report).external_id == ""


@pytest.mark.django_db
def test_a_claimed_referral_is_not_submitted_twice() -> None:
    """Two runs at once: the second finds the first one's claim and is refused before sending."""
    from django.utils import timezone

    report = referred_report(files=0)
    Referral.objects.filter(report=report).update(
        external_id=cybertipline.SENDING, submitted_at=timezone.now()
    )
    never = cybertipline.Service(base_url="http://127.0.0.1:9/ispws", username="u", password="p")
    with pytest.raises(cybertipline.SubmitRefused, match="under way"):
        cybertipline.referral_submit(actor="cli", report=report, agency=AGENCY, service=never)
    assert Referral.objects.get(report=report).external_id == cybertipline.SENDING
