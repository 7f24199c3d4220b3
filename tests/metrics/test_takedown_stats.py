"""Takedown time: median, p90, shares within 24 h / 3 d / 7 d, Kaplan-Meier with censoring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tipline.metrics import stats
from tipline.metrics.stats import TakedownRow

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _row(sent_days_ago: float, hours: float | None, country: str = "FR") -> TakedownRow:
    sent = NOW - timedelta(days=sent_days_ago)
    removed = None if hours is None else sent + timedelta(hours=hours)
    return TakedownRow(sent, removed, country, "host-" + country)


def test_no_notices_answers_none_not_a_division_by_zero() -> None:
    summary = stats.takedown_summary([], now=NOW)
    assert summary.notices == 0
    assert summary.median_hours is None
    assert summary.within_24h is None
    assert stats.kaplan_meier([], now=NOW) == []


def test_all_removed_gives_the_plain_median() -> None:
    rows = [_row(10, h) for h in (2, 4, 6, 30, 100)]
    summary = stats.takedown_summary(rows, now=NOW)
    assert summary.median_hours == 6
    assert summary.p90_hours == 100
    assert summary.within_24h == pytest.approx(3 / 5)
    assert summary.within_3d == pytest.approx(4 / 5)
    assert summary.within_7d == pytest.approx(1.0)


def test_urls_still_online_are_censored_not_dropped() -> None:
    # Two removed quickly, three still up after 10 days: the median is not reached (more than
    # half still online), where dropping the censored rows would claim a 1.5-hour median.
    rows = [_row(10, 1), _row(10, 2), _row(10, None), _row(10, None), _row(10, None)]
    steps = stats.kaplan_meier(rows, now=NOW)
    assert steps[0].online == pytest.approx(0.8)
    assert steps[1].online == pytest.approx(0.6)
    assert steps[-1].censored == 3
    assert stats.takedown_summary(rows, now=NOW).median_hours is None


def test_censoring_in_the_middle_follows_kaplan_meier() -> None:
    # Removed at 1 h, censored at 2 h (sent 2 h ago, still up), removed at 3 h, 4 h.
    rows = [
        _row(1, 1),
        TakedownRow(NOW - timedelta(hours=2), None, "CA", "x"),
        _row(1, 3),
        _row(1, 4),
    ]
    steps = stats.kaplan_meier(rows, now=NOW)
    online = [round(s.online, 4) for s in steps]
    # 1 - 1/4 = .75; censored at 2 h leaves 2 at risk; .75 * (1 - 1/2) = .375; then 0.
    assert online == [0.75, 0.75, 0.375, 0.0]
    assert stats.km_quantile(steps, 0.5) == 3


def test_young_notices_are_not_judged_for_longer_windows() -> None:
    rows = [_row(0.5, None), _row(5, 10)]
    summary = stats.takedown_summary(rows, now=NOW)
    assert summary.within_24h == 1.0  # only the 5-day-old notice can be judged at 24 h
    assert summary.within_7d is None


def test_groups_by_country_and_provider() -> None:
    rows = [_row(10, 5, "FR"), _row(10, 50, "FR"), _row(10, 7, "IN")]
    groups = dict(stats.takedown_by(rows, "country", now=NOW))
    assert groups["FR"].notices == 2
    assert groups["IN"].median_hours == 7
    assert [k for k, _s in stats.takedown_by(rows, "provider", now=NOW)] == ["host-FR", "host-IN"]


def test_percentile_is_nearest_rank_and_refuses_nonsense() -> None:
    assert stats.percentile([5.0], 50) == 5.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError, match="percentile"):
        stats.percentile([1.0], 0)
