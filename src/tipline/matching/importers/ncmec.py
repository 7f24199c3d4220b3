"""NCMEC hash-sharing XML, in a documented shape of our own choosing.

We found no public, authoritative schema for NCMEC's hash-sharing XML, so this reads the shape
below and variants of it; check a real export against it before relying on it:

    <entries>
      <entry id="123" classification="A1">
        <fingerprints>
          <fingerprint type="MD5">...</fingerprint>
          <fingerprint type="SHA1">...</fingerprint>
          <fingerprint type="PDQ">...</fingerprint>
        </fingerprints>
      </entry>
    </entries>

An entry is any element with a ``fingerprints`` child, or named ``entry`` (so ``<image>`` and
``<video>`` elements work too); namespaces are ignored. A fingerprint is ``<fingerprint
type="...">`` or an element named after its kind (``<md5>``, ``<sha1>``, ``<sha256>``, ``<pdq>``).
``id`` and ``classification`` may be attributes or child elements. Types the bank cannot hold
(PhotoDNA, video hashes) are ignored and counted.

Security: parsed only with defusedxml and ``forbid_dtd``: a DOCTYPE, any entity declaration
(the "billion laughs" expansion) and external entities are refused before they are expanded or
fetched. Elements are dropped once read, so memory stays flat on large files; nesting deeper
than MAX_DEPTH is refused. Error positions are entry numbers (1-based, in file order).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import iterparse

from tipline.matching.banks import EntryRecord, make_record
from tipline.matching.importers.common import Ignored, ImportRefused, LineError, Source
from tipline.matching.models import HashKind, InvalidHash

Item = EntryRecord | LineError | Ignored

MAX_DEPTH = 64
_KIND_NAMES = {
    "md5": HashKind.MD5,
    "sha1": HashKind.SHA1,
    "sha256": HashKind.SHA256,
    "pdq": HashKind.PDQ,
}


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def parse_ncmec_xml(handle: Source, size: int) -> Iterator[Item]:
    stack: list[Element] = []
    number = 0
    try:
        for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(element)
                if len(stack) > MAX_DEPTH:
                    raise ImportRefused(f"XML nested deeper than {MAX_DEPTH} levels")
                continue
            stack.pop()
            fingerprints = next(
                (child for child in element if _local(child.tag) == "fingerprints"), None
            )
            if fingerprints is None and _local(element.tag) != "entry":
                continue
            number += 1
            yield from _entry(number, element, fingerprints)
            # Drop what has been read: the parent would otherwise keep every entry alive.
            if stack:
                stack[-1].remove(element)
            element.clear()
    except DTDForbidden:
        raise ImportRefused(
            "the XML declares a DTD (<!DOCTYPE>); refused, because DTDs carry entity "
            "expansion and external-entity attacks"
        ) from None
    except EntitiesForbidden:
        raise ImportRefused("the XML declares entities (entity expansion); refused") from None
    except ExternalReferenceForbidden:
        raise ImportRefused("the XML refers to an external entity; refused") from None
    except DefusedXmlException as error:
        raise ImportRefused(f"unsafe XML refused: {type(error).__name__}") from None
    except ParseError as error:
        line, column = error.position
        raise ImportRefused(f"malformed XML at line {line}, column {column}") from None


def _field(element: Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        child = next((c for c in element if _local(c.tag) == name), None)
        value = child.text if child is not None else None
    return (value or "").strip()


def _entry(number: int, element: Element, fingerprints: Element | None) -> Iterator[Item]:
    entry_id = _field(element, "id")[:64]
    where = f"entry {number}" + (f" (id {entry_id})" if entry_id else "")
    found: list[tuple[HashKind, str]] = []
    for child in fingerprints if fingerprints is not None else []:
        tag = _local(child.tag)
        name = child.get("type", "") if tag == "fingerprint" else tag
        normal = name.strip().lower().replace("-", "").replace("_", "")
        kind = _KIND_NAMES.get(normal)
        if kind is None:
            yield Ignored(f"fingerprint type {name.strip()[:30]}")
            continue
        found.append((kind, child.text or ""))
    if not found:
        yield LineError(number, f"{where}: no MD5, SHA1, SHA256 or PDQ fingerprint")
        return
    metadata: dict[str, object] = {"ncmec_id": entry_id} if entry_id else {}
    classification = _field(element, "classification")
    for kind, value in found:
        try:
            yield make_record(
                position=number,
                kind=kind,
                value=value,
                classification=classification,
                metadata=metadata,
            )
        except InvalidHash as invalid:
            yield LineError(number, f"{where}: {invalid}")
