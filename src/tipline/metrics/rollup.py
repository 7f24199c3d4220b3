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
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from tipline.audit.models import AuditEntry
from tipline.cases.models import Report
from tipline.cases.states import ACTIONED_OUTCOMES, Outcome
from tipline.metrics import facts, tally
from tipline.metrics.facts import Key
from tipline.metrics.models import Cursor, DailyRollup, DailyTally, FigureCache, ReportFact

LOOKBACK = timedelta(minutes=5)
AUDIT_BATCH = 20_000
REPORT_BATCH = 2_000


@dataclass(frozen=True)
class RefreshSummary:
    entries: int
    reports: int
    days: int


ROLLUP_COLUMNS = (
    "received",
    "actionable",
    "concluded",
    "referred",
    "claimed_late",
    "known_match",
    "rereport",
)
KEY_COLUMNS = facts.KEY_COLUMNS
# One column per outcome (``outcome_<value>``): the outcomes table is a sum of rollup rows.
OUTCOME_COLUMNS = tuple(f"outcome_{o.value}" for o in Outcome)
# Not sums over the period (the backlog and "open and overdue" read them per day and key), so
# not among the published totals.
STATE_COLUMNS = ("still_open", "open_unclaimed", "unclaimed_deadline_min", "unclaimed_deadline_max")
KEYS_PER_STATEMENT = 100  # keeps the OR of key conditions shallow (SQLite's expression depth)


def group_facts(qs: QuerySet[ReportFact]) -> QuerySet[ReportFact, dict[str, Any]]:
    """Facts summed per rollup key: exactly what a ``DailyRollup`` row holds, in its order."""
    actioned = [o.value for o in ACTIONED_OUTCOMES]
    unclaimed = Q(state__in=facts.OPEN_STATES, claimed_at__isnull=True)
    outcomes = {
        column: Count("pk", filter=Q(outcome=o.value))
        for column, o in zip(OUTCOME_COLUMNS, Outcome, strict=True)
    }
    grouped: QuerySet[ReportFact, dict[str, Any]] = (
        qs.values(*KEY_COLUMNS)
        .annotate(
            received=Count("pk"),
            actionable=Count("pk", filter=Q(outcome__in=actioned)),
            concluded=Count("pk", filter=Q(concluded_at__isnull=False)),
            referred=Count("pk", filter=Q(referred_at__isnull=False)),
            claimed_late=Count("pk", filter=Q(claimed_at__gt=F("deadline_at"))),
            known_match=Count("pk", filter=Q(known_match=True)),
            rereport=Count("pk", filter=Q(rereport=True)),
            **outcomes,
            still_open=Count("pk", filter=Q(state__in=facts.OPEN_STATES)),
            open_unclaimed=Count("pk", filter=unclaimed),
            unclaimed_deadline_min=Min("deadline_at", filter=unclaimed),
            unclaimed_deadline_max=Max("deadline_at", filter=unclaimed),
        )
        .order_by()
    )
    return grouped


def _insert_grouped(qs: QuerySet[ReportFact]) -> None:
    """``INSERT INTO rollup SELECT … GROUP BY …``: the database sums, nothing comes back here.

    The SELECT is the ORM's own (``group_facts``), so it runs on SQLite and PostgreSQL alike;
    its columns are the key columns then the annotations, in the order named here.
    """
    sql, params = group_facts(qs).query.sql_with_params()
    # The rollup's column names are its field names (no db_column anywhere in the model).
    columns = ", ".join((*KEY_COLUMNS, *ROLLUP_COLUMNS, *OUTCOME_COLUMNS, *STATE_COLUMNS))
    table = DailyRollup._meta.db_table
    with connection.cursor() as cursor:
        # Table and column names are our model's; the SELECT's values are bound parameters.
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)


def _key_filter(keys: Iterable[Key]) -> Q:
    cond = Q()
    for key in keys:
        cond |= Q(**dict(zip(KEY_COLUMNS, key, strict=True)))
    return cond


def rollup_keys(keys: Iterable[Key]) -> None:
    """Recompute these rollup rows (and only these) from the facts.

    A refresh touches the keys of the reports it took in: with a steady intake, a few rows of
    today, not every row of every day they fall on. One upsert per 100 keys (``INSERT … SELECT
    … ON CONFLICT DO UPDATE … RETURNING`` the keys it wrote); a second statement deletes the
    keys that no fact holds any more, only when there are some (a report whose tier rose).
    """
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), KEYS_PER_STATEMENT):
        chunk = wanted[start : start + KEYS_PER_STATEMENT]
        written = _upsert_grouped(ReportFact.objects.filter(_key_filter(chunk)))
        gone = [key for key in chunk if key not in written]
        if gone:
            DailyRollup.objects.filter(_key_filter(gone)).delete()


def _upsert_grouped(qs: QuerySet[ReportFact]) -> set[Key]:
    sql, params = group_facts(qs).query.sql_with_params()
    summed = (*ROLLUP_COLUMNS, *OUTCOME_COLUMNS, *STATE_COLUMNS)
    table = DailyRollup._meta.db_table
    keys, columns = ", ".join(KEY_COLUMNS), ", ".join((*KEY_COLUMNS, *summed))
    updates = ", ".join(f"{c} = excluded.{c}" for c in summed)
    with connection.cursor() as cursor:
        # Names are our model's; the SELECT binds every value. Its WHERE keeps SQLite from
        # reading ON CONFLICT as a join's ON.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT ({keys}) "
            f"DO UPDATE SET {updates} RETURNING {keys}",
            params,
        )
        rows = cursor.fetchall()
    # SQLite hands dates back as text through a raw cursor: compare as the model's keys.
    day = DailyRollup._meta.get_field("day")
    return {(day.to_python(r[0]), *r[1:]) for r in rows}


