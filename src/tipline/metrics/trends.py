"""Trend alerts: a count that surges against its own baseline ("patterns of abuse").

The rule, for each category, country, platform (the classification code), domain and hosting
provider (``takedown.TrackedUrl``'s plaintext host and provider) and shared identifier digest
(URL, file hash, handle, e-mail, phone: the keyed digests ``cases.ReportIdentifier`` holds):

* baseline rate ``λ`` = reports per day over the ``BASELINE_DAYS`` (28) days before the window,
  never below ``FLOOR`` (0.1 a day), so a key never seen before needs several reports at once;
* for the last day and the last 7 days, ``x`` = reports in the window, ``μ = λ * days``;
* alert when ``x ≥ MIN_COUNT`` (3) and the Poisson upper tail ``P(X ≥ x | μ) < ALPHA`` (0.001).

Poisson because reports arrive independently at a steady rate when nothing is happening; the
tail probability says how surprising the window is, so one threshold fits a busy category and
a rare digest alike. Every report counts once per key (a report naming two URLs on one host
counts once for that domain), on the day it was received.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tipline.audit.chain import record
from tipline.cases.models import Classification, ReportIdentifier
from tipline.metrics.models import ReportFact, TrendAlert
from tipline.takedown.models import TrackedUrl

BASELINE_DAYS = 28
FLOOR = 0.1
MIN_COUNT = 3
ALPHA = 0.001
WINDOWS = (("day", 1), ("week", 7))


def poisson_tail(x: int, mu: float) -> float:
    """P(X ≥ x) for X ~ Poisson(mu), summed in log space (no overflow for large x)."""
    if x <= 0:
        return 1.0
    if mu <= 0:
        return 0.0

    def term(k: int) -> float:
        return math.exp(k * math.log(mu) - mu - math.lgamma(k + 1))

    if x <= mu:
        return max(0.0, 1.0 - sum(term(k) for k in range(x)))
    # Above the mean, sum the tail itself: 1 - (sum below) would cancel to rounding noise.
    total, k = 0.0, x
    while True:
        t = term(k)
        total += t
        if t < total * 1e-17 or k > x + 100_000:
            return min(1.0, total)
        k += 1


@dataclass(frozen=True)
class Surge:
    dimension: str
    key: str
    window: str
    observed: int
    expected: float
    p_value: float
    report_ids: tuple[str, ...]


def surges(events: Iterable[tuple[str, str, date, str]], *, today: date) -> list[Surge]:
    """Pure rule over ``(dimension, key, day, report id)`` events (one per report and key)."""
    by_key: dict[tuple[str, str], list[tuple[date, str]]] = defaultdict(list)
    for dimension, key, day, report_id in events:
        by_key[(dimension, key)].append((day, report_id))
    found = []
    for (dimension, key), rows in sorted(by_key.items()):
        for window, days in WINDOWS:
            start = today - timedelta(days=days - 1)
            base_start = start - timedelta(days=BASELINE_DAYS)
            inside = sorted({rid for d, rid in rows if start <= d <= today})
            before = len({rid for d, rid in rows if base_start <= d < start})
            rate = max(FLOOR, before / BASELINE_DAYS)
            mu = rate * days
            p = poisson_tail(len(inside), mu)
            if len(inside) >= MIN_COUNT and p < ALPHA:
                found.append(Surge(dimension, key, window, len(inside), mu, p, tuple(inside)))
    return found


def _events(since: date) -> list[tuple[str, str, date, str]]:
    """Every (dimension, key, day of receipt, report) from plaintext columns since ``since``.

    Category and country from the facts; platform from the analyst's classification code;
    domain (the URL's host) and hosting provider from ``tipline.takedown``'s tracked URLs, which
    hold them in plaintext (a report counts under them once a notice is prepared for it); shared
    identifiers by their keyed digest. Nothing here opens a sealed field.
    """
    events = []
    for rid, day, category, country in ReportFact.objects.filter(day__gte=since).values_list(
        "report_id", "day", "category", "country"
    ):
        events.append(("category", category, day, str(rid)))
        if country:
            events.append(("country", country, day, str(rid)))
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    for rid, at, platform in (
        Classification.objects.filter(report__created_at__gte=start)
        .exclude(platform="")
        .values_list("report_id", "report__created_at", "platform")
    ):
        events.append(("platform", platform, at.astimezone(UTC).date(), str(rid)))
    for rid, at, host, provider in TrackedUrl.objects.filter(
        report__created_at__gte=start
    ).values_list("report_id", "report__created_at", "host", "provider"):
        day = at.astimezone(UTC).date()
        if host:  # blank once the report was erased
            events.append(("domain", host.lower(), day, str(rid)))
        if provider:
            events.append(("provider", provider, day, str(rid)))
    for rid, at, kind, digest in ReportIdentifier.objects.filter(
        report__created_at__gte=start
    ).values_list("report_id", "report__created_at", "kind", "digest"):
        events.append((f"id:{kind}", digest, at.astimezone(UTC).date(), str(rid)))
    return events


def scan(*, now: datetime | None = None) -> list[TrendAlert]:
    """Raise an alert for every new surge (each at most once per key, window and day)."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    since = today - timedelta(days=BASELINE_DAYS + 7)
    raised = []
    for surge in surges(_events(since), today=today):
        try:
            with transaction.atomic():
                raised.append(
                    TrendAlert.objects.create(
                        dimension=surge.dimension,
                        key=surge.key,
                        window=surge.window,
                        day=today,
                        observed=surge.observed,
                        expected=surge.expected,
                        p_value=surge.p_value,
                        report_ids=list(surge.report_ids),
                        created_at=now,
                    )
                )
        except IntegrityError:
            continue  # already raised today
    return raised


def open_alerts(limit: int = 50) -> list[TrendAlert]:
    return list(
        TrendAlert.objects.filter(acknowledged_at__isnull=True).order_by("-day", "p_value")[:limit]
    )


class AlertNotFound(Exception):
    pass


def alert_acknowledge(*, actor_username: str, alert_id: object) -> TrendAlert:
    try:
        pk = int(str(alert_id))
    except ValueError:
        raise AlertNotFound from None
    with transaction.atomic():
        alert = TrendAlert.objects.select_for_update().filter(pk=pk).first()
        if alert is None:
            raise AlertNotFound
        if alert.acknowledged_at is None:
            alert.acknowledged_by = actor_username
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
            record(
                actor=actor_username,
                action="metrics.alert_acknowledged",
                target_type="trend_alert",
                target_id=alert.pk,
                details={
                    "dimension": alert.dimension,
                    "window": alert.window,
                    "day": str(alert.day),
                },
            )
    return alert
