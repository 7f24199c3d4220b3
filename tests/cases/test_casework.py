"""Staff work on reports: claim, assign, hotline messages and the audited reads of a case."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import actions, casework
from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed
from tipline.cases.selectors import reporter_view
from tipline.cases.states import MessageAuthor, PublicStatus, ReportState
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db


def member(role: str = "analyst", name: str = "") -> StaffUser:
    agency = "Metro Police" if role == "liaison" else ""
    user: StaffUser = factories.staff(
        name or f"{role}-{uuid.uuid4().hex[:6]}", role, agency=agency
    ).user
    return user


def audit_of(target_id: object) -> list[tuple[str, str]]:
    return list(AuditEntry.objects.filter(target_id=str(target_id)).values_list("actor", "action"))


# --- claim ------------------------------------------------------------------------------------


def test_claiming_a_new_report_moves_it_to_in_review_and_audits_it() -> None:
    report = factories.report().report
    ana = member(name="ana")
    actions.report_claim(actor=ana, report=report)
    report.refresh_from_db()
    assert report.assigned_to == ana
    assert report.state == ReportState.IN_REVIEW
    assert reporter_view(report).status == PublicStatus.IN_REVIEW
    entry = AuditEntry.objects.get(action="report.claim")
    assert entry.actor == "ana"
    assert entry.details == {"from": None, "to": "ana", "state": ["new", "in_review"]}
    verify()


def test_claiming_leaves_a_later_state_alone() -> None:
    report = factories.report().report
    Report.objects.filter(pk=report.pk).update(state=ReportState.CLOSED)
    actions.report_claim(actor=member(), report=report)
    report.refresh_from_db()
    assert report.state == ReportState.CLOSED


def test_a_report_someone_else_holds_cannot_be_claimed() -> None:
    report = factories.report().report
    actions.report_claim(actor=member(name="ana"), report=report)
    with pytest.raises(NotAllowed):
        actions.report_claim(actor=member(name="bo"), report=report)
    report.refresh_from_db()
    assert report.assigned_to is not None
    assert report.assigned_to.username == "ana"
    assert [a for _, a in audit_of(report.id)] == ["report.claim"]


@pytest.mark.parametrize("role", ["liaison", "auditor"])
def test_roles_without_casework_cannot_claim(role: str) -> None:
    report = factories.report().report
    with pytest.raises(NotAllowed):
        actions.report_claim(actor=member(role), report=report)
    assert not AuditEntry.objects.filter(action="report.claim").exists()


# --- assign -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_assign_and_unassign(role: str) -> None:
    report = factories.report().report
    boss, ana = member(role, "boss"), member(name="ana")
    actions.report_assign(actor=boss, report=report, assignee=ana)
    report.refresh_from_db()
    assert (report.assigned_to, report.state) == (ana, ReportState.IN_REVIEW)
    actions.report_assign(actor=boss, report=report, assignee=None)
    report.refresh_from_db()
    assert report.assigned_to is None
    assert report.state == ReportState.IN_REVIEW
    entries = AuditEntry.objects.filter(action="report.assign").order_by("seq")
    assert [(e.actor, e.details["from"], e.details["to"]) for e in entries] == [
        ("boss", None, "ana"),
        ("boss", "ana", None),
    ]


@pytest.mark.parametrize("role", ["analyst", "liaison", "auditor"])
def test_other_roles_cannot_assign(role: str) -> None:
    report = factories.report().report
    with pytest.raises(NotAllowed):
        actions.report_assign(actor=member(role), report=report, assignee=member())
    report.refresh_from_db()
    assert report.assigned_to is None
    assert not AuditEntry.objects.filter(action="report.assign").exists()


@pytest.mark.parametrize("role", ["liaison", "auditor"])
def test_reports_go_only_to_people_who_work_on_them(role: str) -> None:
    report = factories.report().report
    with pytest.raises(NotAllowed):
        actions.report_assign(actor=member("supervisor"), report=report, assignee=member(role))


# --- messages ---------------------------------------------------------------------------------


def test_a_hotline_message_is_audited_under_its_author_and_reaches_the_reporter() -> None:
    report = factories.report().report
    message = actions.message_add(
        report=report,
        author=MessageAuthor.HOTLINE,
        body="Can you tell us more?",
        actor=member(name="ana"),
    )
    entry = AuditEntry.objects.get(action="report.message")
    assert (entry.actor, entry.details) == ("ana", {"message": str(message.id)})
    assert "Can you tell us more?" not in str(entry.details)
    assert [m.body for m in reporter_view(report).messages] == ["Can you tell us more?"]


def test_a_hotline_message_needs_its_author_and_a_reporter_message_has_none() -> None:
    report = factories.report().report
    with pytest.raises(ValueError, match="staff author"):
        actions.message_add(report=report, author=MessageAuthor.HOTLINE, body="x")
    with pytest.raises(ValueError, match="staff author"):
        actions.message_add(report=report, author=MessageAuthor.REPORTER, body="x", actor=member())


# --- audited reads ----------------------------------------------------------------------------


def test_opening_a_case_records_the_view_and_which_fields_were_decrypted() -> None:
    created = factories.report(
        text="He waits outside the school.",
        details={"platform": "", "urls": ["https://example.org/p/1"]},
        contact={"contact_email": "me@example.org"},
    )
    case = casework.case_open(actor=member(name="ana"), report=created.report)
    assert case.details["what_happened"] == "He waits outside the school."
    assert case.contact is None
    entries = AuditEntry.objects.filter(target_id=str(created.report.id)).order_by("seq")
    assert [e.action for e in entries] == ["report.view", "report.decrypt"]
    decrypt = entries[1].details
    assert decrypt["fields"] == ["handles", "urls", "what_happened"]
    assert "He waits" not in str(decrypt)
    assert "example.org" not in str(decrypt)


def test_contact_details_are_opened_only_on_request_and_audited() -> None:
    created = factories.report(contact={"contact_email": "me@example.org"})
    case = casework.case_open(actor=member(name="ana"), report=created.report, with_contact=True)
    assert case.contact == {"contact_email": "me@example.org"}
    entry = AuditEntry.objects.get(action="report.decrypt_contact")
    assert entry.details == {"fields": ["contact_email"]}


def test_a_preview_is_served_only_for_images_and_is_audited() -> None:
    created = factories.report(uploads=[factories.upload(), factories.upload("notes.txt", b"hi")])
    factories.run_tasks(created.report)
    image, text = created.report.files.order_by("preview_object_id").reverse()
    ana = member(name="ana")
    data = casework.file_preview(actor=ana, evidence=image)
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    with pytest.raises(casework.NoPreview):
        casework.file_preview(actor=ana, evidence=text)
    casework.file_reveal(actor=ana, evidence=image)
    actions_logged = list(
        AuditEntry.objects.filter(target_type="file").values_list("action", "target_id")
    )
    assert actions_logged == [("file.preview", str(image.id)), ("file.reveal", str(image.id))]
    verify()
