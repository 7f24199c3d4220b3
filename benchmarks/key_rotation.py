#!/usr/bin/env python3
"""Key rotation and doctor benchmark (issue 19): how long `tipline keys rotate` and `tipline
doctor` take per report, against a baseline measured in the same run.

Seeds ``--reports`` reports with their two data keys really wrapped under KEK 1 (payloads are
random bytes: neither command opens them) in a fresh SQLite database (or the PostgreSQL one in
DATABASE_URL, under ``scripts/with-postgres``), then times:

* the baseline: the same number of single-row UPDATEs of the key column, in transactions of
  ``--batch`` rows, without any cryptography (the least a re-wrap in batches can cost);
* ``rotation.rotate(batch=--batch, grace=0)``: unwrap, wrap, compare-and-swap UPDATE per key;
* ``doctor.check_keys()`` with unwrapping, and with ``--no-unwrap``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/key_rotation.py --reports 20000
    scripts/with-postgres -- .venv/bin/python benchmarks/key_rotation.py --reports 20000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="tipline-rotation-bench-")
    os.environ["TIPLINE_DATA_DIR"] = data
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
    from django.db import connection, transaction

    from tipline.cases.models import Report, ReportKey
    from tipline.cases.sealing import new_report_keys
    from tipline.ops import doctor, rotation

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
        )
        for _ in range(args.reports)
    ]
    Report.objects.bulk_create(reports, batch_size=2000)
    keys = [row for r in reports for row in new_report_keys(r.id)[2]]
    ReportKey.objects.bulk_create(keys, batch_size=2000)
    ids = list(ReportKey.objects.order_by("pk").values_list("pk", "wrapped"))

    start = time.perf_counter()
    for i in range(0, len(ids), args.batch):
        with transaction.atomic():
            for pk, wrapped in ids[i : i + args.batch]:
                ReportKey.objects.filter(pk=pk).update(wrapped=bytes(wrapped))
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    progress = rotation.rotate(batch=args.batch, grace=0)
    rotate = time.perf_counter() - start
    assert progress.rewrapped == len(ids), progress

    start = time.perf_counter()
    assert list(doctor.check_keys(unwrap=True)) == []
    check = time.perf_counter() - start
    start = time.perf_counter()
    assert list(doctor.check_keys(unwrap=False)) == []
    check_fast = time.perf_counter() - start

    load = os.getloadavg()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {connection.vendor}, load {load[0]:.2f}"
    )
    print(f"{args.reports} reports, {len(ids)} data keys, batches of {args.batch}")
    rows = [
        ("baseline: plain UPDATE per key, same batches", baseline),
        ("keys rotate (unwrap, wrap, compare-and-swap)", rotate),
        ("doctor keys check, unwrapping every key", check),
        ("doctor keys check, --no-unwrap", check_fast),
    ]
    for name, seconds in rows:
        print(
            f"{name:48s} {seconds:7.2f} s  {len(ids) / seconds:9.0f} keys/s  "
            f"({seconds / baseline:4.2f}x baseline)"
        )


if __name__ == "__main__":
    main()
