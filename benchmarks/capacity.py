#!/usr/bin/env python3
"""What one report costs a whole installation, and the machines a 20-million-report year needs
(issue 19's projection).

Starts a real `tipline serve` (nginx, gunicorn, the task worker) on a fresh data directory and
database (SQLite, or PostgreSQL under ``scripts/with-postgres``), sends ``--reports`` reports
through the public API, each with ``--files`` of Meta's PDQ reference photos, waits until the
worker has triaged, hashed and matched every one, and reads from ``/proc`` the CPU every process
spent meanwhile (the server's process group: nginx, gunicorn, the worker; and PostgreSQL's own
processes), with the database's and the evidence store's growth. Costs are per report, after a
warm-up. The projection multiplies them out for a year of ``--year`` reports with an hourly peak
of ``--peak`` times the average, and says which figures are assumptions.

Usage (from the repository root)::

    .venv/bin/python benchmarks/capacity.py --reports 300 --files 2
    scripts/with-postgres -- .venv/bin/python benchmarks/capacity.py --reports 300 --files 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import LiveServer  # noqa: E402
from tests.pdq_data import pdq_data  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
ROLES = ("web", "worker", "database", "other")
SECONDS_A_YEAR = 365 * 24 * 3600
TEXT = (
    "Someone I met on a game keeps sending me messages from new accounts every night after I "
    "blocked him. He says he knows my school and will post the pictures he took from my "
    "profile unless I answer. The screenshots show his accounts and the times."
)


def query(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]
    uri = f"file:{server.data_dir / 'tipline.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
        return conn.execute(sql).fetchall()


# A report's own tasks still due or running (the periodic chains, which re-enqueue themselves
# every few seconds, are counted in the CPU but never finish); fixed text.
_WORK_LEFT = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult"
    " WHERE status IN ('READY', 'RUNNING') AND task_path LIKE 'tipline.cases.tasks.%'"
    " AND task_path NOT LIKE '%retention_run'"
)


def work_left(server: LiveServer) -> int:
    return int(query(server, _WORK_LEFT)[0][0])


def database_bytes(server: LiveServer) -> int:
    if server.database_url:
        return int(query(server, "SELECT pg_database_size(current_database())")[0][0])
    return sum(p.stat().st_size for p in server.data_dir.glob("tipline.sqlite3*") if p.is_file())


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, process group, command, CPU seconds) of every process we may read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        yield int(entry.name), int(fields[2]), cmdline, cpu


def _role(server: LiveServer, pid: int, pgid: int, cmdline: str) -> str | None:
    assert server.proc is not None
    if pgid == server.proc.pid:
        if "gunicorn" in cmdline or "nginx" in cmdline:
            return "web"
        return "worker" if "worker" in cmdline else "other"
    if cmdline.startswith("postgres:") and server.database_url:
        # Every process of the test cluster: other databases are idle during the run.
        return "database"
    return None


def cpu_by_process(server: LiveServer) -> dict[int, tuple[str, float]]:
    """Role and CPU seconds so far of each process: the web (gunicorn, nginx), the task worker,
    PostgreSQL, and the rest of the server's group (``tipline serve`` itself)."""
    found = {}
    for pid, pgid, cmdline, cpu in _processes():
        role = _role(server, pid, pgid, cmdline)
        if role is not None:
            found[pid] = (role, cpu)
    return found


