"""The console queue: reports in working order, read without decrypting anything.

Order: tier (P1 first), then priority (highest first), then age (oldest first), then id, so the
order is total and a page boundary is a single position. Pages continue from a cursor holding
that position (keyset pagination): page 10,000 costs what page 1 costs, and no OFFSET is used.
Only plain columns are read (``only()``), never the sealed payload or contact blobs.

Why a page after a cursor may take up to three queries: the order mixes directions (priority
descending, the rest ascending), so "after this position" cannot be one row-value comparison, and
the equivalent OR of four conditions defeats the index (PostgreSQL then reads the index from the
start and discards everything before the cursor, which at page 10,000 is most of the table). The
rows after a position fall into three bands that are each one contiguous range of the queue
indexes: the rest of the cursor's (tier, priority) group, the lower priorities of its tier, and
the later tiers. Each band is read in order with its own LIMIT, and later bands are read only when
the earlier ones did not fill the page, so a typical page is still a single query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from tipline.cases.inbox import unread_report_ids
from tipline.cases.models import Decision, Report
from tipline.cases.policies import ReportPolicy
from tipline.cases.states import DecisionStatus, ReportState
from tipline.triage import tiers

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

PAGE_SIZE = 50
ANY_STATE = "any"
OPEN_STATES = (
    ReportState.NEW.value,
    ReportState.IN_REVIEW.value,
    ReportState.AWAITING_SECOND_REVIEW.value,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIERS = {t.value for t in tiers.Tier}


@dataclass(frozen=True)
class Cursor:
    """The position of the last row shown; the next page starts after it."""

    tier: str
    priority: int
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        micros = (self.created_at - _EPOCH) // timedelta(microseconds=1)
        return f"{self.tier}.{self.priority}.{micros}.{self.id.hex}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse an encoded cursor; raises ValueError for anything else."""
        parts = text.split(".")
        if len(parts) != 4 or parts[0] not in _TIERS or len(text) > 80:
            raise ValueError("malformed cursor")
        tier, priority, micros, hex_id = parts
        if not (priority.isdigit() and micros.isdigit() and len(micros) <= 17):
            raise ValueError("malformed cursor")
        return cls(
            tier=tier,
            priority=int(priority),
            created_at=_EPOCH + timedelta(microseconds=int(micros)),
            id=uuid.UUID(hex=hex_id),
        )


class View:
    """The queue's tabs: named slices of the work, each one click away."""

    ALL = ""  # the working queue (or what the state filter says)
    MINE = "mine"  # open reports assigned to me
    MY_REVIEW = "review"  # decisions waiting for a second review I may give (not my own)
    OVERDUE = "overdue"  # open reports past their deadline
    NEW_INFORMATION = "new"  # reports, in any state, with a reporter message I have not read


VIEWS = (View.ALL, View.MINE, View.MY_REVIEW, View.OVERDUE, View.NEW_INFORMATION)
_OWN_STATES = frozenset({View.MY_REVIEW, View.NEW_INFORMATION})


def deadline_of(tier: str, created_at: datetime, raised_at: datetime | None) -> datetime:
    """When a report of ``tier`` must have been looked at: from its arrival, or from the moment
    new information raised it to this tier (a report raised to P1 today is due within the hour,
    not overdue since the day it arrived)."""
    return (raised_at or created_at) + tiers.DEADLINES[tiers.Tier(tier)]


@dataclass(frozen=True)
class QueueFilters:
    view: str = View.ALL
    category: str = ""
    state: str = ""  # "" = open reports (the working queue), ANY_STATE, or one ReportState
    assignee: str = "anyone"  # "anyone", "me" or "unassigned"
    country: str | None = None  # None: any; "": not said; else an ISO 3166-1 alpha-2 code
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


@dataclass(frozen=True)
class QueueRow:
    id: uuid.UUID
    category: str
    tier: str
    priority: int
    state: str
    created_at: datetime
    assignee: str | None
    country: str = ""
    tier_raised_from: str = ""
    tier_raised_at: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return deadline_of(self.tier, self.created_at, self.tier_raised_at)

    def waited(self, now: datetime) -> timedelta:
        return now - self.created_at

    def overdue(self, now: datetime) -> bool:
        # A deadline is for looking at a report; once actioned or closed it no longer runs.
        return self.state in OPEN_STATES and now > self.deadline

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tier, self.priority, self.created_at, self.id)


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    next_cursor: Cursor | None


