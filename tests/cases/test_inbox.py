"""Issue 15: nothing a reporter says goes unseen. The inbox (unread per person and per team), a
rise in tier that re-opens a report that had left the queue, and the queue's views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import actions, inbox, transitions
from tipline.cases.models import Decision, InboxSeen, Message, Report
from tipline.cases.queue import QueueFilters, View, deadline_of, queue_page
from tipline.cases.states import DecisionStatus, MessageAuthor, Outcome, ReportState
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

URGENT = "New account again. He says he will kill me tonight, he knows where I live."


def person(name: str, role: str = "analyst", agency: str = "") -> StaffUser:
    user: StaffUser = factories.staff(name, role, agency=agency).user
    return user


def scored(category: str = "cyberstalking", text: str = "He sends messages every night.") -> Report:
    report = factories.report(category, text=text).report
    factories.run_tasks(report)
    report.refresh_from_db()
    return report


def closed(report: Report, by: StaffUser) -> Report:
    """Through the real path: claim, then a decision that needs no second review."""
    actions.report_claim(actor=by, report=report)
    transitions.report_decide(actor=by, report=report, outcome=Outcome.DUPLICATE)
    report.refresh_from_db()
    assert report.state == ReportState.CLOSED
    return report


def follow_up(report: Report, text: str, *, files: int = 0) -> None:
    actions.message_add(
        report=report,
        author=MessageAuthor.REPORTER,
        body=text,
        uploads=[factories.upload() for _ in range(files)],
    )
    factories.run_tasks(report)
    report.refresh_from_db()


# --- the inbox -----------------------------------------------------------------------------------


def test_a_follow_up_on_a_closed_report_is_unread_for_every_caseworker() -> None:
    ana, ben = person("ana"), person("ben")
    report = closed(scored(), ana)
    assert inbox.unread_count(ana) == 0
    follow_up(report, "He wrote again from another account.", files=1)
    assert inbox.unread_count(ana) == inbox.unread_count(ben) == 1
    entries, more = inbox.inbox_page(ana)
    assert more is None
    (entry,) = entries
    assert entry.report_id == report.id
    assert entry.files == 1
    assert entry.state == ReportState.CLOSED  # the message alone re-opens nothing
    assert entry.unread_by_me
    assert entry.unread_by_team


def test_read_marks_are_per_person_and_the_team_view_is_what_nobody_read() -> None:
    ana, ben = person("ana"), person("ben")
    first, second = scored(), scored()
    follow_up(first, "One more thing.")
    follow_up(second, "And another.")
    inbox.inbox_mark_read(actor=ana, report=first)
    assert inbox.unread_count(ana) == 1
    assert inbox.unread_count(ben) == 2
    mine, _ = inbox.inbox_page(ben, show="mine")
    team, _ = inbox.inbox_page(ben, show="team")
    everything, _ = inbox.inbox_page(ben, show="all")
    assert {e.report_id for e in mine} == {first.id, second.id}
    assert [e.report_id for e in team] == [second.id]  # ana read the first
    assert len(everything) == 2
    # A later message is unread again, for everyone.
    follow_up(first, "Now he is calling.")
    assert inbox.unread_count(ana) == 2


def test_a_read_mark_never_moves_back() -> None:
    ana = person("ana")
    report = scored()
    follow_up(report, "Hello again.")
    inbox.inbox_mark_read(actor=ana, report=report)
    inbox.inbox_mark_read(actor=ana, report=report, up_to=timezone.now() - timedelta(days=1))
    assert inbox.unread_count(ana) == 0
    assert InboxSeen.objects.filter(staff=ana).count() == 1


def test_messages_from_the_hotline_are_not_inbox_items() -> None:
    ana = person("ana")
    report = scored()
    actions.message_add(report=report, author=MessageAuthor.HOTLINE, body="Thanks.", actor=ana)
    assert inbox.unread_count(ana) == 0


@pytest.mark.parametrize("role", ["auditor", "liaison"])
def test_roles_outside_casework_have_no_inbox(role: str) -> None:
    other = person("other", role, agency="Metro Police" if role == "liaison" else "")
    report = scored()
    follow_up(report, "Something new.")
    assert inbox.unread_count(other) == 0
    assert inbox.inbox_page(other, show="all")[0] == ()
    inbox.inbox_mark_read(actor=other, report=report)
    assert not InboxSeen.objects.exists()


def test_a_disabled_account_counts_nothing() -> None:
    ana = person("ana")
    follow_up(scored(), "Something new.")
    StaffUser.objects.filter(pk=ana.pk).update(is_active=False)
    ana.refresh_from_db()
    assert inbox.unread_count(ana) == 0


def test_inbox_pages_continue_before_the_last_entry() -> None:
    ana = person("ana")
    report = scored()
    for i in range(5):
        follow_up(report, f"Message {i}.")
    first, before = inbox.inbox_page(ana, size=3)
    assert len(first) == 3
    assert before is not None
    rest, last = inbox.inbox_page(ana, size=3, before=before)
    assert len(rest) == 2
    assert last is None
    times = [e.received_at for e in first + rest]
    assert times == sorted(times, reverse=True)


# --- a rise in tier ------------------------------------------------------------------------------


def test_new_information_that_raises_the_tier_reopens_a_closed_report() -> None:
    ana = person("ana")
    report = closed(scored(), ana)
    before = report.tier
    assert before > "P1"
    follow_up(report, URGENT)
    assert report.tier == "P1"
    assert report.state == ReportState.IN_REVIEW  # ana still holds it
    assert report.outcome == ""
    assert report.closed_at is None
    assert report.tier_raised_from == before
    assert report.tier_raise_reopened
    assert report.tier_raised_at is not None
    entry = AuditEntry.objects.filter(action="report.reopened").get()
    assert entry.actor == "system"
    assert entry.target_id == str(report.id)
    assert entry.details["reason"] == "tier_raised"
    assert entry.details["tier"] == [before, "P1"]
    assert entry.details["state"] == [ReportState.CLOSED.value, ReportState.IN_REVIEW.value]
    verify()
    # Back in the default working queue, at its new tier, with the rise on its row.
    (row,) = queue_page(ana, QueueFilters()).rows
    assert (row.id, row.tier, row.tier_raised_from) == (report.id, "P1", before)
    # The deadline runs from the rise: an hour from now, not overdue since it arrived.
    assert row.deadline == report.tier_raised_at + timedelta(hours=1)
    assert not row.overdue(timezone.now())


def test_an_unassigned_actioned_report_comes_back_as_new() -> None:
    ana = person("ana")
    report = scored()
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.ACTIONED, outcome=Outcome.NOTICE_SENT, closed_at=timezone.now()
    )
    follow_up(report, URGENT)
    assert report.state == ReportState.NEW
    assert report.tier == "P1"
    assert [r.id for r in queue_page(ana, QueueFilters()).rows] == [report.id]


def test_a_rise_on_an_open_report_is_marked_but_changes_no_state() -> None:
    report = scored()
    follow_up(report, URGENT)
    assert report.state == ReportState.NEW
    assert report.tier_raised_from
    assert not report.tier_raise_reopened
    assert not AuditEntry.objects.filter(action="report.reopened").exists()


def test_the_first_score_is_no_rise() -> None:
    report = scored(text=URGENT)
    assert report.tier == "P1"
    assert report.tier_raised_from == ""
    assert report.tier_raised_at is None


def test_information_that_does_not_raise_the_tier_leaves_a_closed_report_closed() -> None:
    ana = person("ana")
    report = closed(scored(), ana)
    follow_up(report, "Thank you for your help.")
    assert report.state == ReportState.CLOSED
    assert report.tier_raised_at is None
    assert not AuditEntry.objects.filter(action="report.reopened").exists()


# --- queue views ---------------------------------------------------------------------------------


def ids(user: StaffUser, view: str) -> set[object]:
    return {r.id for r in queue_page(user, QueueFilters(view=view)).rows}


def test_mine_is_what_i_hold() -> None:
    ana, ben = person("ana"), person("ben")
    mine, theirs, nobody = scored(), scored(), scored()
    actions.report_claim(actor=ana, report=mine)
    actions.report_claim(actor=ben, report=theirs)
    assert ids(ana, View.MINE) == {mine.id}
    assert ids(ben, View.MINE) == {theirs.id}
    assert nobody.id in ids(ana, View.ALL)


def test_awaiting_my_second_review_excludes_my_own_proposals() -> None:
    ana, ben = person("ana"), person("ben")
    report = scored()
    actions.report_claim(actor=ana, report=report)
    Report.objects.filter(pk=report.pk).update(state=ReportState.AWAITING_SECOND_REVIEW)
    Decision.objects.create(
        report=report,
        outcome=Outcome.NOTICE_SENT,
        status=DecisionStatus.PENDING,
        needs_second_review=True,
        proposed_by=ana,
    )
    assert ids(ben, View.MY_REVIEW) == {report.id}
    assert ids(ana, View.MY_REVIEW) == set()


def test_overdue_uses_each_tiers_deadline_and_the_rise() -> None:
    ana = person("ana")
    late = scored("child_in_danger", text="A child is alone.")
    Report.objects.filter(pk=late.pk).update(
        tier="P1", created_at=timezone.now() - timedelta(hours=2)
    )
    raised = scored()
    Report.objects.filter(pk=raised.pk).update(
        tier="P1",
        created_at=timezone.now() - timedelta(days=3),
        tier_raised_from="P3",
        tier_raised_at=timezone.now() - timedelta(minutes=10),
    )
    young = scored()
    done = scored("child_in_danger", text="A child is alone.")
    Report.objects.filter(pk=done.pk).update(
        tier="P1", state=ReportState.CLOSED, created_at=timezone.now() - timedelta(hours=5)
    )
    assert ids(ana, View.OVERDUE) == {late.id}
    assert young.id not in ids(ana, View.OVERDUE)


def test_new_information_lists_reports_with_unread_messages_in_any_state() -> None:
    ana, ben = person("ana"), person("ben")
    report = closed(scored(), ana)
    quiet = scored()
    follow_up(report, "One more thing.")
    assert ids(ana, View.NEW_INFORMATION) == {report.id}
    assert quiet.id not in ids(ana, View.NEW_INFORMATION)
    inbox.inbox_mark_read(actor=ana, report=report)
    assert ids(ana, View.NEW_INFORMATION) == set()
    assert ids(ben, View.NEW_INFORMATION) == {report.id}


def test_deadline_of_runs_from_arrival_or_from_the_rise() -> None:
    now = timezone.now()
    assert deadline_of("P2", now, None) == now + timedelta(hours=24)
    assert deadline_of("P1", now - timedelta(days=9), now) == now + timedelta(hours=1)


def test_unread_is_tracked_within_the_window_and_older_messages_stay_listed(
    settings: object,
) -> None:
    ana = person("ana")
    report = scored()
    follow_up(report, "An old message.")
    Message.objects.filter(report=report).update(created_at=timezone.now() - timedelta(days=31))
    assert inbox.unread_count(ana) == 0
    assert inbox.inbox_page(ana, show="mine")[0] == ()
    assert [e.report_id for e in inbox.inbox_page(ana, show="all")[0]] == [report.id]
    settings.TIPLINE_INBOX_DAYS = 60  # type: ignore[attr-defined]
    assert inbox.unread_count(ana) == 1
