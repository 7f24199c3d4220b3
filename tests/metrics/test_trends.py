"""Trend alerts: the documented Poisson rule, raised once, shown with reports, acknowledged."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit.models import AuditEntry
from tipline.metrics import rollup, trends
from tipline.metrics.models import TrendAlert

TODAY = date(2026, 11, 30)


def test_poisson_tail_matches_the_closed_form() -> None:
    assert trends.poisson_tail(0, 3.0) == 1.0
    assert trends.poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2.0))
    assert trends.poisson_tail(3, 0.1) == pytest.approx(1 - math.exp(-0.1) * (1 + 0.1 + 0.005))
    assert trends.poisson_tail(2000, 1500.0) < 1e-30  # no overflow for large counts


def _events(key: str, per_day: dict[int, int]) -> list[tuple[str, str, date, str]]:
    out = []
    for ago, n in per_day.items():
        out += [
            ("category", key, TODAY - timedelta(days=ago), f"{key}-{ago}-{i}") for i in range(n)
        ]
    return out


def test_a_surge_against_a_quiet_baseline_alerts_and_a_steady_rate_does_not() -> None:
    steady = _events("steady", {d: 5 for d in range(35)})
    surge = _events("surge", {d: 1 for d in range(7, 35)} | {0: 9})
    found = {(s.key, s.window) for s in trends.surges(steady + surge, today=TODAY)}
    assert ("surge", "day") in found
    assert not any(k == "steady" for k, _w in found)


def test_a_key_never_seen_needs_several_reports() -> None:
    two = _events("new", {0: 2})
    assert trends.surges(two, today=TODAY) == []
    three = _events("new", {0: 3})
    # Three in a day is surprising at the floor rate (0.1 a day: P = 1.5e-4); three in a week
    # is not (0.7 a week: P = 0.034).
    assert [s.window for s in trends.surges(three, today=TODAY)] == ["day"]


def test_empty_input_raises_nothing() -> None:
    assert trends.surges([], today=TODAY) == []


@pytest.mark.django_db
def test_shared_url_surge_is_shown_with_its_reports_and_acknowledged() -> None:
    for _ in range(3):
        created = factories.report(
            "other", details={"urls": ["https://files.example.test/shared/set-9"]}
        )
        factories.run_tasks(created.report)
    rollup.refresh_all()
    raised = trends.scan()
    assert {a.dimension for a in raised} >= {"id:url", "category"}
    assert trends.scan() == [], "each alert is raised once a day"
    sue_client, _sue = signed_in("sue", "supervisor")
    page = sue_client.get("/console/metrics/").content.decode()
    assert 'id="sec-alerts"' in page
    assert page.count('href="/console/reports/') >= 3
    auditor, _a = signed_in("aud", "auditor")
    assert 'href="/console/reports/' not in auditor.get("/console/metrics/").content.decode()
    alert = TrendAlert.objects.get(dimension="id:url", window="day")
    assert auditor.post(f"/console/metrics/alerts/{alert.pk}/acknowledge/").status_code == 404
    done = sue_client.post(f"/console/metrics/alerts/{alert.pk}/acknowledge/")
    assert done.status_code == 303
    alert.refresh_from_db()
    assert alert.acknowledged_by == "sue"
    assert AuditEntry.objects.filter(action="metrics.alert_acknowledged").count() == 1


@pytest.mark.django_db
def test_platform_domain_and_provider_surges_come_from_plaintext_columns() -> None:
    from django.utils import timezone

    from tipline.cases.models import Classification
    from tipline.takedown.models import TrackedUrl

    now = timezone.now()
    ana = factories.staff("ana", "analyst").user
    for n in range(3):
        report = factories.report("sextortion", details={"handles": [f"@caller{n}"]}).report
        Classification.objects.create(report=report, platform="instagram", updated_by=ana)
        # Two URLs on one host count once for that domain: a report is one event per key.
        for path in ("a", "b"):
            TrackedUrl.objects.create(
                report=report,
                url_digest=f"{n}{path}" * 8,
                host="Files.Example.Test",
                provider="Example Hosting Ltd",
                hosting_country="NL",
                created_at=now,
            )
    rollup.refresh_all()
    raised = {(a.dimension, a.key, a.window): a for a in trends.scan(now=now)}
    assert ("platform", "instagram", "day") in raised
    assert ("domain", "files.example.test", "day") in raised
    assert ("provider", "Example Hosting Ltd", "day") in raised
    assert raised[("domain", "files.example.test", "day")].observed == 3
    assert len(raised[("provider", "Example Hosting Ltd", "day")].report_ids) == 3


@pytest.mark.django_db
def test_an_erased_tracked_url_counts_for_its_provider_but_not_a_blank_domain() -> None:
    from django.utils import timezone

    from tipline.takedown.models import TrackedUrl

    now = timezone.now()
    for _n in range(3):
        report = factories.report("other").report
        TrackedUrl.objects.create(
            report=report, url_digest="", host="", provider="P", created_at=now
        )
    rollup.refresh_all()
    dims = {(a.dimension, a.key) for a in trends.scan(now=now)}
    assert ("provider", "P") in dims
    assert not any(d == "domain" for d, _k in dims)
