"""The queue: working order, filters, keyset pages, and no sealed column ever read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tipline.cases import actions, categories
from tipline.cases.models import Report
from tipline.cases.queue import Cursor, QueueFilters, queue_page
from tipline.cases.states import ReportState
from tipline.staff.models import StaffUser

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
        categories.Tier.P1: timedelta(hours=1),
        categories.Tier.P2: timedelta(hours=24),
        categories.Tier.P3: timedelta(days=7),
        categories.Tier.P4: timedelta(days=30),
    } == categories.DEADLINES


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
