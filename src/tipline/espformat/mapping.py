"""From a validated CyberTipline ``<report>`` to what a Tipline report holds, and back.

The category table is a data file (``data/mapping.toml``, documented in docs/cybertipline.md).
Identifiers go where the linking step looks for them (``urls``, ``emails``, ``phones``,
``handles``: see ``tipline.triage.identifiers``): the reported user's and intended recipients'
accounts, e-mails and phones, every incident URL. The reporting company's own contact details
(``reporter``) and any police contact (``lawEnforcement``) are not identifiers of the case and are
left out, so two platforms' reports are never linked because the same trust-and-safety desk
sent them.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from tipline.espformat.documents import text_of

MAPPING_PATH = Path(__file__).parent / "data" / "mapping.toml"
MAX_ITEMS = 200  # identifiers of one kind taken from one report
MAX_TEXT = 20_000  # characters of free text carried into what_happened

# Parts of a report that name people or accounts involved in the incident.
_PARTIES = ("personOrUserReported", "intendedRecipient", "victim", "internetDetails")


@dataclass(frozen=True)
class Mapping:
    incident_types: dict[str, str]
    annotations: tuple[tuple[str, str], ...]
    outbound: dict[str, str]
    outbound_annotations: dict[str, tuple[str, ...]]


@functools.cache
def mapping() -> Mapping:
    doc = tomllib.loads(MAPPING_PATH.read_text(encoding="utf-8"))
    table = Mapping(
        incident_types=dict(doc["incident_types"]),
        annotations=tuple((a["name"], a["category"]) for a in doc["annotations"]),
        outbound=dict(doc["outbound"]),
        outbound_annotations={k: tuple(v) for k, v in doc["outbound_annotations"].items()},
    )
    # That every category named is one of Tipline's is checked by the tests (this layer sits
    # below tipline.cases and does not import it).
    return table


def categories_named() -> set[str]:
    table = mapping()
    named = set(table.incident_types.values()) | set(table.outbound)
    return named | {c for _n, c in table.annotations if c}


def annotations_of(report: etree._Element) -> list[str]:
    holder = report.find("incidentSummary/reportAnnotations")
    return [] if holder is None else [str(child.tag) for child in holder]


def category_of(report: etree._Element) -> str:
    table = mapping()
    present = set(annotations_of(report))
    for name, category in table.annotations:
        if name in present and category:
            return category
    incident = report.findtext("incidentSummary/incidentType") or ""
    return table.incident_types.get(incident.strip(), "other")


def _texts(report: etree._Element, paths: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for part in _PARTIES:
        for holder in report.findall(part):
            for path in paths:
                for element in holder.iterfind(path):
                    value = text_of(element)
                    if value and value not in found and len(found) < MAX_ITEMS:
                        found.append(value[:2000])
    return found


def details_of(report: etree._Element) -> dict[str, Any]:
    """The ``details`` of the Tipline report: free text for triage, identifiers for linking."""
    summary = report.find("incidentSummary")
    platform = text_of(summary.find("platform")) if summary is not None else ""
    pieces = [
        text_of(summary.find("incidentDateTimeDescription")) if summary is not None else "",
        text_of(report.find("additionalInfo")),
        *(text_of(e) for e in report.iterfind("internetDetails/*/additionalInfo")),
        *(text_of(e) for e in report.iterfind("personOrUserReported/additionalInfo")),
    ]
    what_happened = "\n\n".join(p for p in pieces if p)[:MAX_TEXT]
    return {
        "what_happened": what_happened,
        "when": report.findtext("incidentSummary/incidentDateTime") or "",
        "platform": platform[:200],
        "urls": _texts(report, (".//url", ".//profileUrl")),
        "emails": _texts(report, (".//email", ".//emailAddress")),
        "phones": _texts(report, (".//phone",)),
        "handles": _texts(report, (".//screenName", ".//espIdentifier")),
        # What the case view shows in its CyberTipline panel rather than as answers.
        "cybertipline": {
            "incident_type": report.findtext("incidentSummary/incidentType") or "",
            "annotations": annotations_of(report),
            "escalate": report.find("incidentSummary/escalateToHighPriority") is not None,
        },
    }


def file_meta_of(details: etree._Element | None) -> dict[str, Any]:
    """What the platform said of one file (``<fileDetails>``), sealed beside the file."""
    if details is None:
        return {}
    hashes = [
        {"type": (h.get("hashType") or "")[:32], "value": text_of(h)[:256]}
        for h in details.iterfind("originalFileHash")
    ][:20]
    return {
        "industry_classification": details.findtext("industryClassification") or "",
        "original_hashes": hashes,
        "original_name": (details.findtext("originalFileName") or "")[:255],
        "publicly_available": details.findtext("publiclyAvailable") or "",
        "viewed_by_sender": details.findtext("fileViewedByEsp") or "",
    }
