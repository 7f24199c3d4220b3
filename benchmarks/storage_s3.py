#!/usr/bin/env python3
"""Evidence store benchmark (issue 19): writing and reading sealed evidence objects on the local
store and on a real S3 server (SeaweedFS `weed mini` on loopback), in the same run.

What an intake request with files pays for storage is one ``write_object`` per file (local:
write, fsync, rename, fsync of the folder; S3: one signed PutObject); a console view or media
task pays one ``read_object``. Prints p50/p99 in ms per operation and the S3/local ratio.

Usage (from the repository root)::

    .venv/bin/python benchmarks/storage_s3.py                 # 200 objects of 200 KB
    .venv/bin/python benchmarks/storage_s3.py --count 50 --size 2000000
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _timed(op: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        op()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=200_000, help="bytes per object")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="tipline-bench-s3-"))
    os.environ["TIPLINE_DATA_DIR"] = str(root / "data")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tipline.settings"
    from tipline.crypto.keyfiles import init_keys

    init_keys(root / "data" / "keys", stored_data=None)
    import django

    django.setup()
    from django.conf import settings
    from tests.seaweed import SeaweedS3

    from tipline import storage

    server = SeaweedS3(root / "s3").start()
    try:
        bucket = server.new_bucket()
        payload = secrets.token_bytes(args.size)  # ciphertext is indistinguishable from this
        rows = []
        for kind in ("local", "s3"):
            settings.TIPLINE_STORAGE = kind
            settings.TIPLINE_S3_ENDPOINT_URL = server.endpoint
            settings.TIPLINE_S3_BUCKET = bucket
            settings.TIPLINE_S3_CREDENTIALS_FILE = str(server.credentials_file)
            storage.write_object(payload)  # warm-up: connection, volume allocation
            ids: list[str] = []
            writes = _timed(lambda ids=ids: ids.append(storage.write_object(payload)), args.count)
            pending = iter(ids)
            reads = _timed(lambda it=pending: storage.read_object(next(it)), args.count)
            start = time.perf_counter()
            listed = sum(1 for _ in storage.list_objects())
            list_ms = (time.perf_counter() - start) * 1000
            rows.append((kind, _ms(writes), _ms(reads), listed, list_ms))
        load = os.getloadavg()[0]
        print(f"evidence store, {args.count} objects of {args.size} bytes, load avg {load:.2f}")
        print(
            f"{'store':6} {'write p50':>10} {'write p99':>10} {'read p50':>9} {'read p99':>9} "
            f"{'list all':>12}"
        )
        for kind, (w50, w99), (r50, r99), listed, list_ms in rows:
            print(
                f"{kind:6} {w50:10.2f} {w99:10.2f} {r50:9.2f} {r99:9.2f} {list_ms:8.1f} ms/{listed}"
            )
        (_, (lw, _lw99), (lr, _lr99), *_rest), (_, (sw, _sw99), (sr, _sr99), *_rest2) = rows
        print(f"ratio s3/local: write p50 {sw / lw:.2f}x, read p50 {sr / lr:.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
