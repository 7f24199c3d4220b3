"""Pure statistics over plain numbers: no Django, no database, so every rule is unit-tested.

Percentiles use the nearest-rank method on the sorted values (a published median is a value
that occurred, and the same rows always give the same answer on SQLite and PostgreSQL). Every
function answers ``None`` rather than dividing by zero when there is nothing to measure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile, ``0 < q <= 100``; None for no values."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError("percentile must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


@dataclass(frozen=True)
class DurationSummary:
    count: int
    median: float | None
    p90: float | None


def durations(seconds: Iterable[float]) -> DurationSummary:
    values = [float(s) for s in seconds]
    return DurationSummary(len(values), percentile(values, 50), percentile(values, 90))


# --- takedown time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TakedownRow:
    """One tracked URL as the statistics need it (see ``tipline.metrics.takedown.rows``)."""

    sent_at: datetime
    removed_at: datetime | None
    country: str
    provider: str


@dataclass(frozen=True)
class SurvivalStep:
    hours: float  # time since the notice
    online: float  # Kaplan-Meier estimate of the share still online
    at_risk: int
    removed: int
    censored: int


def kaplan_meier(rows: Sequence[TakedownRow], *, now: datetime) -> list[SurvivalStep]:
    """Share of URLs still online t hours after the notice, with not-yet-removed URLs censored
    at ``now`` (we know only that they lasted at least that long)."""
    times: list[tuple[float, bool]] = []
    for row in rows:
        end = row.removed_at if row.removed_at is not None else now
        hours = max(0.0, (end - row.sent_at).total_seconds() / 3600)
        times.append((hours, row.removed_at is not None))
    times.sort()
    at_risk, online, steps, i = len(times), 1.0, [], 0
    while i < len(times):
        t = times[i][0]
        removed = censored = 0
        while i < len(times) and times[i][0] == t:
            removed += times[i][1]
            censored += not times[i][1]
            i += 1
        if removed:
            online *= 1 - removed / at_risk
        steps.append(SurvivalStep(t, online, at_risk, removed, censored))
        at_risk -= removed + censored
    return steps


def km_quantile(steps: Sequence[SurvivalStep], removed_share: float) -> float | None:
    """Hours by which ``removed_share`` of URLs were down (None: not reached yet)."""
    for step in steps:
        if 1 - step.online >= removed_share - 1e-12:
            return step.hours
    return None


@dataclass(frozen=True)
class TakedownSummary:
    notices: int
    removed: int
    median_hours: float | None  # Kaplan-Meier: counts URLs still online, unlike a plain median
    p90_hours: float | None
    within_24h: float | None  # share of notices old enough to judge that were down by then
    within_3d: float | None
    within_7d: float | None


def _within(rows: Sequence[TakedownRow], limit: timedelta, now: datetime) -> float | None:
    # Only notices sent at least ``limit`` ago can be judged; younger ones would bias it down.
    judged = [r for r in rows if now - r.sent_at >= limit]
    done = [r for r in judged if r.removed_at is not None and r.removed_at - r.sent_at <= limit]
    return share(len(done), len(judged))


def takedown_summary(rows: Sequence[TakedownRow], *, now: datetime) -> TakedownSummary:
    steps = kaplan_meier(rows, now=now)
    return TakedownSummary(
        notices=len(rows),
        removed=sum(r.removed_at is not None for r in rows),
        median_hours=km_quantile(steps, 0.5),
        p90_hours=km_quantile(steps, 0.9),
        within_24h=_within(rows, timedelta(hours=24), now),
        within_3d=_within(rows, timedelta(days=3), now),
        within_7d=_within(rows, timedelta(days=7), now),
    )


def takedown_by(
    rows: Sequence[TakedownRow], key: str, *, now: datetime
) -> list[tuple[str, TakedownSummary]]:
    """The summary per hosting ``country`` or ``provider``, largest group first."""
    groups: dict[str, list[TakedownRow]] = {}
    for row in rows:
        groups.setdefault(getattr(row, key) or "?", []).append(row)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(name, takedown_summary(group, now=now)) for name, group in ordered]
