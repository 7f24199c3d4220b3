"""The figures for a period and filters: what the dashboard, the export and the report show.

Volumes and the backlog come from ``DailyRollup`` (a few rows per day), waiting times and
workload from ``DailyTally`` beyond ``tally.EXACT_LIMIT`` reports (exact from ``ReportFact``
below it). An analyst's figures are their own queue's: the reports assigned to them, from the
tally's ``OWN`` slice (per day and assignee: the same counts as the rollup's), or from their
facts when a filter is set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from tipline.cases.states import Outcome
from tipline.metrics import figure_cache, rollup, stats, takedown, tally
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
    # "exact" (nearest rank over the facts) or "histogram" (the rank's bucket bound, beyond
    # ``tally.EXACT_LIMIT`` reports): the dashboard's method note says which.
    durations_method: str = "exact"

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


# The sums every grouping of the rollup reads, and the groupings the dashboard shows.
SUMMED = (*rollup.ROLLUP_COLUMNS, *rollup.OUTCOME_COLUMNS, "open_unclaimed")
GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("day",),
    ("category",),
    ("channel",),
    ("country",),
    ("tier",),
    ("day", "tier"),  # open and overdue: per day and tier, with the deadline range
)
Groups = dict[tuple[str, ...], list[dict[str, Any]]]


def _groups_of_rows(rows: list[dict[str, Any]]) -> Groups:
    """The groupings ``_volumes`` reads, from per-key rows (an analyst's own: their facts
    grouped by the database). Only what is read is summed: every column for the whole period,
    received and taken late per day, category, channel, country and tier (their overdue
    reports are counted from the facts, so no day-and-tier grouping)."""
    whole = dict.fromkeys(SUMMED, 0)
    per: dict[str, dict[Any, Counter[str]]] = {c: {} for c in rollup.KEY_COLUMNS}
    for row in rows:
        for c in SUMMED:
            whole[c] += row[c]
        for column, acc in per.items():
            into = acc.setdefault(row[column], Counter())
            into["received"] += row["received"]
            into["claimed_late"] += row["claimed_late"]
    out: Groups = {g: [] for g in GROUPINGS}
    out[()] = [whole]
    for column, acc in per.items():
        out[(column,)] = [{column: value, **sums} for value, sums in acc.items()]
    return out


def _groups_of_own(period: Period, own: int) -> Groups:
    """The same groupings for an analyst's own queue from the tally's ``OWN`` slice (a few
    rows per day), not their facts. The per day and tier grouping holds only
    ``open_unclaimed``: the days ``_open_overdue`` reads from the facts."""
    whole: dict[str, Any] = dict.fromkeys(SUMMED, 0)
    per: dict[str, dict[Any, Counter[str]]] = {c: {} for c in rollup.KEY_COLUMNS}
    unclaimed: Counter[tuple[Any, str]] = Counter()
    for day, measure, item, n in tally.own_counts(period, own):
        if measure == "count":
            if item in whole:
                whole[item] += n
            if item == "received":
                per["day"].setdefault(day, Counter())["received"] += n
        elif measure == "tier_late":
            per["tier"].setdefault(item, Counter())["claimed_late"] += n
        elif measure == "open_unclaimed":
            unclaimed[day, item] += n
        else:
            per[measure].setdefault(item, Counter())["received"] += n
    out: Groups = {g: [] for g in GROUPINGS}
    out[()] = [whole]
    for column, acc in per.items():
        out[(column,)] = [
            {column: value, "received": sums["received"], "claimed_late": sums["claimed_late"]}
            for value, sums in acc.items()
        ]
    out[("day", "tier")] = [
        {"day": day, "tier": tier, "open_unclaimed": n} for (day, tier), n in unclaimed.items()
    ]
    return out


def _aggregates() -> dict[str, Any]:
    return {
        **{c: Coalesce(Sum(c), 0) for c in SUMMED},
        "unclaimed_deadline_min": Min("unclaimed_deadline_min"),
        "unclaimed_deadline_max": Max("unclaimed_deadline_max"),
    }


def _groups_portable(qs: QuerySet[DailyRollup]) -> Groups:
    out: Groups = {}
    for grouping in GROUPINGS:
        if grouping:
            out[grouping] = list(qs.values(*grouping).annotate(**_aggregates()).order_by())
        else:
            out[grouping] = [qs.aggregate(**_aggregates())]
    return out


def _groups(qs: QuerySet[DailyRollup]) -> Groups:
    """Every grouping of these rollup rows: one ``GROUPING SETS`` query on PostgreSQL, one
    query per grouping elsewhere (SQLite has no grouping sets). Same rows either way."""
    db = connections[qs.db]  # the replica, when the router sends metrics reads there
    if db.vendor != "postgresql":
        return _groups_portable(qs)
    inner, params = qs.values(
        *rollup.KEY_COLUMNS, *SUMMED, "unclaimed_deadline_min", "unclaimed_deadline_max"
    ).query.sql_with_params()
    columns = list(rollup.KEY_COLUMNS)
    sums = [f"COALESCE(SUM({c}), 0)" for c in SUMMED]
    sums += ["MIN(unclaimed_deadline_min)", "MAX(unclaimed_deadline_max)"]
    # GROUPING(...) is a bit mask over the key columns: a bit set = not grouped by that column.
    sets = ", ".join("(" + ", ".join(g) + ")" for g in GROUPINGS)
    # Column names are our model's and GROUPINGS is ours; the inner query binds every value.
    sql = (
        f"SELECT {', '.join(columns)}, GROUPING({', '.join(columns)}), {', '.join(sums)} "  # noqa: S608
        f"FROM ({inner}) AS r GROUP BY GROUPING SETS ({sets})"
    )
    width = len(columns)
    masks = {
        sum(1 << (width - 1 - k) for k, c in enumerate(columns) if c not in g): g for g in GROUPINGS
    }
    out: Groups = {g: [] for g in GROUPINGS}
    names = [*SUMMED, "unclaimed_deadline_min", "unclaimed_deadline_max"]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            grouping = masks[row[width]]
            values = dict(zip(names, row[width + 1 :], strict=True))
            values.update({c: row[k] for k, c in enumerate(columns) if c in grouping})
            out[grouping].append(values)
    out[()] = out[()] or [dict.fromkeys(SUMMED, 0)]
    return out


Volumes = tuple[
    dict[str, int], dict[str, Counter[str]], dict[str, Counter[str]], Counter[str], Groups
]


def _volumes(period: Period, filters: Filters, own: int | None) -> Volumes:
    """Totals, received per day/category/channel/country, received and taken late per tier,
    outcomes, and the groupings themselves (``_open_overdue`` reads the per day and tier one).

    Everyone's figures are summed by the database from the rollup (a 90-day period can hold
    tens of thousands of rollup rows: days x categories x channels x countries x tiers); an
    analyst's own from the tally's ``OWN`` slice, or from their facts under a filter (the
    tally keeps no combinations).
    """
    if own is not None and tally.slice_for(filters, own) is not None:
        groups = _groups_of_own(period, own)
    elif own is not None:
        groups = _groups_of_rows(list(rollup.group_facts(_facts(period, filters, own))))
    else:
        qs = DailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
        groups = _groups(qs.filter(**filters.as_query()).order_by())
    whole = groups[()][0]
    totals = {c: int(whole[c] or 0) for c in rollup.ROLLUP_COLUMNS}
    outcomes = Counter(
        {
            o.value: int(whole[c] or 0)
            for c, o in zip(rollup.OUTCOME_COLUMNS, Outcome, strict=True)
            if whole[c]
        }
    )
    per: dict[str, Counter[str]] = {k: Counter() for k in ("day", "category", "channel", "country")}
    for key in per:
        for row in groups[(key,)]:
            value = row[key]
            name = str(value) if key != "country" else (value or "--")
            per[key][name] += int(row["received"])
    tier_rows: dict[str, Counter[str]] = {t.value: Counter() for t in tiers.Tier}
    for row in groups[("tier",)]:
        tier_rows[row["tier"]]["received"] += int(row["received"])
        tier_rows[row["tier"]]["claimed_late"] += int(row["claimed_late"])
    return totals, per, tier_rows, outcomes, groups


def _sorted(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _open_overdue(
    period: Period, filters: Filters, own: int | None, rows: list[dict[str, Any]], now: datetime
) -> dict[str, int]:
    """Reports of the period open, unclaimed and past their deadline now, per tier.

    Everyone's: per day and tier the rollup holds how many are open and unclaimed and the
    earliest and latest of their deadlines; all of them count when the latest has passed, none
    when the earliest has not, and only the few day-and-tier groups a deadline straddles (today's
    and those a tier's deadline ago, or a tier raised since) are counted from the facts. An
    analyst's own: their facts.
    """
    unclaimed = _facts(period, filters, own).filter(state__in=OPEN_STATES, claimed_at__isnull=True)
    if own is not None and tally.slice_for(filters, own) is not None:
        # The tally says which days hold any of the analyst's open, unclaimed reports (an
        # assigned report is nearly always claimed: usually none); only those are read.
        days = {row["day"] for row in rows if row["open_unclaimed"]}
        if not days:
            return {}
        unclaimed = unclaimed.filter(day__in=sorted(days))
    if own is not None:
        return dict(
            unclaimed.filter(deadline_at__lt=now)
            .values("tier")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("tier", "n")
        )
    counts: Counter[str] = Counter()
    straddled = Q(pk__in=[])
    for row in rows:
        first, last = row["unclaimed_deadline_min"], row["unclaimed_deadline_max"]
        if not row["open_unclaimed"] or first is None or first >= now:
            continue
        if last < now:
            counts[row["tier"]] += int(row["open_unclaimed"])
        else:
            # On the ``fact_unclaimed`` index (day, tier, deadline_at; open and unclaimed
            # only): the group's overdue reports, not every report of its day.
            straddled |= Q(day=row["day"], tier=row["tier"], deadline_at__gte=first)
    if straddled:
        for tier, n in (
            unclaimed.filter(straddled, deadline_at__lt=now)
            .values("tier")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("tier", "n")
        ):
            counts[tier] += n
    return dict(counts)


def settled(period: Period, filters: Filters, own: int | None) -> dict[str, Any]:
    """The figures that only a refresh can change (everything from the rollup, the tally and
    the facts but what depends on the time now), as plain data: what ``figure_cache`` keeps
    per refresh version, so a repeated page is a lookup."""
    totals, per, tier_rows, outcomes, groups = _volumes(period, filters, own)
    facts = _facts(period, filters, own)
    people: dict[str, Counter[str]] | None = None
    if own is None and tally.slice_for(filters) is None and _on_postgresql(facts):
        # Three or four filters: the tally keeps no such slice, so the waits and the workload
        # both come from the facts: one read of the combination's rows for the two.
        people = {}
        waits, method = _pg_summaries(facts, WAIT_COLUMNS, people), "exact"
    else:
        waits, method = durations_for(period, filters, own=own, received=totals["received"])
    if own is not None:
        work: list[dict[str, Any]] = []
    elif people is not None:
        work = _workload_rows(people)
    else:
        work = workload(period, filters)
    unclaimed = [
        {
            "day": row["day"].isoformat(),
            "tier": row["tier"],
            "open_unclaimed": int(row["open_unclaimed"]),
            "unclaimed_deadline_min": _iso(row.get("unclaimed_deadline_min")),
            "unclaimed_deadline_max": _iso(row.get("unclaimed_deadline_max")),
        }
        for row in groups[("day", "tier")]
        if row["open_unclaimed"]
    ]
    return {
        "totals": totals,
        "per": {k: dict(v) for k, v in per.items()},
        "tiers": {t: dict(c) for t, c in tier_rows.items()},
        "outcomes": dict(outcomes),
        "unclaimed": unclaimed,
        "durations": {n: [d.count, d.median, d.p90] for n, d in waits.items()},
        "durations_method": method,
        "workload": work,
        "open_per_day": [[d.isoformat(), n] for d, n in sorted(open_per_day(filters, own).items())],
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def figures(
    period: Period, filters: Filters, *, own: int | None = None, now: datetime | None = None
) -> Figures:
    """Every figure for the period; ``own`` restricts to the reports assigned to that staff id.

    What only a refresh changes comes from ``figure_cache`` (computed once per refresh); what
    moves with the clock — open and overdue now, the backlog's ages, takedown — is computed
    here on every call, from those figures and a few rows of the facts.
    """
    now = now or timezone.now()
    base = figure_cache.fetch(period, filters, own, lambda: settled(period, filters, own))
    unclaimed = [
        {
            **row,
            "day": date.fromisoformat(row["day"]),
            "unclaimed_deadline_min": _moment(row["unclaimed_deadline_min"]),
            "unclaimed_deadline_max": _moment(row["unclaimed_deadline_max"]),
        }
        for row in base["unclaimed"]
    ]
    open_overdue = _open_overdue(period, filters, own, unclaimed, now)
    per, totals = base["per"], base["totals"]
    by_day, day = [], period.start
    while day <= period.end:
        by_day.append((day.isoformat(), per["day"].get(day.isoformat(), 0)))
        day += timedelta(days=1)
    by_tier = [
        {
            "tier": t,
            "received": c.get("received", 0),
            "claimed_late": c.get("claimed_late", 0),
            "open_overdue": open_overdue.get(t, 0),
            "deadline_hours": tiers.DEADLINES[tiers.Tier(t)].total_seconds() / HOUR,
        }
        for t, c in base["tiers"].items()
    ]
    per_day = {date.fromisoformat(d): n for d, n in base["open_per_day"]}
    return Figures(
        period=period,
        filters=filters,
        scope="all" if own is None else "own",
        totals=totals,
        actionable_share=stats.share(totals["actionable"], totals["concluded"]),
        by_day=by_day,
        by_category=_sorted(Counter(per["category"])),
        by_channel=_sorted(Counter(per["channel"])),
        by_country=_sorted(Counter(per["country"])),
        by_tier=by_tier,
        outcomes=_sorted(Counter(base["outcomes"])),
        durations={n: stats.DurationSummary(*v) for n, v in base["durations"].items()},
        durations_method=base["durations_method"],
        backlog=backlog(filters, own=own, now=now, per_day=per_day),
        workload=base["workload"],
        **_takedown(period, now),
    )


def durations_for(
    period: Period, filters: Filters, *, own: int | None, received: int
) -> tuple[dict[str, stats.DurationSummary], str]:
    """Exact percentiles from the facts up to ``tally.EXACT_LIMIT`` reports (and for three or
    four filters at once, or an analyst's own queue with a filter, which the tally does not
    keep);
    beyond, from the histograms: the nearest rank's bucket bound, at most ~9 % above the exact
    value."""
    slice_ = tally.slice_for(filters, own)
    if slice_ is None or received < tally.EXACT_LIMIT:
        return durations(_facts(period, filters, own)), "exact"
    return tally.durations(period, slice_), "histogram"


def durations(facts: QuerySet[ReportFact]) -> dict[str, stats.DurationSummary]:
    """Count, median and p90 (nearest rank) of the hours from receipt to each step.

    On PostgreSQL the database computes them (``percentile_disc`` is the nearest rank, the same
    definition as ``stats.percentile``); elsewhere the values are read and ranked here.
    """
    columns = WAIT_COLUMNS
    if _on_postgresql(facts):
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


WAIT_COLUMNS = [*DURATIONS, ("four_eyes", "review_seconds")]
_PEOPLE = (("claimed_by", "claimed"), ("decided_by", "decided"), ("reviewed_by", "reviewed"))


def _on_postgresql(facts: QuerySet[ReportFact]) -> bool:
    return connections[facts.db].vendor == "postgresql"


def _pg_summaries(
    facts: QuerySet[ReportFact],
    columns: list[tuple[str, str]],
    people: dict[str, Counter[str]] | None = None,
) -> dict[str, stats.DurationSummary]:
    """All five in one scan: ordered-set aggregates skip NULLs, as count(column) does.

    With ``people``, the same read also counts the workload into it: ``GROUPING SETS`` of the
    whole (the percentiles) and of who took, decided and reviewed (the counts per person).
    """
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
    # The facts' own SELECT as a derived table (its WHERE reaches the day and assignee
    # indexes); ``report_id IN (subquery)`` had the planner scan every fact for the outer side.
    needed = ("received_at", *(c for _n, c in DURATIONS), "review_seconds")
    who = [c for c, _w in _PEOPLE]
    if people is not None:
        needed = (*needed, *who)
    sql, params = facts.order_by().values(*needed).query.sql_with_params()
    query = f"SELECT {', '.join(parts)} FROM ({sql}) AS f"  # noqa: S608
    if people is not None:
        # GROUPING(...) is 0 on the people's rows, 7 on the whole's; column names are ours.
        query = (
            f"SELECT {', '.join(parts)}, {', '.join(who)}, GROUPING({', '.join(who)}), count(*) "  # noqa: S608
            f"FROM ({sql}) AS f GROUP BY GROUPING SETS ((), ({', '.join(who)}))"
        )
    # The facts' database: the replica, when the router sends metrics reads there.
    with connections[facts.db].cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    width = 2 * len(columns)
    row = rows[0]
    if people is not None:
        row = next(r for r in rows if r[width + len(who)])
        for r in rows:
            if r[width + len(who)]:
                continue
            for name, (_c, what) in zip(r[width : width + len(who)], _PEOPLE, strict=True):
                if name:
                    people.setdefault(name, Counter())[what] += int(r[-1])
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


def _bounds(day: Any) -> tuple[datetime, datetime]:
    """A UTC day as the range of receipt times it holds (``ReportFact.day`` is that day)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _split_days(
    open_facts: QuerySet[ReportFact],
    split: list[Any],
    per_day: dict[Any, int],
    cuts: list[datetime | None],
    counts: list[int],
) -> None:
    """Share out the open reports of the days an age cut falls in (one cut a day: the cuts are
    days apart). Counted by the database in one query, and only the shorter side of each cut:
    a range of receipt times on the (state, received_at) index, a fraction of a day's reports,
    rather than every open report of those days; the other side is the day's count minus it.
    """
    sides: dict[str, Q] = {}
    plan: list[tuple[str, int, int, bool]] = []  # name, day's count, band of the cut, side
    for k, cut in enumerate(cuts):
        if cut is None:
            continue
        for day in split:
            start, end = _bounds(day)
            if not start <= cut < end:
                continue
            older = cut - start < end - cut  # reports at or before the cut: the shorter side
            name = f"s{k}"
            sides[name] = (
                Q(received_at__gte=start, received_at__lte=cut)
                if older
                else Q(received_at__gt=cut, received_at__lt=end)
            )
            plan.append((name, int(per_day[day]), k, older))
    either = Q(pk__in=[])
    for side in sides.values():
        either |= side
    got = open_facts.filter(either).aggregate(
        **{name: Count("received_at", filter=side) for name, side in sides.items()}
    )
    for name, n, k, older in plan:
        # Newer than the cut: band k; at or before it: band k + 1 (the next cut is a day or
        # more earlier, in another day).
        newer = n - int(got[name]) if older else int(got[name])
        counts[k] += newer
        counts[k + 1] += n - newer


def _age_bucket(received: datetime, cuts: list[datetime | None]) -> int:
    """Index into ``BACKLOG_AGES``: the first band whose cut the receipt time is after."""
    for k, cut in enumerate(cuts):
        if cut is None or received > cut:
            return k
    return len(cuts) - 1


def open_per_day(filters: Filters, own: int | None) -> dict[Any, int]:
    """Reports open as of the last refresh, per day of receipt (every day): the rollup's
    ``still_open``, the tally's ``OWN`` slice for an analyst's own queue, their facts under a
    filter."""
    if own is not None and tally.slice_for(filters, own) is not None:
        return tally.own_open_per_day(own)
    if own is not None:
        return dict(
            ReportFact.objects.filter(state__in=OPEN_STATES, assignee_id=own, **filters.as_query())
            .values("day")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("day", "n")
        )
    return {
        day: int(n)
        for day, n in DailyRollup.objects.filter(still_open__gt=0, **filters.as_query())
        .values("day")
        .annotate(n=Sum("still_open"))
        .order_by()
        .values_list("day", "n")
    }


def backlog(
    filters: Filters, *, own: int | None, now: datetime, per_day: dict[Any, int] | None = None
) -> dict[str, Any]:
    """Reports open now (whatever the period), by age since receipt.

    Everyone's: from the rollup's ``still_open`` per day (a few hundred rows however many
    reports are open); a day wholly on one side of every age cut counts in one band, and only
    the few days a cut falls in (and the day holding the median) are read from the facts, so
    the answer is exactly what counting every open fact would give. An analyst's own: the same
    from the tally's ``OWN`` slice (their facts under a filter).
    """
    cuts = [None if limit is None else now - timedelta(days=limit) for _l, limit in BACKLOG_AGES]
    open_facts = ReportFact.objects.filter(state__in=OPEN_STATES, **filters.as_query())
    if own is not None:
        open_facts = open_facts.filter(assignee_id=own)
    if per_day is None:
        per_day = open_per_day(filters, own)
    counts = [0] * len(BACKLOG_AGES)
    split: list[Any] = []
    for day, n in per_day.items():
        start, end = _bounds(day)
        if any(cut is not None and start <= cut < end for cut in cuts):
            split.append(day)  # a cut falls inside this day: its reports fall in two bands
        else:
            counts[_age_bucket(start, cuts)] += int(n)
    if split:
        _split_days(open_facts, split, per_day, cuts, counts)
    total = sum(counts)
    median = None
    if total:
        # The k-th newest open report (nearest rank): find its day from the per-day counts,
        # then its place within that day from the facts.
        k, seen = max(1, -(-total // 2)), 0
        for day in sorted(per_day, reverse=True):
            if seen + per_day[day] >= k:
                start, end = _bounds(day)
                middle = (
                    # The day as a range of receipt times: the (state, received_at) index.
                    open_facts.filter(received_at__gte=start, received_at__lt=end)
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
    """Per staff member: reports claimed, decisions proposed, second reviews done, in the period.

    From the tally (per day and filter value or pair of values) unless three or more filters
    are set: then the facts.
    """
    slice_ = tally.slice_for(filters)
    people: dict[str, Counter[str]] = {}
    if slice_ is not None:
        people = tally.workload(period, slice_)
    else:
        _workload_from_facts(_facts(period, filters, None), people)
    return _workload_rows(people)


def _workload_rows(people: dict[str, Counter[str]]) -> list[dict[str, Any]]:
    return [
        {"who": who, **{k: c.get(k, 0) for k in ("claimed", "decided", "reviewed")}}
        for who, c in sorted(people.items())
    ]


def _workload_from_facts(facts: QuerySet[ReportFact], people: dict[str, Counter[str]]) -> None:
    """One scan: grouped by who took, decided and reviewed (a few combinations of a few
    people), then counted per person here."""
    columns = (("claimed_by", "claimed"), ("decided_by", "decided"), ("reviewed_by", "reviewed"))
    grouped = (
        facts.exclude(claimed_by="", decided_by="", reviewed_by="")
        .values(*(c for c, _w in columns))
        .annotate(n=Count("pk"))
        .order_by()
        .values_list(*(c for c, _w in columns), "n")
    )
    for *names, n in grouped:
        for name, (_column, what) in zip(names, columns, strict=True):
            if name:
                people.setdefault(name, Counter())[what] += n


def _takedown(period: Period, now: datetime) -> dict[str, Any]:
    rows = takedown.takedown_rows(start=period.start_at, end=min(period.end_at, now))
    return {
        "takedown": stats.takedown_summary(rows, now=now),
        "takedown_by_country": stats.takedown_by(rows, "country", now=now),
        "takedown_by_provider": stats.takedown_by(rows, "provider", now=now),
        "survival": stats.kaplan_meier(rows, now=now),
    }
