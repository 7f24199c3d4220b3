"""The figures for a period and filters: what the dashboard, the export and the report show.

Volumes come from ``DailyRollup`` (a few rows per day); durations, backlog and workload from
``ReportFact`` rows in the period (indexed by day). An analyst's figures are their own queue's:
the reports assigned to them, computed from the facts with the same grouping as the rollup.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
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
        return rollup.group_facts(_facts(period, filters, own))
    qs = DailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
    return list(qs.filter(**filters.as_query()).values(*rollup.KEY_COLUMNS, *rollup.ROLLUP_COLUMNS))


def _sorted(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def figures(
    period: Period, filters: Filters, *, own: int | None = None, now: datetime | None = None
) -> Figures:
    """Every figure for the period; ``own`` restricts to the reports assigned to that staff id."""
    now = now or timezone.now()
    rows = _rollup_rows(period, filters, own)
    totals = {c: sum(r[c] for r in rows) for c in rollup.ROLLUP_COLUMNS}
    per: dict[str, Counter[str]] = {k: Counter() for k in ("day", "category", "channel", "country")}
    tier_rows: dict[str, Counter[str]] = {t.value: Counter() for t in tiers.Tier}
    for r in rows:
        for key in per:
            per[key][str(r[key]) if key != "country" else (r[key] or "--")] += r["received"]
        tier_rows[r["tier"]]["received"] += r["received"]
        tier_rows[r["tier"]]["claimed_late"] += r["claimed_late"]
    facts = _facts(period, filters, own)
    open_overdue = Counter(
        facts.filter(
            state__in=OPEN_STATES, claimed_at__isnull=True, deadline_at__lt=now
        ).values_list("tier", flat=True)
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
    outcomes = Counter(facts.exclude(outcome="").values_list("outcome", flat=True))
    timings = facts.values_list("received_at", *(col for _n, col in DURATIONS), "review_seconds")
    waits: dict[str, list[float]] = {name: [] for name, _c in DURATIONS}
    waits["four_eyes"] = []
    for received, *stamps, review in timings.iterator():
        for (name, _col), stamp in zip(DURATIONS, stamps, strict=True):
            if stamp is not None:
                waits[name].append((stamp - received).total_seconds() / HOUR)
        if review is not None:
            waits["four_eyes"].append(review / HOUR)
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
        durations={name: stats.durations(values) for name, values in waits.items()},
        backlog=backlog(filters, own=own, now=now),
        workload=[] if own is not None else workload(period, filters),
        **_takedown(period, now),
    )


def backlog(filters: Filters, *, own: int | None, now: datetime) -> dict[str, Any]:
    """Reports open now (whatever the period), by age since receipt."""
    qs = ReportFact.objects.filter(state__in=OPEN_STATES, **filters.as_query())
    if own is not None:
        qs = qs.filter(assignee_id=own)
    ages = [(now - at).total_seconds() / 86400 for at in qs.values_list("received_at", flat=True)]
    buckets: Counter[str] = Counter()
    for age in ages:
        for label, limit in BACKLOG_AGES:
            if limit is None or age < limit:
                buckets[label] += 1
                break
    return {
        "open": len(ages),
        "median_age_days": stats.percentile(ages, 50),
        "ages": [(label, buckets.get(label, 0)) for label, _l in BACKLOG_AGES],
    }


def workload(period: Period, filters: Filters) -> list[dict[str, Any]]:
    """Per staff member: reports claimed, decisions proposed, second reviews done, in the period."""
    facts = _facts(period, filters, None)
    people: dict[str, Counter[str]] = {}
    for claimed, decided, reviewed in facts.filter(
        Q(claimed_by__gt="") | Q(decided_by__gt="") | Q(reviewed_by__gt="")
    ).values_list("claimed_by", "decided_by", "reviewed_by"):
        for name, what in ((claimed, "claimed"), (decided, "decided"), (reviewed, "reviewed")):
            if name:
                people.setdefault(name, Counter())[what] += 1
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
