#!/usr/bin/env python3
"""Slow clients (issue 14.1): plain gunicorn against `tipline serve` with its front (nginx).

Starts one real server (``tests.live.LiveServer``: fresh data directory, keys, migrations) and
runs it twice on the same data, first with ``--no-front`` (gunicorn on the public port, as
before issue 14) and then with the front, and measures for each:

* ``GET /en/`` latency (p50, p99 over every probe, one not answered within ``--timeout`` counting
  as infinitely slow) with no attack, then while N connections announce a
  150 MB multipart body and send nothing (the attack of issue 14; N = 16, 50 and 200 by default);
* how long one such stalled connection is held before the server lets it go (capped);
* the memory of the front's processes (resident and virtual) during each attack;
* intake throughput: closed-loop ``POST /api/v1/reports`` (acknowledged reports per second) at a
  fixed client concurrency. Both servers run side by side on the same data for this part and
  take turns in short windows (plain, front, plain, front, ...), so that the other jobs of a
  shared machine weigh on both alike; the front's cost is the ratio of the two totals.

Usage (from the repository root)::

    .venv/bin/python benchmarks/slow_clients.py
    .venv/bin/python benchmarks/slow_clients.py --quick          # fewer probes, shorter runs
    .venv/bin/python benchmarks/slow_clients.py --json > slow.json

Results are recorded in docs/BENCHMARKS.md ("Slow clients").
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.live import LiveServer  # noqa: E402
from tests.ops.attack import Probe, close_all, open_attack, probe, stalled_upload  # noqa: E402

OUT = sys.stdout
REPORT = {"category": "other", "what_happened": "Someone keeps posting my home address online."}


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


@dataclass
class AttackPoint:
    attackers: int
    p50_ms: float
    p99_ms: float
    worst_ms: float
    answered: int
    failed: int
    front_memory_mib: float | None = None
    front_virtual_mib: float | None = None


@dataclass
class Mode:
    name: str
    quiet: AttackPoint | None = None
    attacks: list[AttackPoint] = field(default_factory=list)
    stalled_held_s: float = 0.0
    stalled_released: bool = False
    intake_reports: int = 0
    intake_seconds: float = 0.0
    intake_errors: int = 0
    intake_latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def intake_per_s(self) -> float:
        return round(self.intake_reports / self.intake_seconds, 1) if self.intake_seconds else 0.0

    @property
    def intake_p50_ms(self) -> float:
        ordered = sorted(self.intake_latencies_ms)
        return round(ordered[len(ordered) // 2], 1) if ordered else float("inf")


def point(attackers: int, result: Probe, memory: tuple[float, float] | None = None) -> AttackPoint:
    """Percentiles over every probe, a probe without an answer in time counting as infinite."""
    every = sorted(result.latencies + [float("inf")] * len(result.failures))

    def ms(q: float) -> float:
        value = every[min(len(every) - 1, round(q * (len(every) - 1)))] if every else float("inf")
        return round(value * 1000, 1)

    return AttackPoint(
        attackers=attackers,
        p50_ms=ms(0.5),
        p99_ms=ms(0.99),
        worst_ms=ms(1.0),
        answered=len(result.latencies),
        failed=len(result.failures),
        front_memory_mib=memory[0] if memory else None,
        front_virtual_mib=memory[1] if memory else None,
    )


def shown(ms: float, timeout: float) -> str:
    return f"> {timeout * 1000:.0f} ms" if ms == float("inf") else f"{ms} ms"


def front_memory_mib(server: LiveServer) -> tuple[float, float] | None:
    """Resident and virtual memory of the front's nginx processes (master and workers), MiB."""
    marker = f" -p {server.data_dir / 'front'}/ ".encode()
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"nginx: master process") and marker in cmdline:
            pids.append(pid)
    if not pids:
        return None
    master = pids[0]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{master}\n" in status:
            pids.append(pid)
    rss_kib = virtual_kib = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kib += int(line.split()[1])
            elif line.startswith("VmSize:"):
                virtual_kib += int(line.split()[1])
    return round(rss_kib / 1024, 1), round(virtual_kib / 1024, 1)


def stalled_hold(server: LiveServer, cap: float) -> tuple[float, bool]:
    """Seconds until the server answers or closes one stalled upload (up to `cap`)."""
    sock = stalled_upload("127.0.0.1", server.port)
    sock.settimeout(cap)
    started = time.monotonic()
    try:
        sock.recv(64)
        released = True
    except TimeoutError:
        released = False
    except ConnectionResetError:
        released = True
    finally:
        sock.close()
    return round(time.monotonic() - started, 1), released


