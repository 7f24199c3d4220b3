"""`tipline match FILE...`: which bank entries each file matches, one JSON object per line.

Scripts rely on the shape: ``file``, ``sha256``, ``matches`` (each ``bank``, ``entry``,
``kind``, ``classification``, ``distance``; for a video also ``frames``, how many sampled
frames matched, and the file's ``vpdq_frames``). The exit status is 0 whether or not anything
matched, and non-zero only when a file could not be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tipline.matching import matcher
from tipline.matching.hashing import FileHashes
from tipline.matching.management.files import FilesCommand


class Command(FilesCommand):
    help = (
        "Match files against the hash banks (exact MD5/SHA-1/SHA-256; PDQ of images and of "
        "video frames within the radius)."
    )

    def describe(self, path: Path, hashes: FileHashes) -> dict[str, Any]:
        return _record(path, hashes)


def _record(path: Path, hashes: FileHashes) -> dict[str, Any]:
    record: dict[str, Any] = {
        "file": str(path),
        "sha256": hashes.sha256,
        "matches": [_match(m) for m in matcher.match_hashes(hashes)],
    }
    if hashes.pdq is not None:
        record["pdq"] = hashes.pdq
    if hashes.vpdq is not None:
        record["vpdq_frames"] = len(hashes.vpdq)
    if hashes.refused_reason is not None:
        record["error"] = hashes.refused_reason
    return record


def _match(m: matcher.Match) -> dict[str, Any]:
    found: dict[str, Any] = {
        "bank": m.bank,
        "entry": m.entry_id,
        "kind": m.kind,
        "classification": m.classification,
        "distance": m.distance,
    }
    if m.frames is not None:
        found["frames"] = m.frames
    return found
