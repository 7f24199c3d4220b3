#!/usr/bin/env python3
"""Metrics benchmark (issue 18): dashboard server time, rollup upkeep against intake, rebuild.

Targets: dashboard p50 < 300 ms of server time for any period and filter; rollup maintenance
adds < 5 % to intake time; ``metrics rebuild`` of 1,000,000 reports < 5 minutes.

1. a fresh database beside DATABASE_URL (PostgreSQL), migrated; ``--reports`` reports bulk-loaded
   with COPY (the console benchmark's generator: weighted categories, states, 90 days of ages,
   30 countries, five analysts), and for every assigned report a ``report.view`` and a
   ``report.claim`` audit entry (bulk, with placeholder hashes: rebuild never verifies them);
2. ``rollup.rebuild()`` timed (what ``tipline metrics rebuild`` runs);
3. the dashboard view (``console.metrics_page.dashboard``, template and all, through a request
   built in-process: no network) for periods of 7, 30 and 90 days, unfiltered and filtered by
   category, channel, country, tier, two filters, and for an analyst's own figures; p50 and p95
   per case, "first" (the first page after a refresh that changed something: no kept figures,
   ``metrics.figure_cache``) and "again" (the same page repeated: kept figures);
4. intake against upkeep, same run: ``--intake`` real ``report_create`` calls (sealing, keys,
   audit), then the ``rollup.refresh()`` that takes them in; the ratio is refresh ÷ intake
   (the task runs beside intake, so this is the work it adds per report, not a wait).

Usage: ``scripts/with-postgres -- .venv/bin/python benchmarks/metrics.py --reports 1000000``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks import console as base  # noqa: E402 - after the path set-up above


def say(text: str = "") -> None:
    print(text, flush=True)


def seed_claims() -> int:
    """A view and a claim entry for every assigned report (claim 1-30 h after receipt)."""
    import json
    import random

    from tipline.audit.models import AuditEntry
    from tipline.cases.models import Report

    rng = random.Random(11)
    # Read first: the COPY below holds the connection, so no query may run while it streams.
    rows = list(
        Report.objects.filter(assigned_to__isnull=False).values_list(
            "id", "created_at", "assigned_to__username"
        )
    )
    columns = base.AUDIT_COLUMNS

    first = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def gen() -> Any:
        seq = first
        for rid, created, who in rows:
            look = created + timedelta(hours=rng.uniform(0.2, 20))
            claim = look + timedelta(hours=rng.uniform(0, 10))
            for action, at, details in (
                ("report.view", look, {}),
                ("report.claim", claim, {"from": None, "to": who, "state": ["new", "in_review"]}),
            ):
                seq += 1
                yield (
                    seq,
                    at,
                    who,
                    action,
                    "report",
                    str(rid),
                    json.dumps(details),
                    "0" * 64,
                    "0" * 64,
                )

    return base.bulk_load(AuditEntry._meta.db_table, columns, gen())


def _timing(into: list[tuple[float, str]]) -> Any:
    """A ``connection.execute_wrapper`` that notes each statement's time and opening."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            into.append(((time.perf_counter() - began) * 1000, " ".join(sql.split())[:100]))

    return wrapper


def dashboard_cases(analyst_id: int) -> list[tuple[str, dict[str, str], bool]]:
    today = datetime.now(UTC).date()

    def days(n: int) -> dict[str, str]:
        return {"from": (today - timedelta(days=n - 1)).isoformat(), "to": today.isoformat()}

    return [
        ("7 days", days(7), False),
        ("30 days", days(30), False),
        ("90 days", days(90), False),
        ("90 days, category", days(90) | {"category": "cyberstalking"}, False),
        ("90 days, channel", days(90) | {"channel": "api"}, False),
        ("90 days, country", days(90) | {"country": "FR"}, False),
        ("90 days, tier", days(90) | {"tier": "P1"}, False),
        # Two filters: a pair slice of the tally beyond the exact limit (the facts below it).
        (
            "90 days, category+country",
            days(90) | {"category": "cyberstalking", "country": "FR"},
            False,
        ),
        (
            "90 days, category+channel",
            days(90) | {"category": "cyberstalking", "channel": "form"},
            False,
        ),
        ("90 days, country+tier", days(90) | {"country": "US", "tier": "P3"}, False),
        # Three and four filters (the picker allows all four at once).
        (
            "90 days, three filters",
            days(90) | {"category": "cyberstalking", "channel": "form", "country": "US"},
            False,
        ),
        (
            "90 days, four filters",
            days(90)
            | {"category": "cyberstalking", "channel": "form", "country": "US", "tier": "P3"},
            False,
        ),
        ("30 days, analyst's own", days(30), True),
        ("90 days, analyst's own", days(90), True),
    ]


def forget_figures() -> None:
    """Drop the kept dashboard figures, as a refresh that changed something does (code without
    ``metrics.figure_cache``, the "before" of a comparison, has none to drop)."""
    from django.apps import apps

    with contextlib.suppress(LookupError):
        apps.get_model("metrics", "FigureCache").objects.all().delete()


