"""Rollups: kept by the refresh as events happen, identical to a rebuild, equal to raw counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from tests.metrics import scenario
from tipline.audit.models import AuditEntry
from tipline.metrics import export, rollup, selectors, tally
from tipline.metrics.models import DailyRollup, DailyTally, ReportFact
from tipline.metrics.period import (
    FILTERS,
    BadPeriod,
    Filters,
    make,
    make_filters,
    parse_day,
    parse_named,
)

pytestmark = pytest.mark.django_db


Snapshot = tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]


def _snapshot() -> Snapshot:
    facts = list(ReportFact.objects.order_by("report_id").values_list())
    rollups = [
        r[1:]
        for r in DailyRollup.objects.order_by(
            "day", "category", "channel", "country", "tier"
        ).values_list()
    ]
    # The tally, kept by deltas in the refresh, counted from nothing by the rebuild.
    tallies = sorted(
        r[1:]
        for r in DailyTally.objects.values_list(
            "id", "day", "dimension", "value", "measure", "item", "n"
        )
    )
    return facts, rollups, tallies


def test_refresh_as_events_happen_equals_rebuild_from_nothing() -> None:
    week = scenario.build()
    rollup.refresh_all()
    incremental = _snapshot()
    assert {t[3] for t in incremental[2]} >= {"claim", "first_look", "claimed", "four_eyes"}
    # Every slice is there: everyone, each filter on its own, each pair, an analyst's own.
    assert {t[1] for t in incremental[2]} == {
        "",
        *FILTERS,
        *(d for d, _a, _b in tally.PAIRS),
        tally.OWN,
    }
    period = make(week.first_day, week.last_day)
    now = timezone.now()
    before = export.as_json(selectors.figures(period, Filters(), now=now))
    rollup.rebuild()
    assert _snapshot() == incremental
    assert export.as_json(selectors.figures(period, Filters(), now=now)) == before
    # And the command does the same.
    call_command("metrics", "rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _snapshot() == incremental


def test_figures_match_an_independent_count_from_raw_rows() -> None:
    week = scenario.build()
    now = timezone.now()
    raw = scenario.independent_counts(week, now=now)
    figures = selectors.figures(make(week.first_day, week.last_day), Filters(), now=now)
    assert figures.totals["received"] == raw["received"] == 28
    assert dict(figures.by_day) == {d: raw["by_day"].get(d, 0) for d, _ in figures.by_day}
    assert dict(figures.by_category) == dict(raw["by_category"])
    assert dict(figures.by_country) == dict(raw["by_country"])
    assert dict(figures.by_channel) == dict(raw["by_channel"])
    assert dict(figures.outcomes) == dict(raw["outcomes"])
    assert figures.totals["actionable"] == raw["actionable"]
    assert figures.durations["claim"].count == raw["claimed"]
    assert figures.backlog["open"] == raw["open"]
    assert figures.totals["rereport"] == 1, "the second report naming the same URL"
    assert figures.durations["four_eyes"].count == raw["outcomes"]["referred"]
    people = {p["who"]: p for p in figures.workload}
    assert people["sue"]["reviewed"] >= 1


def test_an_analyst_sees_only_the_reports_assigned_to_them() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    now = timezone.now()
    raw = scenario.independent_counts(week, now=now)
    period = make(week.first_day, week.last_day)
    own = selectors.figures(period, Filters(), own=week.people["ana"].pk, now=now)
    assert own.totals["received"] == raw["assigned_to_ana"] > 0
    assert own.scope == "own"
    assert own.workload == []


def test_refresh_picks_up_a_later_decision_and_a_new_report() -> None:
    ana = factories.staff("ana", "analyst").user
    report = factories.report("cyberstalking").report
    rollup.refresh_all()
    assert ReportFact.objects.get(report=report).claimed_at is None
    from tipline.cases import actions

    actions.report_claim(actor=ana, report=report)
    second = factories.report("other").report
    summary = rollup.refresh_all()
    assert summary.entries >= 1
    fact = ReportFact.objects.get(report=report)
    assert fact.claimed_at is not None
    assert fact.claimed_by == "ana"
    assert ReportFact.objects.filter(report=second).exists()
    assert rollup.rollup_totals()["received"] == 2
    # Nothing new: a refresh reads no audit entry and changes nothing.
    assert AuditEntry.objects.count() > 0
    facts = _snapshot()
    rollup.refresh_all()
    assert _snapshot() == facts


def test_empty_period_and_one_report_divide_by_nothing() -> None:
    period = make(date(2026, 1, 1), date(2026, 1, 31))
    empty = selectors.figures(period, Filters())
    assert empty.totals["received"] == 0
    assert empty.actionable_share is None
    assert empty.durations["claim"].median is None
    assert empty.takedown.median_hours is None
    export.as_csv(empty)
    factories.report("cyberstalking")
    rollup.refresh_all()
    one = selectors.figures(make(timezone.now().date(), timezone.now().date()), Filters())
    assert one.totals["received"] == 1
    assert one.actionable_share is None  # nothing concluded yet


def test_bad_periods_and_filters_get_a_sentence() -> None:
    today = timezone.now().date()
    with pytest.raises(BadPeriod, match="ends before"):
        make(today, today - timedelta(days=1))
    with pytest.raises(BadPeriod, match="future"):
        make(today + timedelta(days=2), today + timedelta(days=9))
    assert make(today - timedelta(days=1), today + timedelta(days=5)).clipped
    with pytest.raises(BadPeriod, match="YYYY-MM-DD"):
        parse_day("2026-02-30")
    with pytest.raises(BadPeriod, match="YYYY-MM-DD"):
        parse_day("'; DROP TABLE x; --\ud800")
    with pytest.raises(BadPeriod, match="2026-Q4"):
        parse_named("2026-Q5")
    assert parse_named("2026-Q1").end == date(2026, 3, 31)
    assert parse_named("2025-Q4").end == date(2025, 12, 31)
    assert parse_named("2025-02").end == date(2025, 2, 28)
    with pytest.raises(BadPeriod, match="Unknown filter"):
        make_filters({"colour": "red"})
    with pytest.raises(BadPeriod, match="category"):
        make_filters({"category": "<script>"})
    with pytest.raises(BadPeriod, match="country"):
        make_filters({"country": "ZZ"})
    with pytest.raises(BadPeriod, match="tier"):
        make_filters({"tier": "P9"})
    assert make_filters({"country": "ca"}).country == "CA"
    with pytest.raises(BadPeriod, match="three years"):
        make(date(2020, 1, 1), today)


def test_export_command_json_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    factories.report("cyberstalking")
    call_command("metrics", "refresh")
    today = timezone.now().date().isoformat()
    capsys.readouterr()
    call_command("metrics", "export", "--from", today, "--to", today)
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == 1
    assert data["totals"]["received"] == 1
    call_command("metrics", "export", "--from", today, "--to", today, "--format", "csv")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "section,key,measure,value"
    assert "totals,,received,1" in lines
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ends before"):
        call_command("metrics", "export", "--from", today, "--to", "2000-01-01")


def test_database_percentiles_equal_the_pure_definition() -> None:
    """On PostgreSQL the medians come from percentile_disc; they must equal stats.percentile."""
    from tipline.metrics import stats

    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    period = make(week.first_day, week.last_day)
    facts = ReportFact.objects.filter(day__gte=period.start, day__lte=period.end)
    got = selectors.durations(facts)
    hours = [
        (f.claimed_at - f.received_at).total_seconds() / 3600
        for f in facts
        if f.claimed_at is not None
    ]
    assert got["claim"].count == len(hours) > 0
    assert got["claim"].median == pytest.approx(stats.percentile(hours, 50))
    assert got["claim"].p90 == pytest.approx(stats.percentile(hours, 90))
    open_ages = sorted(
        (timezone.now() - f.received_at).total_seconds() / 86400
        for f in ReportFact.objects.filter(state__in=["new", "in_review", "awaiting_second_review"])
    )
    backlog = selectors.backlog(Filters(), own=None, now=timezone.now())
    assert backlog["open"] == len(open_ages)
    assert backlog["median_age_days"] == pytest.approx(stats.percentile(open_ages, 50), abs=1e-3)


def test_backlog_from_the_rollup_equals_counting_every_open_report() -> None:
    import importlib

    from django.apps import apps

    from tipline.metrics.facts import OPEN_STATES

    scenario.build(refresh_between=False)
    rollup.refresh_all()
    # Cuts at odd hours fall inside days, so the split days are read from the facts.
    for hours_later in (0, 5, 13, 23):
        now = timezone.now() + timedelta(hours=hours_later)
        for filters in (Filters(), Filters(channel="form"), Filters(category="cyberstalking")):
            got = selectors.backlog(filters, own=None, now=now)
            open_facts = ReportFact.objects.filter(state__in=OPEN_STATES, **filters.as_query())
            brute = dict.fromkeys([label for label, _l in selectors.BACKLOG_AGES], 0)
            for fact in open_facts:
                age = now - fact.received_at
                label = next(
                    lb
                    for lb, limit in selectors.BACKLOG_AGES
                    if limit is None or age < timedelta(days=limit)
                )
                brute[label] += 1
            assert dict(got["ages"]) == brute
            assert got["open"] == open_facts.count()
    # The migration that added ``still_open`` fills it for rows that existed before.
    expected = _snapshot()[1]
    DailyRollup.objects.update(still_open=0)
    migration = importlib.import_module(
        "tipline.metrics.migrations.0004_trend_keys_and_rollup_still_open"
    )
    migration.fill_still_open(apps, None)
    assert _snapshot()[1] == expected


def test_a_raised_tier_runs_its_deadline_from_the_rise_as_the_queue_does() -> None:
    from tipline.cases.models import Report
    from tipline.cases.queue import deadline_of

    report = factories.report("cyberstalking").report
    raised = timezone.now() + timedelta(hours=2)
    Report.objects.filter(pk=report.pk).update(
        tier="P1", tier_raised_from="P3", tier_raised_at=raised
    )
    rollup.rebuild()
    fact = ReportFact.objects.get(report_id=report.pk)
    assert fact.deadline_at == deadline_of("P1", report.created_at, raised)
    assert fact.deadline_at > fact.received_at + timedelta(hours=2)


def test_the_rebuild_pages_reports_in_receipt_order_through_ties() -> None:
    from tipline.cases.models import Report
    from tipline.metrics import facts

    scenario.build(refresh_between=False)
    ids = list(Report.objects.values_list("id", flat=True))
    same = timezone.now() - timedelta(days=2)
    Report.objects.filter(id__in=ids[: len(ids) // 2]).update(created_at=same)  # many ties
    seen = [row["report_id"] for page in facts.compute_all(batch=3) for row in page]
    assert sorted(seen) == sorted(ids), "every report once, none twice"
    received = [row["received_at"] for page in facts.compute_all(batch=3) for row in page]
    assert received == sorted(received)
