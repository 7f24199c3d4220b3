"""From a report's plaintext columns and its audit entries to one ``ReportFact`` row.

Where each timestamp lives today (nothing here opens a sealed field):

* received: ``Report.created_at``; category, country, tier, state, outcome: ``Report`` columns;
  the channel through ``channel_of`` (the one place that maps it).
* first look ("first triage" by a person): the first ``report.view`` audit entry by staff.
* claimed: the first ``report.claim`` or ``report.assign`` entry that moved the report from new
  to in review (its ``details.state``), with who took it (``details.to``).
* decided: the first ``report.decided`` or ``report.review_requested`` (an outcome proposed).
* concluded: the first ``report.decided`` or ``report.decision_confirmed`` (the outcome took
  effect); a reopened report keeps its first conclusion.
* referred: the earliest ``Referral.created_at``.
* four eyes: the first ``Decision`` that needed a second review and got one (confirmed or sent
  back): ``reviewed_at - proposed_at``.
* known material: any ``FileMatch`` on the report's files.
* re-report: a URL or file-hash identifier digest (``ReportIdentifier``) that an earlier report
  also named.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery

from tipline.audit.chain import SYSTEM
from tipline.audit.models import AuditEntry
from tipline.cases.models import Decision, Referral, Report, ReportIdentifier
from tipline.cases.queue import deadline_of
from tipline.cases.states import DecisionStatus, ReportState
from tipline.matching.models import FileMatch
from tipline.metrics import tally
from tipline.metrics.models import ReportFact

# The audit actions a fact depends on: an entry with one of these marks its report for refresh.
FACT_ACTIONS = (
    "report.view",
    "report.claim",
    "report.assign",
    "report.decided",
    "report.review_requested",
    "report.decision_confirmed",
    "report.decision_returned",
    "report.decision_withdrawn",
    "report.reopened",
    "report.triaged",
)
_PROPOSED = ("report.decided", "report.review_requested")
_CONCLUDED = ("report.decided", "report.decision_confirmed")
REREPORT_KINDS = ("url", "sha256")
OPEN_STATES = (ReportState.NEW, ReportState.IN_REVIEW, ReportState.AWAITING_SECOND_REVIEW)


def channel_of(channel: str) -> str:
    """The reporting channel of a report: the single place that maps ``Report.channel``.

    Today a report says ``web`` (the form) or ``api``; when partner, CyberTipline-compatible,
    forwarded and hand-over channels are added to ``Report.channel`` they pass through as they
    are. ``web`` is published as ``form``.
    """
    return "form" if channel in ("web", "") else channel


def utc_day(moment: datetime) -> Any:
    return moment.astimezone(UTC).date()


Sources = dict[str, Any]


Entry = tuple[str, str, str, datetime, Any]  # target id, action, actor, time, details


def _fold(entries: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    """Per report id (text), the first time of each step, from its audit entries in seq order."""
    events: dict[str, dict[str, Any]] = {}
    for target, action, actor, at, details in entries:
        seen = events.setdefault(target, {})
        if action == "report.view" and actor != SYSTEM:
            seen.setdefault("first_look_at", at)
        elif action in ("report.claim", "report.assign") and (details or {}).get("state") == [
            ReportState.NEW.value,
            ReportState.IN_REVIEW.value,
        ]:
            seen.setdefault("claimed_at", at)
            seen.setdefault("claimed_by", str(details.get("to") or ""))
        if action in _PROPOSED and "decided_at" not in seen:
            seen["decided_at"], seen["decided_by"] = at, actor
        if action in _CONCLUDED:
            seen.setdefault("concluded_at", at)
    return events


def _entries() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type="report", action__in=FACT_ACTIONS)


def _reviewed() -> QuerySet[Decision]:
    """Decisions that needed a second review and got one, first proposed first."""
    return Decision.objects.filter(
        needs_second_review=True,
        reviewed_at__isnull=False,
        status__in=[DecisionStatus.CONFIRMED, DecisionStatus.RETURNED],
    ).order_by("proposed_at", "id")


def _rereported() -> QuerySet[ReportIdentifier]:
    """A URL or file-hash digest of the report that an earlier report also named."""
    earlier = ReportIdentifier.objects.filter(
        digest=OuterRef("digest"), report__created_at__lt=OuterRef("report__created_at")
    )
    return ReportIdentifier.objects.filter(kind__in=REREPORT_KINDS).filter(Exists(earlier))


def _events(entries: QuerySet[AuditEntry]) -> dict[str, dict[str, Any]]:
    return _fold(
        entries.order_by("seq")
        .values_list("target_id", "action", "actor", "created_at", "details")
        .iterator(chunk_size=10_000)
    )


def _review(proposed: datetime | None, reviewed: datetime | None) -> int | None:
    return (
        None if proposed is None or reviewed is None else int((reviewed - proposed).total_seconds())
    )


def _sources() -> Sources:
    """Everything but the report rows, for every report: one scan of each source (the rebuild).

    The refresh reads the same sources for a few reports as sub-selects of the report query
    (``compute``); both fill the dictionaries ``_values`` reads, with the same rules.
    """
    referred = dict(
        Referral.objects.values("report_id")
        .annotate(first=Min("created_at"))
        .values_list("report_id", "first")
    )
    reviews: dict[uuid.UUID, tuple[int, str]] = {}
    for rid, proposed, reviewed, reviewer in _reviewed().values_list(
        "report_id", "proposed_at", "reviewed_at", "reviewed_by__username"
    ):
        seconds = _review(proposed, reviewed)
        if seconds is not None:  # filtered above; the check is for the type
            reviews.setdefault(rid, (seconds, reviewer or ""))
    return {
        "events": _events(_entries()),
        "referred": referred,
        "reviews": reviews,
        "matched": set(FileMatch.objects.values_list("evidence__report_id", flat=True)),
        "rereported": set(_rereported().values_list("report_id", flat=True)),
    }


REPORT_COLUMNS = (
    "id",
    "created_at",
    "category",
    "channel",
    "country",
    "tier",
    "state",
    "outcome",
    "assigned_to_id",
    "tier_raised_at",
)


def _values(row: dict[str, Any], src: Sources) -> dict[str, Any]:
    """One fact row's column values (``ReportFact`` field names) from a report and the sources."""
    rid = row["id"]
    seen = src["events"].get(str(rid), {})
    review = src["reviews"].get(rid)
    return {
        "report_id": rid,
        "received_at": row["created_at"],
        "day": utc_day(row["created_at"]),
        "category": row["category"],
        "channel": channel_of(row["channel"]),
        "country": row["country"],
        "tier": row["tier"],
        "state": row["state"],
        "outcome": row["outcome"],
        # The queue's own rule: from arrival, or from when new information raised the tier.
        "deadline_at": deadline_of(row["tier"], row["created_at"], row["tier_raised_at"]),
        "first_look_at": seen.get("first_look_at"),
        "claimed_at": seen.get("claimed_at"),
        "decided_at": seen.get("decided_at"),
        "concluded_at": seen.get("concluded_at"),
        "referred_at": src["referred"].get(rid),
        "review_seconds": review[0] if review else None,
        "claimed_by": seen.get("claimed_by", ""),
        "decided_by": seen.get("decided_by", ""),
        "reviewed_by": review[1] if review else "",
        "assignee_id": row["assigned_to_id"],
        "known_match": rid in src["matched"],
        "rereport": rid in src["rereported"],
    }