def _bands_after(c: Cursor) -> tuple[Q, ...]:
    """Rows strictly after c in (tier asc, priority desc, created_at asc, id asc), in order.

    Each band is a single index range: equality on (tier, priority) or tier, then a range. The
    ``created_at >= c`` in the first band is implied by the OR beside it; it is spelt out so the
    database can start the index scan there instead of at the start of the group.
    """
    return (
        Q(tier=c.tier, priority=c.priority, created_at__gte=c.created_at)
        & (Q(created_at__gt=c.created_at) | Q(id__gt=c.id)),
        Q(tier=c.tier, priority__lt=c.priority),
        Q(tier__gt=c.tier),
    )


def _overdue(now: datetime) -> Q:
    """Open reports whose deadline (``deadline_of``) has passed, one condition per tier."""
    late = Q()
    for tier, span in tiers.DEADLINES.items():
        late |= Q(tier=tier.value) & (
            Q(tier_raised_at__isnull=True, created_at__lt=now - span)
            | Q(tier_raised_at__lt=now - span)
        )
    return Q(state__in=OPEN_STATES) & late


def _view(user: StaffUser, reports: QuerySet[Report], view: str) -> QuerySet[Report]:
    if view == View.MINE:
        return reports.filter(assigned_to=user)
    if view == View.MY_REVIEW:
        pending = Decision.objects.filter(status=DecisionStatus.PENDING).exclude(proposed_by=user)
        return reports.filter(
            state=ReportState.AWAITING_SECOND_REVIEW, pk__in=pending.values("report_id")
        )
    if view == View.OVERDUE:
        return reports.filter(_overdue(timezone.now()))
    if view == View.NEW_INFORMATION:
        return reports.filter(pk__in=unread_report_ids(user))
    return reports


def _filtered(user: StaffUser, filters: QueueFilters) -> QuerySet[Report]:
    reports = ReportPolicy.visible(user)
    if filters.view:
        reports = _view(user, reports, filters.view)
    if filters.category:
        reports = reports.filter(category=filters.category)
    if filters.state == ANY_STATE or filters.view in _OWN_STATES:
        # These tabs decide their own states: new information is shown whatever the state.
        pass
    elif filters.state:
        reports = reports.filter(state=filters.state)
    else:
        # The working queue: what still needs someone. Actioned and closed reports are one
        # filter away ("any state" or the state itself).
        reports = reports.filter(state__in=OPEN_STATES)
    if filters.country is not None:
        reports = reports.filter(country=filters.country)
    if filters.assignee == "me":
        reports = reports.filter(assigned_to=user)
    elif filters.assignee == "unassigned":
        reports = reports.filter(assigned_to__isnull=True)
    if filters.created_from is not None:
        reports = reports.filter(created_at__gte=filters.created_from)
    if filters.created_before is not None:
        reports = reports.filter(created_at__lt=filters.created_before)
    return reports


def _read(reports: QuerySet[Report], limit: int) -> list[Report]:
    return list(
        reports.order_by("tier", "-priority", "created_at", "id")
        .select_related("assigned_to")
        .only(
            "id",
            "category",
            "tier",
            "priority",
            "state",
            "country",
            "created_at",
            "tier_raised_from",
            "tier_raised_at",
            "assigned_to__username",
        )[:limit]
    )


def queue_page(
    user: StaffUser,
    filters: QueueFilters,
    *,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> QueuePage:
    reports = _filtered(user, filters)
    if after is None:
        found = _read(reports, size + 1)
    else:
        found = []
        for band in _bands_after(after):
            found += _read(reports.filter(band), size + 1 - len(found))
            if len(found) > size:
                break
    rows = tuple(
        QueueRow(
            id=r.id,
            category=r.category,
            tier=r.tier,
            priority=r.priority,
            state=r.state,
            created_at=r.created_at,
            assignee=r.assigned_to.username if r.assigned_to else None,
            country=r.country,
            tier_raised_from=r.tier_raised_from,
            tier_raised_at=r.tier_raised_at,
        )
        for r in found[:size]
    )
    next_cursor = rows[-1].cursor if len(found) > size and rows else None
    return QueuePage(rows=rows, next_cursor=next_cursor)


def next_unclaimed(user: StaffUser) -> uuid.UUID | None:
    """The top of this person's working queue that nobody holds: "next case" (issue 15).

    The queue's own order (tier, priority, then oldest first, so the nearest deadline within a
    tier), among reports this person may see that are new or in review and unassigned. A report
    awaiting second review is not "next": it waits for a reviewer, not for someone to claim it.
    """
    found = (
        ReportPolicy.visible(user)
        .filter(
            assigned_to__isnull=True,
            state__in=(ReportState.NEW.value, ReportState.IN_REVIEW.value),
        )
        .order_by("tier", "-priority", "created_at", "id")
        .values_list("id", flat=True)
        .first()
    )
    return found
