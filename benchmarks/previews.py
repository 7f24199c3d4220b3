#!/usr/bin/env python3
"""Evidence renditions (issue 15): what the sandbox costs per PDF page, text file and video.

For each kind it times the renderer as the console calls it (confined: prlimit + bwrap, or the
level this machine offers; for PDF pages also Pillow's re-drawing of the PNG) against the same
program run plainly with the same arguments and input (the baseline), and prints p50/p95 and the
ratio. The first row is the sandbox alone (same program, same output). No database is needed.

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/previews.py            # 20 runs each
    PYTHONPATH=src .venv/bin/python benchmarks/previews.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")

import django

django.setup()

from tests.evidence import pdfs, videos  # noqa: E402

from tipline.evidence import renderers, sandbox  # noqa: E402


def _time(run: Callable[[], object], runs: int) -> list[float]:
    run()  # warm the page cache and the confinement probe
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _plain(argv: list[str], *, stdin: bytes | None = None, file: bytes | None = None) -> bytes:
    """The program run directly, no limits or namespaces; a file input as a memfd too."""
    if file is None:
        return subprocess.run(argv, input=stdin, capture_output=True, check=True).stdout
    fd = os.memfd_create("bench", 0)
    try:
        os.write(fd, file)
        args = [a.replace("{0}", f"/dev/fd/{fd}") for a in argv]
        return subprocess.run(args, capture_output=True, check=True, pass_fds=(fd,)).stdout
    finally:
        os.close(fd)


def _row(name: str, confined: list[float], plain: list[float]) -> None:
    p50c, p50p = statistics.median(confined), statistics.median(plain)
    p95c = sorted(confined)[int(len(confined) * 0.95) - 1]
    p95p = sorted(plain)[int(len(plain) * 0.95) - 1]
    print(
        f"{name:<28} confined p50 {p50c:8.1f} ms p95 {p95c:8.1f} | plain p50 {p50p:8.1f} ms "
        f"p95 {p95p:8.1f} | ratio {p50c / p50p:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"confinement: {sandbox.confinement()}; {os.cpu_count()} CPUs; {runs} runs each")
    letter = pdfs.text_pages([f"Page {i}: he wrote again" for i in range(1, 11)])
    pdftoppm = ["/usr/bin/pdftoppm", "-png", "-f", "3", "-l", "3", "-singlefile"]
    pdftoppm += ["-scale-to", "1024", "-"]
    _row(
        "sandbox only: pdftoppm 1024",
        _time(lambda: sandbox.run(pdftoppm, stdin=letter), runs),
        _time(lambda: _plain(pdftoppm, stdin=letter), runs),
    )
    for size in renderers.PDF_SIZES:
        argv = ["/usr/bin/pdftoppm", "-png", "-f", "3", "-l", "3", "-singlefile"]
        argv += ["-scale-to", str(size), "-"]
        _row(
            f"PDF page at {size} px",
            _time(lambda s=size: renderers.pdf_page(letter, page=3, size=s), runs),
            _time(lambda a=argv: _plain(a, stdin=letter), runs),
        )
    _row(
        "PDF page count",
        _time(lambda: renderers.pdf_page_count(letter), runs),
        _time(lambda: _plain(["/usr/bin/pdfinfo", "-"], stdin=letter), runs),
    )
    text = ("21:04 il a écrit encore — he says one hour left\n" * 4000).encode("cp1252", "replace")
    started = time.perf_counter()
    for _ in range(runs):
        renderers.text_preview(text)
    mean = (time.perf_counter() - started) * 1000 / runs
    print(f"{'text 200 KB cp1252 (detect)':<28} mean {mean:8.1f} ms")
    clip = videos.pattern_mp4(seconds=10)
    video_runs = max(3, runs // 4)
    _row(
        "video 10 s 720p -> 480p",
        _time(lambda: renderers.video_preview(clip), video_runs),
        _time(lambda: _plain(renderers.video_argv(), file=clip), video_runs),
    )


if __name__ == "__main__":
    main()
