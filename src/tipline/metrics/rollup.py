"""Keeping the rollup tables current, and rebuilding them from nothing.

The refresh task reads two append-only sources past its cursors: audit entries (dense ``seq``,
appended in commit order under the chain's lock) and reports by receipt time (a report row is
written once at intake; ``LOOKBACK`` re-reads a few minutes so a transaction that committed late
is not missed: facts are replaced, never added to, so reading a report twice is harmless). Each
report the new entries name gets its facts recomputed, then each day those facts touch gets its
rollup rows recomputed from the facts. ``rebuild`` runs the very same two functions over every
report, which is why the two give identical numbers.

Nothing below this package imports it: intake and casework never wait for metrics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from tipline.audit.models import AuditEntry
from tipline.cases.models import Report
from tipline.cases.states import ACTIONED_OUTCOMES
from tipline.metrics import facts
from tipline.metrics.models import Cursor, DailyRollup, ReportFact

LOOKBACK = timedelta(minutes=5)
AUDIT_BATCH = 20_000
REPORT_BATCH = 2_000


@dataclass(frozen=True)
class RefreshSummary:
    entries: int
    reports: int
    days: int


def rollup_days(days: Iterable[date]) -> None:
    """Recompute the rollup rows of these days from the facts."""
    wanted = sorted(set(days))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        DailyRollup.objects.filter(day__in=chunk).delete()
        grouped = group_facts(ReportFact.objects.filter(day__in=chunk))
        DailyRollup.objects.bulk_create([DailyRollup(**g) for g in grouped], batch_size=1000)


ROLLUP_COLUMNS = (
    "received",
    "actionable",
    "concluded",
    "referred",
    "claimed_late",
    "known_match",
    "rereport",
)
KEY_COLUMNS = ("day", "category", "channel", "country", "tier")


def group_facts(qs: QuerySet[ReportFact]) -> list[dict[str, Any]]:
    """Facts summed per rollup key: exactly what a ``DailyRollup`` row holds."""
    actioned = [o.value for o in ACTIONED_OUTCOMES]
    return list(
        qs.values(*KEY_COLUMNS)
        .annotate(
            received=Count("pk"),
            actionable=Count("pk", filter=Q(outcome__in=actioned)),
            concluded=Count("pk", filter=Q(concluded_at__isnull=False)),
            referred=Count("pk", filter=Q(referred_at__isnull=False)),
            claimed_late=Count("pk", filter=Q(claimed_at__gt=F("deadline_at"))),
            known_match=Count("pk", filter=Q(known_match=True)),
            rereport=Count("pk", filter=Q(rereport=True)),
        )
        .order_by()
    )


def _cursor(name: str) -> Cursor:
    Cursor.objects.get_or_create(name=name)
    return Cursor.objects.select_for_update().get(name=name)


def refresh(*, batch: int = AUDIT_BATCH) -> RefreshSummary:
    """Take in what happened since the last run (one transaction; cursors advance with it)."""
    with transaction.atomic():
        audit, received = _cursor("audit"), _cursor("reports")
        scan_started = timezone.now()
        entries = list(
            AuditEntry.objects.filter(seq__gt=audit.seq)
            .order_by("seq")
            .values_list("seq", "target_type", "target_id", "action", "details")[:batch]
        )
        touched: set[uuid.UUID] = set()
        for _seq, target_type, target_id, action, details in entries:
            if target_type == "report" and action in facts.FACT_ACTIONS:
                touched.add(uuid.UUID(target_id))
            elif action == "file.matched" and isinstance(details, dict) and details.get("report"):
                touched.add(uuid.UUID(str(details["report"])))
        new = Report.objects.all()
        if received.at is not None:
            new = new.filter(created_at__gte=received.at - LOOKBACK)
        # Reports re-read by the look-back whose facts exist changed only through audited
        # events (taken in above): skip them, so each refresh does work in proportion to news.
        new = (
            new.exclude(
                pk__in=ReportFact.objects.filter(received_at__gte=received.at - LOOKBACK).values(
                    "pk"
                )
            )
            if received.at is not None
            else new
        )
        touched.update(new.values_list("id", flat=True))
        days: set[date] = set()
        ids = sorted(touched)
        for start in range(0, len(ids), REPORT_BATCH):
            days |= facts.store(ids[start : start + REPORT_BATCH])
        rollup_days(days)
        if entries:
            audit.seq = entries[-1][0]
            audit.save(update_fields=["seq"])
        received.at = scan_started
        received.save(update_fields=["at"])
    return RefreshSummary(entries=len(entries), reports=len(ids), days=len(days))


def refresh_all() -> RefreshSummary:
    """Refresh until the audit cursor has caught up (the command line and tests)."""
    total = RefreshSummary(0, 0, 0)
    while True:
        step = refresh()
        total = RefreshSummary(
            total.entries + step.entries, total.reports + step.reports, total.days + step.days
        )
        if step.entries < AUDIT_BATCH:
            return total


def rebuild() -> RefreshSummary:
    """Delete every rollup row and recompute them all from the sources (one transaction)."""
    with transaction.atomic():
        audit, received = _cursor("audit"), _cursor("reports")
        scan_started = timezone.now()
        head = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        DailyRollup.objects.all().delete()
        ReportFact.objects.all().delete()
        ids = list(Report.objects.order_by("created_at", "id").values_list("id", flat=True))
        for start in range(0, len(ids), REPORT_BATCH):
            ReportFact.objects.bulk_create(
                facts.compute(ids[start : start + REPORT_BATCH]), batch_size=1000
            )
        days = set(ReportFact.objects.values_list("day", flat=True).distinct())
        rollup_days(days)
        audit.seq, received.at = head, scan_started
        audit.save(update_fields=["seq"])
        received.save(update_fields=["at"])
    return RefreshSummary(entries=head, reports=len(ids), days=len(days))


def rollup_totals() -> dict[str, int]:
    """Sums of every rollup column (used by the rebuild check and tests)."""
    agg = DailyRollup.objects.aggregate(**{c: Coalesce(Sum(c), 0) for c in ROLLUP_COLUMNS})
    return {c: int(agg[c]) for c in ROLLUP_COLUMNS}
