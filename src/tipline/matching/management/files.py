"""What `tipline hash` and `tipline match` share: hash each named file, print one JSON object per
file, and fail (after every file) only when some file could not be read."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from tipline.matching.hashing import FileHashes, hash_file


def print_each(
    out: OutputWrapper,
    paths: Iterable[Path],
    describe: Callable[[Path, FileHashes], dict[str, Any]],
) -> None:
    unreadable = 0
    for path in paths:
        try:
            record = describe(path, hash_file(path, vpdq=True))
        except OSError as exc:
            unreadable += 1
            # strerror only ("No such file or directory"): the path is already in `file`.
            record = {"file": str(path), "error": exc.strerror or type(exc).__name__}
        out.write(json.dumps(record))
    if unreadable:
        raise CommandError(f"{unreadable} file(s) could not be read")


class FilesCommand(BaseCommand):
    """A command over FILE...: ``describe`` turns each file's hashes into its JSON object."""

    def describe(self, path: Path, hashes: FileHashes) -> dict[str, Any]:
        raise NotImplementedError

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        print_each(self.stdout, options["files"], self.describe)
