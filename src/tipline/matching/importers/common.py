"""What the importers share: results, refusals, byte counting for progress, safe line reading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

# (bytes read so far, total bytes); the command turns it into a progress line.
Progress = Callable[[int, int], None]

MAX_LINE_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class Source(Protocol):
    """The little of a binary file the parsers use."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    # (line number, or item number for JSON and XML; reason)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # Hash types and columns the bank cannot hold (PhotoDNA, ...), with how often they occurred.
    ignored: dict[str, int] = field(default_factory=dict)


class ImportRefused(Exception):
    """The file cannot be read as the format; ``partial`` counts what was committed before."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial: ImportResult | None = None


@dataclass(frozen=True)
class LineError:
    position: int
    reason: str


@dataclass(frozen=True)
class Ignored:
    label: str


class CountingReader:
    """A binary file that reports how far it has been read, at most once per percent."""

    def __init__(self, raw: Source, total: int, progress: Progress | None) -> None:
        self._raw = raw
        self._total = max(total, 1)
        self._progress = progress
        self._done = 0
        self._reported = -1

    def read(self, size: int = -1, /) -> bytes:
        return self._count(self._raw.read(size))

    def readline(self, size: int = -1, /) -> bytes:
        return self._count(self._raw.readline(size))

    def finish(self) -> None:
        if self._progress is not None and self._reported < 100:
            self._reported = 100
            self._progress(self._total, self._total)

    def _count(self, data: bytes) -> bytes:
        self._done += len(data)
        if self._progress is not None:
            percent = min(100, self._done * 100 // self._total)
            if percent != self._reported:
                self._reported = percent
                self._progress(min(self._done, self._total), self._total)
        return data


def refuse_utf16(head: bytes) -> None:
    if head.startswith(_UTF16_BOMS):
        raise ImportRefused("the file is UTF-16; save it as UTF-8")


def text_lines(handle: Source) -> Iterator[tuple[int, str | None]]:
    """(line number, text without line ending), or None for a line longer than 64 KB.

    Reads at most 64 KB at a time, so a file without line breaks cannot fill memory. A UTF-8 BOM
    is dropped; bytes that are not UTF-8 become U+FFFD and fail validation with a reason.
    """
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if number == 1:
            refuse_utf16(raw)
            raw = raw.removeprefix(UTF8_BOM)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = handle.readline(MAX_LINE_BYTES + 1)
            yield number, None
            continue
        yield number, raw.decode("utf-8", errors="replace").rstrip("\r\n")


LINE_TOO_LONG = f"line longer than {MAX_LINE_BYTES // 1024} KB"