# The audit log's seq, the reports' receipt time, and the version ``figure_cache`` keys its rows
# by: moved only by a refresh that took something in (and by the rebuild).
CURSORS = ("audit", "reports", "version")


def _cursors() -> tuple[Cursor, Cursor]:
    """The cursors, locked, in one query (created the first time)."""
    found = {c.name: c for c in Cursor.objects.select_for_update().filter(name__in=CURSORS)}
    for name in CURSORS:
        if name not in found:
            Cursor.objects.get_or_create(name=name)
            found[name] = Cursor.objects.select_for_update().get(name=name)
    return found["audit"], found["reports"]


def _advance(seq: int | None, at: Any, *, changed: bool) -> None:
    """Move the cursors in one UPDATE (the audit one only when entries were read; the version
    only when the derived tables changed, so kept dashboard figures stay valid until then)."""
    names = ["reports"] + (["audit"] if seq is not None else []) + (["version"] if changed else [])
    Cursor.objects.filter(name__in=names).update(
        seq=Case(
            When(name="audit", then=Value(seq or 0)),
            When(name="version", then=F("seq") + 1),
            default=F("seq"),
            output_field=BigIntegerField(),
        ),
        at=Case(
            When(name="reports", then=Value(at)), default=F("at"), output_field=DateTimeField()
        ),
    )


def refresh(*, batch: int = AUDIT_BATCH) -> RefreshSummary:
    """Take in what happened since the last run (one transaction; cursors advance with it)."""
    with transaction.atomic():
        audit, received = _cursors()
        scan_started = timezone.now()
        entries = list(
            AuditEntry.objects.filter(seq__gt=audit.seq)
            .order_by("seq")
            .values_list(
                "seq", "target_type", "target_id", "action", "details", "actor", "created_at"
            )[:batch]
        )
        touched: set[uuid.UUID] = set()
        scanned: list[facts.Entry] = []  # the report entries read here, in seq order
        for _seq, target_type, target_id, action, details, actor, at in entries:
            if target_type == "report" and action in facts.FACT_ACTIONS:
                touched.add(uuid.UUID(target_id))
                scanned.append((target_id, action, actor, at, details))
            elif action == "file.matched" and isinstance(details, dict) and details.get("report"):
                touched.add(uuid.UUID(str(details["report"])))
        new = Report.objects.all()
        if received.at is not None:
            new = new.filter(created_at__gte=received.at - LOOKBACK)
        # Reports re-read by the look-back whose facts exist changed only through audited
        # events (taken in above): skip them, so each refresh does work in proportion to news.
        # NOT EXISTS on the facts' primary key: an index probe per new report, not a scan.
        new = new.exclude(Exists(ReportFact.objects.filter(report_id=OuterRef("pk"))))
        fresh = set(new.values_list("id", flat=True))  # no facts yet: nothing old to read
        touched |= fresh
        keys: set[Key] = set()
        delta: Counter[tally.TallyKey] = Counter()
        ids = sorted(touched)
        for start in range(0, len(ids), REPORT_BATCH):
            chunk = ids[start : start + REPORT_BATCH]
            stored, changed = facts.store(chunk, fresh=fresh, scanned=scanned)
            keys |= stored
            delta.update(changed)
        rollup_keys(keys)
        tally.apply(delta)
        _advance(entries[-1][0] if entries else None, scan_started, changed=bool(ids))
    return RefreshSummary(entries=len(entries), reports=len(ids), days=len({k[0] for k in keys}))


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
    """Delete every rollup row and recompute them all from the sources (one transaction).

    Set-based: one scan of each source (``facts.compute_all``, the same per-report rule as the
    refresh), the facts written in bulk (``COPY`` on PostgreSQL), then one ``INSERT … SELECT``
    that sums them into the rollup.
    """
    with transaction.atomic():
        _cursors()
        scan_started = timezone.now()
        head = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        DailyRollup.objects.all().delete()
        DailyTally.objects.all().delete()
        ReportFact.objects.all().delete()
        FigureCache.objects.all().delete()
        counting = tally.Counting()
        count = facts.write(_tallied(facts.compute_all(), counting))
        _insert_grouped(ReportFact.objects.all())
        tally.write(counting.total())
        days = DailyRollup.objects.values("day").distinct().count()
        _advance(head, scan_started, changed=True)
    return RefreshSummary(entries=head, reports=count, days=days)


def _tallied(
    batches: Iterator[list[dict[str, Any]]], counting: tally.Counting
) -> Iterator[list[dict[str, Any]]]:
    """Pass the batches on, counting each fact's tally contributions on the way."""
    for batch in batches:
        for row in batch:
            counting.add(row)
        yield batch


def rollup_totals() -> dict[str, int]:
    """Sums of every rollup column (used by the rebuild check and tests)."""
    agg = DailyRollup.objects.aggregate(**{c: Coalesce(Sum(c), 0) for c in ROLLUP_COLUMNS})
    return {c: int(agg[c]) for c in ROLLUP_COLUMNS}
