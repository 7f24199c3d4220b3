"""The figures for a period and filters: what the dashboard, the export and the report show.

Volumes come from ``DailyRollup`` (a few rows per day); durations, backlog and workload from
``ReportFact`` rows in the period (indexed by day). An analyst's figures are their own queue's:
the reports assigned to them, computed from the facts with the same grouping as the rollup.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from tipline.metrics import rollup, stats, takedown
from tipline.metrics.facts import OPEN_STATES
from tipline.metrics.models import DailyRollup, ReportFact
from tipline.metrics.period import Filters, Period
from tipline.triage import tiers

HOUR = 3600.0
BACKLOG_AGES = (("<1d", 1), ("1-3d", 3), ("3-7d", 7), ("7-30d", 30), (">30d", None))
DURATIONS = (
    ("first_look", "first_look_at"),
    ("claim", "claimed_at"),
    ("decision", "decided_at"),
    ("referral", "referred_at"),
)


@dataclass
class Figures:
    period: Period
    filters: Filters
    scope: str  # "all" or "own"
    totals: dict[str, int]
    actionable_share: float | None
    by_day: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_tier: list[dict[str, Any]]
    outcomes: list[tuple[str, int]]
    durations: dict[str, stats.DurationSummary]
    backlog: dict[str, Any]
    workload: list[dict[str, Any]]
    takedown: stats.TakedownSummary
    takedown_by_country: list[tuple[str, stats.TakedownSummary]] = field(default_factory=list)
    takedown_by_provider: list[tuple[str, stats.TakedownSummary]] = field(default_factory=list)
    survival: list[stats.SurvivalStep] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        start, end = self.period.start.isoformat(), self.period.end.isoformat()
        data["period"] = {"start": start, "end": end, "clipped": self.period.clipped}
        data["filters"] = self.filters.as_query()
        return data


def _facts(period: Period, filters: Filters, own: int | None) -> Any:
    qs = ReportFact.objects.filter(day__gte=period.start, day__lte=period.end)
    qs = qs.filter(**filters.as_query())
    if own is not None:
        qs = qs.filter(assignee_id=own)
    return qs


def _rollup_rows(period: Period, filters: Filters, own: int | None) -> list[dict[str, Any]]:
    if own is not None:
        return list(rollup.group_facts(_facts(period, filters, own)))
    qs = DailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
    return list(qs.filter(**filters.as_query()).values(*rollup.KEY_COLUMNS, *rollup.ROLLUP_COLUMNS))


Volumes = tuple[dict[str, int], dict[str, Counter[str]], dict[str, Counter[str]]]


def _volumes(period: Period, filters: Filters, own: int | None) -> Volumes:
    """Totals, received per day/category/channel/country, and received and taken late per tier.

    Everyone's figures are summed by the database from the rollup (a 90-day period can hold
    tens of thousands of rollup rows: days x categories x channels x countries x tiers); an
    analyst's own come from their facts, a few rows.
    """
    per: dict[str, Counter[str]] = {k: Counter() for k in ("day", "category", "channel", "country")}
    tier_rows: dict[str, Counter[str]] = {t.value: Counter() for t in tiers.Tier}
    if own is not None:
        rows = _rollup_rows(period, filters, own)
        totals = {c: sum(r[c] for r in rows) for c in rollup.ROLLUP_COLUMNS}
        for r in rows:
            for key in per:
                per[key][str(r[key]) if key != "country" else (r[key] or "--")] += r["received"]
            tier_rows[r["tier"]]["received"] += r["received"]
            tier_rows[r["tier"]]["claimed_late"] += r["claimed_late"]
        return totals, per, tier_rows
    qs = DailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
    qs = qs.filter(**filters.as_query()).order_by()
    summed = qs.aggregate(**{c: Sum(c) for c in rollup.ROLLUP_COLUMNS})
    totals = {c: int(summed[c] or 0) for c in rollup.ROLLUP_COLUMNS}
    for key in per:
        for value, n in qs.values(key).annotate(n=Sum("received")).values_list(key, "n"):
            per[key][str(value) if key != "country" else (value or "--")] += int(n)
    for tier, received, late in (
        qs.values("tier")
        .annotate(r=Sum("received"), late=Sum("claimed_late"))
        .values_list("tier", "r", "late")
    ):
        tier_rows[tier]["received"] += int(received)
        tier_rows[tier]["claimed_late"] += int(late)
    return totals, per, tier_rows


def _sorted(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def figures(
    period: Period, filters: Filters, *, own: int | None = None, now: datetime | None = None
) -> Figures:
    """Every figure for the period; ``own`` restricts to the reports assigned to that staff id."""
    now = now or timezone.now()
    totals, per, tier_rows = _volumes(period, filters, own)
    facts = _facts(period, filters, own)
    open_overdue = dict(
        facts.filter(state__in=OPEN_STATES, claimed_at__isnull=True, deadline_at__lt=now)
        .values("tier")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("tier", "n")
    )
    by_day, day = [], period.start
    while day <= period.end:
        by_day.append((day.isoformat(), per["day"].get(day.isoformat(), 0)))
        day += timedelta(days=1)
    by_tier = [
        {
            "tier": t,
            "received": c["received"],
            "claimed_late": c["claimed_late"],
            "open_overdue": open_overdue.get(t, 0),
            "deadline_hours": tiers.DEADLINES[tiers.Tier(t)].total_seconds() / HOUR,
        }
        for t, c in tier_rows.items()
    ]
    outcomes = Counter(
        dict(
            facts.exclude(outcome="")
            .values("outcome")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("outcome", "n")
        )
    )
    return Figures(
        period=period,
        filters=filters,
        scope="all" if own is None else "own",
        totals=totals,
        actionable_share=stats.share(totals["actionable"], totals["concluded"]),
        by_day=by_day,
        by_category=_sorted(per["category"]),
        by_channel=_sorted(per["channel"]),
        by_country=_sorted(per["country"]),
        by_tier=by_tier,
        outcomes=_sorted(outcomes),
        durations=durations(facts),
        backlog=backlog(filters, own=own, now=now),
        workload=[] if own is not None else workload(period, filters),
        **_takedown(period, now),
    )


def durations(facts: QuerySet[ReportFact]) -> dict[str, stats.DurationSummary]:
    """Count, median and p90 (nearest rank) of the hours from receipt to each step.

    On PostgreSQL the database computes them (``percentile_disc`` is the nearest rank, the same
    definition as ``stats.percentile``); elsewhere the values are read and ranked here.
    """
    columns = [*DURATIONS, ("four_eyes", "review_seconds")]
    if connection.vendor == "postgresql":
        return _pg_summaries(facts, columns)
    waits: dict[str, list[float]] = {name: [] for name, _c in columns}
    rows = facts.values_list("received_at", *(c for _n, c in DURATIONS), "review_seconds")
    for received, *stamps, review in rows.iterator():
        for (name, _col), stamp in zip(DURATIONS, stamps, strict=True):
            if stamp is not None:
                waits[name].append((stamp - received).total_seconds() / HOUR)
        if review is not None:
            waits["four_eyes"].append(review / HOUR)
    return {name: stats.durations(values) for name, values in waits.items()}


def _pg_summaries(
    facts: QuerySet[ReportFact], columns: list[tuple[str, str]]
) -> dict[str, stats.DurationSummary]:
    """All five in one scan: ordered-set aggregates skip NULLs, as count(column) does."""
    parts = []
    for _name, column in columns:
        # ``column`` comes from DURATIONS (our own names), never from input.
        seconds = (
            "review_seconds::float8"
            if column == "review_seconds"
            else f"EXTRACT(EPOCH FROM ({column} - received_at))::float8"
        )
        # Both ranks from one sort of the column (an array of fractions), not two sorts.
        parts.append(
            f"count({column}), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {seconds})"
        )
    sql, params = facts.order_by().values("pk").query.sql_with_params()
    table = ReportFact._meta.db_table
    query = f"SELECT {', '.join(parts)} FROM {table} WHERE report_id IN ({sql})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    out = {}
    for k, (name, _column) in enumerate(columns):
        count, ranks = row[2 * k : 2 * k + 2]
        median, p90 = ranks if ranks else (None, None)
        out[name] = stats.DurationSummary(
            int(count),
            None if median is None else median / HOUR,
            None if p90 is None else p90 / HOUR,
        )
    return out


def _age_bucket(received: datetime, cuts: list[datetime | None]) -> int:
    """Index into ``BACKLOG_AGES``: the first band whose cut the receipt time is after."""
    for k, cut in enumerate(cuts):
        if cut is None or received > cut:
            return k
    return len(cuts) - 1


def backlog(filters: Filters, *, own: int | None, now: datetime) -> dict[str, Any]:
    """Reports open now (whatever the period), by age since receipt.

    Everyone's: from the rollup's ``still_open`` per day (a few hundred rows however many
    reports are open); a day wholly on one side of every age cut counts in one band, and only
    the few days a cut falls in (and the day holding the median) are read from the facts, so
    the answer is exactly what counting every open fact would give. An analyst's own: their
    facts, a few rows.
    """
    cuts = [None if limit is None else now - timedelta(days=limit) for _l, limit in BACKLOG_AGES]
    open_facts = ReportFact.objects.filter(state__in=OPEN_STATES, **filters.as_query())
    if own is not None:
        open_facts = open_facts.filter(assignee_id=own)
        per_day = dict(
            open_facts.values("day").annotate(n=Count("pk")).order_by().values_list("day", "n")
        )
    else:
        per_day = dict(
            DailyRollup.objects.filter(still_open__gt=0, **filters.as_query())
            .values("day")
            .annotate(n=Sum("still_open"))
            .order_by()
            .values_list("day", "n")
        )
    counts = [0] * len(BACKLOG_AGES)
    split: list[Any] = []
    for day, n in per_day.items():
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        if any(cut is not None and start <= cut < end for cut in cuts):
            split.append(day)  # a cut falls inside this day: its reports fall in two bands
        else:
            counts[_age_bucket(start, cuts)] += int(n)
    if split:
        for received in open_facts.filter(day__in=split).values_list("received_at", flat=True):
            counts[_age_bucket(received, cuts)] += 1
    total = sum(counts)
    median = None
    if total:
        # The k-th newest open report (nearest rank): find its day from the per-day counts,
        # then its place within that day from the facts.
        k, seen = max(1, -(-total // 2)), 0
        for day in sorted(per_day, reverse=True):
            if seen + per_day[day] >= k:
                middle = (
                    open_facts.filter(day=day)
                    .order_by("-received_at")
                    .values_list("received_at", flat=True)[k - seen - 1]
                )
                median = (now - middle).total_seconds() / 86400
                break
            seen += int(per_day[day])
    return {
        "open": total,
        "median_age_days": median,
        "ages": [(label, counts[k]) for k, (label, _limit) in enumerate(BACKLOG_AGES)],
    }


def workload(period: Period, filters: Filters) -> list[dict[str, Any]]:
    """Per staff member: reports claimed, decisions proposed, second reviews done, in the period."""
    facts = _facts(period, filters, None)
    people: dict[str, Counter[str]] = {}
    for column, what in (
        ("claimed_by", "claimed"),
        ("decided_by", "decided"),
        ("reviewed_by", "reviewed"),
    ):
        grouped = (
            facts.exclude(**{column: ""})
            .values(column)
            .annotate(n=Count("pk"))
            .order_by()
            .values_list(column, "n")
        )
        for name, n in grouped:
            people.setdefault(name, Counter())[what] += n
    return [
        {"who": who, **{k: c.get(k, 0) for k in ("claimed", "decided", "reviewed")}}
        for who, c in sorted(people.items())
    ]


def _takedown(period: Period, now: datetime) -> dict[str, Any]:
    rows = takedown.takedown_rows(start=period.start_at, end=min(period.end_at, now))
    return {
        "takedown": stats.takedown_summary(rows, now=now),
        "takedown_by_country": stats.takedown_by(rows, "country", now=now),
        "takedown_by_provider": stats.takedown_by(rows, "provider", now=now),
        "survival": stats.kaplan_meier(rows, now=now),
    }