def intake(server: LiveServer, mode: Mode, seconds: float, concurrency: int) -> None:
    """Closed loop: each client posts a report, waits for the receipt, posts the next."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop_at:
                started = time.monotonic()
                try:
                    answer = http.post(server.url + "/api/v1/reports", json=REPORT)
                    ok = answer.status_code == 201
                except httpx.HTTPError:
                    ok = False
                with lock:
                    if ok:
                        mode.intake_reports += 1
                        mode.intake_latencies_ms.append((time.monotonic() - started) * 1000)
                    else:
                        mode.intake_errors += 1

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    mode.intake_seconds += time.monotonic() - started


def measure(server: LiveServer, mode: Mode, args: argparse.Namespace) -> None:
    say(f"\n== {mode.name} ==")
    mode.quiet = point(0, probe(server.url, requests=args.probes, timeout=args.timeout))
    quiet = mode.quiet
    say(
        f"no attack: GET /en/ p50 {shown(quiet.p50_ms, args.timeout)}, "
        f"p99 {shown(quiet.p99_ms, args.timeout)}, answered {quiet.answered}/{args.probes}"
    )
    for attackers in args.attackers:
        attack = open_attack("127.0.0.1", server.port, attackers)
        try:
            time.sleep(0.5)
            result = probe(server.url, requests=args.attack_probes, timeout=args.timeout)
            memory = front_memory_mib(server)
        finally:
            close_all(attack)
        mode.attacks.append(point(attackers, result, memory))
        last = mode.attacks[-1]
        say(
            f"{attackers:4d} stalled uploads: GET /en/ p50 {shown(last.p50_ms, args.timeout)}, "
            f"p99 {shown(last.p99_ms, args.timeout)}, answered {last.answered}/{args.attack_probes}"
            + (f", front RSS {memory[0]} MiB (virtual {memory[1]})" if memory else "")
        )
        time.sleep(2)  # let the server drop what the attack left
    mode.stalled_held_s, mode.stalled_released = stalled_hold(server, args.hold_cap)
    say(
        f"one stalled upload: {'released' if mode.stalled_released else 'still held'} "
        f"after {mode.stalled_held_s} s"
    )


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, nargs="+", default=[16, 50, 200])
    parser.add_argument("--probes", type=int, default=200, help="GET /en/ without attack")
    parser.add_argument("--attack-probes", type=int, default=40, help="GET /en/ per attack")
    parser.add_argument("--timeout", type=float, default=2.0, help="a slower answer is a failure")
    parser.add_argument("--hold-cap", type=float, default=45.0)
    parser.add_argument("--intake-seconds", type=float, default=40.0, help="per server")
    parser.add_argument("--rounds", type=int, default=4, help="intake windows per server")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, tables on stderr")
    args = parser.parse_args()
    if args.quick:
        args.probes, args.attack_probes, args.intake_seconds, args.rounds = 50, 10, 8.0, 2
        args.attackers, args.hold_cap = [50], 30.0
    if args.json:
        OUT = sys.stderr

    say(f"slow clients, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    say(f"{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    say(f"gunicorn {args.workers} workers x 2 threads; attack: 150 MB announced, nothing sent")
    modes = []
    with tempfile.TemporaryDirectory(prefix="tipline-slow-") as tmp:
        server = LiveServer(root=Path(tmp))
        server.setup()
        for name, extra in (("gunicorn alone (--no-front)", ["--no-front"]), ("front", [])):
            mode = Mode(name)
            server.start(workers=args.workers, extra_args=extra)
            try:
                measure(server, mode, args)
            finally:
                server.stop()
            modes.append(mode)
        # Intake: both servers at once on the same data, taking turns.
        url = server.database_url
        plain_server = LiveServer(root=Path(tmp), database_url=url, starts=server.starts)
        plain_server.start(workers=args.workers, extra_args=["--no-front", "--no-worker"])
        front_server = LiveServer(root=Path(tmp), database_url=url, starts=plain_server.starts)
        front_server.start(workers=args.workers)
        window = args.intake_seconds / args.rounds
        try:
            for _ in range(args.rounds):
                for live, mode in ((plain_server, modes[0]), (front_server, modes[1])):
                    intake(live, mode, window, args.concurrency)
        finally:
            plain_server.stop()
            front_server.stop()
    say(f"\nintake, {args.rounds} turns of {window:.0f} s per server, c={args.concurrency}:")
    for mode in modes:
        say(
            f"  {mode.name}: {mode.intake_per_s} reports/s, p50 {mode.intake_p50_ms} ms, "
            f"errors {mode.intake_errors}"
        )
    plain, fronted = modes
    ratio = fronted.intake_per_s / plain.intake_per_s if plain.intake_per_s else float("nan")
    say(f"intake with the front / without: {ratio:.2f}")
    say(f"load at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        rows = [
            asdict(m) | {"intake_per_s": m.intake_per_s, "intake_p50_ms": m.intake_p50_ms}
            for m in modes
        ]
        for row in rows:
            del row["intake_latencies_ms"]
        print(json.dumps({"modes": rows, "intake_ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
