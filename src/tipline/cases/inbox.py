"""The console inbox: what reporters added to their reports, and who has read it.

A reporter's follow-up (a message, with or without files) can arrive on any report, including one
that was actioned or closed and so left the queue; the inbox lists them all, newest first, so
nothing a reporter says goes unseen. Nothing here decrypts: an entry names the report, when and
how many files came with the message, never its words (the case view shows those, audited).

Read marks (``InboxSeen``) are per person and report: opening the case view, or "Mark as read"
in the inbox, marks everything received so far as read by that person. An entry is unread by the
team while nobody has read it. Read marks are working state, like a mail client's, not a decision
about the report, so they are not written to the audit log (the case view records its own read).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from tipline.cases.models import EvidenceFile, InboxSeen, Message, Report
from tipline.cases.policies import ReportPolicy
from tipline.cases.states import MessageAuthor

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

PAGE_SIZE = 50


@dataclass(frozen=True)
class InboxEntry:
    message_id: uuid.UUID
    report_id: uuid.UUID
    received_at: datetime
    files: int
    category: str
    state: str
    tier: str
    tier_raised_from: str
    unread_by_me: bool
    unread_by_team: bool


def _read_by(staff: StaffUser | None) -> Exists:
    """Whether a read mark covers the message (anyone's when ``staff`` is None)."""
    marks = InboxSeen.objects.filter(
        report=OuterRef("report_id"), seen_at__gte=OuterRef("created_at")
    )
    if staff is not None:
        marks = marks.filter(staff=staff)
    return Exists(marks)


def _reporter_messages(user: StaffUser) -> QuerySet[Message]:
    if not ReportPolicy.may_read_inbox(user):
        return Message.objects.none()
    messages = Message.objects.filter(author=MessageAuthor.REPORTER)
    if not ReportPolicy.sees_every_report(user):
        messages = messages.filter(report__in=ReportPolicy.visible(user).values("pk"))
    return messages


def window_start() -> datetime:
    """Unread is tracked for messages received since this moment (``TIPLINE_INBOX_DAYS``).

    Knowing that nothing is unread means looking at every message in the window, on every
    console page (the count beside "Inbox"), so the window bounds that work however many years
    of messages the hotline keeps (docs/BENCHMARKS.md, "Inbox"). Older messages stay in the
    inbox's "All" view and in their reports' threads.
    """
    return timezone.now() - timedelta(days=int(settings.TIPLINE_INBOX_DAYS))


def _unread(user: StaffUser) -> QuerySet[Message]:
    return _reporter_messages(user).filter(created_at__gte=window_start()).filter(~_read_by(user))


def unread_count(user: StaffUser) -> int:
    """Reporter messages this person has not read yet (the number beside "Inbox")."""
    return _unread(user).count()


def unread_report_ids(user: StaffUser) -> QuerySet[Message, Any]:
    """The reports with a message this person has not read (the queue's "New information")."""
    return _unread(user).values("report_id")


def inbox_page(
    user: StaffUser, *, show: str = "mine", before: datetime | None = None, size: int = PAGE_SIZE
) -> tuple[tuple[InboxEntry, ...], datetime | None]:
    """Entries newest first: ``show`` is "mine" (unread by me), "team" (unread by anyone) or
    "all". Returns the entries and the ``before`` of the next page (None on the last)."""
    messages = _reporter_messages(user).annotate(
        read_by_me=_read_by(user), read_by_team=_read_by(None)
    )
    if show in ("mine", "team"):
        messages = messages.filter(created_at__gte=window_start())
    if show == "mine":
        messages = messages.filter(read_by_me=False)
    elif show == "team":
        messages = messages.filter(read_by_team=False)
    if before is not None:
        messages = messages.filter(created_at__lt=before)
    found = list(
        messages.select_related("report")
        .only(
            "id",
            "created_at",
            "report__id",
            "report__category",
            "report__state",
            "report__tier",
            "report__tier_raised_from",
        )
        .order_by("-created_at", "-id")[: size + 1]
    )
    page = found[:size]
    # Counted for the page's messages only: a COUNT joined into the query above would group
    # every message in the window before the LIMIT applied.
    files = dict(
        EvidenceFile.objects.filter(message_id__in=[m.id for m in page])
        .values_list("message_id")
        .annotate(n=Count("id"))
        .values_list("message_id", "n")
    )
    entries = tuple(
        InboxEntry(
            message_id=m.id,
            report_id=m.report.id,
            received_at=m.created_at,
            files=files.get(m.id, 0),
            category=m.report.category,
            state=m.report.state,
            tier=m.report.tier,
            tier_raised_from=m.report.tier_raised_from,
            unread_by_me=not m.read_by_me,
            unread_by_team=not m.read_by_team,
        )
        for m in page
    )
    more = len(found) > size and entries
    return entries, (entries[-1].received_at if more else None)


def inbox_mark_read(*, actor: StaffUser, report: Report, up_to: datetime | None = None) -> None:
    """What the reporter added to ``report`` until ``up_to`` (default: now) counts as read by
    ``actor``. The case view passes the moment before it read the thread, so a message that
    arrives while the page is built stays unread. A mark never moves back."""
    if not ReportPolicy.may_read_inbox(actor):
        return
    seen_at = up_to or timezone.now()
    with transaction.atomic():
        mark, created = InboxSeen.objects.select_for_update().get_or_create(
            report=report, staff=actor, defaults={"seen_at": seen_at}
        )
        if not created and mark.seen_at < seen_at:
            mark.seen_at = seen_at
            mark.save(update_fields=["seen_at"])
