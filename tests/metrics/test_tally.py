"""The tally (duration histograms and workload per day and filter value), outcome columns,
"open and overdue" from the rollup, and the grouping-sets query: each against counting the facts.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests import factories
from tests.metrics import scenario
from tipline.audit import chain
from tipline.cases.models import Report
from tipline.cases.states import Outcome
from tipline.metrics import rollup, selectors, tally
from tipline.metrics.facts import OPEN_STATES
from tipline.metrics.models import DailyRollup, DailyTally, FigureCache, ReportFact
from tipline.metrics.period import Filters, make

pytestmark = pytest.mark.django_db

SINGLE_FILTERS = (
    Filters(),
    Filters(category="cyberstalking"),
    Filters(channel="form"),
    Filters(country="CA"),
    Filters(tier="P3"),
)
# Every pair of filters the picker allows, on values the scenario's week holds.
PAIR_FILTERS = (
    Filters(category="cyberstalking", channel="form"),
    Filters(category="cyberstalking", country="CA"),
    Filters(category="cyberstalking", tier="P3"),
    Filters(channel="form", country="CA"),
    Filters(channel="form", tier="P3"),
    Filters(country="CA", tier="P3"),
)


def test_buckets_bound_what_they_hold() -> None:
    assert tally.bucket_of(-5) == tally.bucket_of(0.5) == tally.bucket_of(1) == 0
    assert tally.bound_of(tally.bucket_of(2)) == pytest.approx(2)
    for seconds in (1.5, 59, 3600, 86_399.9, 30 * 86400, 2.5e8):
        bound = tally.bound_of(tally.bucket_of(seconds))
        # The bound is at least the value and at most one step (2 ** (1/8) ≈ 9 %) above it.
        assert seconds <= bound * (1 + 1e-12)
        assert bound < seconds * 2 ** (1 / tally.STEPS) * (1 + 1e-12)


def test_histogram_percentile_is_the_nearest_rank_bucket() -> None:
    assert tally.histogram_percentile([], 50) is None
    assert tally.histogram_percentile([(0, 0)], 50) is None
    buckets = [(8, 1), (16, 3), (24, 6)]  # 2 s once, 4 s three times, 8 s six times
    assert tally.histogram_percentile(buckets, 10) == pytest.approx(2)
    assert tally.histogram_percentile(buckets, 40) == pytest.approx(4)
    assert tally.histogram_percentile(buckets, 41) == pytest.approx(8)
    assert tally.histogram_percentile(buckets, 100) == pytest.approx(8)


def test_deltas_that_cancel_leave_no_rows() -> None:
    day = date(2026, 11, 3)
    delta = Counter({(day, "", "", "claim", "40"): 2, (day, "tier", "P1", "claimed", "ana"): 1})
    with transaction.atomic():
        tally.apply(delta)
        tally.apply(Counter({k: 1 for k in delta}))
    assert dict(DailyTally.objects.values_list("item", "n")) == {"40": 3, "ana": 2}
    with transaction.atomic():
        tally.apply(Counter({k: -3 if k[4] == "40" else -2 for k in delta}))
    assert not DailyTally.objects.exists(), "rows that reach zero are removed"


def test_histogram_percentiles_bound_the_exact_ones_for_every_single_filter_and_pair() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    period = make(week.first_day, week.last_day)
    for filters in (*SINGLE_FILTERS, *PAIR_FILTERS):
        facts = ReportFact.objects.filter(day__gte=period.start, day__lte=period.end)
        exact = selectors.durations(facts.filter(**filters.as_query()))
        assert exact["claim"].count, ("the scenario holds reports for", filters)
        slice_ = tally.slice_for(filters)
        assert slice_ is not None
        binned = tally.durations(period, slice_)
        assert binned.keys() == exact.keys()
        for name, summary in exact.items():
            got = binned[name]
            assert got.count == summary.count, (filters, name)
            for e, h in ((summary.median, got.median), (summary.p90, got.p90)):
                if e is None:
                    assert h is None
                    continue
                assert h is not None
                if e * 3600 <= 1:
                    assert h == pytest.approx(1 / 3600)
                    continue
                assert e <= h * (1 + 1e-9) < e * 2 ** (1 / tally.STEPS) * (1 + 1e-9), (name, e, h)
    # A pair is named in FILTERS order whatever order the filters came in; three are not kept.
    assert tally.slice_for(Filters(country="FR", category="csam")) == (
        "category+country",
        "csam+FR",
    )
    assert tally.slice_for(Filters(category="csam", country="FR", tier="P1")) is None


def test_the_dashboard_switches_to_histograms_beyond_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    period = make(week.first_day, week.last_day)
    now = timezone.now()
    exact = selectors.figures(period, Filters(), now=now)
    monkeypatch.setattr(tally, "EXACT_LIMIT", 10)  # the week holds 28 reports
    FigureCache.objects.all().delete()  # kept per refresh; a new limit comes with new code
    binned = selectors.figures(period, Filters(), now=now)
    assert (exact.durations_method, binned.durations_method) == ("exact", "histogram")
    assert binned.durations == tally.durations(period, ("", ""))
    assert binned.durations["claim"].median != exact.durations["claim"].median
    # Two filters at once follow the same rule from their pair slice; three stay exact (the
    # tally keeps no triples); an analyst's own queue follows everyone's rule, from the
    # tally's OWN slice beyond the limit, and stays exact with a filter.
    monkeypatch.setattr(tally, "EXACT_LIMIT", 3)  # the pair holds 5 of the week's reports
    FigureCache.objects.all().delete()
    two = Filters(category="cyberstalking", channel="form")
    paired = selectors.figures(period, two, now=now)
    assert paired.totals["received"] >= 3
    assert paired.durations_method == "histogram"
    assert paired.durations == tally.durations(period, ("category+channel", "cyberstalking+form"))
    three = Filters(category="cyberstalking", channel="form", tier="P3")
    got = selectors.figures(period, three, now=now)
    assert got.durations_method == "exact"
    assert got.durations == selectors.durations(
        ReportFact.objects.filter(day__gte=period.start, day__lte=period.end, **three.as_query())
    )
    ana = week.people["ana"].pk  # ana holds 5 of the week's reports
    own = selectors.figures(period, Filters(), own=ana, now=now)
    assert own.totals["received"] >= 3
    assert own.durations_method == "histogram"
    assert own.durations == tally.durations(period, (tally.OWN, str(ana)))
    mine = Filters(category="cyberstalking")
    assert selectors.figures(period, mine, own=ana, now=now).durations == selectors.durations(
        ReportFact.objects.filter(
            day__gte=period.start, day__lte=period.end, assignee_id=ana, **mine.as_query()
        )
    )


def _workload_from_facts(period: object, filters: Filters) -> list[dict[str, object]]:
    people: dict[str, Counter[str]] = {}
    facts = ReportFact.objects.filter(
        day__gte=period.start,  # type: ignore[attr-defined]
        day__lte=period.end,  # type: ignore[attr-defined]
        **filters.as_query(),
    )
    for fact in facts:
        for what, who in (
            ("claimed", fact.claimed_by),
            ("decided", fact.decided_by),
            ("reviewed", fact.reviewed_by),
        ):
            if who:
                people.setdefault(who, Counter())[what] += 1
    return [
        {"who": who, **{k: c.get(k, 0) for k in ("claimed", "decided", "reviewed")}}
        for who, c in sorted(people.items())
    ]


def _kept(report: Report, filters: Filters) -> bool:
    channel = "form" if report.channel == "web" else report.channel
    values = {"category": report.category, "channel": channel}
    values |= {"country": report.country, "tier": report.tier}
    return all(values[k] == v for k, v in filters.as_query().items())


def test_workload_and_outcomes_equal_counting_the_facts_for_every_filter() -> None:
    week = scenario.build(refresh_between=True)
    period = make(week.first_day, week.last_day)
    now = timezone.now()
    three = Filters(category="cyberstalking", channel="form", tier="P3")
    filters_tried = [*SINGLE_FILTERS, *PAIR_FILTERS, three]
    for filters in filters_tried:
        got = selectors.figures(period, filters, now=now)
        assert got.workload == _workload_from_facts(period, filters), filters
        raw = Counter(r.outcome for r in Report.objects.all() if r.outcome and _kept(r, filters))
        assert dict(got.outcomes) == dict(raw), filters
    assert any(p["reviewed"] for p in selectors.workload(period, Filters()))
    # Every outcome has its rollup column (a new outcome needs one, and a migration).
    assert tuple(f"outcome_{o.value}" for o in Outcome) == rollup.OUTCOME_COLUMNS
    fields = {f.name for f in DailyRollup._meta.fields}
    assert set(rollup.OUTCOME_COLUMNS) <= fields


def test_open_and_overdue_from_the_rollup_equals_counting_every_fact() -> None:
    week = scenario.build(refresh_between=False)
    # A report raised to P1 later than it arrived: its deadline runs from the rise.
    raised = week.reports[5]
    Report.objects.filter(pk=raised.pk).update(
        tier="P1", tier_raised_from="P3", tier_raised_at=timezone.now() + timedelta(hours=30)
    )
    rollup.refresh_all()
    rollup.rebuild()
    period = make(week.first_day, week.last_day)
    seen_any = set()
    for hours in (-200, 0, 2, 20, 31, 24 * 7 + 3, 24 * 40):
        now = timezone.now() + timedelta(hours=hours)
        for filters in (*SINGLE_FILTERS, Filters(category="csam", country="CA")):
            got = {
                t["tier"]: t["open_overdue"]
                for t in selectors.figures(period, filters, now=now).by_tier
            }
            facts = ReportFact.objects.filter(
                day__gte=period.start,
                day__lte=period.end,
                state__in=OPEN_STATES,
                claimed_at__isnull=True,
                **filters.as_query(),
            )
            brute = Counter(f.tier for f in facts if f.deadline_at < now)
            assert got == {t: brute.get(t, 0) for t in got}, (hours, filters)
            seen_any |= {hours for n in brute.values() if n}
    assert len(seen_any) >= 3, "the cases cover none, some and all overdue"


def test_a_tier_rise_moves_a_reports_tally_from_one_slice_to_the_other() -> None:
    ana = factories.staff("ana", "analyst").user
    report = factories.report("cyberstalking").report
    from tipline.cases import actions

    actions.report_claim(actor=ana, report=report)
    rollup.refresh_all()
    before = Report.objects.get(pk=report.pk).tier
    assert DailyTally.objects.filter(dimension="tier", value=before, measure="claimed").exists()
    new = "P1" if before != "P1" else "P2"
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(tier=new)
        chain.record(
            actor=chain.SYSTEM,
            action="report.triaged",
            target_type="report",
            target_id=report.pk,
            details={"tier": [before, new]},
        )
    rollup.refresh_all()
    assert not DailyTally.objects.filter(dimension="tier", value=before).exists()
    assert DailyTally.objects.get(dimension="tier", value=new, measure="claimed").n == 1
    incremental = sorted(
        DailyTally.objects.values_list("day", "dimension", "value", "measure", "item", "n")
    )
    rollup.rebuild()
    assert (
        sorted(DailyTally.objects.values_list("day", "dimension", "value", "measure", "item", "n"))
        == incremental
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="grouping sets are PostgreSQL's")
def test_grouping_sets_give_the_rows_of_one_query_per_grouping() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    qs = DailyRollup.objects.filter(day__gte=week.first_day, day__lte=week.last_day).order_by()
    grouped = selectors._groups(qs)  # one GROUPING SETS query here
    portable = selectors._groups_portable(qs)

    def norm(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)

    assert grouped.keys() == portable.keys()
    for key in grouped:
        assert norm(grouped[key]) == norm(portable[key]), key
    assert math.isclose(grouped[()][0]["received"], 28)


def test_the_dashboard_names_its_method(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.console.helpers import signed_in

    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    client, _sue = signed_in("sue9", "supervisor")
    query = f"?from={week.first_day.isoformat()}&to={week.last_day.isoformat()}"
    html = client.get("/console/metrics/" + query).content.decode()
    assert 'id="durations-method">Method: the median and 90th percentile are exact' in html
    monkeypatch.setattr(tally, "EXACT_LIMIT", 10)
    html = client.get("/console/metrics/" + query).content.decode()
    assert "read from histograms" in html
    assert "at most 9 % above" in html


def test_an_analysts_own_figures_equal_counting_their_facts() -> None:
    week = scenario.build(refresh_between=True)
    period = make(week.first_day, week.last_day)
    now = timezone.now()
    for name in ("ana", "ben"):
        pk = week.people[name].pk
        mine = list(ReportFact.objects.filter(assignee_id=pk))
        got = selectors.figures(period, Filters(), own=pk, now=now)
        assert got.totals["received"] == len(mine) > 0
        assert dict(got.by_category) == dict(Counter(f.category for f in mine))
        assert dict(got.by_channel) == dict(Counter(f.channel for f in mine))
        assert {d: n for d, n in got.by_day if n} == dict(Counter(f.day.isoformat() for f in mine))
        assert dict(got.outcomes) == dict(Counter(f.outcome for f in mine if f.outcome))
        late = Counter(f.tier for f in mine if f.claimed_at and f.claimed_at > f.deadline_at)
        assert {t["tier"]: t["claimed_late"] for t in got.by_tier if t["claimed_late"]} == late
        assert got.totals["concluded"] == sum(f.concluded_at is not None for f in mine)


def _brute_ages(facts: list[ReportFact], now: datetime) -> dict[str, int]:
    ages = dict.fromkeys([label for label, _l in selectors.BACKLOG_AGES], 0)
    for fact in facts:
        age = now - fact.received_at
        ages[
            next(
                label
                for label, limit in selectors.BACKLOG_AGES
                if limit is None or age < timedelta(days=limit)
            )
        ] += 1
    return ages


def test_an_analysts_own_queue_from_the_tally_equals_counting_their_facts() -> None:
    """Guards the tally's ``OWN`` slice: every figure of an analyst's own page (no filter), read
    from the tally and not the facts, equals counting their facts, at several "now"s; and the
    refresh keeps the slice as the rebuild counts it."""
    week = scenario.build(refresh_between=True)
    # An analyst's report that nobody claimed (assigned by hand while new): "open and overdue".
    waiting = next(r for r in week.reports if r.state == "new")
    Report.objects.filter(pk=waiting.pk).update(assigned_to=week.people["ana"])
    rollup.rebuild()
    assert DailyTally.objects.filter(dimension=tally.OWN).exists()
    period = make(week.first_day, week.last_day)
    for name in ("ana", "ben"):
        pk = week.people[name].pk
        mine = list(ReportFact.objects.filter(assignee_id=pk))
        assert mine
        for hours in (0, 5, 13, 30, 24 * 8):
            now = timezone.now() + timedelta(hours=hours)
            got = selectors.figures(period, Filters(), own=pk, now=now)
            totals = {
                "received": len(mine),
                "actionable": sum(
                    f.outcome in ("referred", "notice_sent", "forwarded") for f in mine
                ),
                "concluded": sum(f.concluded_at is not None for f in mine),
                "referred": sum(f.referred_at is not None for f in mine),
                "claimed_late": sum(
                    f.claimed_at is not None and f.claimed_at > f.deadline_at for f in mine
                ),
                "known_match": sum(f.known_match for f in mine),
                "rereport": sum(f.rereport for f in mine),
            }
            assert got.totals == totals
            assert dict(got.by_country) == dict(Counter(f.country or "--" for f in mine))
            assert dict(got.by_channel) == dict(Counter(f.channel for f in mine))
            assert dict(got.outcomes) == dict(Counter(f.outcome for f in mine if f.outcome))
            open_mine = [f for f in mine if f.state in OPEN_STATES]
            overdue = Counter(
                f.tier for f in open_mine if f.claimed_at is None and f.deadline_at < now
            )
            assert {t["tier"]: t["open_overdue"] for t in got.by_tier if t["open_overdue"]} == (
                dict(overdue)
            )
            assert got.backlog["open"] == len(open_mine)
            assert dict(got.backlog["ages"]) == _brute_ages(open_mine, now)
            # The same page with a filter reads the facts: the two paths agree.
            by_facts = selectors.figures(period, Filters(category="cyberstalking"), own=pk, now=now)
            mine_cs = [f for f in mine if f.category == "cyberstalking"]
            assert by_facts.totals["received"] == len(mine_cs)
    assert (
        ReportFact.objects.filter(assignee=week.people["ana"], claimed_at__isnull=True)
        .filter(state__in=OPEN_STATES)
        .exists()
    ), "the case covers an open, unclaimed report of the analyst's"


def test_backlog_split_days_at_every_hour_equal_counting_every_open_report() -> None:
    """Guards ``selectors._split_days``: the shorter side of each cut read from the facts."""
    scenario.build(refresh_between=False)
    rollup.refresh_all()
    open_facts = list(ReportFact.objects.filter(state__in=OPEN_STATES))
    for hours in range(0, 48, 3):
        now = timezone.now() + timedelta(hours=hours, minutes=17)
        got = selectors.backlog(Filters(), own=None, now=now)
        assert dict(got["ages"]) == _brute_ages(open_facts, now), hours


def test_the_rebuilds_copy_keeps_every_character() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's (SQLite writes the tally by bulk_create)")
    day = date(2026, 11, 3)
    odd = "a\\b\tc\nd\re\\N"
    with transaction.atomic():
        tally.write(
            Counter({(day, "", "", "claimed", odd): 2, (day, "tier", "P1", "claim", "4"): 1})
        )
    assert dict(DailyTally.objects.values_list("item", "n")) == {odd: 2, "4": 1}
