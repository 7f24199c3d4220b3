"""Hand-over: the log becomes a cyberstalking report that an analyst reads in the console."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.console.helpers import signed_in
from tests.locker.locker_client import WHATSAPP, create, post, upload
from tests.locker.parsers.conftest import fixture
from tipline.audit.models import AuditEntry
from tipline.cases.access import report_by_receipt
from tipline.cases.models import Report
from tipline.cases.selectors import EvidenceSummary, report_details, report_files
from tipline.locker.models import EvidenceFile, Locker

pytestmark = pytest.mark.django_db


def _prepare(client: Client) -> str:
    _phrase, token = create(client)
    upload(client, token, WHATSAPP, "WhatsApp Chat with Alex.txt")
    upload(client, token, fixture("sms-20240316080000.xml"), "sms.xml")
    post(
        client,
        "incidents/save/",
        token,
        occurred_at="2026-03-13 07:30",
        platform="WhatsApp",
        what_happened="He said he would wait outside my house.",
        accounts="Alex",
        impact="I did not go to work.",
    )
    post(client, "timeline/responsible/", token, responsible="Alex")
    return token


def test_hand_over_the_whole_log_files_a_report_an_analyst_sees(client: Client) -> None:
    token = _prepare(client)
    form = post(client, "hand-over/", token)
    assert form.status_code == 200
    assert "Send to the hotline" in form.content.decode()
    refused = post(client, "hand-over/", token, scope="all", send="1")
    assert refused.status_code == 400  # the victim must confirm
    assert not Report.objects.exists()
    sent = post(
        client, "hand-over/", token, scope="all", confirm="on", send="1", note="Please help."
    )
    assert sent.status_code == 200
    receipt = re.search(r'id="receipt"[^>]*>([^<]+)<', sent.content.decode())
    assert receipt
    report = report_by_receipt(receipt.group(1))
    assert report.category == "cyberstalking"
    assert report.channel == "handover"  # metrics count hand-overs apart from the web form
    details = report_details(report)
    log = details["evidence_log"]
    assert log["responsible"] == ["Alex"]
    assert len(log["evidence"]) == 2
    assert log["entries_total"] >= 3
    assert log["incidents"][0]["versions"][0]["what_happened"].startswith("He said he would")
    assert "wait outside my house" in details["what_happened"]
    names = sorted(f.name for f in _files(report))
    assert "evidence-log.pdf" in names
    assert "WhatsApp Chat with Alex.txt" in names
    # Recorded against the report only: no locker id anywhere in the audit log.
    entry = AuditEntry.objects.get(action="locker.handover")
    assert entry.target_id == str(report.id)
    locker_id = str(Locker.objects.get().id)
    assert not AuditEntry.objects.filter(details__icontains=locker_id).exists()
    assert locker_id not in str(details)

    analyst, _user = signed_in("ana", "analyst")
    case = analyst.get(f"/console/reports/{report.id}/")
    assert case.status_code == 200
    html = case.content.decode()
    assert "Evidence log handed over by the victim" in html
    assert "He said he would wait outside my house." in html
    assert "I will wait outside" in html
    assert "<script" not in html.split("evidence-log-heading")[1].split("</section>")[0]


def test_hand_over_chosen_files_only(client: Client) -> None:
    token = _prepare(client)
    chosen = EvidenceFile.objects.order_by("id").last()
    assert chosen is not None
    sent = post(
        client, "hand-over/", token, scope="chosen", evidence=str(chosen.id), confirm="on", send="1"
    )
    assert sent.status_code == 200
    log = report_details(Report.objects.get())["evidence_log"]
    assert [e["filename"] for e in log["evidence"]] == ["sms.xml"]


@pytest.mark.parametrize("evidence", ["", "999999", "-3", "abc"])
def test_hand_over_refuses_missing_or_foreign_files(client: Client, evidence: str) -> None:
    token = _prepare(client)
    _phrase, other = create(Client())
    upload(client, other, b"01/01/2026, 10:00 - Sam: hello\n", "other.txt")
    foreign = EvidenceFile.objects.order_by("id").last()
    assert foreign is not None
    for value in (evidence, str(foreign.id)):
        answer = post(
            client, "hand-over/", token, scope="chosen", evidence=value, confirm="on", send="1"
        )
        assert answer.status_code == 400, value
    assert not Report.objects.exists()


def test_hostile_text_in_a_hand_over_is_escaped_in_the_console(client: Client) -> None:
    _phrase, token = create(client)
    upload(client, token, b"01/02/2026, 10:00 - <img src=x onerror=alert(1)>: <b>hi</b>\n")
    post(client, "hand-over/", token, scope="all", confirm="on", send="1", note="x" * 20_001)
    assert not Report.objects.exists()  # the note is too long: refused, nothing filed
    post(client, "hand-over/", token, scope="all", confirm="on", send="1")
    report = Report.objects.get()
    analyst, _user = signed_in("ana", "analyst")
    html = analyst.get(f"/console/reports/{report.id}/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def _files(report: Report) -> tuple[EvidenceSummary, ...]:
    return report_files(report)


def test_sending_the_same_hand_over_twice_files_one_report(client: Client) -> None:
    token = _prepare(client)
    form = post(client, "hand-over/", token).content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', form)
    assert submission
    data = {"scope": "all", "confirm": "on", "send": "1", "submission": submission.group(1)}
    first = post(client, "hand-over/", token, **data).content.decode()
    again = post(client, "hand-over/", token, **data).content.decode()
    receipt = re.search(r'id="receipt"[^>]*>([^<]+)<', first)
    assert receipt
    assert receipt.group(1) in again
    assert "already reached us" in again
    assert Report.objects.count() == 1
    assert AuditEntry.objects.filter(action="locker.handover").count() == 1


def test_the_hand_over_receipt_stays_in_the_locker_sealed(client: Client) -> None:
    """Issue 13: the receipt was shown once and lost; it stays in the locker, under its key."""
    token = _prepare(client)
    form = post(client, "hand-over/", token).content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', form)
    assert submission
    data = {"scope": "all", "confirm": "on", "send": "1", "submission": submission.group(1)}
    sent = post(client, "hand-over/", token, **data).content.decode()
    post(client, "hand-over/", token, **data)  # the same form twice: one receipt kept
    found = re.search(r'id="receipt"[^>]*>([^<]+)<', sent)
    assert found
    receipt = found.group(1)
    overview = post(client, "mine/", token).content.decode()
    assert "Reports you handed over" in overview
    assert overview.count(receipt) == 1
    assert receipt in post(client, "hand-over/", token).content.decode()
    # At rest it is sealed with the locker's key: not in the row's bytes, not openable without.
    locker = Locker.objects.get()
    assert locker.handovers is not None
    assert receipt.encode() not in bytes(locker.handovers)
    assert receipt.replace("-", "").encode() not in bytes(locker.handovers)
    # A second hand-over adds a second receipt; both are listed, oldest first.
    again = post(client, "hand-over/", token, scope="all", confirm="on", send="1")
    second = re.search(r'id="receipt"[^>]*>([^<]+)<', again.content.decode())
    assert second
    listed = post(client, "mine/", token).content.decode()
    assert listed.index(receipt) < listed.index(second.group(1))
