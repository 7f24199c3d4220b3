"""Looking a file's hashes up in the banks: exact for MD5/SHA-1/SHA-256, near for PDQ.

One ``PdqIndex`` per process, loaded from ``DATA_DIR/index/pdq`` (memory-mapped, so start-up is
quick) or built from the banks when missing. Before each look-up the index takes in the entries
added or removed since its last refresh if that was more than ``REFRESH_SECONDS`` ago, so a new
or withdrawn bank hash counts within a second without a rebuild; the changes are kept in the
index's small delta and tombstones until the next save.

A video matches through its vPDQ frame hashes: each distinct frame hash of usable quality is
looked up like a photo's PDQ, and each bank entry is reported once, with its best distance and
how many sampled frames matched it (a still from a known video, or a known photo shown in one).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from tipline.matching import banks
from tipline.matching.hashing import FileHashes
from tipline.matching.index import PdqIndex
from tipline.matching.models import BankEntry
from tipline.matching.video import VideoFrame, distinct_hashes

REFRESH_SECONDS = 1.0
# Entries committed just before a refresh may carry an earlier timestamp: look back this far.
_OVERLAP = timedelta(minutes=1)


@dataclass(frozen=True)
class Match:
    entry_id: int
    bank: str
    kind: str  # pdq, md5, sha1, sha256
    classification: str  # the entry's, or its bank's default
    distance: int  # 0 for exact hashes; a video's best frame distance
    frames: int | None = None  # a video: how many sampled frames matched this entry


class _Loaded:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: PdqIndex | None = None
        self.since: datetime | None = None
        self.checked = 0.0


_state = _Loaded()


def index_path() -> Path:
    return Path(settings.DATA_DIR) / "index" / "pdq"


def radius() -> int:
    return int(getattr(settings, "TIPLINE_PDQ_RADIUS", 31))


def rebuild(save: bool = True) -> PdqIndex:
    """Build the index from every active bank PDQ (and save it for the next start)."""
    started = timezone.now()
    pairs = list(banks.active_pdq())
    ids = np.array([i for i, _h in pairs], dtype=np.uint64)
    hashes = np.frombuffer(b"".join(h for _i, h in pairs), dtype=np.uint8).reshape(-1, 32)
    index = PdqIndex.build(ids, hashes, radius=radius())
    if save:
        index_path().parent.mkdir(parents=True, exist_ok=True)
        index.save(index_path())
    with _state.lock:
        _state.index, _state.since, _state.checked = index, started, time.monotonic()
    return index


def _current() -> PdqIndex:
    with _state.lock:
        index = _state.index
        due = time.monotonic() - _state.checked >= REFRESH_SECONDS
    if index is None:
        path = index_path()
        try:
            loaded = PdqIndex.load(path)
            # Saved indexes carry no "as of": catch up on everything a minute around the file.
            since = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
        except (OSError, ValueError):
            return rebuild()
        with _state.lock:
            _state.index, _state.since, _state.checked = loaded, since, 0.0
        index, due = loaded, True
    if due:
        _refresh(index)
    return index


def _refresh(index: PdqIndex) -> None:
    with _state.lock:
        since = _state.since or timezone.now()
    changes = banks.entries_changed_since(since - _OVERLAP)
    if changes.removed:
        index.remove(np.array([i for i, _h in changes.removed], dtype=np.uint64))
    if changes.added:
        ids = np.array([i for i, _h in changes.added], dtype=np.uint64)
        index.remove(ids)  # idempotent: an entry seen in an earlier window is not added twice
        hashes = np.frombuffer(b"".join(h for _i, h in changes.added), dtype=np.uint8)
        index.add(ids, hashes.reshape(-1, 32))
    with _state.lock:
        _state.since, _state.checked = changes.as_of, time.monotonic()


def _describe(
    entries: list[tuple[BankEntry, int]], frames: dict[int, int] | None = None
) -> list[Match]:
    return [
        Match(
            entry_id=entry.pk,
            bank=entry.bank.name,
            kind=entry.kind,
            classification=entry.classification or entry.bank.default_classification,
            distance=distance,
            frames=None if frames is None else frames[entry.pk],
        )
        for entry, distance in entries
    ]


# The index is not safe for a writer beside readers: refreshes and queries take turns.
_use = threading.Lock()


def match_pdq(pdq_hex: str) -> list[Match]:
    with _use:
        found = _current().query(pdq_hex, radius=radius())
    if not found:
        return []
    distances = dict(found)
    entries = (
        BankEntry.objects.filter(pk__in=list(distances), removed_at=None)
        .select_related("bank")
        .order_by("id")
    )
    pairs = sorted(((e, distances[e.pk]) for e in entries), key=lambda p: (p[1], p[0].pk))
    return _describe(pairs)


def match_frames(frames: Sequence[VideoFrame]) -> list[Match]:
    """Bank PDQ entries that a video's frames match: best distance first, then most frames."""
    # Static scenes repeat a hash for many seconds: look each up once, count every frame.
    usable = distinct_hashes(frames)
    repeats = Counter(f.pdq for f in frames)
    best: dict[int, int] = {}
    counts: Counter[int] = Counter()
    with _use:
        index = _current()
        for pdq in usable:
            for entry_id, distance in index.query(pdq, radius=radius()):
                best[entry_id] = min(distance, best.get(entry_id, distance))
                counts[entry_id] += repeats[pdq]
    if not best:
        return []
    entries = BankEntry.objects.filter(pk__in=list(best), removed_at=None).select_related("bank")
    pairs = sorted(
        ((e, best[e.pk]) for e in entries), key=lambda p: (p[1], -counts[p[0].pk], p[0].pk)
    )
    return _describe(pairs, frames=dict(counts))


def match_hashes(hashes: FileHashes) -> list[Match]:
    """Every bank entry this file matches: exact cryptographic hashes first, then PDQ/vPDQ."""
    exact: list[tuple[BankEntry, int]] = []
    for kind, value in (("sha256", hashes.sha256), ("md5", hashes.md5), ("sha1", hashes.sha1)):
        exact += [(entry, 0) for entry in banks.exact_lookup(kind, value)]
    found = _describe(exact)
    if hashes.pdq:
        found += match_pdq(hashes.pdq)
    if hashes.vpdq:
        found += match_frames(hashes.vpdq)
    return found
