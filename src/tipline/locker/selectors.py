"""Reads from an opened locker: decrypt with the session's data key, return the shared types.

Anything fetched by an id the browser sent (an incident, an evidence file) is looked up only
among the opened locker's own rows, so another locker's ids name nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext

from tipline import crypto, storage
from tipline.crypto import passphrase as pp
from tipline.crypto.sealed import open_json
from tipline.locker import incident_dates
from tipline.locker.models import EvidenceFile, Incident, IncidentVersion, Locker
from tipline.locker.sealed import ctx, items_from_blob
from tipline.locker.sessions import Opened, TooManyAttempts, argon2_slot
from tipline.locker.types import (
    EvidenceRecord,
    Snapshot,
    TimelineEntry,
)
from tipline.locker.types import (
    Incident as IncidentData,
)
from tipline.locker.types import (
    IncidentVersion as IncidentVersionData,
)


@dataclass(frozen=True)
class Settings:
    title: str
    responsible: tuple[str, ...]
    # The victim's zone for the dates they write (IANA name); the server's zone until chosen.
    time_zone: str


@dataclass(frozen=True)
class HandedOver:
    receipt: str
    files: int
    sent_at: datetime


@dataclass(frozen=True)
class FileInfo:
    record: EvidenceRecord
    warnings: list[str]


class NotInLocker(Exception):
    """The id names nothing in this locker (missing, malformed or another locker's)."""


def passphrase_in_use(passphrase: str) -> bool:
    """Whether a locker already opens with this passphrase (one Argon2 derivation, in one of the
    machine's Argon2 slots; with none free the answer is "yes", which only shows a new phrase)."""
    try:
        with argon2_slot():
            derived = pp.derive(passphrase)
    except TooManyAttempts:
        return True
    return Locker.objects.filter(lookup_digest=derived.lookup).exists()


def settings_of(opened: Opened) -> Settings:
    data = open_json(opened.key, opened.locker.settings, context=ctx(opened.locker.id, "settings"))
    return Settings(
        title=str(data["title"]),
        responsible=tuple(data["responsible"]),
        time_zone=incident_dates.zone_of(data.get("time_zone")).key,
    )


def handovers(opened: Opened) -> list[HandedOver]:
    """The receipts of the reports handed over from this locker, oldest first."""
    blob = opened.locker.handovers
    if blob is None:
        return []
    data = open_json(opened.key, blob, context=ctx(opened.locker.id, "handovers"))
    return [
        HandedOver(
            receipt=str(entry["receipt"]),
            files=int(entry["files"]),
            sent_at=datetime.fromisoformat(entry["sent_at"]),
        )
        for entry in data
    ]


def _meta(opened: Opened, row: EvidenceFile) -> dict[str, Any]:
    return dict(
        open_json(
            opened.key,
            row.meta,
            context=ctx(opened.locker.id, f"file:{row.idempotency_digest}:meta"),
        )
    )


def files(opened: Opened) -> list[FileInfo]:
    out = []
    for row in EvidenceFile.objects.filter(locker=opened.locker).order_by("id"):
        meta = _meta(opened, row)
        record = EvidenceRecord(
            id=row.id,
            filename=meta["filename"],
            format=meta["format"],
            sha256=meta["sha256"],
            size=meta["size"],
            imported_at=datetime.fromisoformat(meta["imported_at"]),
            item_count=meta["item_count"],
        )
        out.append(FileInfo(record=record, warnings=list(meta["warnings"])))
    return out


def _in_locker[Row: (EvidenceFile, Incident)](
    model: type[Row], opened: Opened, raw_id: object
) -> Row:
    """The access rule for every id a victim sends: it must name a row of *this* locker.

    Malformed, missing and another locker's ids get the same NotInLocker.
    """
    try:
        number = int(str(raw_id))
    except ValueError:
        raise NotInLocker from None
    row = model._default_manager.filter(locker=opened.locker, id=number).first()
    if row is None:
        raise NotInLocker
    return row


def original_bytes(opened: Opened, row: EvidenceFile) -> bytes:
    return crypto.open_sealed(
        opened.key,
        storage.read_object(row.object_id),
        context=ctx(opened.locker.id, f"file:{row.idempotency_digest}:data"),
    )


def _entries(opened: Opened, row: EvidenceFile) -> list[TimelineEntry]:
    blob = crypto.open_sealed(
        opened.key,
        storage.read_object(row.items_object_id),
        context=ctx(opened.locker.id, f"file:{row.idempotency_digest}:items"),
    )
    return [TimelineEntry(item=item, evidence_id=row.id) for item in items_from_blob(blob)]


def incident_row(opened: Opened, incident_id: object) -> Incident:
    return _in_locker(Incident, opened, incident_id)


def _version(opened: Opened, row: IncidentVersion) -> IncidentVersionData:
    data = open_json(
        opened.key,
        row.content,
        context=ctx(opened.locker.id, f"incident:{row.incident_id}:v{row.number}"),
    )
    return IncidentVersionData(
        occurred_at=datetime.fromisoformat(data["occurred_at"]) if data["occurred_at"] else None,
        platform=data["platform"],
        what_happened=data["what_happened"],
        accounts=data["accounts"],
        impact=data["impact"],
        evidence_ids=tuple(data["evidence_ids"]),
        written_at=datetime.fromisoformat(data["written_at"]),
    )


def incidents(opened: Opened) -> list[IncidentData]:
    versions: dict[int, list[IncidentVersionData]] = {}
    rows = IncidentVersion.objects.filter(incident__locker=opened.locker).order_by(
        "incident_id", "number"
    )
    for row in rows:
        versions.setdefault(row.incident_id, []).append(_version(opened, row))
    found = [IncidentData(id=iid, versions=tuple(vs)) for iid, vs in versions.items()]
    # Newest incident first would hide the pattern; the log reads in the order things happened.
    return sorted(found, key=lambda i: (i.current.occurred_at is None, _sort_key(i), i.id))


def _sort_key(incident: IncidentData) -> str:
    when = incident.current.occurred_at
    return when.isoformat() if when else ""


@dataclass(frozen=True)
class Counts:
    files: int
    items: int
    incidents: int


def counts(opened: Opened) -> Counts:
    infos = files(opened)
    return Counts(
        files=len(infos),
        items=sum(info.record.item_count for info in infos),
        incidents=Incident.objects.filter(locker=opened.locker).count(),
    )


def snapshot(
    opened: Opened, *, with_originals: bool = False, evidence_ids: set[int] | None = None
) -> Snapshot:
    """Everything in the locker, decrypted (optionally only the chosen evidence files)."""
    chosen = [
        info for info in files(opened) if evidence_ids is None or info.record.id in evidence_ids
    ]
    rows = {
        row.id: row
        for row in EvidenceFile.objects.filter(
            locker=opened.locker, id__in=[info.record.id for info in chosen]
        )
    }
    entries: list[TimelineEntry] = []
    originals: dict[int, bytes] = {}
    for info in chosen:
        row = rows[info.record.id]
        entries.extend(_entries(opened, row))
        # Screenshots are always read: the PDF shows them as pictures, not only by hash.
        if with_originals or info.record.format == "screenshot":
            originals[row.id] = original_bytes(opened, row)
    current = settings_of(opened)
    return Snapshot(
        # The report's heading. The locker's own "page title" setting is a disguise for the
        # browser tab ("Recipes"), never a heading for the police or a court.
        title=gettext("Evidence log"),
        created_at=opened.locker.created_at,
        evidence=[info.record for info in chosen],
        entries=entries,
        incidents=incidents(opened),
        responsible=current.responsible,
        originals=originals,
        time_zone=current.time_zone,
    )
