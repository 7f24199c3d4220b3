"""Kept dashboard figures (``metrics.figure_cache``): a repeated page reads one row, and no page
shows figures older than the last refresh that changed something."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.metrics import scenario
from tipline.cases import actions
from tipline.metrics import export, figure_cache, rollup, selectors
from tipline.metrics.models import FigureCache
from tipline.metrics.period import Filters, last_days, make

pytestmark = pytest.mark.django_db


def test_a_repeated_page_reads_the_kept_figures_and_they_equal_computing_them() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    period = make(week.first_day, week.last_day)
    now = timezone.now()
    cases = [
        (Filters(), None),
        (Filters(category="cyberstalking"), None),
        (Filters(category="csam", country="CA"), None),
        (Filters(), week.people["ana"].pk),
    ]
    for filters, own in cases:
        first = export.as_json(selectors.figures(period, filters, own=own, now=now))
        with CaptureQueriesContext(connection) as queries:
            again = export.as_json(selectors.figures(period, filters, own=own, now=now))
        assert again == first, (filters, own)
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert "metrics_dailyrollup" not in read or own is not None  # backlog: see below
        assert "metrics_dailytally" not in read
        # Computing afresh (no kept row) gives the same figures.
        FigureCache.objects.all().delete()
        assert export.as_json(selectors.figures(period, filters, own=own, now=now)) == first
    assert FigureCache.objects.count() == 1, "one row per (version, period, filters, scope)"


def test_kept_figures_never_outlive_a_refresh_that_changed_something() -> None:
    ana = factories.staff("ana", "analyst").user
    report = factories.report("cyberstalking").report
    rollup.refresh_all()
    period = last_days(7)
    at = figure_cache.version()
    assert selectors.figures(period, Filters()).totals["received"] == 1
    # A refresh with nothing new keeps the version (and the kept rows).
    rollup.refresh_all()
    assert figure_cache.version() == at
    assert FigureCache.objects.filter(version=at).exists()
    actions.report_claim(actor=ana, report=report)
    factories.report("other")
    rollup.refresh_all()
    assert figure_cache.version() > at
    got = selectors.figures(period, Filters())
    assert got.totals["received"] == 2
    assert dict(got.workload[0]) == {"who": "ana", "claimed": 1, "decided": 0, "reviewed": 0}
    assert not FigureCache.objects.filter(version=at).exists(), "rows of old versions go"
    # The rebuild moves the version too (and empties the table).
    rollup.rebuild()
    assert figure_cache.version() > at + 1
    assert not FigureCache.objects.exists()


def test_what_moves_with_the_clock_is_computed_on_every_page() -> None:
    """Open and overdue and the backlog's ages change with the time now, not with a refresh:
    the same kept figures give different answers at different moments."""
    report = factories.report("cyberstalking").report
    rollup.refresh_all()
    period = last_days(7)
    soon = selectors.figures(period, Filters(), now=timezone.now())
    later = selectors.figures(period, Filters(), now=timezone.now() + timedelta(days=8))
    assert FigureCache.objects.count() == 1
    tier = report.tier
    overdue = {t["tier"]: t["open_overdue"] for t in later.by_tier}
    assert {t["tier"]: t["open_overdue"] for t in soon.by_tier}[tier] == 0
    assert overdue[tier] == 1
    assert dict(soon.backlog["ages"])["<1d"] == 1
    assert dict(later.backlog["ages"])["7-30d"] == 1
