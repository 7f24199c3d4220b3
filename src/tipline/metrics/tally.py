"""Per-day counts per filter value and pair of values, kept by deltas: waits and workload.

Why: a percentile is not a sum, so the rollup cannot hold it, and sorting every fact of a
90-day period (a million at a large hotline) costs seconds. A histogram can be summed: each
report adds one to a log-spaced bucket of its wait, per day of receipt and per filter value,
and the dashboard sums a few hundred rows and walks the buckets to the nearest rank. The answer
is the bucket's upper bound (at most ``2 ** (1 / STEPS)``, about 9 %, above the exact value);
``selectors.durations_for`` uses it only beyond ``EXACT_LIMIT`` reports and reads the exact
values from the facts below that. Workload (who took, decided, second-reviewed) is a count per
person and is exact either way.

``contributions`` is the one rule: the rebuild counts it over every fact; the refresh adds the
difference between a report's contributions before and after, so the two agree exactly
(``tests/metrics/test_rollup.py``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from itertools import combinations
from typing import Any

from django.db import connection
from django.db.models import Sum

from tipline.cases.queue import OPEN_STATES
from tipline.cases.states import ACTIONED_OUTCOMES
from tipline.metrics import stats
from tipline.metrics.models import DailyTally, ReportFact
from tipline.metrics.period import FILTERS, Filters, Period

STEPS = 8  # buckets per doubling: each bound is 2 ** (1/8) ≈ 1.09 times the one before
HOUR = 3600.0
# Below this many reports in the period (after filters) the dashboard reads exact percentiles
# from the facts: a sort of 20,000 values is a few tens of milliseconds.
EXACT_LIMIT = 20_000
# (measure, fact column holding the moment): waits from receipt.
WAITS = (
    ("first_look", "first_look_at"),
    ("claim", "claimed_at"),
    ("decision", "decided_at"),
    ("referral", "referred_at"),
)
DURATION_MEASURES = (*(m for m, _c in WAITS), "four_eyes")
PEOPLE = (("claimed", "claimed_by"), ("decided", "decided_by"), ("reviewed", "reviewed_by"))
# An analyst's own queue is one more slice: dimension ``OWN``, value the assignee's staff id. It
# holds the waits (as every slice does) and, in place of the rollup's sums (the rollup has no
# assignee), the volume counts the own page shows, so that page never reads the facts beyond
# ``EXACT_LIMIT`` reports:
#   ``count``: item ``received``, ``actionable``, ``concluded``, ``referred``, ``claimed_late``,
#   ``known_match``, ``rereport``, ``outcome_<value>``, ``still_open`` (the backlog);
#   ``category`` / ``channel`` / ``country`` / ``tier``: item the value, reports received;
#   ``tier_late``: item the tier, reports taken late; ``open_unclaimed``: item the tier, reports
#   open and unclaimed (the days "open and overdue" must read from the facts).
OWN = "assignee"
# Two filters at once: a slice per pair of filter values, dimension ``category+country``, value
# ``cyberstalking+FR`` (the filters in ``FILTERS`` order; no code holds ``+``). Three or four
# filters are not kept (their slices would be nearly as many as the facts): those pages read
# the facts, on an index per filter.
SEP = "+"
PAIRS = tuple((f"{a}{SEP}{b}", a, b) for a, b in combinations(FILTERS, 2))
OWN_MEASURES = ("count", *FILTERS, "tier_late", "open_unclaimed")
_OWN_FIELDS = (
    "state",
    "outcome",
    "deadline_at",
    "concluded_at",
    "referred_at",
    "known_match",
    "rereport",
    "assignee_id",
)
# The fact columns ``contributions`` reads (the refresh reads them from the old facts).
FIELDS = (
    "day",
    *FILTERS,
    "received_at",
    *(c for _m, c in WAITS),
    "review_seconds",
    *(c for _m, c in PEOPLE),
    *_OWN_FIELDS,
)
_ACTIONED = frozenset(o.value for o in ACTIONED_OUTCOMES)

TallyKey = tuple[date, str, str, str, str]  # day, dimension, value, measure, item


def bucket_of(seconds: float) -> int:
    """The bucket holding a wait: 0 for up to a second (or a clock that ran backwards)."""
    if seconds <= 1:
        return 0
    return math.ceil(STEPS * math.log2(seconds))


def bound_of(bucket: int) -> float:
    """The bucket's upper bound in seconds (what a percentile from the histogram reports)."""
    return float(2 ** (bucket / STEPS))


