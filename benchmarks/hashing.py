"""Hashing benchmark (issue 4): photos hashed per second per core, decode included.

Two figures from one process (one core), on Meta's PDQ reference photos and the bridge edits
(/work/shared/data/pdq, 30 files, 34x42 to 1600x1004 px), repeated:

- `hash_bytes`: the whole path for an image already in memory: sniff, SHA-256 + MD5 + SHA-1,
  pixel-limited decode, EXIF orientation, RGB, shrink to 512 px, PDQ.
- `pdqhash.compute` alone on the same pictures pre-decoded to <= 512 px RGB arrays: the ceiling
  that decoding and preparation are measured against.

    .venv/bin/python benchmarks/hashing.py [--json] [--rounds 10] [--data /work/shared/data/pdq]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")

import django
import pdqhash
import PIL

django.setup()

from tipline.matching.hashing import decode_for_pdq, hash_bytes  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdq"


def photos(data_dir: Path) -> list[bytes]:
    paths = sorted(p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return [p.read_bytes() for p in paths]


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench(files: list[bytes], rounds: int) -> dict[str, object]:
    for data in files:  # warm up: imports, plugin registration, caches
        hash_bytes(data)
    arrays = [decode_for_pdq(data) for data in files]

    start = time.process_time()
    for _ in range(rounds):
        for data in files:
            hashes = hash_bytes(data)
            assert hashes.pdq is not None
    full = time.process_time() - start

    start = time.process_time()
    for _ in range(rounds):
        for rgb in arrays:
            pdqhash.compute(rgb)
    ceiling = time.process_time() - start

    count = rounds * len(files)
    full_rate = per_second(count, full)
    ceiling_rate = per_second(count, ceiling)
    return {
        "files": len(files),
        "megabytes": round(sum(map(len, files)) / 1e6, 2),
        "rounds": rounds,
        "hash_bytes_photos_per_s_per_core": round(full_rate, 1),
        "hash_bytes_ms_per_photo": round(1000 * full / count, 2),
        "pdq_compute_only_per_s": round(ceiling_rate, 1),
        "pdq_compute_only_ms": round(1000 * ceiling / count, 2),
        "ratio_full_to_ceiling": round(full_rate / ceiling_rate, 3),
        "target_photos_per_s_per_core": 30,
        "met": full_rate >= 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    files = photos(args.data)
    if not files:
        sys.exit(f"no reference photos under {args.data}")
    result = bench(files, args.rounds)
    result["machine"] = f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpu"
    result["python"] = platform.python_version()
    result["pillow"] = PIL.__version__
    result["timer"] = "process CPU time (time.process_time), one process"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
