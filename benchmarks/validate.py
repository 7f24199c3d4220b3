"""Upload validation cost per megabyte, before and after the polyglot scan (issue 14, item 6).

Builds ordinary files (noise photos, which compress like real ones; a screenshot; GIF; WebP;
PDF; a chat log) and worst cases meant to make a scanner slow (thousands of tiny segments or
chunks, one-byte GIF sub-blocks, runs of near-valid ZIP headers, runs of "<a " and " on"), then
times ``validate_upload`` from the current tree and from an earlier commit (``--before``, read
with ``git show``), median of ``--runs``. Prints one table row per file: size, ms per MB.

    PYTHONPATH=src .venv/bin/python benchmarks/validate.py [--runs 5] [--before 3333594]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import struct
import subprocess
import sys
import time
import types
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageCms  # noqa: E402

from tipline.evidence import validate  # noqa: E402

MB = 1024 * 1024
RNG = random.Random(14)


def _noise(fmt: str, size: tuple[int, int], **save: object) -> bytes:
    pixels = Image.frombytes("RGB", size, RNG.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    pixels.save(out, format=fmt, **save)
    return out.getvalue()


def _flat_screenshot() -> bytes:
    img = Image.new("RGB", (1170, 2532), "white")
    for row in range(0, 2532, 40):
        img.paste((20, 20, 20), (40, row, 40 + RNG.randrange(200, 1000), row + 18))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def ordinary() -> dict[str, bytes]:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    pdf_stream = RNG.randbytes(4 * MB)
    return {
        "photo.jpg (noise, EXIF, ICC)": _noise(
            "JPEG", (2400, 1800), quality=92, exif=exif.tobytes(), icc_profile=srgb
        ),
        "photo.png (noise)": _noise("PNG", (1400, 1000)),
        "screenshot.png (flat)": _flat_screenshot(),
        "sticker.webp (noise)": _noise("WEBP", (1600, 1200), quality=90),
        "meme.gif (noise)": _noise("GIF", (1600, 1200)),
        "letter.pdf (4 MB stream)": b"%PDF-1.4\n1 0 obj<</Length "
        + str(len(pdf_stream)).encode()
        + b">>stream\n"
        + pdf_stream
        + b"\nendstream endobj\ntrailer<<>>\n%%EOF\n",
        "chat.txt (4 MB)": ("12/03/2026, 21:04 - Alex: I know where you live\n" * 90_000).encode(),
    }


def worst_cases() -> dict[str, bytes]:
    small_jpeg = _noise("JPEG", (64, 48))
    small_png = _noise("PNG", (64, 48))
    small_gif = _noise("GIF", (64, 48))
    iend = small_png.rindex(b"IEND") - 4
    segments = (b"\xff\xef\x00\x02") * (MB)  # a million empty APP15 segments
    near_zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(16) + b"\x01\x00\x00\x00\x01"
    return {
        "jpeg: 1M empty segments": small_jpeg[:2] + segments + small_jpeg[2:],
        "png: 350k empty chunks": small_png[:iend]
        + _png_chunk(b"prVt", b"") * (4 * MB // 12)
        + small_png[iend:],
        "gif: 4 MB comment in 1-byte blocks": small_gif[:-1]
        + b"\x21\xfe"
        + b"\x01x" * (2 * MB)
        + b"\x00"
        + small_gif[-1:],
        "jpeg: 4 MB of near-valid ZIP headers": small_jpeg + near_zip * (4 * MB // len(near_zip)),
        "jpeg: 4 MB of '<a ' and ' on'": small_jpeg + b"<a  onx" * (4 * MB // 7),
    }


def _before(revision: str) -> Callable[[str, bytes], object]:
    """validate_upload as it was at ``revision`` (loaded from git, not imported)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/tipline/evidence/validate.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("validate_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, "validate_before.py", "exec"), module.__dict__)  # noqa: S102 - our own file
    return module.validate_upload  # type: ignore[no-any-return]


def _time(check: Callable[[str, bytes], object], data: bytes, runs: int) -> tuple[float, str]:
    outcome = "accepted"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            check("file", data)
        except validate.UploadRejected:
            outcome = "refused"
        except Exception as exc:  # noqa: BLE001 - the old module has its own exception class
            outcome = "refused" if type(exc).__name__ == "UploadRejected" else repr(exc)
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", default="3333594", help="commit to compare with")
    args = parser.parse_args()
    before = _before(args.before)
    rows = [("ordinary", n, d) for n, d in ordinary().items()]
    rows += [("worst case", n, d) for n, d in worst_cases().items()]
    print(f"{'kind':<11} {'file':<38} {'MB':>6} {'before ms/MB':>13} {'after ms/MB':>12}  outcome")
    for kind, name, data in rows:
        size = len(data) / MB
        old, old_outcome = _time(before, data, args.runs)
        new, new_outcome = _time(validate.validate_upload, data, args.runs)
        outcome = new_outcome if old_outcome == new_outcome else f"{old_outcome} -> {new_outcome}"
        print(
            f"{kind:<11} {name:<38} {size:6.2f} {old * 1000 / size:13.1f} "
            f"{new * 1000 / size:12.1f}  {outcome}"
        )


if __name__ == "__main__":
    main()