def _own_items(fact: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The volume counts of the ``OWN`` slice: the rules of ``rollup.group_facts``, per fact."""
    counted = ["received"]
    if fact["outcome"] in _ACTIONED:
        counted.append("actionable")
    if fact["concluded_at"] is not None:
        counted.append("concluded")
    if fact["referred_at"] is not None:
        counted.append("referred")
    late = fact["claimed_at"] is not None and fact["claimed_at"] > fact["deadline_at"]
    if late:
        counted.append("claimed_late")
    if fact["known_match"]:
        counted.append("known_match")
    if fact["rereport"]:
        counted.append("rereport")
    if fact["outcome"]:
        counted.append(f"outcome_{fact['outcome']}")
    is_open = fact["state"] in OPEN_STATES
    if is_open:
        counted.append("still_open")
    items = [("count", c) for c in counted] + [(d, fact[d]) for d in FILTERS]
    if late:
        items.append(("tier_late", fact["tier"]))
    if is_open and fact["claimed_at"] is None:
        items.append(("open_unclaimed", fact["tier"]))
    return items


FilterKey = tuple[str, ...]  # the fact's values of FILTERS, in that order


@lru_cache(maxsize=4096)
def slices_of(key: FilterKey) -> tuple[tuple[str, str], ...]:
    """The slices a report with these filter values counts in: every report, each filter value
    on its own, and each pair of values (a blank country is no filter value: no slice names it)."""
    values = dict(zip(FILTERS, key, strict=True))
    out = [("", "")] + [(d, values[d]) for d in FILTERS if values[d]]
    out += [(d, f"{values[a]}{SEP}{values[b]}") for d, a, b in PAIRS if values[a] and values[b]]
    return tuple(out)


def _items(fact: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the waits' buckets, the waits' buckets and the people) one fact counts."""
    waits: list[tuple[str, str]] = []
    received = fact["received_at"]
    for measure, column in WAITS:
        stamp = fact[column]
        if stamp is not None:
            waits.append((measure, str(bucket_of((stamp - received).total_seconds()))))
    if fact["review_seconds"] is not None:
        waits.append(("four_eyes", str(bucket_of(float(fact["review_seconds"])))))
    items = list(waits)
    for measure, column in PEOPLE:
        if fact[column]:
            items.append((measure, fact[column]))
    return waits, items


def _own(fact: Mapping[str, Any], waits: list[tuple[str, str]]) -> list[TallyKey]:
    if fact["assignee_id"] is None:
        return []
    day, mine = fact["day"], str(fact["assignee_id"])
    return [(day, OWN, mine, m, i) for m, i in (*waits, *_own_items(fact))]


def contributions(fact: Mapping[str, Any]) -> list[TallyKey]:
    """Every tally row one fact adds one to (fact field names as in ``ReportFact``)."""
    waits, items = _items(fact)
    day = fact["day"]
    slices = slices_of(tuple(fact[d] for d in FILTERS)) if items else ()
    return [(day, d, v, m, i) for d, v in slices for m, i in items] + _own(fact, waits)


class Counting:
    """The rebuild's count: ``contributions`` of every fact, summed, by the same rule in two
    steps — each fact's items per (day, filter values), then each such row spread over its
    slices (``slices_of``) once, not once per fact (a slice row is shared by many facts)."""

    def __init__(self) -> None:
        self.fine: Counter[tuple[date, FilterKey, str, str]] = Counter()
        self.own: Counter[TallyKey] = Counter()

    def add(self, fact: Mapping[str, Any]) -> None:
        waits, items = _items(fact)
        day, key = fact["day"], tuple(fact[d] for d in FILTERS)
        self.fine.update((day, key, m, i) for m, i in items)
        self.own.update(_own(fact, waits))

    def total(self) -> Counter[TallyKey]:
        out = Counter(self.own)
        for (day, key, m, i), n in self.fine.items():
            for d, v in slices_of(key):
                out[day, d, v, m, i] += n
        return out


def count(facts: Iterable[Mapping[str, Any]]) -> Counter[TallyKey]:
    counting = Counting()
    for fact in facts:
        counting.add(fact)
    return counting.total()


def as_fields(fact: ReportFact) -> dict[str, Any]:
    return {name: getattr(fact, name) for name in FIELDS}


UPSERT_ROWS = 500  # 6 parameters a row: well under SQLite's limit


def apply(delta: Counter[TallyKey]) -> None:
    """Add ``delta`` to the tally (one upsert a 500 rows; rows that reach zero are removed).

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` runs on PostgreSQL and on SQLite >= 3.35.
    """
    rows = [(*key, n) for key, n in delta.items() if n]
    table = DailyTally._meta.db_table
    emptied: list[int] = []
    for start in range(0, len(rows), UPSERT_ROWS):
        chunk = rows[start : start + UPSERT_ROWS]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = [p for row in chunk for p in row]
        # Table and column names are our model's; every value is a bound parameter.
        sql = (
            f"INSERT INTO {table} (day, dimension, value, measure, item, n) VALUES {values} "  # noqa: S608
            "ON CONFLICT (dimension, value, measure, day, item) "
            f"DO UPDATE SET n = {table}.n + excluded.n RETURNING id, n"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            emptied += [pk for pk, n in cursor.fetchall() if n == 0]
    if emptied:
        DailyTally.objects.filter(pk__in=emptied).delete()


def write(counter: Counter[TallyKey]) -> None:
    """Write a whole tally (the rebuild): ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere."""
    rows = [(*key, n) for key, n in counter.items() if n]
    if connection.vendor != "postgresql":
        DailyTally.objects.bulk_create(
            [
                DailyTally(day=d, dimension=dim, value=v, measure=m, item=i, n=n)
                for d, dim, v, m, i, n in rows
            ],
            batch_size=1000,
        )
        return
    # In the unique key's order (dimension, value, measure, day, item): the key's index is then
    # filled from one end, not at random pages (at 1M reports it outgrows shared buffers).
    rows.sort(key=lambda r: (r[1], r[2], r[3], r[0], r[4]))
    table = DailyTally._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(f"COPY {table} (day, dimension, value, measure, item, n) FROM STDIN") as cp:
            for start in range(0, len(rows), 10_000):
                cp.write(_copy_text(rows[start : start + 10_000]))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(rows: list[tuple[Any, ...]]) -> str:
    """Rows as ``COPY``'s text format (one string: a row at a time costs more in the driver).
    The few distinct strings (slices, measures, buckets, staff names) are escaped once each."""
    escaped: dict[str, str] = {}

    def esc(text: str) -> str:
        got = escaped.get(text)
        if got is None:
            got = escaped[text] = text.translate(_COPY_ESCAPES)
        return got

    return "".join(
        f"{d.isoformat()}\t{esc(dim)}\t{esc(v)}\t{esc(m)}\t{esc(i)}\t{n}\n"
        for d, dim, v, m, i, n in rows
    )


def slice_for(filters: Filters, own: int | None = None) -> tuple[str, str] | None:
    """The tally slice answering these filters: none, one or two set; None for three or more.

    An analyst's own queue is the ``OWN`` slice without filters; with a filter, None (the
    tally keeps no assignee combinations).
    """
    chosen = filters.as_query()
    if own is not None:
        return None if chosen else (OWN, str(own))
    if len(chosen) == 2:
        (a, va), (b, vb) = sorted(chosen.items(), key=lambda kv: FILTERS.index(kv[0]))
        return f"{a}{SEP}{b}", f"{va}{SEP}{vb}"
    if len(chosen) > 2:
        return None
    return next(iter(chosen.items()), ("", ""))


def own_counts(period: Period, own: int) -> list[tuple[date, str, str, int]]:
    """The ``OWN`` slice's volume counts per day in the period: (day, measure, item, n)."""
    return [
        (day, measure, item, int(total))
        for day, measure, item, total in DailyTally.objects.filter(
            dimension=OWN,
            value=str(own),
            measure__in=OWN_MEASURES,
            day__gte=period.start,
            day__lte=period.end,
        )
        .values("day", "measure", "item")
        .annotate(total=Sum("n"))
        .order_by()
        .values_list("day", "measure", "item", "total")
        if total
    ]


def own_open_per_day(own: int) -> dict[date, int]:
    """An analyst's reports open now (as of the last refresh) per day of receipt, every day."""
    return {
        day: int(n)
        for day, n in DailyTally.objects.filter(
            dimension=OWN, value=str(own), measure="count", item="still_open"
        ).values_list("day", "n")
        if n
    }


def _summed(period: Period, slice_: tuple[str, str], measures: Iterable[str]) -> Any:
    dimension, value = slice_
    return (
        DailyTally.objects.filter(
            dimension=dimension,
            value=value,
            measure__in=list(measures),
            day__gte=period.start,
            day__lte=period.end,
        )
        .values("measure", "item")
        .annotate(total=Sum("n"))
        .order_by()
        .values_list("measure", "item", "total")
    )


def histogram_percentile(buckets: list[tuple[int, int]], q: float) -> float | None:
    """Nearest rank over (bucket, count) pairs sorted by bucket: the rank's bucket's bound."""
    total = sum(n for _b, n in buckets)
    if total <= 0:
        return None
    rank, seen = max(1, math.ceil(q / 100 * total)), 0
    for bucket, n in buckets:
        seen += n
        if seen >= rank:
            return bound_of(bucket)
    return bound_of(buckets[-1][0])  # pragma: no cover - the ranks add up to the total


def durations(period: Period, slice_: tuple[str, str]) -> dict[str, stats.DurationSummary]:
    """Count, median and p90 in hours per wait, from the histograms (one query)."""
    per: dict[str, list[tuple[int, int]]] = {m: [] for m in DURATION_MEASURES}
    for measure, item, total in _summed(period, slice_, DURATION_MEASURES):
        if total:
            per[measure].append((int(item), int(total)))
    out = {}
    for measure, buckets in per.items():
        buckets.sort()
        median, p90 = histogram_percentile(buckets, 50), histogram_percentile(buckets, 90)
        out[measure] = stats.DurationSummary(
            sum(n for _b, n in buckets),
            None if median is None else median / HOUR,
            None if p90 is None else p90 / HOUR,
        )
    return out


def workload(period: Period, slice_: tuple[str, str]) -> dict[str, Counter[str]]:
    """Per person: reports claimed, decided, second-reviewed (one query)."""
    people: dict[str, Counter[str]] = {}
    for measure, who, total in _summed(period, slice_, (m for m, _c in PEOPLE)):
        if total:
            people.setdefault(who, Counter())[measure] += int(total)
    return people