def compute(
    report_ids: Sequence[uuid.UUID],
    *,
    fresh: Container[uuid.UUID] = (),
    scanned: Sequence[Entry] = (),
) -> list[dict[str, Any]]:
    """The fact rows for these reports, in at most two queries: their audit entries, and the
    report rows with every other source as a sub-select (a refresh's cost is mostly round trips).

    ``fresh`` reports have no facts yet, so the refresh has never read an entry of theirs: all
    their entries are past its cursor, in ``scanned`` (its report entries, in seq order), and
    are not read again. (An entry beyond this refresh's batch is taken in by the next one,
    which recomputes the report from every entry.) The audit entries of the others are read.
    """
    if not report_ids:
        return []
    stale = [str(r) for r in report_ids if r not in fresh]
    events = _events(_entries().filter(target_id__in=stale)) if stale else {}
    new = {str(r) for r in report_ids if r in fresh}
    if new:
        events.update(_fold(e for e in scanned if e[0] in new))
    first_review = _reviewed().filter(report_id=OuterRef("pk"))
    rows = list(
        Report.objects.filter(pk__in=report_ids)
        .annotate(
            first_referral=Subquery(
                Referral.objects.filter(report_id=OuterRef("pk"))
                .order_by("created_at")
                .values("created_at")[:1]
            ),
            review_proposed=Subquery(first_review.values("proposed_at")[:1]),
            review_done=Subquery(first_review.values("reviewed_at")[:1]),
            reviewer=Subquery(first_review.values("reviewed_by__username")[:1]),
            matched=Exists(FileMatch.objects.filter(evidence__report_id=OuterRef("pk"))),
            rereported=Exists(_rereported().filter(report_id=OuterRef("pk"))),
        )
        .values(
            *REPORT_COLUMNS,
            "first_referral",
            "review_proposed",
            "review_done",
            "reviewer",
            "matched",
            "rereported",
        )
    )
    reviews = {}
    for row in rows:
        seconds = _review(row["review_proposed"], row["review_done"])
        if seconds is not None:
            reviews[row["id"]] = (seconds, row["reviewer"] or "")
    src = {
        "events": events,
        "referred": {r["id"]: r["first_referral"] for r in rows if r["first_referral"]},
        "reviews": reviews,
        "matched": {r["id"] for r in rows if r["matched"]},
        "rereported": {r["id"] for r in rows if r["rereported"]},
    }
    return [_values(row, src) for row in rows]


