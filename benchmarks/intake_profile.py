#!/usr/bin/env python3
"""Where one text-only report's time goes, web and task worker, in one process (issue 19).

Files ``--reports`` text-only reports through ``POST /api/v1/reports`` (Django's test client:
the whole middleware chain, JSON validation, sealing, the transaction with its task rows) and
then runs django-tasks-db's own ``Worker`` in batch mode over the triage queue (claim, load,
open, score, link, audit, save, complete), exactly as ``tipline db_worker`` does. Each phase is
timed without a profiler (CPU ms per report), then run again under cProfile; the listing shows
the functions with the largest cumulative share, which is what docs/BENCHMARKS.md's table of
shares is read from. No HTTP server, no nginx: the figures are Python's part of the cost.

    .venv/bin/python benchmarks/intake_profile.py [--reports 400] [--top 45]
    scripts/with-postgres -- .venv/bin/python benchmarks/intake_profile.py   # PostgreSQL
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

# Appended, not put first: PYTHONPATH=<another checkout>/src profiles that code instead (the
# "before" of a before/after comparison in one run).
sys.path.append(str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TIPLINE_DATA_DIR", tempfile.mkdtemp(prefix="tipline-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")
os.environ["TIPLINE_REPORTS_PER_MINUTE"] = str(10**9)

import django

from tipline.crypto.keyfiles import init_keys

init_keys(Path(os.environ["TIPLINE_DATA_DIR"]) / "keys", stored_data=None)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402

TEXT = (  # benchmarks/capacity.py's report
    "Someone I met on a game keeps sending me messages from new accounts every night after I "
    "blocked him. He says he knows my school and will post the pictures he took from my "
    "profile unless I answer. The screenshots show his accounts and the times."
)


def file_reports(client: Client, start: int, count: int) -> None:
    for index in range(start, start + count):
        answer = client.post(
            "/api/v1/reports",
            {"category": "cyberstalking", "what_happened": f"{TEXT} ({index})"},
            content_type="application/json",
        )
        if answer.status_code != 201:
            raise RuntimeError(f"report {index}: {answer.status_code} {answer.content[:200]!r}")


def drain_triage() -> None:
    Worker(
        queue_names=["triage"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="profile",
        excluded_queue_names=[],
    ).run()


def timed(label: str, count: int, run: object) -> float:
    start = time.process_time()
    run()  # type: ignore[operator]
    per = (time.process_time() - start) * 1000 / count
    print(f"{label:28} {per:7.2f} ms CPU per report", flush=True)
    return per


# The parts of the path, each named by the functions whose cumulative time it is: (path suffix,
# function name). A part's functions are never nested in each other, so their times add up.
WEB_PARTS: dict[str, list[tuple[str, str]]] = {
    "whole request (test client)": [("django/test/client.py", "request")],
    "the view (api/views.py reports)": [("tipline/api/views.py", "reports")],
    "  form built (ReportForm.__init__)": [("tipline/web/report_forms.py", "__init__")],
    "  form validated (is_valid)": [("django/forms/forms.py", "is_valid")],
    "  report_create": [("tipline/cases/actions.py", "report_create")],
    "    data keys made and wrapped": [("tipline/cases/sealing.py", "new_report_keys")],
    "    payload sealed": [("tipline/crypto/sealed.py", "seal_json")],
    "    task row (django-tasks-db enqueue)": [("django/tasks/base.py", "enqueue")],
    "    COMMIT (waits for the disk's fsync)": [
        ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
        ("psycopg/connection.py", "commit"),
    ],
}
WORKER_PARTS: dict[str, list[tuple[str, str]]] = {
    "whole worker loop": [("db_worker.py", "run")],
    "claim (locked SELECT, UPDATE, COMMIT)": [
        ("django_tasks_db/utils.py", "exclusive_transaction")
    ],
    "complete (UPDATE SUCCESSFUL)": [("django_tasks_db/models.py", "set_successful")],
    "task log lines": [("logging/__init__.py", "_log")],
    "the task (triage_report)": [("tipline/cases/tasks.py", "triage_report")],
    "  key, report, messages, files read and opened": [
        ("tipline/cases/sealing.py", "report_key"),
        ("tipline/cases/triage_step.py", "_inputs"),
    ],
    "  identifiers extracted": [("tipline/triage/identifiers.py", "extract")],
    "  identifiers recorded, links read": [
        ("tipline/cases/linking.py", "identifiers_record"),
        ("tipline/cases/linking.py", "linked_report_ids"),
    ],
    "  scored (rules)": [("tipline/triage/engine.py", "score")],
    "  model and mode looked up": [("tipline/cases/triage_model.py", "model_in_use")],
    "  pending correction looked up": [("tipline/cases/triage_step.py", "_pending_correction")],
    "  audit entry": [("tipline/audit/chain.py", "record")],
    "  COMMIT (waits for the disk's fsync)": [
        ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
        ("psycopg/connection.py", "commit"),
    ],
}


def shares(stats: pstats.Stats, parts: dict[str, list[tuple[str, str]]], count: int) -> None:
    table = stats.stats  # type: ignore[attr-defined]
    times = {
        name: sum(
            ct
            for (path, _line, func), (_cc, _nc, _tt, ct, _callers) in table.items()
            if any(path.endswith(suffix) and func == want for suffix, want in wanted)
        )
        for name, wanted in parts.items()
    }
    whole = next(iter(times.values())) or 1.0
    print(f"{'part (cumulative, cProfile wall time)':52} {'ms/report':>9} {'share':>7}")
    for name, seconds in times.items():
        print(f"{name:52} {1000 * seconds / count:9.2f} {100 * seconds / whole:6.1f} %")


def profiled(
    label: str, run: object, top: int, parts: dict[str, list[tuple[str, str]]], count: int
) -> None:
    profile = cProfile.Profile()
    profile.runcall(run)  # type: ignore[arg-type]
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    print(f"\n=== {label}: where the time goes ===")
    shares(stats, parts, count)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"\n=== {label}: cumulative (cProfile) ===")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    n = args.reports
    file_reports(client, 0, 50)  # warm-up: imports, rules, first connections
    drain_triage()
    print(f"database: {django.db.connection.vendor}; {n} text-only reports per phase")
    timed("web (test client)", n, lambda: file_reports(client, 1000, n))
    timed("worker (triage queue)", n, drain_triage)
    if args.no_profile:
        return
    profiled("web", lambda: file_reports(client, 5000, n), args.top, WEB_PARTS, n)
    profiled("worker", drain_triage, args.top, WORKER_PARTS, n)


if __name__ == "__main__":
    main()
