"""Line formats: ThreatExchange-style PDQ lists and CSV.

``pdq-tsv``: one PDQ hash per line, ``hash<TAB>quality[<TAB>more...]`` or the same with commas
(the output of ThreatExchange's PDQ hashers is ``hash,quality,filename``). ``#`` starts a comment;
a first line naming its columns ("hash", "pdq", "signal_value", ...) is a header. Columns after
the quality are kept as ``metadata["extra"]`` (within the metadata size limit).

``csv``: a header row, then either ``kind,value`` columns (kind is pdq, md5, sha1 or sha256) or
one column per kind (``md5,sha1,sha256,pdq``, any subset, empty cells skipped). Optional columns:
``classification``, ``quality`` (PDQ only), ``metadata`` (a JSON object). Other columns are
ignored and counted. Every row must have as many cells as the header.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from tipline.matching.banks import EntryRecord, make_record
from tipline.matching.importers.common import (
    LINE_TOO_LONG,
    Ignored,
    ImportRefused,
    LineError,
    Source,
    text_lines,
)
from tipline.matching.models import HashKind, InvalidHash

Item = EntryRecord | LineError | Ignored

_PDQ_HEADER_NAMES = frozenset({"hash", "pdq", "pdq_hash", "pdq_hex", "signal", "signal_value"})
_CSV_OPTIONAL = frozenset({"classification", "quality", "metadata"})
_KINDS = tuple(k.value for k in HashKind)


def parse_pdq_tsv(handle: Source, size: int) -> Iterator[Item]:
    first = True
    for number, line in text_lines(handle):
        if line is None:
            yield LineError(number, LINE_TOO_LONG)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        separator = "\t" if "\t" in stripped else ","
        fields = [f.strip() for f in stripped.split(separator)]
        if first:
            first = False
            if fields[0].lower() in _PDQ_HEADER_NAMES:
                continue
        try:
            yield make_record(
                position=number,
                kind=HashKind.PDQ,
                value=fields[0],
                quality=fields[1] if len(fields) > 1 else None,
                metadata={"extra": fields[2:]} if len(fields) > 2 else None,
            )
        except InvalidHash as invalid:
            yield LineError(number, str(invalid))


class _Lines:
    """Feeds csv.reader line by line, keeping the errors it cannot pass through it."""

    def __init__(self, handle: Source) -> None:
        self._lines = text_lines(handle)
        self.errors: list[LineError] = []

    def __iter__(self) -> Iterator[str]:
        for number, line in self._lines:
            if line is None:
                self.errors.append(LineError(number, LINE_TOO_LONG))
                yield ""
            else:
                yield line


def parse_csv(handle: Source, size: int) -> Iterator[Item]:
    lines = _Lines(handle)
    reader = csv.reader(iter(lines), strict=True)
    header: list[str] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield LineError(reader.line_num, f"not valid CSV: {error}")
            continue
        yield from lines.errors
        lines.errors.clear()
        if not any(cell.strip() for cell in row):
            continue
        if not header:
            header = _check_header(row)
            known = set(_KINDS) | _CSV_OPTIONAL | {"kind", "value"}
            for name in header:
                if name not in known:
                    yield Ignored(f"column {name[:40]!r}")
            continue
        yield from _csv_row(reader.line_num, header, row)


def _check_header(row: list[str]) -> list[str]:
    header = [cell.strip().lower() for cell in row]
    if len(set(header)) != len(header):
        raise ImportRefused("the CSV header names a column twice")
    if not ({"kind", "value"} <= set(header) or set(_KINDS) & set(header)):
        raise ImportRefused(
            "the CSV header must name kind and value columns, or md5/sha1/sha256/pdq columns"
        )
    return header


def _csv_row(number: int, header: list[str], row: list[str]) -> Iterator[Item]:
    if len(row) != len(header):
        yield LineError(number, f"expected {len(header)} columns, found {len(row)}")
        return
    cells = dict(zip(header, row, strict=True))
    metadata: dict[str, object] | None = None
    if cells.get("metadata", "").strip():
        try:
            loaded = json.loads(cells["metadata"])
        except ValueError:
            loaded = None
        if not isinstance(loaded, dict):
            yield LineError(number, "metadata is not a JSON object")
            return
        metadata = loaded
    classification = cells.get("classification", "")
    quality = cells.get("quality")
    if "kind" in cells and "value" in cells:
        pairs = [(cells["kind"], cells["value"])]
    else:
        pairs = [(kind, cells[kind]) for kind in _KINDS if cells.get(kind, "").strip()]
        if not pairs:
            yield LineError(number, "no hash in the row")
            return
    for kind, value in pairs:
        try:
            yield make_record(
                position=number,
                kind=kind,
                value=value,
                classification=classification,
                quality=quality if kind.strip().lower() == HashKind.PDQ else None,
                metadata=metadata,
            )
        except InvalidHash as invalid:
            prefix = "" if len(pairs) == 1 else f"{kind}: "
            yield LineError(number, prefix + str(invalid))
