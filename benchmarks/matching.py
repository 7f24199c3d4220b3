#!/usr/bin/env python3
"""PDQ matcher benchmark (issue 4): ``PdqIndex`` beside FAISS, which Meta's HMA uses.

Target at 10M hashes: single-query p50 < 3 ms on one thread, >= 10x faster than FAISS
``IndexBinaryMultiHash(256, nhash=16, b=16)`` with ``nflip = 31 // 16`` (HMA's default), recall
exactly 1.0 against an exact scan, < 100 bytes per hash.

Data: ``random`` (uniform 256-bit hashes) and ``clustered`` (noisy copies of 10k centres: each
bit flipped with probability 1/16, ~16 bits). Queries: an indexed hash with exactly 0, 10 or 31
random bits flipped. Ground truth: FAISS ``IndexBinaryFlat.range_search`` with radius 32 (FAISS's
range is strict ``<``, so 32 means ``<= 31``). One thread throughout.

Usage (from the repository root)::

    .venv/bin/python benchmarks/matching.py --quick            # 100k hashes
    .venv/bin/python benchmarks/matching.py --sizes 1000000,10000000 --json out.json
"""

# ruff: noqa: E402  (thread limits must be in the environment before NumPy and FAISS load)
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import gc
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from tipline.matching.index import PdqIndex

RADIUS = 31
DISTANCES = (0, 10, 31)


