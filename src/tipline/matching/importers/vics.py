"""Project VIC / VICS JSON (an OData feed), versions 1.x and 2.0.

1.x: ``{"odata.metadata": ..., "value": [case, ...]}`` where each case holds ``"Media": [...]``.
2.0: ``{"@odata.context": ".../DataModels/2.0.xml/Default/$metadata#Media", "value": [media]}``.
Either shape is accepted whichever marker is present (items with a ``Media`` list are cases).
A media object gives ``MD5``, ``SHA1`` (and ``SHA256`` if present), ``Category``, ``MediaID`` and
``AlternativeHashes: [{"HashName": "PDQ"|"SHA256"|"PhotoDNA"|..., "HashValue": ...}]``. Hash
names the bank cannot hold (PhotoDNA, video hashes) are ignored and counted.

VICS categories map to our classification with CATEGORY_CLASSIFICATION: 1 (child abuse
material) is "baseline", 2 (child exploitative, not CAM by itself) is "national", anything else
(0 uncategorised, 3 and up: adult, comparison, other) is "unknown". That table is a default a
hotline may change to match its own legal advice; a media without Category takes the bank's.

The document is read whole (json) because the standard library has no streaming JSON parser, so
it is refused above MAX_JSON_BYTES, and refused when nested deeper than MAX_DEPTH before json sees
it (deep nesting is a parser-stack attack and no VICS file nests past a handful of levels).
Error positions are media numbers (1-based, in file order), not lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from tipline.matching.banks import EntryRecord, make_record
from tipline.matching.importers.common import (
    UTF8_BOM,
    Ignored,
    ImportRefused,
    LineError,
    Source,
    refuse_utf16,
)
from tipline.matching.models import HashKind, InvalidHash

Item = EntryRecord | LineError | Ignored

MAX_JSON_BYTES = 200 * 1024 * 1024
MAX_DEPTH = 64
CATEGORY_CLASSIFICATION = {1: "baseline", 2: "national"}
UNMAPPED_CATEGORY = "unknown"

_TOP_LEVEL_KEYS = (("MD5", HashKind.MD5), ("SHA1", HashKind.SHA1), ("SHA256", HashKind.SHA256))
_ALTERNATIVE_NAMES = {
    "PDQ": HashKind.PDQ,
    "MD5": HashKind.MD5,
    "SHA1": HashKind.SHA1,
    "SHA-1": HashKind.SHA1,
    "SHA256": HashKind.SHA256,
    "SHA-256": HashKind.SHA256,
}
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def parse_vics(handle: Source, size: int) -> Iterator[Item]:
    if size > MAX_JSON_BYTES:
        raise ImportRefused(
            f"VICS file larger than {MAX_JSON_BYTES // (1024 * 1024)} MB; split it into parts"
        )
    raw = handle.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ImportRefused("VICS file grew while being read")
    refuse_utf16(raw)
    raw = raw.removeprefix(UTF8_BOM)
    check_depth(raw)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ImportRefused(f"not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ImportRefused(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except (ValueError, RecursionError) as error:
        raise ImportRefused(f"not valid JSON: {type(error).__name__}") from None
    if not isinstance(document, dict) or not isinstance(document.get("value"), list):
        raise ImportRefused("not a VICS document: no top-level 'value' list")
    number = 0
    for item in document["value"]:
        media_list = item.get("Media") if isinstance(item, dict) else None
        for media in media_list if isinstance(media_list, list) else [item]:
            number += 1
            yield from _media(number, media)


def check_depth(raw: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, counting brackets outside strings."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise ImportRefused(f"JSON nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


def _classification(category: object) -> str:
    if category is None or category == "":
        return ""
    if isinstance(category, str) and category.strip().isdigit():
        category = int(category)
    if isinstance(category, int) and not isinstance(category, bool):
        return CATEGORY_CLASSIFICATION.get(category, UNMAPPED_CATEGORY)
    return UNMAPPED_CATEGORY


def _media(number: int, media: object) -> Iterator[Item]:
    if not isinstance(media, dict):
        yield LineError(number, f"media {number}: not a JSON object")
        return
    hashes: list[tuple[HashKind, object]] = [
        (kind, media[key]) for key, kind in _TOP_LEVEL_KEYS if media.get(key) not in (None, "")
    ]
    alternatives = media.get("AlternativeHashes") or []
    if not isinstance(alternatives, list):
        alternatives = []
        yield LineError(number, f"media {number}: AlternativeHashes is not a list")
    for alternative in alternatives:
        name = alternative.get("HashName") if isinstance(alternative, dict) else None
        if not isinstance(name, str) or not isinstance(alternative, dict):
            yield LineError(number, f"media {number}: an alternative hash has no HashName")
            continue
        kind = _ALTERNATIVE_NAMES.get(name.strip().upper())
        if kind is None:
            yield Ignored(f"hash type {name.strip()[:30]}")
            continue
        hashes.append((kind, alternative.get("HashValue")))
    if not hashes:
        yield LineError(number, f"media {number}: no MD5, SHA1, SHA256 or PDQ hash")
        return
    metadata: dict[str, object] = {}
    media_id = media.get("MediaID")
    if isinstance(media_id, int | str) and not isinstance(media_id, bool):
        metadata["vics_media_id"] = media_id if isinstance(media_id, int) else media_id[:64]
    classification = _classification(media.get("Category"))
    seen: set[tuple[HashKind, str]] = set()
    for kind, value in hashes:
        if not isinstance(value, str):
            yield LineError(number, f"media {number}: {kind.label} value is not a string")
            continue
        try:
            entry = make_record(
                position=number,
                kind=kind,
                value=value,
                classification=classification,
                metadata=metadata,
            )
        except InvalidHash as invalid:
            yield LineError(number, f"media {number}: {invalid}")
            continue
        if (entry.kind, entry.value) not in seen:
            seen.add((entry.kind, entry.value))
            yield entry
