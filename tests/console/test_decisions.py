"""Classification, decisions with four eyes, notes and links through the console's pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests import factories
from tests.console.helpers import signed_in
from tests.console.test_reports import HOSTILE, public_status
from tests.factories import STAFF_PASSWORD, totp_code
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import actions, review, transitions
from tipline.cases.models import Classification, Note, Referral, Report
from tipline.cases.states import Outcome, ReportState

pytestmark = pytest.mark.django_db

AGENCY = "National Police Cybercrime Unit"


def _url(report: Report, action: str = "") -> str:
    return f"/console/reports/{report.id}/{action}"


def test_two_analysts_classify_refer_and_confirm_and_the_reporter_sees_it() -> None:
    created = factories.report("csam")
    report = created.report
    ana, _ = signed_in("ana")
    ben, _ = signed_in("ben")
    assert ana.post(_url(report, "claim/")).status_code == 302
    answer = ana.post(
        _url(report, "classify/"),
        {"legal_assessment": "baseline", "severity": "B", "content_type": "image"},
    )
    assert answer.status_code == 302
    assert Classification.objects.get(report=report).severity == "B"
    assert (
        ana.post(_url(report, "decide/"), {"outcome": "referred", "agency": AGENCY}).status_code
        == 302
    )
    page = ben.get(_url(report)).content.decode()
    assert "Awaiting second review" in page
    assert "Confirm decision" in page
    # The proposer is not offered the confirmation, and is refused if they try anyway.
    assert "Confirm decision" not in ana.get(_url(report)).content.decode()
    assert ana.post(_url(report, "confirm/")).status_code == 403
    assert ben.post(_url(report, "confirm/")).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.ACTIONED
    assert Referral.objects.get(report=report).agency == AGENCY
    assert public_status(created.receipt) == "Action taken"
    verify()


def test_bad_codes_are_a_form_error_not_a_change() -> None:
    report = factories.report("csam").report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    answer = ana.post(_url(report, "classify/"), {"severity": "Z", "legal_assessment": "x" * 5000})
    assert answer.status_code == 400
    assert "Nothing was saved" in answer.content.decode()
    assert not Classification.objects.filter(report=report).exists()
    answer = ana.post(_url(report, "decide/"), {"outcome": "referred"})
    assert answer.status_code == 400, "a referral names its agency"
    answer = ana.post(_url(report, "decide/"), {"outcome": "eaten-by-dog"})
    assert answer.status_code == 400


def test_send_back_keeps_the_reason_as_a_note_and_notes_render_inert() -> None:
    report = factories.report("csam").report
    ana, _ = signed_in("ana")
    ben, _ = signed_in("ben")
    ana.post(_url(report, "claim/"))
    ana.post(_url(report, "classify/"), {"legal_assessment": "baseline", "severity": "C"})
    ana.post(_url(report, "decide/"), {"outcome": "referred", "agency": AGENCY})
    assert ben.post(_url(report, "send-back/"), {"body": HOSTILE}).status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.IN_REVIEW
    assert Note.objects.filter(report=report).count() == 1
    page = ana.get(_url(report)).content.decode()
    assert HOSTILE not in page
    assert "&lt;script&gt;" in page


def test_links_need_an_id_the_analyst_may_open() -> None:
    report = factories.report("luring").report
    other = factories.report("luring").report
    ana, _ = signed_in("ana")
    assert ana.post(_url(report, "links/"), {"other": "not-an-id"}).status_code == 400
    assert ana.post(_url(report, "links/"), {"other": str(other.id)}).status_code == 302
    page = ana.get(_url(other)).content.decode()
    assert f'href="/console/reports/{report.id}/"' in page
    assert ana.post(_url(other, "links/remove/"), {"other": str(report.id)}).status_code == 302
    assert f'href="/console/reports/{report.id}/"' not in ana.get(_url(other)).content.decode()


def test_a_liaison_reads_a_referred_case_without_contact_notes_or_work_controls() -> None:
    report = factories.report("luring", contact={"contact_email": "me@example.org"}).report
    first = factories.staff("one", "analyst").user
    second = factories.staff("two", "analyst").user
    liaison, _ = signed_in("lee", "liaison", agency=AGENCY)
    claimed = actions.report_claim(actor=first, report=report)
    review.note_add(actor=first, report=claimed, body="MARKER-internal working note")
    review.classification_set(actor=first, report=claimed, values={"legal_assessment": "national"})
    transitions.report_decide(actor=first, report=claimed, outcome=Outcome.REFERRED, agency=AGENCY)
    transitions.report_confirm(actor=second, report=claimed)
    page = liaison.get(_url(report)).content.decode()
    assert "MARKER-internal" not in page
    assert "me@example.org" not in page
    assert "Send to the reporter" not in page
    assert "Record decision" not in page
    assert liaison.post(_url(report, "contact/")).status_code == 403


CASE_POSTS = [
    "claim/",
    "assign/",
    "contact/",
    "message/",
    "classify/",
    "decide/",
    "confirm/",
    "send-back/",
    "withdraw/",
    "reopen/",
    "notes/",
    "links/",
    "links/remove/",
    "legal-hold/",
    "cluster/split/",
]


def test_every_case_change_needs_the_csrf_token() -> None:
    created = factories.staff("sue", "supervisor")
    report = factories.report("csam").report
    client = Client(enforce_csrf_checks=True)
    client.get("/console/sign-in/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(
        "/console/sign-in/",
        {"username": "sue", "password": STAFF_PASSWORD, "csrfmiddlewaretoken": token},
    )
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(
        "/console/sign-in/code/", {"code": totp_code(created.device), "csrfmiddlewaretoken": token}
    )
    assert client.get(_url(report)).status_code == 200
    before = AuditEntry.objects.count()
    for action in CASE_POSTS:
        answer = client.post(_url(report, action), {"body": "x", "outcome": "duplicate"})
        assert answer.status_code == 403, action
    assert AuditEntry.objects.count() == before, "a refused request changed nothing"
    report.refresh_from_db()
    assert report.state == ReportState.NEW


def test_oversized_and_malformed_values_are_form_errors() -> None:
    report = factories.report("luring").report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    assert ana.post(_url(report, "notes/"), {"body": "n" * 10_001}).status_code == 400
    assert ana.post(_url(report, "notes/"), {"body": "   "}).status_code == 400
    assert ana.post(_url(report, "links/"), {"other": "x" * 100_000}).status_code == 400
    assert ana.post(_url(report, "links/"), {"other": str(report.id)}).status_code == 403
    assert (
        ana.post(_url(report, "decide/"), {"outcome": "duplicate", "agency": "\x00"}).status_code
        == 400
    )
    assert Note.objects.count() == 0
