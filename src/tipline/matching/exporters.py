"""Writing a bank's active entries as VICS JSON (2.0) or CSV, streamed.

Both formats are read back by the importers to the same entries (kind, value, classification,
quality, metadata), with two limits of VICS: it has no PDQ quality (dropped) and its Category
holds only what CATEGORY_CLASSIFICATION maps (baseline, national, unknown; other
classifications are written as Category 0 and come back as "unknown"). Entries imported from
one VICS media (same ``vics_media_id``, next to each other) are written as one media again.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import TextIO

from tipline.matching.banks import bank_entries
from tipline.matching.importers.vics import CATEGORY_CLASSIFICATION
from tipline.matching.models import BankEntry, HashBank, HashKind

VICS_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
)
CSV_COLUMNS = ("kind", "value", "classification", "quality", "metadata")
_CATEGORY = {label: category for category, label in CATEGORY_CLASSIFICATION.items()}
_TOP_LEVEL = {HashKind.MD5: "MD5", HashKind.SHA1: "SHA1"}
_ALTERNATIVE = {HashKind.PDQ: "PDQ", HashKind.SHA256: "SHA256"}


def export_csv(bank: HashBank, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in bank_entries(bank=bank):
        writer.writerow(
            [
                entry.kind,
                entry.value,
                entry.classification,
                "" if entry.quality is None else entry.quality,
                json.dumps(entry.metadata, sort_keys=True) if entry.metadata else "",
            ]
        )
        count += 1
    return count


def export_vics(bank: HashBank, out: TextIO) -> int:
    out.write('{"@odata.context": ' + json.dumps(VICS_CONTEXT) + ', "value": [')
    count = 0
    first = True
    for group in _media_groups(bank_entries(bank=bank)):
        out.write(("\n" if first else ",\n") + json.dumps(_media(group), sort_keys=True))
        first = False
        count += len(group)
    out.write("\n]}\n")
    return count


def _media_groups(entries: Iterable[BankEntry]) -> Iterator[list[BankEntry]]:
    """Consecutive entries of one VICS media, one kind each; any other entry on its own."""
    group: list[BankEntry] = []
    for entry in entries:
        media_id = entry.metadata.get("vics_media_id") if entry.metadata else None
        if group and (
            media_id is None
            or group[0].metadata != entry.metadata
            or group[0].classification != entry.classification
            or any(e.kind == entry.kind for e in group)
        ):
            yield group
            group = []
        group.append(entry)
        if media_id is None:
            yield group
            group = []
    if group:
        yield group


def _media(group: list[BankEntry]) -> dict[str, object]:
    first = group[0]
    media: dict[str, object] = {}
    if first.metadata.get("vics_media_id") is not None:
        media["MediaID"] = first.metadata["vics_media_id"]
    if first.classification:
        media["Category"] = _CATEGORY.get(first.classification, 0)
    alternatives = []
    for entry in group:
        kind = HashKind(entry.kind)
        if kind in _TOP_LEVEL:
            media[_TOP_LEVEL[kind]] = entry.value.upper()
        else:
            alternatives.append({"HashName": _ALTERNATIVE[kind], "HashValue": entry.value})
    if alternatives:
        media["AlternativeHashes"] = alternatives
    return media