def cpu_between(
    first: dict[int, tuple[str, float]], then: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent per role between two readings: per process, so a process that ended
    in between takes nothing away (what it spent after the first reading is lost, which only
    PostgreSQL's short-lived backends do)."""
    spent = dict.fromkeys(ROLES, 0.0)
    for pid, (role, cpu) in then.items():
        spent[role] += cpu - first.get(pid, (role, 0.0))[1]
    return spent


_TASKS_RUN = (
    "SELECT task_path, count(*) FROM django_tasks_database_dbtaskresult"
    " WHERE status = 'SUCCESSFUL' GROUP BY task_path"
)


@dataclass
class Sample:
    at: float
    cpu: dict[int, tuple[str, float]]
    database: int
    evidence: int
    objects: int
    tasks: dict[str, int]


def sample(server: LiveServer) -> Sample:
    evidence = server.data_dir / "evidence"
    return Sample(
        time.monotonic(),
        cpu_by_process(server),
        database_bytes(server),
        tree_bytes(evidence) if evidence.exists() else 0,
        sum(1 for p in evidence.rglob("*") if p.is_file()) if evidence.exists() else 0,
        {str(path): int(count) for path, count in query(server, _TASKS_RUN)},
    )


def photos(count: int) -> list[tuple[str, bytes]]:
    found = sorted(
        p for p in pdq_data().rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )
    if not found:
        raise SystemExit("the PDQ reference photos are missing (../shared/data/pdq)")
    return [(p.name, p.read_bytes()) for p in found][:count] if count else []


def send(server: LiveServer, files: list[tuple[str, bytes]], n: int, index: int) -> None:
    fields = {"category": "cyberstalking", "what_happened": f"{TEXT} ({index})"}
    if n:  # multipart with the files; without files the API takes JSON
        chosen = [files[(index + k) % len(files)] for k in range(n)]
        attachments = [
            ("attachments", (name, data, "application/octet-stream")) for name, data in chosen
        ]
        answer = httpx.post(
            server.url + "/api/v1/reports", data=fields, files=attachments, timeout=120
        )
    else:
        answer = httpx.post(server.url + "/api/v1/reports", json=fields, timeout=120)
    if answer.status_code != 201:
        raise RuntimeError(f"report {index}: {answer.status_code} {answer.text[:200]}")


def drain(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    time.sleep(1)
    while work_left(server):
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not finish in time")
        time.sleep(0.5)


def run_batch(
    server: LiveServer,
    files: list[tuple[str, bytes]],
    args: argparse.Namespace,
    start: int,
    count: int,
) -> None:
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(lambda i: send(server, files, args.files, i), range(start, start + count)))
    drain(server, timeout=600 + count * 2)


def project(per: dict[str, float], args: argparse.Namespace) -> dict[str, Any]:
    """Cores at the year's peak hour and storage a year, from the measured per-report costs."""
    average = args.year / SECONDS_A_YEAR  # reports/s over the year
    peak = average * args.peak
    cores = {
        role: per[f"{role}_cpu_s"] * peak / args.utilisation
        for role in ("web", "worker", "database")
    }
    return {
        "reports_a_year": args.year,
        "average_reports_per_s": round(average, 3),
        "peak_reports_per_s": round(peak, 2),
        "cores_at_peak": {role: round(c, 2) for role, c in cores.items()},
        "database_gb_a_year": round(per["database_bytes"] * args.year / 1e9, 1),
        "evidence_tb_a_year": round(per["evidence_bytes"] * args.year / 1e12, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--files", type=int, default=2, help="PDQ photos per report")
    parser.add_argument("--clients", type=int, default=4, help="reports sent at once")
    parser.add_argument("--year", type=int, default=20_000_000, help="reports a year")
    parser.add_argument("--peak", type=float, default=10.0, help="peak hour / average hour")
    parser.add_argument(
        "--utilisation", type=float, default=0.5, help="share of a core planned at the peak"
    )
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measured")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    files = photos(30) if args.files else []
    with tempfile.TemporaryDirectory(prefix="tipline-capacity-") as tmp:
        server = LiveServer(root=Path(tmp))
        server.setup()
        server.start(workers=2)
        try:
            run_batch(server, files, args, 0, args.warmup)
            # What the idle installation spends (its periodic chains poll every few seconds)
            # is not a report's cost: measured alone, then taken off the batch's time.
            quiet = sample(server)
            time.sleep(args.idle)
            before = sample(server)
            idle = {
                role: spent / (before.at - quiet.at)
                for role, spent in cpu_between(quiet.cpu, before.cpu).items()
            }
            run_batch(server, files, args, args.warmup, args.reports)
            after = sample(server)
        finally:
            server.stop()
    n = args.reports
    wall = after.at - before.at
    per = {
        f"{role}_cpu_s": max(0.0, spent - idle[role] * wall) / n
        for role, spent in cpu_between(before.cpu, after.cpu).items()
    }
    per["database_bytes"] = (after.database - before.database) / n
    per["evidence_bytes"] = (after.evidence - before.evidence) / n
    per["evidence_objects"] = (after.objects - before.objects) / n
    tasks = {
        path.rsplit(".", 1)[-1]: round((count - before.tasks.get(path, 0)) / n, 2)
        for path, count in after.tasks.items()
        if count > before.tasks.get(path, 0)
    }
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "database": "postgresql" if server.database_url else "sqlite",
        "reports": n,
        "files_per_report": args.files,
        "photo_bytes_sent_per_report": (
            sum(len(files[(i) % len(files)][1]) for i in range(n * args.files)) / n if files else 0
        ),
        "wall_s": round(wall, 1),
        "tasks_per_report": tasks,
        "idle_cpu_ms_per_s": {role: round(rate * 1000, 1) for role, rate in idle.items()},
        "per_report": {
            k: round(v * 1000, 2) if k.endswith("_cpu_s") else round(v, 1) for k, v in per.items()
        },
        "projection": project(per, args),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['database']}: {n} reports x {args.files} photos in {result['wall_s']} s "
        f"({result['machine']})"
    )
    for key, value in result["per_report"].items():
        unit = "ms CPU" if key.endswith("_cpu_s") else key.rsplit("_", 1)[-1]
        print(f"  per report {key.removesuffix('_cpu_s'):<16} {value:>12,} {unit}")
    print(f"  photo bytes sent per report {result['photo_bytes_sent_per_report']:,.0f}")
    print(f"  tasks run per report: {result['tasks_per_report']}")
    print(f"  idle installation, CPU ms per second: {result['idle_cpu_ms_per_s']}")
    print(f"  projection: {json.dumps(result['projection'])}")


if __name__ == "__main__":
    main()
