#!/usr/bin/env python3
"""Do unknown, malformed and wrong-type receipts cost the same server time as each other?

The issue asks that they get "the same answer and timing". This runs the follow-up status
endpoint in-process (Django's test client: server time only, no network noise) for each kind of
bad receipt, interleaved round-robin so machine noise hits all kinds alike, and prints the median
and p90 per kind and each kind's median as a ratio of the unknown-receipt median. A valid receipt
is timed too, for scale (it decrypts and renders a thread, so it is expected to be slower).

    .venv/bin/python benchmarks/receipt_timing.py [--rounds 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TIPLINE_DATA_DIR", tempfile.mkdtemp(prefix="tipline-bench-"))
os.environ["TIPLINE_RECEIPT_FAILURES_PER_MINUTE"] = str(10**9)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")

import django

from tipline.crypto.keyfiles import init_keys

# Settings read keys and never create them: `tipline keys init` would do this.
init_keys(Path(os.environ["TIPLINE_DATA_DIR"]) / "keys", stored_data=None)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

KINDS = {
    "unknown (well-formed)": lambda: {"receipt": "AAAA-BBBB-CCCC-DDDD"},
    "malformed": lambda: {"receipt": "not-a-receipt"},
    "wrong type": lambda: {"receipt": 12345},
    "missing": dict,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    client = Client(HTTP_HOST="127.0.0.1")
    created = client.post(
        "/api/v1/reports",
        {"category": "other", "what_happened": "Benchmark report."},
        content_type="application/json",
    )
    valid = created.json()["receipt"]
    kinds = {**KINDS, "valid (for scale)": lambda: {"receipt": valid}}
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(50):  # warm-up
        for make in kinds.values():
            client.post("/api/v1/followup/status", make(), content_type="application/json")
    for _ in range(args.rounds):
        for name, make in kinds.items():
            body = make()
            start = time.perf_counter()
            client.post("/api/v1/followup/status", body, content_type="application/json")
            times[name].append((time.perf_counter() - start) * 1000)
    base = statistics.median(times["unknown (well-formed)"])
    print(f"{'receipt':24} {'p50 ms':>8} {'p90 ms':>8} {'p50 ratio':>10}")
    for name, samples in times.items():
        p50 = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:24} {p50:8.3f} {p90:8.3f} {p50 / base:10.3f}")


if __name__ == "__main__":
    main()
