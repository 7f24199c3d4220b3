"""The court-ready PDF of a locker: summary, chart, screenshots, timeline, incident log and
hash manifest.

Rendered with WeasyPrint from a Django template. The PDF fetches nothing: the stylesheet is read
from the package and put inline, the chart is inline SVG, and the URL fetcher refuses every URL
except the screenshots this module prepared itself ("tipline-image:<n>"), so a message that
contains markup or a link can neither reach the network nor the server's files (all victim and
sender text is escaped by the template anyway).

Screenshots are shown as pictures, not only as a hash: each imported screenshot is decoded
within the pixel limit, turned upright, scaled down and re-encoded as a plain JPEG, which drops
every piece of metadata (EXIF with GPS and device, XMP, ICC, comments). The picture is for
reading; the evidence is the original file, whose SHA-256 is printed under it and in the
manifest, and which the ZIP of originals carries unchanged.

Incident times were written in the locker's time zone; they are printed in it, with its name
("2024-03-14 23:00 GMT (Europe/London)"), never as a bare offset.

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

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import weasyprint  # type: ignore[import-untyped]  # ships no type hints
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from PIL import Image, ImageFile, ImageOps
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

from tipline.locker import incident_dates
from tipline.locker.chart import bars, describe, render
from tipline.locker.parsers.limits import max_image_pixels
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
# parser in the same process. The only raster images our PDFs embed are JPEGs this module has
# just written itself, so the flag is put back to Pillow's safe default as soon as WeasyPrint
# is loaded.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Screenshots in the PDF: at most this many, each at most this many pixels on its long side
# (a phone screen's text stays legible at 1200 px), JPEG quality 82: ~150 KB a page.
MAX_PICTURES = 60
PICTURE_PIXELS = 1200
PICTURE_QUALITY = 82
_IMAGE_SCHEME = "tipline-image:"

TEMPLATE = "locker/pdf/report.html"
CSS_FILE = Path(__file__).resolve().parent / "templates" / "locker" / "pdf" / "report.css"


class _NoFetch(URLFetcher):  # type: ignore[misc]  # URLFetcher is untyped (Any)
    """Refuses every URL but our own prepared pictures, so nothing in a locker can make the PDF
    renderer fetch anything."""

    def __init__(self, pictures: dict[str, bytes] | None = None) -> None:
        super().__init__()
        self.pictures = pictures or {}

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url in self.pictures:
            return URLFetcherResponse(
                url, body=self.pictures[url], headers={"Content-Type": "image/jpeg"}
            )
        raise ValueError(f"the locker's PDF fetches nothing (asked for {url[:80]!r})")


@dataclass(frozen=True, slots=True)
class _Picture:
    url: str
    caption: str  # "#3 screenshot.png"
    sha256: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Row:
    line: str  # "● 2026-01-05 08:00:00 (phone time) · whatsapp · Alex · #1 — text"
    markers: tuple[str, ...]


def build_pdf(
    snapshot: Snapshot,
    *,
    generated_at: datetime,
    language: str = "en",
    naive_zone: tzinfo | None = None,
    pattern: Pattern | None = None,
) -> bytes:
    """The PDF as bytes. `pattern` may be passed when the caller has already analysed.

    Phone times without an offset (WhatsApp) are read in `naive_zone`, by default the locker's.
    """
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    zone = incident_dates.zone_of(snapshot.time_zone)
    if pattern is None:
        # WhatsApp's phone times are read in the locker's zone unless the caller said otherwise.
        pattern = analyse(snapshot, naive_zone=naive_zone or zone)
    pictures, images = screenshots(snapshot)
    with translation.override(language):
        page = context(snapshot, pattern, generated_at, language)
        page["pictures"] = pictures
        page["pictures_left_out"] = _screenshot_count(snapshot) - len(pictures)
        html = render_to_string(TEMPLATE, page)
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_NoFetch(images))
    pdf: bytes = document.write_pdf()
    return pdf


def context(
    snapshot: Snapshot, pattern: Pattern, generated_at: datetime, language: str
) -> dict[str, Any]:
    names = evidence_names(snapshot.evidence)
    zone = incident_dates.zone_of(snapshot.time_zone)
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
        "created_at": incident_dates.shown(snapshot.created_at, zone),
        "time_zone": zone.key,
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
        "incidents": [_incident(i, names, zone) for i in snapshot.incidents],
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


def _incident(incident: Incident, names: dict[int, str], zone: ZoneInfo) -> dict[str, Any]:
    versions = [_version(v, names, zone) for v in incident.versions]
    return {"id": incident.id, "current": versions[-1], "earlier": versions[:-1][::-1]}


def _local(when: datetime | None, zone: ZoneInfo) -> str:
    """An incident time in the locker's zone, with the zone's name; never a bare "+00:00"."""
    if when is None:
        return str(translation.gettext("not known"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return incident_dates.shown(when, zone)


def _version(version: IncidentVersion, names: dict[int, str], zone: ZoneInfo) -> dict[str, str]:
    return {
        "occurred_at": _local(version.occurred_at, zone),
        "written_at": _local(version.written_at, zone),
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


# --- screenshots ---------------------------------------------------------------------------


def _screenshot_count(snapshot: Snapshot) -> int:
    return sum(1 for e in snapshot.evidence if e.format == "screenshot")


def screenshots(snapshot: Snapshot) -> tuple[list[_Picture], dict[str, bytes]]:
    """The imported screenshots as clean, scaled JPEGs, in import order (see the module)."""
    pictures: list[_Picture] = []
    images: dict[str, bytes] = {}
    for record in snapshot.evidence:
        if record.format != "screenshot" or len(pictures) >= MAX_PICTURES:
            continue
        original = snapshot.originals.get(record.id)
        picture = picture_of(original) if original else None
        if picture is None:
            continue
        data, width, height = picture
        url = f"{_IMAGE_SCHEME}{record.id}"
        images[url] = data
        caption = f"#{record.id} {record.filename}"
        pictures.append(_Picture(url, caption, record.sha256, width, height))
    return pictures, images


def picture_of(original: bytes) -> tuple[bytes, int, int] | None:
    """A scaled, upright JPEG of an image, with no metadata; None when it cannot be read."""
    try:
        with Image.open(io.BytesIO(original)) as image:
            if image.width * image.height > max_image_pixels():
                return None  # a decompression bomb; it was refused at import anyway
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            rgb = upright.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    rgb.thumbnail((PICTURE_PIXELS, PICTURE_PIXELS), Image.Resampling.LANCZOS)
    # Only the pixels are copied: no EXIF, XMP, ICC profile or comment comes along.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=PICTURE_QUALITY, optimize=True)
    return out.getvalue(), clean.width, clean.height
