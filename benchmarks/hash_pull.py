#!/usr/bin/env python3
"""Hash-list exchange benchmark (issue 17): pull N bank changes between two local instances.

Target: 1,000,000 changes pulled in under 60 s.

What it does:

1. sets up two Tipline instances (tests/live.py: each its own data directory and database;
   PostgreSQL when DATABASE_URL is set, else SQLite), A sharing a bank named "shared";
2. writes a CSV of N distinct MD5 hashes and imports it into A with ``tipline hashes import``,
   timed: the BASELINE (the same entries written locally from a file, no network);
3. removes a few entries on A (so the feed holds removals too), starts A's server, creates a
   partner credential with scope "hashes";
4. times ``tipline hashpull`` on B (its defaults: pages of 50,000 in the compact form over HTTP
   into B's bank "from-a", the next page fetched while one is written), then a second pull with
   nothing new (the incremental case); A's and B's bank stats are printed to compare.

Usage (from the repository root)::

    .venv/bin/python benchmarks/hash_pull.py --changes 1000000
    scripts/with-postgres -- .venv/bin/python benchmarks/hash_pull.py --changes 1000000
    ... --json
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

from tests.live import TIPLINE, LiveServer  # noqa: E402


def run(server: LiveServer, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [*TIPLINE, *args], env=server.env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"tipline {' '.join(args[:2])} failed: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hashpull-bench-") as tmp:
        root = Path(tmp)
        a = LiveServer(root=root / "a", extra_env={"TIPLINE_SHARED_BANKS": "shared"})
        b = LiveServer(root=root / "b", extra_env={"TIPLINE_EXCHANGE_ALLOW_HTTP": "1"})
        a.setup()
        b.setup()
        listing = root / "shared.csv"
        with listing.open("w") as out:
            out.write("kind,value\n")
            for n in range(1, args.changes + 1):
                out.write(f"md5,{n:032x}\n")
        local, _out = run(
            a, "hashes", "import", "--bank", "shared", "--format", "csv", str(listing),
            "--create", "--classification", "baseline",
        )  # fmt: skip
        for n in (1, 2, 3):  # a few removals, so the feed carries both operations
            run(a, "hashes", "remove", "--bank", "shared", "--kind", "md5", "--value", f"{n:032x}")
        token = run(
            a, "credentials", "create", "--name", "B", "--kind", "partner", "--scope", "hashes"
        )[1].splitlines()[-1]
        token_file = root / "token"
        token_file.write_text(token)
        a.start(workers=2)
        try:
            pull = ["hashpull", "--url", a.url, "--bank", "shared", "--into", "from-a"]
            pull += ["--token-file", str(token_file)]
            first, first_out = run(b, *pull)
            again, again_out = run(b, *pull)
        finally:
            a.stop()
        _t, stats_a = run(a, "hashes", "stats", "--bank", "shared")
        _t, stats_b = run(b, "hashes", "stats", "--bank", "from-a")
    result = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
        "database": "postgresql" if os.environ.get("DATABASE_URL") else "sqlite",
        "changes": args.changes,
        "baseline_local_import_s": round(local, 1),
        "pull_s": round(first, 1),
        "pull_changes_per_s": round(args.changes / first),
        "repull_nothing_new_s": round(again, 2),
        "pull_over_local_import": round(first / local, 2),
        "target_met": first < 60 if args.changes >= 1_000_000 else None,
        "pull_output": first_out.strip(),
        "repull_output": again_out.strip(),
    }
    lines = "\n".join(f"{k}: {v}" for k, v in result.items())
    print(json.dumps(result, indent=2) if args.json else lines)
    print("A:", stats_a.strip().replace("\n", " | "), file=sys.stderr)
    print("B:", stats_b.strip().replace("\n", " | "), file=sys.stderr)


if __name__ == "__main__":
    main()