def make_data(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 4) uint64 hashes, generated in blocks to keep memory flat."""
    if kind == "random":
        return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    centres = rng.integers(0, 2**64, size=(10_000, 4), dtype=np.uint64)
    out = np.empty((n, 4), np.uint64)
    for s in range(0, n, 1_000_000):
        k = min(1_000_000, n - s)
        noise = rng.integers(0, 2**64, size=(4, k, 4), dtype=np.uint64)
        out[s : s + k] = centres[rng.integers(0, len(centres), k)] ^ (
            noise[0] & noise[1] & noise[2] & noise[3]
        )
    return out


def make_queries(data: np.ndarray, dist: int, q: int, rng: np.random.Generator) -> np.ndarray:
    base = data[rng.integers(0, len(data), q)].copy()
    bits = np.argsort(rng.random((q, 256)), axis=1)[:, :dist]
    for i in range(q):
        for b in bits[i]:
            base[i, b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    return base


def as_u8(words: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(words).view(np.uint8).reshape(len(words), 32)


def latencies(fn: Any, queries: np.ndarray) -> tuple[float, float]:
    ts = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        ts.append(time.perf_counter() - t)
    return float(np.percentile(ts, 50) * 1e3), float(np.percentile(ts, 99) * 1e3)


def single(index: Any) -> Any:
    return lambda q: index.range_search(q[None, :], RADIUS + 1)


def faiss_sets(index: Any, queries_u8: np.ndarray) -> list[set[tuple[int, int]]]:
    lims, dist, ids = index.range_search(queries_u8, RADIUS + 1)
    return [
        set(
            zip(
                ids[lims[i] : lims[i + 1]].tolist(),
                dist[lims[i] : lims[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(len(queries_u8))
    ]


def recall(found: list[set[tuple[int, int]]], truth: list[set[tuple[int, int]]]) -> float:
    total = sum(len(t) for t in truth)
    hit = sum(len(f & t) for f, t in zip(found, truth, strict=True))
    extra = sum(len(f - t) for f, t in zip(found, truth, strict=True))
    assert extra == 0, f"{extra} results outside the radius or with wrong distances"
    return hit / total if total else 1.0


def run(kind: str, n: int, nq: int, nbatch: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    data = make_data(kind, n, rng)
    ids = np.arange(n, dtype=np.uint64)
    qsets = {d: make_queries(data, d, nq, rng) for d in DISTANCES}
    batch = make_queries(data, 31, nbatch, rng)
    rows: list[dict[str, Any]] = []

    t = time.perf_counter()
    ours = PdqIndex.build(ids, data, radius=RADIUS)
    build_ours = time.perf_counter() - t
    mem_ours = ours.memory_bytes() / n
    ours_found = {
        d: [set(ours.query(q)) for q in qs] for d, qs in qsets.items()
    }  # warm-up and results
    ours_lat = {d: latencies(ours.query, qs) for d, qs in qsets.items()}
    t = time.perf_counter()
    ours.query_many(batch)
    ours_qps = nbatch / (time.perf_counter() - t)
    del ours
    gc.collect()

    data_u8 = as_u8(data)
    del data
    flat = faiss.IndexBinaryFlat(256)
    t = time.perf_counter()
    flat.add(data_u8)
    build_flat = time.perf_counter() - t
    truth = {d: faiss_sets(flat, as_u8(qs)) for d, qs in qsets.items()}
    flat_lat = {d: latencies(single(flat), as_u8(qs[:20])) for d, qs in qsets.items()}
    nflat = min(nbatch, 100)
    t = time.perf_counter()
    flat.range_search(as_u8(batch[:nflat]), RADIUS + 1)
    flat_qps = nflat / (time.perf_counter() - t)
    del flat
    gc.collect()

    mh = faiss.IndexBinaryMultiHash(256, 16, 16)
    mh.nflip = RADIUS // 16
    t = time.perf_counter()
    mh.add(data_u8)
    build_mh = time.perf_counter() - t
    mh_found = {d: faiss_sets(mh, as_u8(qs)) for d, qs in qsets.items()}
    mh_lat = {d: latencies(single(mh), as_u8(qs)) for d, qs in qsets.items()}
    t = time.perf_counter()
    mh.range_search(as_u8(batch), RADIUS + 1)
    mh_qps = nbatch / (time.perf_counter() - t)
    # FAISS keeps the codes (32 B) plus, per table, one 8-byte id in a bucket vector.
    mem_mh = 32 + 16 * 8
    del mh, data_u8
    gc.collect()

    for d in DISTANCES:
        mean_matches = sum(len(s) for s in truth[d]) / nq
        common = {"data": kind, "n": n, "query_distance": d, "mean_matches": mean_matches}
        rows.append(
            common
            | {
                "index": "PdqIndex",
                "p50_ms": ours_lat[d][0],
                "p99_ms": ours_lat[d][1],
                "batch_qps": ours_qps,
                "build_s": build_ours,
                "bytes_per_hash": mem_ours,
                "recall": recall(ours_found[d], truth[d]),
            }
        )
        rows.append(
            common
            | {
                "index": "FAISS Flat",
                "p50_ms": flat_lat[d][0],
                "p99_ms": flat_lat[d][1],
                "batch_qps": flat_qps,
                "build_s": build_flat,
                "bytes_per_hash": 32.0,
                "recall": 1.0,
            }
        )
        rows.append(
            common
            | {
                "index": "FAISS MultiHash 16x16 nflip=1",
                "p50_ms": mh_lat[d][0],
                "p99_ms": mh_lat[d][1],
                "batch_qps": mh_qps,
                "build_s": build_mh,
                "bytes_per_hash": float(mem_mh),
                "recall": recall(mh_found[d], truth[d]),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated sizes")
    parser.add_argument("--quick", action="store_true", help="one size: 100k hashes")
    parser.add_argument("--queries", type=int, default=200, help="queries per distance")
    parser.add_argument("--batch", type=int, default=1000, help="queries in the batch run")
    parser.add_argument("--data", default="random,clustered")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(20261126)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"# {started} {platform.platform()} cpus={os.cpu_count()} numpy={np.__version__}")
    print(f"# faiss={faiss.__version__} command: {' '.join(sys.argv)}")
    head = "| data | n | dist | index | matches | p50 ms | p99 ms | batch q/s | build s | B/hash |"
    print(head + " recall |")
    print("|---" * 11 + "|")
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for kind in args.data.split(","):
            for r in run(kind, n, args.queries, args.batch, rng):
                rows.append(r)
                print(
                    f"| {r['data']} | {r['n']:,} | {r['query_distance']} | {r['index']} "
                    f"| {r['mean_matches']:.1f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} "
                    f"| {r['batch_qps']:,.0f} | {r['build_s']:.1f} | {r['bytes_per_hash']:.1f} "
                    f"| {r['recall']:.4f} |",
                    flush=True,
                )
    for n in sizes:
        for kind in args.data.split(","):
            sel = [r for r in rows if r["n"] == n and r["data"] == kind]
            for d in DISTANCES:
                at_d = [r for r in sel if r["query_distance"] == d]
                ours = next(r for r in at_d if r["index"] == "PdqIndex")
                mh = next(r for r in at_d if r["index"].startswith("FAISS Multi"))
                speedup = mh["p50_ms"] / ours["p50_ms"]
                print(f"# {kind} n={n:,} d={d}: p50 speed-up over MultiHash {speedup:.1f}x")
    if args.json:
        args.json.write_text(
            json.dumps({"started": started, "argv": sys.argv, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
