#!/usr/bin/env python3
"""Re-check benchmark (issue 16): 10,000 tracked URLs against a local HTTP server.

Target: >= 200 URLs/s with bounded concurrency and no more than N connections per host.

What it does, in one run:

1. starts a small asyncio HTTP server in a separate process on 127.0.0.1 (so it does not share
   the checker's interpreter), answering HEAD after ``--latency`` ms (a provider's round trip),
   404 for one URL in ten and 200 for the rest, and counting in-flight requests per Host header;
2. starts a DNS server on loopback (tests/takedown/servers.py) resolving ``--hosts`` names
   (h0.bench ... hN.bench) to 127.0.0.1, so each URL goes through the resolver and SSRF guard
   as in production (TIPLINE_TAKEDOWN_ALLOW_LOOPBACK on, as only the tests and this script do);
3. checks ``--urls`` URLs spread over those hosts with ``tipline.takedown.recheck.check_urls``
   (``--concurrency`` at once, ``--per-host`` per host), and the first ``--baseline`` of them
   one at a time (concurrency 1), the baseline for the ratio;
4. prints URLs/s for both, the ratio, the outcomes and the most in-flight requests any one host
   saw (must not exceed ``--per-host``).

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/recheck.py
    PYTHONPATH=src .venv/bin/python benchmarks/recheck.py --urls 2000 --per-host 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SERVER = r"""
import asyncio, json, sys
latency = float(sys.argv[1]) / 1000
in_flight, most = {}, {}
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            host = next((l[5:].strip() for l in lines if l.lower().startswith("host:")), "")
            host = host.split(":")[0]
            if path == "/__stats":
                body = json.dumps(most).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                continue
            in_flight[host] = in_flight.get(host, 0) + 1
            most[host] = max(most.get(host, 0), in_flight[host])
            await asyncio.sleep(latency)
            in_flight[host] -= 1
            status = b"404 Not Found" if path.endswith("0") else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--latency", type=float, default=20.0, help="server delay, ms")
    parser.add_argument("--baseline", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from tests.takedown.servers import DnsServer

    from tipline.takedown import config
    from tipline.takedown.recheck import check_urls

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.latency)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    dns_server = DnsServer().start()
    try:
        names = [f"h{i}.bench" for i in range(args.hosts)]
        for name in names:
            dns_server.records[name] = "127.0.0.1"
        urls = [f"http://{names[i % args.hosts]}:{port}/page/{i}" for i in range(args.urls)]
        settings.TIPLINE_TAKEDOWN_RESOLVER = dns_server.address
        settings.TIPLINE_TAKEDOWN_ALLOW_LOOPBACK = True
        settings.TIPLINE_TAKEDOWN_CHECK_TIMEOUT = 30.0
        settings.TIPLINE_TAKEDOWN_CONCURRENCY = 1
        settings.TIPLINE_TAKEDOWN_PER_HOST = 1
        started = time.perf_counter()
        base_results = check_urls(urls[: args.baseline], config.load())
        base_rate = args.baseline / (time.perf_counter() - started)

        settings.TIPLINE_TAKEDOWN_CONCURRENCY = args.concurrency
        settings.TIPLINE_TAKEDOWN_PER_HOST = args.per_host
        started = time.perf_counter()
        results = check_urls(urls, config.load())
        elapsed = time.perf_counter() - started
        rate = args.urls / elapsed

        import httpx

        most = json.loads(httpx.get(f"http://127.0.0.1:{port}/__stats").text)
    finally:
        server.terminate()
        server.wait()
        dns_server.stop()
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    worst = max(most.values())
    print(f"urls {args.urls} over {args.hosts} hosts, server latency {args.latency:.0f} ms")
    print(f"baseline (one at a time, {args.baseline} URLs): {base_rate:8.1f} URLs/s")
    print(
        f"bounded (concurrency {args.concurrency}, per host {args.per_host}): "
        f"{rate:8.1f} URLs/s in {elapsed:.1f} s"
    )
    print(f"ratio: {rate / base_rate:.1f}x the baseline")
    print(f"outcomes: {outcomes} (baseline: {len(base_results)} checked)")
    print(f"most in flight on one host: {worst} (limit {args.per_host})")
    print("target >= 200 URLs/s:", "met" if rate >= 200 else "NOT met")
    print("per-host limit:", "kept" if worst <= args.per_host else "EXCEEDED")


if __name__ == "__main__":
    main()
