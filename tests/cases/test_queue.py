"""The queue: working order, filters, keyset pages, and no sealed column ever read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tipline.cases import actions
from tipline.cases.models import Report
from tipline.cases.queue import Cursor, QueueFilters, queue_page
from tipline.cases.states import ReportState
from tipline.staff.models import StaffUser
from tipline.triage import tiers

pytestmark = pytest.mark.django_db


def analyst(name: str = "ana") -> StaffUser:
    user: StaffUser = factories.staff(name, "analyst").user
    return user


def make(category: str, *, age: timedelta, **fields: object) -> Report:
    report = factories.report(category).report
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - age, **fields)
    report.refresh_from_db()
    return report


def test_order_is_tier_then_priority_then_oldest() -> None:
    old_other = make("other", age=timedelta(days=20))
    young_child = make("child_in_danger", age=timedelta(minutes=5))
    old_child = make("child_in_danger", age=timedelta(hours=2))
    sextortion = make("sextortion", age=timedelta(hours=1))  # P2, priority 75
    luring = make("luring", age=timedelta(days=2))  # P2, priority 70
    rows = queue_page(analyst(), QueueFilters()).rows
    assert [r.id for r in rows] == [
        old_child.id,
        young_child.id,
        sextortion.id,
        luring.id,
        old_other.id,
    ]


def test_deadlines_and_overdue_come_from_the_tier_table() -> None:
    make("child_in_danger", age=timedelta(hours=2))
    make("other", age=timedelta(days=2))
    now = timezone.now()
    p1, p4 = queue_page(analyst(), QueueFilters()).rows
    assert p1.deadline == p1.created_at + timedelta(hours=1)
    assert p1.overdue(now)
    assert p4.deadline == p4.created_at + timedelta(days=30)
    assert not p4.overdue(now)
    assert {
        tiers.Tier.P1: timedelta(hours=1),
        tiers.Tier.P2: timedelta(hours=24),
        tiers.Tier.P3: timedelta(days=7),
        tiers.Tier.P4: timedelta(days=30),
    } == tiers.DEADLINES


def test_filters_by_category_state_assignee_and_date() -> None:
    ana, bo = analyst("ana"), analyst("bo")
    mine = make("luring", age=timedelta(days=1))
    actions.report_claim(actor=ana, report=mine)
    theirs = make("luring", age=timedelta(days=1))
    actions.report_claim(actor=bo, report=theirs)
    waiting = make("cyberstalking", age=timedelta(days=10))

    def ids(**kw: object) -> set[uuid.UUID]:
        return {r.id for r in queue_page(ana, QueueFilters(**kw)).rows}  # type: ignore[arg-type]

    assert ids(category="luring") == {mine.id, theirs.id}
    assert ids(state=ReportState.NEW) == {waiting.id}
    assert ids(state=ReportState.IN_REVIEW) == {mine.id, theirs.id}
    assert ids(assignee="me") == {mine.id}
    assert ids(assignee="unassigned") == {waiting.id}
    assert ids(assignee="anyone") == {mine.id, theirs.id, waiting.id}
    three_days_ago = timezone.now() - timedelta(days=3)
    assert ids(created_from=three_days_ago) == {mine.id, theirs.id}
    assert ids(created_before=three_days_ago) == {waiting.id}


def test_keyset_pages_cover_every_report_once_even_with_equal_times() -> None:
    same_time = timezone.now() - timedelta(hours=3)
    made = [factories.report(code).report for code in ["other", "luring", "csam"] * 4]
    Report.objects.filter(pk__in=[r.pk for r in made[:6]]).update(created_at=same_time)
    user = analyst()
    seen: list[uuid.UUID] = []
    after = None
    pages = 0
    while True:
        page = queue_page(user, QueueFilters(), after=after, size=5)
        seen += [r.id for r in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        after = Cursor.decode(page.next_cursor.encode())
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12
    whole = [r.id for r in queue_page(user, QueueFilters(), size=100).rows]
    assert seen == whole


def test_the_queue_reads_no_sealed_column_and_uses_no_offset() -> None:
    factories.report(contact={"contact_email": "me@example.org"})
    user = analyst()
    first = queue_page(user, QueueFilters(), size=1)
    factories.report()
    with CaptureQueriesContext(connection) as queries:
        queue_page(user, QueueFilters(), after=first.rows[0].cursor)
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "payload" not in sql
    assert '"contact"' not in sql
    assert "offset" not in sql


@pytest.mark.parametrize("role", ["liaison", "auditor"])
def test_roles_without_content_see_an_empty_queue(role: str) -> None:
    factories.report("child_in_danger")
    user = factories.staff(role, role, agency="Metro Police" if role == "liaison" else "").user
    assert queue_page(user, QueueFilters()).rows == ()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P1",
        "P9.1.1.00000000000000000000000000000000",
        "P1.x.1.ab",
        "P1.1.1.nothex",
        "P1.1.-5.00000000000000000000000000000000",
        "P1.1." + "9" * 30 + ".0" * 2,
    ],
)
def test_malformed_cursors_are_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the one error decode raises
        Cursor.decode(text)


def test_a_cursor_round_trips() -> None:
    cursor = Cursor("P2", 75, datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor


def test_filters_by_country_and_by_country_not_said() -> None:
    french = make("luring", age=timedelta(days=1), country="FR")
    indian = make("luring", age=timedelta(days=2), country="IN")
    unsaid = make("other", age=timedelta(days=3))
    user = analyst()

    def ids(country: str | None) -> set[uuid.UUID]:
        return {r.id for r in queue_page(user, QueueFilters(country=country)).rows}

    assert ids("FR") == {french.id}
    assert ids("") == {unsaid.id}
    assert ids(None) == {french.id, indian.id, unsaid.id}
    assert ids("DE") == set()
    assert {r.id: r.country for r in queue_page(user, QueueFilters()).rows}[indian.id] == "IN"


def _walk(user: StaffUser, filters: QueueFilters, size: int) -> list[uuid.UUID]:
    seen: list[uuid.UUID] = []
    after = None
    while True:
        page = queue_page(user, filters, after=after, size=size)
        seen += [r.id for r in page.rows]
        if page.next_cursor is None:
            return seen
        after = Cursor.decode(page.next_cursor.encode())


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_every_page_of_a_queue_full_of_ties_gives_each_report_once_in_order(size: int) -> None:
    # Regression guard for the banded keyset reads: pages must cross (tier, priority) groups and
    # tiers, and rows equal in tier, priority and created_at are told apart by id alone.
    same_time = timezone.now() - timedelta(hours=5)
    ana = analyst()
    made: list[Report] = []
    for n, code in enumerate(["child_in_danger", "luring", "sextortion", "csam", "other"] * 4):
        made.append(make(code, age=timedelta(hours=n % 3), country="FR" if n % 2 else ""))
    Report.objects.filter(pk__in=[r.pk for r in made[::3]]).update(created_at=same_time)
    Report.objects.filter(pk__in=[r.pk for r in made[1::4]]).update(priority=70, tier="P2")
    Report.objects.filter(pk__in=[r.pk for r in made[2::5]]).update(assigned_to=ana)
    expected_order = sorted(
        Report.objects.all(), key=lambda r: (r.tier, -r.priority, r.created_at, r.id)
    )
    for filters in [
        QueueFilters(),
        QueueFilters(country="FR"),
        QueueFilters(country=""),
        QueueFilters(category="luring"),
        QueueFilters(state=ReportState.NEW, assignee="unassigned"),
        QueueFilters(assignee="me"),
    ]:
        wanted = [
            r.id
            for r in expected_order
            if (filters.country is None or r.country == filters.country)
            and (not filters.category or r.category == filters.category)
            and (filters.assignee != "me" or r.assigned_to_id == ana.pk)
            and (filters.assignee != "unassigned" or r.assigned_to_id is None)
        ]
        assert wanted, filters
        assert _walk(ana, filters, size) == wanted, filters


def test_the_default_queue_holds_open_reports_and_any_state_shows_the_rest() -> None:
    user = analyst()
    open_ids = {
        make("other", age=timedelta(hours=1)).id,
        make("other", age=timedelta(hours=2), state=ReportState.IN_REVIEW).id,
        make("other", age=timedelta(hours=3), state=ReportState.AWAITING_SECOND_REVIEW).id,
    }
    closed = make("other", age=timedelta(hours=4), state=ReportState.CLOSED).id
    actioned = make("other", age=timedelta(hours=5), state=ReportState.ACTIONED).id

    def ids(state: str) -> set[uuid.UUID]:
        return {r.id for r in queue_page(user, QueueFilters(state=state)).rows}

    assert ids("") == open_ids
    assert ids("any") == open_ids | {closed, actioned}
    assert ids("closed") == {closed}
