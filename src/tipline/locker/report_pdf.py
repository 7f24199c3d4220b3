"""The court-ready PDF of a locker: summary, chart, timeline, incident log and hash manifest.

Rendered with WeasyPrint from a Django template. The PDF fetches nothing: the stylesheet is read
from the package and put inline, the chart is inline SVG, and the URL fetcher refuses every URL,
so a message that contains markup or a link can neither reach the network nor the server's files
(all victim and sender text is escaped by the template anyway).

Speed: WeasyPrint's cost grows with the number of lines and inline boxes, not with bytes. The
timeline (10,000 items and more) is therefore one plain paragraph per item ("time · source ·
sender · #file — text"), without tables, floats, borders or inline styling: measured, a header
paragraph per item or a styled <span> for the header cost 40-55% more time and twice the pages.
Timings are in benchmarks/evidence_pdf.py. Everything the template shows is prepared here as
strings, so the template loop does no work of its own.

The statement on what the hashes prove is deliberately modest. A SHA-256 digest taken at import
shows the file has not changed since then; it says nothing about who wrote the messages or
whether the export was complete or the phone's clock right, and the PDF says so in plain words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import weasyprint  # type: ignore[import-untyped]  # ships no type hints
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from PIL import ImageFile
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

from tipline.locker.chart import bars, describe, render
from tipline.locker.pattern import Marker, Pattern, analyse, item_keys, time_as_written
from tipline.locker.types import (
    EvidenceRecord,
    Incident,
    IncidentVersion,
    Snapshot,
    TimelineEntry,
)

# Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES = True, which would let
# truncated images through intake validation, previews, PDQ hashing and the locker's screenshot
# parser in the same process. Our PDFs embed no raster images (the chart is inline SVG), so the
# flag is put back to Pillow's safe default as soon as WeasyPrint is loaded.
ImageFile.LOAD_TRUNCATED_IMAGES = False

TEMPLATE = "locker/pdf/report.html"
CSS_FILE = Path(__file__).resolve().parent / "templates" / "locker" / "pdf" / "report.css"


class _NoFetch(URLFetcher):  # type: ignore[misc]  # URLFetcher is untyped (Any)
    """Refuses every URL, so nothing in a locker can make the PDF renderer fetch anything."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        raise ValueError(f"the locker's PDF fetches nothing (asked for {url[:80]!r})")


@dataclass(frozen=True, slots=True)
class _Row:
    line: str  # "● 2026-01-05 08:00:00 (phone time) · whatsapp · Alex · #1 — text"
    markers: tuple[str, ...]


def build_pdf(
    snapshot: Snapshot,
    *,
    generated_at: datetime,
    language: str = "en",
    naive_zone: tzinfo = UTC,
    pattern: Pattern | None = None,
) -> bytes:
    """The PDF as bytes. `pattern` may be passed when the caller has already analysed."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    if pattern is None:
        pattern = analyse(snapshot, naive_zone=naive_zone)
    with translation.override(language):
        html = render_to_string(TEMPLATE, context(snapshot, pattern, generated_at, language))
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_NoFetch())
    pdf: bytes = document.write_pdf()
    return pdf


def context(
    snapshot: Snapshot, pattern: Pattern, generated_at: datetime, language: str
) -> dict[str, Any]:
    names = evidence_names(snapshot.evidence)
    dated = [e.item.timestamp for e in pattern.timeline if e.item.timestamp is not None]
    responsible_keys = pattern.responsible.keys if pattern.responsible else frozenset()
    period, found = bars(pattern.per_day)
    chart_title = f"Items per {period}: {snapshot.title}"
    marked: dict[int, list[str]] = {}
    for marker in pattern.markers:
        marked.setdefault(id(marker.entry), []).append(marker.label)
    return {
        "language": language,
        "css": mark_safe(CSS_FILE.read_text(encoding="utf-8")),  # noqa: S308 - our own file
        "title": snapshot.title,
        "generated_at": generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "created_at": time_as_written(snapshot.created_at),
        "first": time_as_written(dated[0]) if dated else "",
        "last": time_as_written(dated[-1]) if dated else "",
        "naive_zone": str(pattern.naive_zone),
        "total": sum(1 for e in pattern.timeline if e.item.kind != "system"),
        "focus_count": len(pattern.focus),
        "by_source": sorted(Counter(e.item.source for e in pattern.timeline).items()),
        "undated": sum(1 for e in pattern.timeline if e.item.timestamp is None),
        "responsible": pattern.responsible,
        "others": [p for p in pattern.people if not p.responsible][:20],
        "markers": [_marker(m, names) for m in pattern.markers],
        "chart": render(
            found, period=period, markers=pattern.markers, title=chart_title, chart_id="pdf"
        ),
        "chart_text": describe(found, period=period, markers=pattern.markers),
        "rows": [_row(e, responsible_keys, marked) for e in pattern.timeline],
        "incidents": [_incident(i, names) for i in snapshot.incidents],
        "evidence": [_evidence(e) for e in snapshot.evidence],
    }


def _row(
    entry: TimelineEntry, responsible_keys: frozenset[str], marked: dict[int, list[str]]
) -> _Row:
    """One item as one paragraph: a paragraph per item (not a header and a body, not inline
    styling) halves WeasyPrint's time and the page count for a long timeline."""
    item = entry.item
    when = time_as_written(item.timestamp).replace(" (phone time, offset unknown)", " (phone time)")
    head = [when, item.source]
    if item.kind != "message":
        head.append(item.kind)
    head.append(item.sender or ("system" if item.kind == "system" else "unknown sender"))
    extra = [i for i in item.identifiers if i != item.sender]
    if extra:
        head.append(", ".join(extra))
    head.append(f"#{entry.evidence_id}")
    text = item.text
    if item.attachments:
        text = f"{text}\n[attached: {', '.join(item.attachments)}]".lstrip("\n")
    mark = "● " if not responsible_keys.isdisjoint(item_keys(entry)) else ""
    return _Row(
        line=f"{mark}{' · '.join(head)} — {text}",
        markers=tuple(marked.get(id(entry), ())),
    )


def _marker(marker: Marker, names: dict[int, str]) -> dict[str, str]:
    item = marker.entry.item
    return {
        "label": marker.label,
        "when": time_as_written(item.timestamp),
        "sender": item.sender,
        "reason": marker.reason,
        "words": marker.span.text if marker.span else "",
        "evidence": names.get(marker.entry.evidence_id, ""),
    }


def _incident(incident: Incident, names: dict[int, str]) -> dict[str, Any]:
    versions = [_version(v, names) for v in incident.versions]
    return {"id": incident.id, "current": versions[-1], "earlier": versions[:-1][::-1]}


def _version(version: IncidentVersion, names: dict[int, str]) -> dict[str, str]:
    return {
        "occurred_at": time_as_written(version.occurred_at),
        "written_at": time_as_written(version.written_at),
        "platform": version.platform,
        "what_happened": version.what_happened,
        "accounts": version.accounts,
        "impact": version.impact,
        "evidence": ", ".join(names.get(i, f"#{i}") for i in version.evidence_ids),
    }


def _evidence(record: EvidenceRecord) -> dict[str, str | int]:
    return {
        "id": record.id,
        "filename": record.filename,
        "format": record.format,
        "size": record.size,
        "sha256": record.sha256,
        "imported_at": record.imported_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "items": record.item_count,
    }


def evidence_names(records: Sequence[EvidenceRecord]) -> dict[int, str]:
    return {e.id: f"#{e.id} {e.filename}" for e in records}
