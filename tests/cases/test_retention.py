"""Retention: which closed reports are due, crypto-shredding them, the daily task and the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import factories
from tests.test_cli import run
from tipline import storage
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import retention, selectors
from tipline.cases.models import EvidenceFile, Message, Report, ReportKey
from tipline.cases.policies import NotAllowed
from tipline.cases.sealing import KeyDestroyed
from tipline.cases.states import Outcome, ReportState, state_for
from tipline.cases.tasks import ensure_retention_scheduled, retention_run
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.UTC)
ERASED_NOTICE = "This report has been closed and its details erased under our retention policy"


def closed(
    outcome: Outcome, days_ago: float, *, now: datetime = NOW, hold: bool = False, **kw: Any
) -> Report:
    """A report actioned or closed ``days_ago`` before ``now`` (set directly in the database)."""
    report = factories.report(contact={"email": "me@example.org"}, **kw).report
    Report.objects.filter(pk=report.pk).update(
        state=state_for(outcome),
        outcome=outcome,
        closed_at=now - timedelta(days=days_ago),
        legal_hold=hold,
    )
    report.refresh_from_db()
    return report


def due(now: datetime = NOW) -> dict[uuid.UUID, str]:
    return {e.report_id: e.what for e in retention.plan(now)}


def member(role: str) -> StaffUser:
    agency = "National Police Cybercrime Unit" if role == "liaison" else ""
    user: StaffUser = factories.staff(f"{role}-{uuid.uuid4().hex[:6]}", role, agency=agency).user
    return user


# --- plan ---------------------------------------------------------------------------------------


def test_plan_follows_the_policy_of_each_outcome() -> None:
    # workflow.toml: referred 180/730 days, duplicate 30/90, outside_remit 14/90, default 30/365.
    referred_early = closed(Outcome.REFERRED, 100)
    referred_contact = closed(Outcome.REFERRED, 200)
    duplicate_contact = closed(Outcome.DUPLICATE, 31)
    duplicate_all = closed(Outcome.DUPLICATE, 91)
    outside_contact = closed(Outcome.OUTSIDE_REMIT, 15)
    notice_early = closed(Outcome.NOTICE_SENT, 29)
    notice_all = closed(Outcome.NOTICE_SENT, 366)
    at_the_boundary = closed(Outcome.NOT_ACTIONABLE, 30)  # due exactly now: erased
    assert due() == {
        referred_contact.id: "contact",
        duplicate_contact.id: "contact",
        duplicate_all.id: "contact+content",
        outside_contact.id: "contact",
        notice_all.id: "contact+content",
        at_the_boundary.id: "contact",
    }
    assert referred_early.id not in due()
    assert notice_early.id not in due()
    (erasure,) = [e for e in retention.plan(NOW) if e.report_id == duplicate_all.id]
    assert erasure.due_since == duplicate_all.closed_at + timedelta(days=90)
    assert erasure.outcome == Outcome.DUPLICATE


def test_open_reports_held_reports_and_never_closed_reports_are_not_due() -> None:
    held = closed(Outcome.DUPLICATE, 400, hold=True)
    reopened = closed(Outcome.DUPLICATE, 400)
    Report.objects.filter(pk=reopened.pk).update(state=ReportState.IN_REVIEW)
    factories.report()  # never closed: no clock running
    assert due() == {}
    assert held.id not in due(NOW + timedelta(days=10_000))


def test_content_due_after_contact_was_erased_erases_only_content() -> None:
    report = closed(Outcome.DUPLICATE, 31)
    retention.apply(retention.plan(NOW), actor="system", now=NOW)
    later = NOW + timedelta(days=60)
    assert due(later) == {report.id: "content"}


def test_plan_pages_through_reports_closed_at_the_same_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "CHUNK", 2)
    reports = [closed(Outcome.DUPLICATE, 100) for _ in range(5)]
    planned = [e.report_id for e in retention.plan(NOW)]
    assert sorted(planned) == sorted(r.id for r in reports)  # each once, none lost between pages


# --- apply --------------------------------------------------------------------------------------


def test_dry_run_changes_nothing_and_writes_no_audit_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = closed(Outcome.DUPLICATE, 400, now=timezone.now())
    entries = AuditEntry.objects.count()
    call_command("retention", "run", "--dry-run")
    out = capsys.readouterr().out
    assert f"{report.id} contact+content due since" in out
    assert "1 report(s) due; nothing erased" in out
    assert AuditEntry.objects.count() == entries
    assert ReportKey.objects.filter(report=report).count() == 2
    assert selectors.report_details(report)["what_happened"]


def test_apply_shreds_keys_contact_and_audits_each_erasure() -> None:
    contact_only = closed(Outcome.REFERRED, 200)
    everything = closed(Outcome.DUPLICATE, 100)
    summary = retention.apply(retention.plan(NOW), actor="system", now=NOW)
    assert summary == retention.Summary(contact_erased=2, content_erased=1)

    contact_only.refresh_from_db()
    assert contact_only.contact is None
    assert selectors.report_contact(contact_only) is None
    assert contact_only.contact_erased_at == NOW
    assert contact_only.content_erased_at is None
    assert selectors.report_details(contact_only)["what_happened"]  # content lives on

    everything.refresh_from_db()
    assert not ReportKey.objects.filter(report=everything).exists()
    assert everything.contact is None
    assert everything.content_erased_at == NOW
    with pytest.raises(KeyDestroyed):
        selectors.report_details(everything)
    with pytest.raises(KeyDestroyed):
        selectors.report_thread(everything)
    assert selectors.reporter_view(everything).messages == ()

    entries = AuditEntry.objects.filter(action__startswith="retention.").order_by("seq")
    assert [(e.actor, e.action, e.target_id) for e in entries] == [
        ("system", "retention.erase_contact", str(contact_only.id)),
        ("system", "retention.erase_contact", str(everything.id)),
        ("system", "retention.erase_content", str(everything.id)),
    ]
    assert entries.last().details == {  # type: ignore[union-attr]
        "outcome": "duplicate",
        "closed_at": everything.closed_at.isoformat(),  # type: ignore[union-attr]
        "policy_days": 90,
    }
    verify()


def test_a_second_run_erases_nothing() -> None:
    closed(Outcome.DUPLICATE, 100)
    first = retention.plan(NOW)
    retention.apply(first, actor="system", now=NOW)
    entries = AuditEntry.objects.count()
    assert retention.plan(NOW) == []
    # Even replaying the old plan changes nothing: every report is re-checked.
    assert retention.apply(first, actor="system", now=NOW) == retention.Summary(skipped=1)
    assert AuditEntry.objects.count() == entries


def test_apply_rechecks_reports_held_or_reopened_since_the_plan() -> None:
    held = closed(Outcome.DUPLICATE, 100)
    reopened = closed(Outcome.DUPLICATE, 100)
    plan = retention.plan(NOW)
    Report.objects.filter(pk=held.pk).update(legal_hold=True)
    Report.objects.filter(pk=reopened.pk).update(
        state=ReportState.IN_REVIEW, outcome="", closed_at=None
    )
    assert retention.apply(plan, actor="system", now=NOW) == retention.Summary(skipped=2)
    assert ReportKey.objects.count() == 4
    assert not AuditEntry.objects.filter(action__startswith="retention.").exists()


def test_erased_content_takes_its_evidence_objects_with_it_after_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    report = closed(Outcome.DUPLICATE, 100, uploads=[factories.upload()])
    factories.run_tasks(report)
    evidence = EvidenceFile.objects.get(report=report)
    objects = [evidence.object_id, evidence.preview_object_id]
    kept = closed(Outcome.DUPLICATE, 10, uploads=[factories.upload()])
    kept_object = EvidenceFile.objects.get(report=kept).object_id
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        summary = retention.apply(retention.plan(NOW), actor="system", now=NOW)
    assert summary.objects_deleted == 2
    for object_id in objects:
        assert storage.read_object(object_id)  # still there until the erasure commits
    for callback in callbacks:
        callback()
    for object_id in objects:
        with pytest.raises(storage.StorageError):
            storage.read_object(object_id)
    assert storage.read_object(kept_object)
    assert EvidenceFile.objects.filter(report=report).exists()  # the row stays; its key is gone


# --- legal hold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_set_and_lift_a_legal_hold(role: str) -> None:
    report = closed(Outcome.DUPLICATE, 100)
    actor = member(role)
    retention.report_set_legal_hold(actor=actor, report=report, hold=True)
    assert retention.plan(NOW) == []
    retention.report_set_legal_hold(actor=actor, report=report, hold=False)
    assert due() == {report.id: "contact+content"}
    holds = AuditEntry.objects.filter(action="report.legal_hold").order_by("seq")
    assert [(e.actor, e.details) for e in holds] == [
        (actor.username, {"hold": True}),
        (actor.username, {"hold": False}),
    ]
    verify()


@pytest.mark.parametrize("role", ["analyst", "auditor", "liaison"])
def test_other_roles_may_not_set_a_legal_hold(role: str) -> None:
    report = closed(Outcome.DUPLICATE, 100)
    with pytest.raises(NotAllowed):
        retention.report_set_legal_hold(actor=member(role), report=report, hold=True)
    report.refresh_from_db()
    assert not report.legal_hold
    assert not AuditEntry.objects.filter(action="report.legal_hold").exists()


def test_a_disabled_supervisor_may_not_set_a_legal_hold() -> None:
    supervisor = member("supervisor")
    StaffUser.objects.filter(pk=supervisor.pk).update(is_active=False)
    supervisor.refresh_from_db()
    with pytest.raises(NotAllowed):
        retention.report_set_legal_hold(
            actor=supervisor, report=closed(Outcome.DUPLICATE, 1), hold=True
        )


# --- the reporter after erasure -----------------------------------------------------------------


def erased_report() -> tuple[Report, str]:
    created = factories.report(contact={"email": "me@example.org"})
    Report.objects.filter(pk=created.report.pk).update(
        state=ReportState.CLOSED,
        outcome=Outcome.DUPLICATE,
        closed_at=timezone.now() - timedelta(days=400),
    )
    retention.apply(retention.plan(timezone.now()), actor="system")
    return created.report, created.receipt


def test_a_follow_up_to_an_erased_report_is_refused_politely(client: Client) -> None:
    _report, receipt = erased_report()
    page = client.post("/en/follow-up/", {"receipt": receipt})
    assert page.status_code == 200
    assert ERASED_NOTICE in page.content.decode()
    assert 'name="body"' not in page.content.decode()  # no form to write into
    sent = client.post("/en/follow-up/message/", {"receipt": receipt, "body": "One more thing."})
    assert sent.status_code == 410
    assert ERASED_NOTICE in sent.content.decode()
    assert not Message.objects.exists()


def test_the_refusal_is_translated(client: Client) -> None:
    _report, receipt = erased_report()
    page = client.post("/fr/follow-up/", {"receipt": receipt}).content.decode()
    assert "effacés conformément à notre politique de conservation" in page


def test_a_follow_up_racing_the_erasure_is_refused_too(client: Client) -> None:
    # The key went between opening the page and sending: content_erased_at is not what decides.
    report, receipt = erased_report()
    Report.objects.filter(pk=report.pk).update(content_erased_at=None)
    sent = client.post("/en/follow-up/message/", {"receipt": receipt, "body": "One more thing."})
    assert sent.status_code == 410
    assert ERASED_NOTICE in sent.content.decode()


def test_an_api_follow_up_to_an_erased_report_is_refused_politely(client: Client) -> None:
    _report, receipt = erased_report()
    sent = client.post(
        "/api/v1/followup/messages",
        {"receipt": receipt, "body": "One more thing."},
        content_type="application/json",
    )
    assert sent.status_code == 410
    assert sent.json()["error"] == "erased"
    assert ERASED_NOTICE in sent.json()["message"]
    assert not Message.objects.exists()


# --- the daily task -----------------------------------------------------------------------------


def pending_runs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=retention_run.module_path, status="READY"))


def test_the_task_erases_as_system_and_schedules_itself_a_day_later() -> None:
    report = closed(Outcome.DUPLICATE, 400, now=timezone.now())
    before = timezone.now()
    assert retention_run.call() == {
        "contact_erased": 1,
        "content_erased": 1,
        "skipped": 0,
        "objects_deleted": 0,
    }
    assert {e.actor for e in AuditEntry.objects.filter(target_id=str(report.id))} == {"system"}
    (next_run,) = pending_runs()
    assert before + timedelta(hours=24) <= next_run.run_after
    assert next_run.run_after <= timezone.now() + timedelta(hours=24)
    retention_run.call()
    assert len(pending_runs()) == 1  # a run never doubles the chain


def test_serve_starts_the_chain_once() -> None:
    assert ensure_retention_scheduled() is True
    assert ensure_retention_scheduled() is False
    (run_now,) = pending_runs()
    assert run_now.task.run_after is None  # due at once


# --- the command --------------------------------------------------------------------------------


def test_apply_command_erases_in_the_name_of_the_given_actor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = closed(Outcome.DUPLICATE, 400, now=timezone.now())
    call_command("retention", "run", "--apply", "--actor", "ops-anna")
    assert "contact erased: 1, content erased: 1" in capsys.readouterr().out
    actors = AuditEntry.objects.filter(target_id=str(report.id)).values_list("actor", flat=True)
    assert set(actors) == {"ops-anna"}
    verify()


@pytest.mark.parametrize(
    "args",
    [
        ["run"],
        ["run", "--dry-run", "--apply"],
        ["run", "--apply", "--actor", ""],
        ["run", "--apply", "--actor", "x\ny"],
        ["erase", "--apply"],
    ],
)
def test_the_command_refuses_ambiguous_or_malformed_arguments(args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("retention", *args)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("args", [["run"], ["run", "--dry-run", "--apply"]])
def test_the_cli_exits_with_an_error_without_exactly_one_mode(
    tmp_path: Path, args: list[str]
) -> None:
    result = run("retention", *args, data_dir=tmp_path)
    assert result.returncode != 0
    assert "--dry-run" in result.stderr


def test_the_daily_run_also_clears_expired_console_sessions() -> None:
    from django.contrib.sessions.models import Session

    Session.objects.create(
        session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(minutes=1)
    )
    Session.objects.create(
        session_key="y" * 32, session_data="", expire_date=timezone.now() + timedelta(minutes=30)
    )
    retention_run.call()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
