"""Importing hash lists into a bank: ``import_file`` and the formats it reads.

Every format is read as a stream (line by line, or XML event by event); only VICS JSON is read
whole, and only up to a size limit, because a JSON document cannot be validated in pieces by the
standard library. A bad line or item is reported with its position and reason and the rest is
imported; a file that cannot be read at all (not the format, an XML DTD or entity, JSON nested
too deep or too large) is refused with an ImportRefused, after committing what came before it.
Reasons never quote a whole line: a hash list's contents stay out of terminals and logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from tipline.matching.banks import BATCH_SIZE, EntryRecord, entries_add
from tipline.matching.importers import ncmec, text, vics
from tipline.matching.importers.common import (
    CountingReader,
    Ignored,
    ImportRefused,
    ImportResult,
    LineError,
    Progress,
    Source,
)
from tipline.matching.models import HashBank

__all__ = ["FORMATS", "ImportRefused", "ImportResult", "import_file"]

Item = EntryRecord | LineError | Ignored
Parser = Callable[[Source, int], Iterator[Item]]

FORMATS: dict[str, Parser] = {
    "pdq-tsv": text.parse_pdq_tsv,
    "vics": vics.parse_vics,
    "ncmec-xml": ncmec.parse_ncmec_xml,
    "csv": text.parse_csv,
}


def import_file(
    *,
    actor: str,
    bank: HashBank,
    path: Path,
    fmt: str,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Read ``path`` as ``fmt`` and add its hashes to ``bank`` in audited batches."""
    parser = FORMATS.get(fmt)
    if parser is None:
        raise ImportRefused(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as error:
        raise ImportRefused(f"cannot read the file: {error.strerror}") from None
    if size == 0:
        handle.close()
        raise ImportRefused("the file is empty")
    result = ImportResult()
    batch: list[EntryRecord] = []

    def flush() -> None:
        counts = entries_add(actor=actor, bank=bank, records=batch, source_format=fmt)
        result.added += counts.added
        result.updated += counts.updated
        result.skipped += counts.skipped
        batch.clear()

    with handle:
        reader = CountingReader(handle, size, progress)
        try:
            for item in parser(reader, size):
                if isinstance(item, EntryRecord):
                    batch.append(item)
                    if len(batch) >= batch_size:
                        flush()
                elif isinstance(item, LineError):
                    result.errors.append((item.position, item.reason))
                else:
                    result.ignored[item.label] = result.ignored.get(item.label, 0) + 1
        except ImportRefused as refused:
            flush()
            refused.partial = result
            raise
        flush()
        reader.finish()
    return result
