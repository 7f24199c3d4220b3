#!/usr/bin/env python3
"""Inbox benchmark (issue 15): the unread count every console page shows beside "Inbox".

The count runs on every console page, so it must stay cheap as reporter messages accumulate. This
seeds ``--reports`` reports and ``--messages`` reporter messages (a year of them) spread over
them (sealed blobs are random bytes: the count never opens them) in a fresh SQLite database
(or the PostgreSQL one in DATABASE_URL, under ``scripts/with-postgres``), then times for an analyst:

* ``unread_count`` with nothing read (every message counts), and after they read half the reports;
* the inbox's first page;
* the baseline: a plain ``COUNT(*)`` of all reporter messages (what any count over every message
  costs at least; before the window, ``unread_count`` cost 16x this at 100,000 messages).

Usage (from the repository root)::

    .venv/bin/python benchmarks/inbox.py --messages 200000
    scripts/with-postgres -- .venv/bin/python benchmarks/inbox.py --messages 200000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def _p50(fn: Callable[[], object], runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="tipline-inbox-bench-")
    os.environ.setdefault("TIPLINE_DATA_DIR", data)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0)
    try:
        call_command("migrate", verbosity=0)
        _run(args)
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


def _run(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from tests import factories

    from tipline.cases import inbox
    from tipline.cases.models import InboxSeen, Message, Report

    now = timezone.now()
    reports = [
        Report(
            id=uuid.uuid4(),
            receipt_digest=uuid.uuid4().hex + uuid.uuid4().hex,
            category="cyberstalking",
            channel="web",
            language="en",
            tier="P3",
            priority=30,
            payload=os.urandom(64),
            created_at=now - timedelta(days=366),
        )
        for _ in range(args.reports)
    ]
    Report.objects.bulk_create(reports, batch_size=2000)
    # A year of follow-ups, evenly spread: the inbox's window (TIPLINE_INBOX_DAYS) holds a part.
    step = timedelta(days=365) / args.messages
    Message.objects.bulk_create(
        (
            Message(
                id=uuid.uuid4(),
                report=reports[i % len(reports)],
                author="reporter",
                body=os.urandom(48),
                created_at=now - timedelta(days=365) + step * i,
            )
            for i in range(args.messages)
        ),
        batch_size=5000,
    )
    analyst = factories.staff("ana", "analyst").user
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def baseline() -> int:
        return Message.objects.filter(author="reporter").count()

    rows = [("plain COUNT(*) of reporter messages (baseline)", _p50(baseline))]
    rows.append(("unread_count, nothing read", _p50(lambda: inbox.unread_count(analyst))))
    InboxSeen.objects.bulk_create(
        InboxSeen(report=r, staff=analyst, seen_at=now) for r in reports[::2]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rows.append(("unread_count, half the reports read", _p50(lambda: inbox.unread_count(analyst))))
    rows.append(("inbox first page (50)", _p50(lambda: inbox.inbox_page(analyst), runs=7)))
    in_window = Message.objects.filter(created_at__gte=inbox.window_start()).count()
    print(f"machine: {platform.machine()} {platform.python_version()} {connection.vendor}")
    print(
        f"reports {args.reports}, reporter messages {args.messages} over 365 days, "
        f"{in_window} in the {settings.TIPLINE_INBOX_DAYS}-day window"
    )
    base = rows[0][1]
    for name, ms in rows:
        print(f"{name:48s} p50 {ms:8.1f} ms  ({ms / base:5.1f}x baseline)")


if __name__ == "__main__":
    main()
