"""Exact Hamming-radius index for PDQ hashes (256 bits): multi-index hashing in NumPy.

Why this design (issue 4): a hotline must find *every* known hash within distance R of an upload,
so approximate search is not acceptable, and a linear scan of 10M hashes costs ~420 ms a query
(measured independently; docs/BENCHMARKS.md).

- **Pigeonhole, tightened (Norouzi et al., "Fast exact search in Hamming space with multi-index
  hashing", 2012).** The 256 bits are split into ``m`` disjoint chunks. Write ``R = s*m + a``
  (``0 <= a < m``). If two hashes are within ``R``, then one of ``a + 1`` chosen chunks differs in
  at most ``s`` bits, or one of the other ``m - a - 1`` chunks differs in at most ``s - 1`` bits
  (otherwise the distance would be at least ``(a+1)(s+1) + (m-a-1)s = R + 1``). So probing every
  neighbour within those chunk radii finds every match: recall is exactly 1.
- **Per chunk, a CSR table** (``offsets`` indexed by the chunk's value, ``perm`` listing rows):
  a probe is two array reads, and all probes of a query are one vectorised gather. Rows are
  stored sorted by chunk 0, so chunk 0 needs no ``perm`` (saves 4 bytes per hash).
- **Verification** XORs the candidates' four 64-bit words with the query and counts bits
  (``np.bitwise_count``). Hot buckets (clustered data) are simply verified in bulk; if a query's
  candidates exceed a quarter of the index it scans everything instead (same answer, less work).
- **Chunk widths are chosen by a cost model** (probes + candidates) under a memory budget, so
  10M hashes use ~12 chunks of 20-22 bits rather than FAISS/HMA's 16 chunks of 16 bits, which
  verify ~40k candidates a query at 10M.
- **Updates:** adds go to a small delta scanned by brute force; removes are tombstones filtered
  at query time; both are visible at once. ``compact()`` folds them into the main tables.
- **Persistence:** one file (JSON header + 64-byte-aligned raw arrays) written to a temporary
  file and renamed, loaded with ``np.memmap`` so start-up does not read 1 GB.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from functools import cache
from math import comb
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PdqIndex", "hex_to_bytes"]

HASH_BYTES = 32
DEFAULT_RADIUS = 31
_MAGIC = b"TIPLPDQ1"
_ALIGN = 64
_MAX_CHUNK_RADIUS = 3  # beyond this, probes explode: scan instead
_DELTA_SCAN_BLOCK = 1 << 20  # rows per block of a brute-force scan (bounds temporaries)
_DELTA_MAX = 16_384  # a delta this size scans in ~0.2 ms; beyond it, fold it into the side index

U64 = npt.NDArray[np.uint64]
IntArray = npt.NDArray[np.integer[Any]]


def hex_to_bytes(h: str) -> bytes:
    """Decode a PDQ hash written as 64 hexadecimal characters."""
    if not isinstance(h, str):
        raise TypeError("a PDQ hash in hex must be a str")
    h = h.strip()
    if len(h) != 2 * HASH_BYTES:
        raise ValueError(f"a PDQ hash is 64 hex characters, got {len(h)}")
    try:
        return bytes.fromhex(h)
    except ValueError:
        raise ValueError("a PDQ hash may contain only the characters 0-9 and a-f") from None


def _as_words(hashes: Any) -> U64:
    """(n, 32) uint8, (n, 4) uint64 or a list of bytes/hex -> (n, 4) uint64, little-endian."""
    if isinstance(hashes, np.ndarray):
        arr = hashes
    else:
        items = [hex_to_bytes(h) if isinstance(h, str) else bytes(h) for h in hashes]
        for item in items:
            if len(item) != HASH_BYTES:
                raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {len(item)}")
        arr = np.frombuffer(b"".join(items), dtype=np.uint8).reshape(len(items), HASH_BYTES)
    if arr.ndim != 2:
        raise ValueError("hashes must be a 2-D array: (n, 32) uint8 or (n, 4) uint64")
    if arr.dtype == np.uint8 and arr.shape[1] == HASH_BYTES:
        return np.ascontiguousarray(arr).view("<u8").astype(np.uint64, copy=False)
    if arr.dtype == np.uint64 and arr.shape[1] == 4:
        return np.ascontiguousarray(arr)
    raise ValueError(f"hashes must be (n, 32) uint8 or (n, 4) uint64, got {arr.shape} {arr.dtype}")


def _query_words(hash_: bytes | str | np.ndarray) -> U64:
    if isinstance(hash_, str):
        raw = hex_to_bytes(hash_)
    elif isinstance(hash_, bytes | bytearray | memoryview):
        raw = bytes(hash_)
        if len(raw) != HASH_BYTES:
            raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {len(raw)}")
    else:
        words: U64 = _as_words(np.asarray(hash_).reshape(1, -1))[0]
        return words
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def _as_ids(ids: Any, n: int) -> npt.NDArray[np.uint64]:
    arr = np.asarray(ids)
    if arr.shape != (n,):
        raise ValueError(f"expected {n} ids, got shape {arr.shape}")
    if n and arr.dtype.kind not in "iu":
        raise ValueError("ids must be integers")
    if n and arr.dtype.kind == "i" and int(arr.min()) < 0:
        raise ValueError("ids must be non-negative")
    return arr.astype(np.uint64)


def _narrow(ids: npt.NDArray[np.uint64], dtype: np.dtype[Any]) -> np.ndarray:
    """``ids`` that fit ``dtype`` (main ids may be stored as uint32), cast to it."""
    return ids[ids <= np.iinfo(dtype).max].astype(dtype)


def _distances(cand: U64, q: U64) -> npt.NDArray[np.uint16]:
    return np.bitwise_count(cand ^ q).sum(axis=1, dtype=np.uint16)


def _scan(hashes: U64, q: U64, radius: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint16]]:
    """Brute force: rows of ``hashes`` within ``radius`` of ``q`` and their distances."""
    rows, dists = [], []
    for start in range(0, len(hashes), _DELTA_SCAN_BLOCK):
        d = _distances(hashes[start : start + _DELTA_SCAN_BLOCK], q)
        hit = np.flatnonzero(d <= radius)
        rows.append(hit + start)
        dists.append(d[hit])
    if not rows:
        return np.empty(0, np.intp), np.empty(0, np.uint16)
    return np.concatenate(rows), np.concatenate(dists)


def _chunk_radii(m: int, radius: int) -> list[int]:
    """Per-chunk probe radius (-1 = chunk not probed) that guarantees exact recall."""
    s, a = divmod(radius, m)
    return [s if i <= a else s - 1 for i in range(m)]


def _probes(width: int, r: int) -> int:
    return sum(comb(width, i) for i in range(r + 1))


def _choose_widths(n: int, radius: int, id_bytes: int = 8) -> tuple[int, ...]:
    """Chunk widths minimising probes + expected candidates, within a memory budget.

    Budget: 96 bytes per hash minus 32 of hash and 4 or 8 of id for perms and offset tables (so
    an index stays under 100 bytes per hash), plus 16 MB so small indexes are not starved: the
    chunks must cover all 256 bits, and tables of 2**width entries cost more per hash when n is
    small.
    """
    budget = (96 - HASH_BYTES - id_bytes) * n + (16 << 20)
    best: tuple[float, tuple[int, ...]] | None = None
    for m in range(4, 33):
        radii = _chunk_radii(m, radius)
        if max(radii) > _MAX_CHUNK_RADIUS:
            continue
        k1 = sum(1 for r in radii if r == radii[0])
        k2 = m - k1
        for bits1 in range(k1 * 4, 257 - k2 * 4):
            if k2 == 0 and bits1 != 256:
                continue
            widths = [bits1 // k1 + (i < bits1 % k1) for i in range(k1)]
            if k2:
                rest = 256 - bits1
                widths += [rest // k2 + (i < rest % k2) for i in range(k2)]
            if max(widths) > 24:
                continue
            tables = sum((1 << w) + 1 for w in widths)
            if 4 * tables + 4 * (m - 1) * n > budget:
                continue
            cost = 0.0
            for w, r in zip(widths, radii, strict=True):
                if r >= 0:
                    p = _probes(w, r)
                    cost += p + p * n / (1 << w)
            if best is None or cost < best[0]:
                best = (cost, tuple(widths))
    if best is None:  # huge radius: no chunk scheme is worth it; every query scans
        return ()
    return best[1]


@cache
def _flip_masks(width: int, r: int) -> npt.NDArray[np.int64]:
    masks = [0]
    for k in range(1, r + 1):
        for bits in itertools.combinations(range(width), k):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, dtype=np.int64)


def _chunk_keys(words: U64, start: int, width: int) -> npt.NDArray[np.int64]:
    """Value of bits [start, start+width) of each 256-bit hash (bit i = word i//64, bit i%64)."""
    w0, sh = divmod(start, 64)
    keys = words[:, w0] >> np.uint64(sh)
    if sh + width > 64:
        keys = keys | (words[:, w0 + 1] << np.uint64(64 - sh))
    return (keys & np.uint64((1 << width) - 1)).astype(np.int64)


class PdqIndex:
    """Exact index of PDQ hashes: every indexed hash within ``radius`` bits of a query."""

    def __init__(self, radius: int = DEFAULT_RADIUS) -> None:
        if not 0 <= radius <= 256:
            raise ValueError("radius must be between 0 and 256")
        self.radius = radius
        self._widths: tuple[int, ...] = ()
        self._hashes: U64 = np.empty((0, 4), np.uint64)
        self._ids: IntArray = np.empty(0, np.uint64)
        self._perm: npt.NDArray[np.uint32] = np.empty(0, np.uint32)  # chunks 1.., n each
        self._offsets: npt.NDArray[np.uint32] = np.empty(0, np.uint32)  # all chunk tables
        self._delta_ids: npt.NDArray[np.uint64] = np.empty(0, np.uint64)
        self._delta_hashes: U64 = np.empty((0, 4), np.uint64)
        self._tombstones: npt.NDArray[np.uint64] = np.empty(0, np.uint64)  # sorted, main only
        self._removed_rows = 0
        self._side: PdqIndex | None = None  # adds folded out of the delta, see add()
        self._plans: dict[int, tuple[npt.NDArray[np.int64], ...] | None] = {}

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray, radius: int = DEFAULT_RADIUS) -> PdqIndex:
        index = cls(radius)
        words = _as_words(hashes)
        index._build_main(_as_ids(ids, len(words)), words)
        return index

    def _build_main(self, ids: npt.NDArray[np.uint64], words: U64) -> None:
        n = len(words)
        if n >= 1 << 32:
            raise ValueError("at most 2**32 - 1 hashes per index")
        fits32 = n == 0 or int(ids.max()) < 1 << 32
        widths = _choose_widths(n, self.radius, 4 if fits32 else 8) if n else ()
        starts = np.cumsum((0, *widths))
        perms: list[npt.NDArray[np.uint32]] = []
        tables: list[npt.NDArray[np.uint32]] = []
        for c, w in enumerate(widths):
            keys = _chunk_keys(words, int(starts[c]), w)
            order = np.argsort(keys, kind="stable")
            if c == 0:  # store rows in chunk-0 order: chunk 0's perm is the identity
                words, ids, keys = words[order], ids[order], keys[order]
            else:
                perms.append(order.astype(np.uint32))
            counts = np.bincount(keys, minlength=1 << w)
            tables.append(np.concatenate(([0], np.cumsum(counts))).astype(np.uint32))
            del keys, order
        self._widths = tuple(widths)
        self._hashes = words
        self._ids = ids.astype(np.uint32) if fits32 else ids
        self._perm = np.concatenate(perms) if perms else np.empty(0, np.uint32)
        self._offsets = np.concatenate(tables) if tables else np.empty(0, np.uint32)
        self._plans = {}

    def _plan(self, radius: int) -> tuple[npt.NDArray[np.int64], ...] | None:
        """Probe list for a query radius: (chunk index, flip mask, table base) per probe."""
        if radius not in self._plans:
            m = len(self._widths)
            radii = _chunk_radii(m, radius) if m else []
            if not m or max(radii) > _MAX_CHUNK_RADIUS:
                self._plans[radius] = None
            else:
                chunk, flips, base = [], [], []
                table_base = 0
                for c, (w, r) in enumerate(zip(self._widths, radii, strict=True)):
                    if r >= 0:
                        masks = _flip_masks(w, r)
                        chunk.append(np.full(len(masks), c, np.int64))
                        flips.append(masks)
                        base.append(np.full(len(masks), table_base, np.int64))
                    table_base += (1 << w) + 1
                self._plans[radius] = tuple(np.concatenate(x) for x in (chunk, flips, base))
        return self._plans[radius]

    # -- updates ----------------------------------------------------------------------------

    def add(self, ids: Any, hashes: Any) -> None:
        """Index more hashes; they match from the next query on.

        New hashes go to a delta that queries scan. A full delta is folded into a *side* index
        (a ``PdqIndex`` of the adds only), whose rebuild costs O(adds), never O(n), so an add
        returns quickly even at 10M. ``compact()`` (run it off-peak) folds everything into the
        main tables.
        """
        words = _as_words(hashes)
        self._delta_ids = np.concatenate((self._delta_ids, _as_ids(ids, len(words))))
        self._delta_hashes = np.concatenate((self._delta_hashes, words))
        if len(self._delta_ids) > _DELTA_MAX:
            side = self._side if self._side is not None else PdqIndex(self.radius)
            side._delta_ids, side._delta_hashes = self._delta_ids, self._delta_hashes  # was empty
            side.compact()
            self._side = side
            self._delta_ids, self._delta_hashes = (
                np.empty(0, np.uint64),
                np.empty((0, 4), np.uint64),
            )

    def remove(self, ids: Any) -> None:
        """Forget every hash indexed under these ids (from the next query on)."""
        gone = np.unique(np.asarray(ids, dtype=np.uint64).reshape(-1))
        if self._side is not None:
            self._side.remove(gone)
        keep = ~np.isin(self._delta_ids, gone)
        self._delta_ids, self._delta_hashes = self._delta_ids[keep], self._delta_hashes[keep]
        new = np.setdiff1d(gone, self._tombstones, assume_unique=True)
        if len(new) and len(self._ids):
            hit = np.isin(self._ids, _narrow(new, self._ids.dtype))
            self._removed_rows += int(np.count_nonzero(hit))
            self._tombstones = np.union1d(self._tombstones, new)

    def compact(self) -> None:
        """Fold the delta and tombstones into the main tables (a rebuild: O(n log n))."""
        keep = (
            ~np.isin(self._ids, _narrow(self._tombstones, self._ids.dtype))
            if len(self._tombstones)
            else slice(None)
        )
        side_ids, side_words = self._side._live() if self._side is not None else (None, None)
        ids = np.concatenate(
            [a for a in (self._ids[keep], side_ids, self._delta_ids) if a is not None]
        )
        words = np.concatenate(
            [a for a in (self._hashes[keep], side_words, self._delta_hashes) if a is not None]
        )
        self._build_main(ids.astype(np.uint64), words)
        self._side = None
        self._delta_ids, self._delta_hashes = np.empty(0, np.uint64), np.empty((0, 4), np.uint64)
        self._tombstones, self._removed_rows = np.empty(0, np.uint64), 0

    def _live(self) -> tuple[npt.NDArray[np.uint64], U64]:
        """Ids and hashes of every live entry (after compact(), exactly the main arrays)."""
        self.compact()
        return self._ids.astype(np.uint64), np.asarray(self._hashes)

    def __len__(self) -> int:
        side = len(self._side) if self._side is not None else 0
        return len(self._ids) - self._removed_rows + side + len(self._delta_ids)

    # -- queries ----------------------------------------------------------------------------

    def query(
        self, hash_: bytes | str | np.ndarray, radius: int | None = None
    ) -> list[tuple[int, int]]:
        """(id, distance) of every hash within ``radius``, sorted by distance then id."""
        r = self.radius if radius is None else radius
        if not 0 <= r <= 256:
            raise ValueError("radius must be between 0 and 256")
        return self._query_words(_query_words(hash_), r)

    def query_many(self, hashes: Any) -> list[list[tuple[int, int]]]:
        words = _as_words(hashes)
        return [self._query_words(q, self.radius) for q in words]

    def _query_words(self, q: U64, radius: int) -> list[tuple[int, int]]:
        ids, dists = self._matches(q, radius)
        order = np.lexsort((ids, dists))
        return list(zip(ids[order].tolist(), dists[order].tolist(), strict=True))

    def _matches(self, q: U64, radius: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[Any]]:
        rows, dists = self._query_main(q, radius)
        ids = self._ids[rows].astype(np.uint64)
        if len(self._tombstones) and len(ids):
            live = ~np.isin(ids, self._tombstones)
            ids, dists = ids[live], dists[live]
        if self._side is not None:
            side_ids, side_dists = self._side._matches(q, radius)
            ids = np.concatenate((ids, side_ids))
            dists = np.concatenate((dists, side_dists))
        if len(self._delta_ids):
            drows, ddists = _scan(self._delta_hashes, q, radius)
            ids = np.concatenate((ids, self._delta_ids[drows]))
            dists = np.concatenate((dists, ddists))
        return ids, dists

    def _query_main(self, q: U64, radius: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
        n = len(self._hashes)
        plan = self._plan(radius) if n else None
        if plan is None:
            return _scan(self._hashes, q, radius)
        chunk, flips, base = plan
        qint = int.from_bytes(q.astype("<u8").tobytes(), "little")
        qkeys, start = [], 0
        for w in self._widths:
            qkeys.append((qint >> start) & ((1 << w) - 1))
            start += w
        slots = (np.array(qkeys, np.int64)[chunk] ^ flips) + base
        lo = self._offsets[slots].astype(np.int64)
        lens = self._offsets[slots + 1].astype(np.int64) - lo
        nz = lens > 0
        lo, lens, chunk = lo[nz], lens[nz], chunk[nz]
        total = int(lens.sum())
        if total > n // 4:  # hot buckets everywhere: a scan is cheaper and gives the same answer
            return _scan(self._hashes, q, radius)
        # Bucket ranges -> flat positions without a Python loop. Chunk 0's positions are rows
        # (rows are stored in chunk-0 order); chunk c > 0 reads row = perm[(c - 1) * n + k].
        glob = lo + np.maximum(chunk - 1, 0) * n
        ends = np.cumsum(lens)
        pos = np.repeat(glob - (ends - lens), lens) + np.arange(total)
        in_perm = np.repeat(chunk > 0, lens)
        rows = pos.copy()
        rows[in_perm] = self._perm[pos[in_perm]]
        d = _distances(self._hashes[rows], q)
        hit = d <= radius
        rows, d = rows[hit], d[hit]
        rows, first = np.unique(rows, return_index=True)  # a row can be found by several chunks
        return rows, d[first]

    # -- persistence ------------------------------------------------------------------------

    def _state(self, prefix: str = "") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Header fields and arrays of this index, the side index's nested under ``side.``."""
        arrays = {
            prefix + "hashes": np.asarray(self._hashes),
            prefix + "ids": np.asarray(self._ids),
            prefix + "perm": np.asarray(self._perm),
            prefix + "offsets": np.asarray(self._offsets),
            prefix + "delta_ids": self._delta_ids,
            prefix + "delta_hashes": self._delta_hashes,
            prefix + "tombstones": self._tombstones,
        }
        meta: dict[str, Any] = {
            "radius": self.radius,
            "widths": list(self._widths),
            "removed_rows": self._removed_rows,
            "side": None,
        }
        if self._side is not None:
            meta["side"], side_arrays = self._side._state(prefix + "side.")
            arrays |= side_arrays
        return meta, arrays

    @classmethod
    def _from_state(
        cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str = ""
    ) -> PdqIndex:
        index = cls(int(meta["radius"]))
        index._widths = tuple(int(w) for w in meta["widths"])
        n = len(arrays[prefix + "hashes"])
        widths_ok = sum(index._widths) == 256 if n else not index._widths
        if not widths_ok or len(arrays[prefix + "ids"]) != n:
            raise ValueError("inconsistent PDQ index file")
        index._hashes, index._ids = arrays[prefix + "hashes"], arrays[prefix + "ids"]
        index._perm, index._offsets = arrays[prefix + "perm"], arrays[prefix + "offsets"]
        index._delta_ids = np.array(arrays[prefix + "delta_ids"], np.uint64)
        index._delta_hashes = np.array(arrays[prefix + "delta_hashes"], np.uint64).reshape(-1, 4)
        index._tombstones = np.array(arrays[prefix + "tombstones"], np.uint64)
        index._removed_rows = int(meta["removed_rows"])
        if meta["side"] is not None:
            index._side = cls._from_state(meta["side"], arrays, prefix + "side.")
        return index

    def save(self, path: Path) -> None:
        """Write the index to one file atomically (temporary file in the same folder + rename).

        Layout: magic, header length, JSON header (dtype, shape and offset of each array), then
        the raw arrays, each aligned to 64 bytes so that ``load`` can map them.
        """
        path = Path(path)
        meta, arrays = self._state()
        layout: dict[str, dict[str, Any]] = {}
        offset = 0
        for name, arr in arrays.items():
            layout[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset}
            offset += -(-arr.nbytes // _ALIGN) * _ALIGN
        header = json.dumps(meta | {"arrays": layout}).encode()
        data_start = -(-(len(_MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + len(header).to_bytes(8, "little") + header)
                for name, arr in arrays.items():
                    f.seek(data_start + int(layout[name]["offset"]))
                    f.write(np.ascontiguousarray(arr).data)
                f.truncate(data_start + offset)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> PdqIndex:
        """Open a saved index; with ``mmap`` the big arrays are paged in on use."""
        path = Path(path)
        with path.open("rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise ValueError(f"{path} is not a PDQ index file")
            header_len = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(header_len))
        data_start = -(-(len(_MAGIC) + 8 + header_len) // _ALIGN) * _ALIGN
        size = path.stat().st_size
        arrays: dict[str, np.ndarray] = {}
        for name, spec in header.pop("arrays").items():
            if spec["dtype"] not in ("<u8", "<u4", "|u1"):  # never object arrays from a file
                raise ValueError(f"{path}: unexpected array type {spec['dtype']!r}")
            dtype, shape = np.dtype(spec["dtype"]), tuple(int(x) for x in spec["shape"])
            start = data_start + int(spec["offset"])
            count = int(np.prod(shape))
            if start + count * dtype.itemsize > size:
                raise ValueError(f"{path} is truncated")
            if mmap and count:
                arrays[name] = np.memmap(path, dtype, mode="r", offset=start, shape=shape)
            else:
                arrays[name] = np.fromfile(path, dtype, count, offset=start).reshape(shape)
        return cls._from_state(header, arrays)

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (mapped pages included, whether resident or not)."""
        return sum(int(a.nbytes) for a in self._state()[1].values())
