"""`tipline hash FILE...`: every hash of each file, one JSON object per line.

An image that cannot be decoded still gets its cryptographic hashes, plus an `error` saying why
there is no PDQ. A video gets `vpdq`: its sampled frames, each ``{"frame", "timestamp", "pdq",
"quality"}``; a video that cannot be decoded gets an `error` instead. The command fails (exit 1,
after every file) only when a file cannot be read.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.matching.hashing import FileHashes, hash_file
from tipline.matching.video import frames_to_json


class Command(BaseCommand):
    help = (
        "Print SHA-256, MD5, SHA-1 and, for images, PDQ hash and quality (for videos, vPDQ frame "
        "hashes) of each file, one JSON object per line. Exits non-zero if any file cannot be "
        "read."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        unreadable = 0
        for path in options["files"]:
            try:
                record = _record(path, hash_file(path, vpdq=True))
            except OSError as exc:
                unreadable += 1
                # strerror only ("No such file or directory"): the path is already in `file`.
                record = {"file": str(path), "error": exc.strerror or type(exc).__name__}
            self.stdout.write(json.dumps(record))
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read")


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
