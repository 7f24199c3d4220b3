#!/usr/bin/env python3
"""Partner bulk-report benchmark (issue 17): reports/s through ``POST /api/v1/partner/reports``
in batches of 100, against the same route with one report per request, in the same run.

Target: batches of 100 at least 3x the single-report rate (on PostgreSQL).

A real server (tests/live.py: ``tipline serve`` with the front, a fresh database; PostgreSQL
when DATABASE_URL is set) started with ``--no-worker``, so triage running behind the filing does
not blur the API's own cost; one client sends sequential requests over a kept-alive connection.
Every report is a real one (sealed details, keys, a queued triage task, the partner link).

Usage (from the repository root)::

    scripts/with-postgres -- .venv/bin/python benchmarks/partner_bulk.py
    ... --batches 20 --singles 300 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])

import httpx  # noqa: E402
from tests.live import TIPLINE, LiveServer  # noqa: E402


def item(reference: str) -> dict[str, object]:
    return {
        "reference": reference,
        "category": "cyberstalking",
        "what_happened": "An account keeps posting the victim's address and sending threats.",
        "urls": ["https://social.example/post/123", "https://social.example/user/abc"],
    }


def rate(client: httpx.Client, url: str, prefix: str, requests: int, size: int) -> float:
    started = time.perf_counter()
    for r in range(requests):
        body = {"reports": [item(f"{prefix}-{r}-{i}") for i in range(size)]}
        answer = client.post(url, json=body)
        results = answer.json()["results"]
        if answer.status_code != 200 or any(x["status"] != "created" for x in results):
            sys.exit(f"unexpected answer: {answer.status_code} {answer.text[:500]}")
    return requests * size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="requests of 100 reports")
    parser.add_argument("--singles", type=int, default=300, help="requests of 1 report")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="partner-bench-") as tmp:
        server = LiveServer(root=Path(tmp))
        server.setup()
        token = subprocess.run(
            [*TIPLINE, "credentials", "create", "--name", "Bench", "--kind", "partner",
             "--scope", "reports"],
            env=server.env(), capture_output=True, text=True, check=True,
        ).stdout.splitlines()[-1]  # fmt: skip
        server.start(workers=2, extra_args=["--no-worker"])
        try:
            url = server.url + "/api/v1/partner/reports"
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(headers=headers, timeout=120) as client:
                rate(client, url, "warm", 5, 1)  # connections, imports, caches
                single = rate(client, url, "one", args.singles, 1)
                bulk = rate(client, url, "bulk", args.batches, 100)
                single_after = rate(client, url, "one-again", args.singles // 3, 1)
        finally:
            server.stop()
    result = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
        "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
        "single_reports_per_s": round(single, 1),
        "bulk_100_reports_per_s": round(bulk, 1),
        "single_again_reports_per_s": round(single_after, 1),
        "ratio_bulk_over_single": round(bulk / ((single + single_after) / 2), 2),
        "target_met": bulk / ((single + single_after) / 2) >= 3,
    }
    lines = "\n".join(f"{k}: {v}" for k, v in result.items())
    print(json.dumps(result, indent=2) if args.json else lines)


if __name__ == "__main__":
    main()
