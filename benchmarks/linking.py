#!/usr/bin/env python3
"""Linking benchmark (issue 5): a new report against a million stored identifiers.

Target: ``identifiers_record`` + ``linked_report_ids`` for a new report with 5 identifiers in
< 5 ms (p50), which needs index look-ups on ``(digest, report)``, never a scan.

What it does, in one process:

1. creates a fresh database next to the one in DATABASE_URL (PostgreSQL) and migrates it
   (helpers from ``benchmarks/console.py``);
2. seeds ``--reports`` reports with random sealed blobs (``console.seed_reports``, COPY), then
   ``--identifiers`` ReportIdentifier rows over them with COPY: random 64-hex digests of mixed
   kinds, plus 300 "popular" handles that about 30 reports each share, so look-ups find real
   neighbours; then ``VACUUM ANALYZE``;
3. ``--runs`` times: picks a seeded report (its rows are the "new report": each run uses a
   different one so nothing is cached by the application), deletes and re-records 5 identifiers
   (2 popular, 3 fresh) through ``identifiers_record`` and asks ``linked_report_ids``; the raw
   baseline is ``SELECT report_id FROM cases_reportidentifier WHERE digest = ANY(%s)`` with the
   same 5 digests on a cursor.

Usage (from the repository root)::

    scripts/with-postgres -- .venv/bin/python benchmarks/linking.py
    scripts/with-postgres -- .venv/bin/python benchmarks/linking.py --quick   # 100k rows
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src", ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import console as seeding  # noqa: E402  (benchmarks/console.py: database, Django and COPY helpers)

TARGET_MS = 5.0
KINDS = ("handle", "url", "email", "phone", "sha256")
OUT = sys.stdout


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


def identifier_rows(
    report_ids: list[uuid.UUID], n: int, popular: list[str], now: datetime
) -> Iterator[tuple[Any, ...]]:
    """``n`` rows spread over the reports; about 1 in 100 names a popular (shared) digest."""
    rng = random.Random(11)
    per_report = max(1, n // len(report_ids))
    written = 0
    for report_id in report_ids:
        for _ in range(per_report):
            if written >= n:
                return
            digest = rng.choice(popular) if rng.random() < 0.01 else f"{rng.getrandbits(256):064x}"
            written += 1
            yield (written, report_id, rng.choice(KINDS), digest, False, now)
    while written < n:
        written += 1
        yield (written, rng.choice(report_ids), "url", f"{rng.getrandbits(256):064x}", False, now)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=300_000)
    parser.add_argument("--identifiers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="30k reports, 100k identifiers")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.identifiers = 30_000, 100_000
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set: run under scripts/with-postgres")

    seeding.django_setup(seeding.fresh_database(base))
    from django.db import connection

    from tipline.cases.linking import identifiers_record, linked_report_ids
    from tipline.cases.models import Report, ReportIdentifier

    say(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {connection.vendor} "
        f"{connection.cursor().connection.info.server_version}"
    )
    started = time.perf_counter()
    from tipline import crypto
    from tipline.staff.actions import staff_create

    analyst = staff_create(
        actor=None, username="bench", role="analyst", password=secrets.token_urlsafe(24)
    )
    seeding.seed_reports(args.reports, [analyst.user.pk])
    report_ids = list(Report.objects.values_list("pk", flat=True))
    rng = random.Random(5)
    # Handles about 30 seeded reports each share, stored as identifiers_record stores them.
    popular_names = [f"any:popular_{n}" for n in range(300)]
    popular = [crypto.identifier_digest("handle", name) for name in popular_names]
    columns = ("id", "report_id", "kind", "digest", "detached", "created_at")
    seeding.bulk_load(
        ReportIdentifier._meta.db_table,
        columns,
        identifier_rows(report_ids, args.identifiers, popular, datetime.now(UTC)),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('cases_reportidentifier_id_seq', %s)", [args.identifiers])
        cursor.execute("VACUUM ANALYZE cases_report")
        cursor.execute("VACUUM ANALYZE cases_reportidentifier")
    total = ReportIdentifier.objects.count()
    say(
        f"seeded {len(report_ids):,} reports and {total:,} identifiers "
        f"in {time.perf_counter() - started:.0f} s"
    )

    def five(run: int) -> set[tuple[str, str]]:
        """3 identifiers no other report names, 2 that several do."""
        fresh = {(kind, f"bench-{run}-{kind}") for kind in ("url", "email", "phone")}
        return fresh | {("handle", name) for name in rng.sample(popular_names, 2)}

    samples: list[float] = []
    raw: list[float] = []
    neighbours: list[int] = []
    picks = rng.sample(report_ids, args.runs + 5)
    for run, report_id in enumerate(picks):
        report = Report(pk=report_id)
        ReportIdentifier.objects.filter(report_id=report_id).delete()
        pairs = five(run)
        t0 = time.perf_counter()
        identifiers_record(report, pairs)
        linked = linked_report_ids(report)
        elapsed = time.perf_counter() - t0
        digests = [crypto.identifier_digest(k, c) for k, c in pairs]
        t1 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT report_id FROM cases_reportidentifier WHERE digest = ANY(%s)", [digests]
            )
            cursor.fetchall()
        raw_elapsed = time.perf_counter() - t1
        if run >= 5:  # warm-up
            samples.append(elapsed)
            raw.append(raw_elapsed)
            neighbours.append(len(linked))

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT DISTINCT report_id FROM cases_reportidentifier "
            "WHERE digest = ANY(%s) AND NOT detached",
            [popular[:5]],
        )
        nodes = [row[0].split("  (")[0].strip(" ->") for row in cursor.fetchall()]
        plan = " | ".join(n for n in nodes if "Cond" not in n and "Filter" not in n)
    p50, p99 = statistics.median(samples) * 1000, percentile(samples, 0.99)
    raw50, raw99 = statistics.median(raw) * 1000, percentile(raw, 0.99)
    say(f"\nrecord + link, 5 identifiers, {len(samples)} runs over {total:,} identifiers")
    say(f"  identifiers_record + linked_report_ids: p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    say(f"  raw SELECT ... WHERE digest = ANY(%s):  p50 {raw50:.2f} ms  p99 {raw99:.2f} ms")
    median_linked = statistics.median(neighbours)
    say(f"  ratio p50 {p50 / raw50:.1f}x; linked reports per run: median {median_linked:.0f}")
    say(f"  plan: {plan}")
    verdict = "ok" if p50 < TARGET_MS else "MISSED"
    say(f"  target p50 < {TARGET_MS:.0f} ms: {verdict}")
    return 0 if p50 < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