def vacuum_metrics() -> None:
    """``VACUUM ANALYZE`` of the derived tables after the rebuild, as autovacuum does within a
    minute of a million-row insert: planner statistics, and the visibility map that lets the
    backlog's and overdue counts read the (state, received_at) and unclaimed indexes alone."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("metrics_reportfact", "metrics_dailyrollup", "metrics_dailytally"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--intake", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="intake + refresh rounds")
    parser.add_argument("--profile", action="store_true", help="profile one 90-day dashboard")
    parser.add_argument(
        "--profile-rebuild",
        action="store_true",
        help="profile the rebuild (the profiler slows it: its time is not the figure)",
    )
    parser.add_argument(
        "--trace-refresh",
        action="store_true",
        help="list the statements of the last round's refresh with their times, and profile it "
        "(the profiler slows that round: leave it out of the figures)",
    )
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL")
    base.django_setup(base.fresh_database(database) if database else None)

    from django.contrib.auth.models import AnonymousUser  # noqa: F401 - settings loaded
    from django.db import connection
    from django.test import RequestFactory
    from tests import factories

    from tipline.console import metrics_page
    from tipline.metrics import rollup

    staff = [factories.staff(name, "analyst", confirmed=True).user for name in base.ANALYSTS]
    boss = factories.staff("boss", "supervisor").user
    say(f"machine: {base.machine()}")
    began = time.perf_counter()
    base.seed_reports(args.reports, [s.pk for s in staff])
    entries = seed_claims()
    base.analyze()
    say(
        f"seeded {args.reports:,} reports and {entries:,} audit entries "
        f"in {time.perf_counter() - began:.0f} s"
    )

    began = time.perf_counter()
    if args.profile_rebuild:
        import cProfile
        import pstats

        rebuild_sql: list[tuple[float, str]] = []
        profiler = cProfile.Profile()
        with connection.execute_wrapper(_timing(rebuild_sql)):
            summary = profiler.runcall(rollup.rebuild)
        rebuild_s = time.perf_counter() - began
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)
        say("the rebuild's slowest statements (ms, first 100 characters):")
        for ms, sql in sorted(rebuild_sql, reverse=True)[:12]:
            say(f"{ms:10.1f}  {sql}")
    else:
        summary = rollup.rebuild()
        rebuild_s = time.perf_counter() - began
    say(f"metrics rebuild: {summary.reports:,} reports, {summary.days} days: {rebuild_s:.1f} s")
    base.analyze()
    vacuum_metrics()

    factory = RequestFactory()
    say("\ndashboard (server time of the view, template included)")
    say(f"{'case':28} {'first p50':>10} {'first p95':>10} {'again p50':>10} {'again p95':>10}")
    worst = 0.0
    for name, query, own in dashboard_cases(staff[1].pk):
        user = staff[1] if own else boss

        def hit(query: dict[str, str] = query, user: Any = user) -> None:
            request = factory.get("/console/metrics/", query)
            request.user = user
            response = metrics_page.dashboard(request)
            assert response.status_code == 200, response.status_code

        def first(hit: Any = hit) -> float:
            forget_figures()
            began = time.perf_counter()
            hit()
            return time.perf_counter() - began

        hit()  # warm the connection and the template
        cold = [first() for _ in range(args.requests)]
        p50, p95 = base.percentiles(cold)
        again50, again95 = base.percentiles(base.timed(hit, args.requests))
        worst = max(worst, p50)
        say(f"{name:28} {p50:10.1f} {p95:10.1f} {again50:10.1f} {again95:10.1f}")

    if args.profile:
        import cProfile
        import pstats

        # The first 90-day page after a refresh: its statements with their times, then the
        # profile of another such page.
        request = factory.get("/console/metrics/", dashboard_cases(0)[2][1])
        request.user = boss
        forget_figures()
        page: list[tuple[float, str]] = []
        with connection.execute_wrapper(_timing(page)):
            metrics_page.dashboard(request)
        say("\nthe first 90-day page's statements (ms, first 100 characters):")
        for ms, sql in page:
            say(f"{ms:8.2f}  {sql}")
        forget_figures()
        profiler = cProfile.Profile()
        profiler.runcall(metrics_page.dashboard, request)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)

    say("\nintake against rollup upkeep (same run)")
    rollup.refresh_all()
    # The refresh runs once a minute whatever the intake rate: time a minute's worth of intake
    # (``--intake`` reports, a busy national hotline's peak) and the one refresh that takes it in,
    # ``--rounds`` times (one round is a fraction of a second: the machine's load swings it).
    ratios = []
    for _round in range(args.rounds):
        began = time.perf_counter()
        for _ in range(args.intake):
            factories.report("cyberstalking", text="Messages every night from a new account.")
        intake_s = time.perf_counter() - began
        statements: list[tuple[float, str]] = []
        began = time.perf_counter()
        if args.trace_refresh and _round == args.rounds - 1:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            with connection.execute_wrapper(_timing(statements)):
                profiler.runcall(rollup.refresh)
            refresh_s = time.perf_counter() - began
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
        else:
            rollup.refresh()
            refresh_s = time.perf_counter() - began
        ratios.append(refresh_s / intake_s)
        say(
            f"intake {args.intake} reports: {intake_s:.2f} s; refresh taking them in: "
            f"{refresh_s:.2f} s ({refresh_s / intake_s:.1%})"
        )
    if statements:
        say(f"\nthe last refresh's {len(statements)} statements (ms, first 100 characters):")
        for ms, sql in statements:
            say(f"{ms:8.2f}  {sql}")
        say(f"{sum(ms for ms, _s in statements):8.2f}  in the database (of {refresh_s * 1000:.1f})")
    ratio = sorted(ratios)[len(ratios) // 2]
    say(f"upkeep / intake, median of {args.rounds} rounds = {ratio:.1%} (target < 5%)")
    say(
        f"\nsummary: rebuild {rebuild_s:.1f} s (target < 300 s at 1M), worst dashboard p50 "
        f"(first page after a refresh) {worst:.0f} ms (target < 300), upkeep {ratio:.1%} "
        "(target < 5%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
