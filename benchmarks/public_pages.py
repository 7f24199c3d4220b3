#!/usr/bin/env python3
"""Public pages: bytes transferred and server time for every public page, in every language.

Starts a real server (``tests.live.LiveServer``: gunicorn + WhiteNoise, fresh data directory),
crawls the public site the way tests/browser/test_accessibility.py does (from each language's
home page, the offline page and the assistant, following same-site links under the language
prefix, GET only, at most 80 pages per language), then for each page:

* bytes: what a first visit transfers, as served (``Accept-Encoding: gzip``; WhiteNoise compresses
  static files it has a compressed copy of, Django sends HTML as is): the HTML plus every
  stylesheet, script, image and icon the page references;
* time: N sequential GETs of the HTML over one keep-alive loopback connection (so this is server
  time plus a loopback round trip), p50 and p95.

Goals (issue 7): every page under 100 KB transferred, p50 under 30 ms.

Usage (from the repository root)::

    .venv/bin/python benchmarks/public_pages.py            # SQLite
    scripts/with-postgres -- .venv/bin/python benchmarks/public_pages.py
    .venv/bin/python benchmarks/public_pages.py -n 50 --json > public_pages.json
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.live import LiveServer  # noqa: E402

LANGUAGES = ("en", "fr", "hi")
SEEDS = ("/", "/offline/", "/help/assistant/")
PAGES_PER_LANGUAGE = 80
BYTES_GOAL = 100 * 1024
P50_GOAL_MS = 30.0
_HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"', re.IGNORECASE)
_ASSET = re.compile(
    r'<(?:link\b[^>]*\brel="(?:stylesheet|icon|manifest)"[^>]*\bhref|script\b[^>]*\bsrc'
    r'|img\b[^>]*\bsrc)="([^"]+)"',
    re.IGNORECASE,
)


@dataclass
class PageFigures:
    path: str
    html_bytes: int
    asset_bytes: int
    total_bytes: int
    p50_ms: float
    p95_ms: float


def wire_bytes(client: httpx.Client, url: str) -> int:
    """Bytes on the wire for the body (compressed if the server compressed it)."""
    with client.stream("GET", url) as response:
        response.read()
        return int(response.num_bytes_downloaded)


def crawl(client: httpx.Client, base: str) -> list[str]:
    pages: list[str] = []
    for lang in LANGUAGES:
        seeds = [f"/{lang}{seed}" for seed in SEEDS]
        queue, seen, count = deque(seeds), set(seeds), 0
        while queue and count < PAGES_PER_LANGUAGE:
            path = queue.popleft()
            response = client.get(base + path)
            if response.status_code != 200:
                continue
            pages.append(path)
            count += 1
            for href in _HREF.findall(response.text):
                url, _ = urldefrag(urljoin(base + path, href.replace("&amp;", "&")))
                parts = urlsplit(url)
                link = url[len(base) :]
                if not url.startswith(base + f"/{lang}/") or "neutral=" in parts.query:
                    continue
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    return pages


def measure(client: httpx.Client, base: str, path: str, n: int) -> PageFigures:
    html = client.get(base + path).text
    html_bytes = wire_bytes(client, base + path)
    assets = {urljoin(base + path, a.replace("&amp;", "&")) for a in _ASSET.findall(html)}
    asset_bytes = sum(wire_bytes(client, url) for url in sorted(assets))
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.get(base + path).read()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return PageFigures(
        path=path,
        html_bytes=html_bytes,
        asset_bytes=asset_bytes,
        total_bytes=html_bytes + asset_bytes,
        p50_ms=round(statistics.median(times), 2),
        p95_ms=round(times[max(0, int(len(times) * 0.95) - 1)], 2),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="GETs per page for the timings")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout
    with tempfile.TemporaryDirectory(prefix="tipline-bench-") as root:
        server = LiveServer(root=Path(root))
        server.setup()
        server.start(workers=2)
        try:
            headers = {"Accept-Encoding": "gzip", "Accept-Language": "en"}
            with httpx.Client(headers=headers, timeout=30) as client:
                pages = crawl(client, server.url)
                for path in pages[:5]:  # warm up imports and template caches
                    client.get(server.url + path)
                figures = [measure(client, server.url, path, args.n) for path in pages]
        finally:
            server.stop()
    header = ("page", "HTML", "assets", "total KB", "p50 ms", "p95 ms")
    print("{:<44} {:>8} {:>8} {:>9} {:>7} {:>7}".format(*header), file=out)
    for f in figures:
        flag = " !" if f.total_bytes >= BYTES_GOAL or f.p50_ms >= P50_GOAL_MS else ""
        print(
            f"{f.path:<44} {f.html_bytes:>8} {f.asset_bytes:>8} {f.total_bytes / 1024:>9.1f}"
            f" {f.p50_ms:>7.2f} {f.p95_ms:>7.2f}{flag}",
            file=out,
        )
    worst_kb = max(f.total_bytes for f in figures) / 1024
    worst_p50 = max(f.p50_ms for f in figures)
    over = [f.path for f in figures if f.total_bytes >= BYTES_GOAL or f.p50_ms >= P50_GOAL_MS]
    print(
        f"\n{len(figures)} pages; largest {worst_kb:.1f} KB (goal < 100), slowest p50"
        f" {worst_p50:.2f} ms (goal < {P50_GOAL_MS:.0f}); over a goal: {over or 'none'}",
        file=out,
    )
    if args.json:
        json.dump([asdict(f) for f in figures], sys.stdout, indent=1)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
