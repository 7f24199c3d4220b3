"""`tipline hash FILE...`: every hash of each file, one JSON object per line.

An image that cannot be decoded still gets its cryptographic hashes, plus an `error` saying why
there is no PDQ. A video gets `vpdq`: its sampled frames, each ``{"frame", "timestamp", "pdq",
"quality"}``; a video that cannot be decoded gets an `error` instead. The command fails (exit 1,
after every file) only when a file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tipline.matching.hashing import FileHashes
from tipline.matching.management.files import FilesCommand
from tipline.matching.video import frames_to_json


class Command(FilesCommand):
    help = (
        "Print SHA-256, MD5, SHA-1 and, for images, PDQ hash and quality (for videos, vPDQ frame "
        "hashes) of each file, one JSON object per line. Exits non-zero if any file cannot be "
        "read."
    )
    # Hashing a file touches neither the database nor the keys: it works on a machine (or in a
    # checkout) without an installation, so the start-up checks (keys, rules) do not apply.
    requires_system_checks: list[str] = []

    def describe(self, path: Path, hashes: FileHashes) -> dict[str, Any]:
        return _record(path, hashes)


def _record(path: Path, hashes: FileHashes) -> dict[str, Any]:
    record: dict[str, Any] = {
        "file": str(path),
        "kind": hashes.kind,
        "sha256": hashes.sha256,
        "md5": hashes.md5,
        "sha1": hashes.sha1,
    }
    if hashes.pdq is not None:
        record["pdq"] = hashes.pdq
        record["pdq_quality"] = hashes.pdq_quality
    if hashes.vpdq is not None:
        record["vpdq"] = frames_to_json(hashes.vpdq)
    if hashes.refused_reason is not None:
        record["error"] = hashes.refused_reason
    return record
