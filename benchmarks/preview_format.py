#!/usr/bin/env python3
"""Image previews: the lossy WebP the media step stores now, against the lossless PNG of before.

For each PDQ reference photo (``../shared/data/pdq``, or TIPLINE_PDQ_DATA) it makes the preview
both ways: ``make_preview`` as the media step calls it, and the same steps ending in the old PNG
encoder as the baseline. It times CPU per call and prints the median CPU and the mean bytes of
each, and their ratios. No database is needed.

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/preview_format.py            # 3 rounds
    PYTHONPATH=src .venv/bin/python benchmarks/preview_format.py --rounds 1
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")

import django

django.setup()

from PIL import Image, ImageOps  # noqa: E402
from tests.pdq_data import pdq_data  # noqa: E402

from tipline.evidence import previews  # noqa: E402


def png_preview(data: bytes) -> bytes:
    """The preview as it was made until 2026-12 (lossless PNG), for the baseline."""
    with Image.open(io.BytesIO(data)) as img:
        img.seek(0)
        rgb = ImageOps.exif_transpose(img).convert("RGB")
    rgb.thumbnail((previews.PREVIEW_MAX_PX, previews.PREVIEW_MAX_PX))
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=False)
    return out.getvalue()


def measure(
    make: Callable[[bytes], bytes], photos: list[bytes], rounds: int
) -> tuple[float, float]:
    """Median CPU ms per preview, and mean bytes of a preview."""
    times: list[float] = []
    sizes: list[int] = []
    for _ in range(rounds):
        for data in photos:
            start = time.process_time()
            out = make(data)
            times.append((time.process_time() - start) * 1000)
            sizes.append(len(out))
    return statistics.median(times), statistics.fmean(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = pdq_data()
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not paths:
        sys.exit(f"no PDQ reference photos in {folder}")
    photos = [p.read_bytes() for p in paths]
    original = statistics.fmean(len(p) for p in photos)
    png_ms, png_bytes = measure(png_preview, photos, args.rounds)
    webp_ms, webp_bytes = measure(previews.make_preview, photos, args.rounds)
    print(f"{len(photos)} photos, {args.rounds} rounds, originals {original / 1024:.0f} KB mean")
    print(f"{'preview':<22}{'CPU p50 ms':>12}{'mean KB':>10}")
    print(f"{'PNG (before)':<22}{png_ms:>12.1f}{png_bytes / 1024:>10.0f}")
    print(f"{'WebP q85 (now)':<22}{webp_ms:>12.1f}{webp_bytes / 1024:>10.0f}")
    print(f"ratio WebP / PNG: CPU {webp_ms / png_ms:.2f}, bytes {webp_bytes / png_bytes:.2f}")


if __name__ == "__main__":
    main()
