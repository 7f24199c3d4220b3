#!/usr/bin/env python3
"""Time to triage an urgent report while the task workers chew on heavy images (issue 14, item 3).

Starts a real server (``tests.live.LiveServer``: ``tipline serve`` = gunicorn + the task workers,
fresh data directory and database), waits until one text report is triaged (the workers are
up), sends ``--heavy`` requests of ``--files`` flat-colour PNGs of
``--side`` x ``--side`` pixels each (the probe's attack: 3 x 10 x 6300 x 6300, under the
40-megapixel limit, about 130 KB each), then ``--urgent`` reports of a child in danger, one every
``--spacing`` seconds, and measures for each the time from its acknowledgement (the 201) until its
triage result is in the database, read directly from the server's database. It also reports when
all task work (previews, hashes and matching of every file) had finished.

Usage (from the repository root)::

    .venv/bin/python benchmarks/triage_under_load.py                  # SQLite
    scripts/with-postgres -- .venv/bin/python benchmarks/triage_under_load.py
    .venv/bin/python benchmarks/triage_under_load.py --json           # one JSON object on stdout
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import LiveServer  # noqa: E402

URGENT = (
    "A man online told my 12 year old daughter he will meet her tonight at the park. "
    "He said to come alone."
)


def query(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]
    uri = f"file:{server.data_dir / 'tipline.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
        return conn.execute(sql).fetchall()


def triaged(server: LiveServer) -> set[str]:
    rows = query(
        server,
        "SELECT r.id FROM cases_triageresult t JOIN cases_report r ON r.id = t.report_id"
        " WHERE r.category = 'child_in_danger'",
    )
    return {str(r[0]).replace("-", "") for r in rows}


def urgent_ids(server: LiveServer) -> list[str]:
    rows = query(
        server,
        "SELECT id FROM cases_report WHERE category = 'child_in_danger' ORDER BY created_at",
    )
    return [str(r[0]).replace("-", "") for r in rows]


def tasks_pending(server: LiveServer) -> int:
    # Media work is done when no task but the daily retention run waits or runs.
    sql = (
        "SELECT count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status IN ('READY', 'RUNNING') AND task_path NOT LIKE '%retention_run'"
    )
    return int(query(server, sql)[0][0])


def wait_for_home(server: LiveServer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/en/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError("the server did not start")


def send_urgent(server: LiveServer, args: argparse.Namespace, acked: list[float]) -> None:
    """The urgent reports, one every ``--spacing`` seconds, while the main thread watches."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for i in range(args.urgent):
            if i:
                time.sleep(args.spacing)
            answer = client.post(
                "/api/v1/reports", json={"category": "child_in_danger", "what_happened": URGENT}
            )
            answer.raise_for_status()
            acked.append(time.monotonic())


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = io.BytesIO()
    Image.new("RGB", (args.side, args.side), (200, 120, 40)).save(out, "PNG")
    png = out.getvalue()
    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with tempfile.TemporaryDirectory(prefix="tipline-triage-load-") as tmp:
        server = LiveServer(root=Path(tmp))
        server.setup()
        try:
            try:
                server.start()
            except RuntimeError:
                wait_for_home(server, 120)  # a busy machine starts slowly; give it longer
            with httpx.Client(base_url=server.url, timeout=120) as client:
                # Steady state: the web answers before the task workers have finished starting.
                client.post(
                    "/api/v1/reports", json={"category": "other", "what_happened": "Hi."}
                ).raise_for_status()
                while not query(server, "SELECT count(*) FROM cases_triageresult")[0][0]:
                    time.sleep(0.1)
                started = time.monotonic()
                for n in range(args.heavy):
                    answer = client.post(
                        "/api/v1/reports",
                        data={"category": "cyberstalking", "what_happened": f"Part {n}."},
                        files=[
                            ("attachments", (f"shot-{i}.png", png, "image/png"))
                            for i in range(args.files)
                        ],
                    )
                    answer.raise_for_status()
                uploaded = time.monotonic() - started
            acked: list[float] = []
            sender = threading.Thread(target=send_urgent, args=(server, args, acked))
            sender.start()
            seen: dict[str, float] = {}
            media_done: float | None = None
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                now = time.monotonic()
                for rid in triaged(server):
                    seen.setdefault(rid, now)
                if media_done is None and tasks_pending(server) == 0:
                    media_done = now - started
                if len(seen) == args.urgent and media_done is not None:
                    break
                time.sleep(0.02)
            sender.join()
            ids = urgent_ids(server)
        finally:
            server.stop()
    seconds = [
        seen[rid] - ack if rid in seen else None for rid, ack in zip(ids, acked, strict=True)
    ]
    got = [s for s in seconds if s is not None]
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average_before": round(load, 2),
        "database": "postgresql" if server.database_url else "sqlite",
        "heavy_requests": args.heavy,
        "files_per_request": args.files,
        "side": args.side,
        "png_bytes": len(png),
        "upload_seconds": round(uploaded, 2),
        "urgent_triage_seconds": [None if s is None else round(s, 3) for s in seconds],
        "urgent_triage_p50": round(statistics.median(got), 3) if got else None,
        "urgent_triage_max": round(max(got), 3) if len(got) == len(seconds) else None,
        "media_done_seconds": None if media_done is None else round(media_done, 1),
        "timeout": args.timeout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy", type=int, default=3, help="heavy requests (default 3)")
    parser.add_argument("--files", type=int, default=10, help="PNGs per request (default 10)")
    parser.add_argument("--side", type=int, default=6300, help="PNG side in pixels (6300)")
    parser.add_argument("--urgent", type=int, default=5, help="urgent reports (default 5)")
    parser.add_argument("--spacing", type=float, default=3.0, help="seconds between them")
    parser.add_argument("--timeout", type=float, default=240.0, help="give up after (s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        print(f"{name:>24}: {value}")


if __name__ == "__main__":
    main()