def compute_all(batch: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Every report's fact values in batches, one scan per source (what ``rebuild`` writes).

    The sources are read in full before the first batch and the reports are paged in receipt
    order (then id; on the ``report_created`` index), so no query is open while the caller
    writes a batch (PostgreSQL's COPY holds the connection). Receipt order, not id order (a
    random UUID): the facts' indexes that lead with the day or a filter then grow at a few
    ends instead of at random pages (at a million reports they outgrow shared buffers), and a
    day's facts sit together in the table, as the refresh writes them.
    """
    src = _sources()
    after: tuple[Any, uuid.UUID] | None = None
    while True:
        rows = Report.objects.order_by("created_at", "id")
        if after is not None:
            at, last = after
            rows = rows.filter(created_at__gte=at).exclude(created_at=at, id__lte=last)
        page = list(rows.values(*REPORT_COLUMNS)[:batch])
        if not page:
            return
        after = page[-1]["created_at"], page[-1]["id"]
        yield [_values(row, src) for row in page]


Key = tuple[Any, ...]  # a rollup key: (day, category, channel, country, tier)
KEY_COLUMNS = ("day", "category", "channel", "country", "tier")
OLD_FIELDS = tuple(dict.fromkeys((*KEY_COLUMNS, *tally.FIELDS)))


def store(
    report_ids: Iterable[uuid.UUID],
    *,
    fresh: Container[uuid.UUID] = (),
    scanned: Sequence[Entry] = (),
) -> tuple[set[Key], Counter[tally.TallyKey]]:
    """Recompute and replace the facts of these reports (``fresh``: ids known to have none).

    Returns the rollup keys they touch — both the key a report had and the key it has now: a
    report whose tier rose moves from one rollup row to another, and both rows must be summed
    again — and the change to the tally (new contributions minus old ones).
    """
    ids = list(report_ids)
    known = [i for i in ids if i not in fresh]
    old = []
    if known:
        old = list(ReportFact.objects.filter(report_id__in=known).values("report_id", *OLD_FIELDS))
    rows = compute(ids, fresh=fresh, scanned=scanned)
    if old:  # new reports (most of a refresh) have no facts to delete
        ReportFact.objects.filter(report_id__in=[r["report_id"] for r in old]).delete()
    write(iter([rows]))
    delta = tally.count(rows)
    delta.subtract(tally.count(old))
    keys = {tuple(row[c] for c in KEY_COLUMNS) for row in old}
    return keys | {tuple(row[c] for c in KEY_COLUMNS) for row in rows}, delta


def write(batches: Iterator[list[dict[str, Any]]]) -> int:
    """Bulk-write fact rows: one ``COPY`` per batch on PostgreSQL, ``bulk_create`` elsewhere.

    The refresh writes through here too: ``COPY`` of 200 rows costs a fraction of compiling an
    ``INSERT`` of 200 model instances.
    """
    fields = ReportFact._meta.concrete_fields
    names = [f.attname for f in fields]
    columns = ", ".join(str(f.column) for f in fields)
    count = 0
    for batch in batches:
        count += len(batch)
        if not batch:
            continue
        if connection.vendor != "postgresql":
            ReportFact.objects.bulk_create([ReportFact(**row) for row in batch], batch_size=1000)
            continue
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
            with raw.copy(f"COPY {ReportFact._meta.db_table} ({columns}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row([row[n] for n in names])
    return count
