"""Writes to the evidence locker. Each action runs in one transaction.

Like report files, evidence bytes are sealed and written to the evidence store *before* the
transaction; if the transaction then fails they are deleted again (storage.pending_writes), and
what a killed process leaves is unreadable and removed by `tipline storage sweep`.

Audit: the locker is the victim's own private space, not a record the hotline keeps about them.
Logging "locker X was opened / imported to / edited" would put a persistent, linkable trail of
their activity in the hotline's audit log (and the audit log is readable by staff), so none of
that is recorded. The one event that involves the hotline, a hand-over, is recorded against the
*report* it creates, without any locker id (see ``tipline.locker.handover``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tipline import crypto, storage
from tipline.crypto import passphrase as pp
from tipline.crypto.sealed import open_json, seal_json
from tipline.locker import sessions
from tipline.locker.models import EvidenceFile, Incident, IncidentVersion, Locker
from tipline.locker.sealed import ctx, items_blob
from tipline.locker.types import ParseResult

log = logging.getLogger(__name__)


class PassphraseTaken(Exception):
    """Another locker already opens with this passphrase; the victim must choose another."""


class AlreadyImported(Exception):
    """These exact bytes are already in the locker; nothing was added."""


def locker_create(*, passphrase: str) -> sessions.Opened:
    """Create a locker that only ``passphrase`` opens, and open it."""
    with sessions.argon2_slot():  # memory and CPU bound, as for opens
        derived = pp.derive(passphrase)
    data_key = crypto.new_data_key()
    locker = Locker()
    locker.lookup_digest = derived.lookup
    locker.wrapped_key = sessions.seal_data_key(locker.id, data_key, derived.unlock_key)
    locker.settings = seal_json(
        data_key, {"title": "", "responsible": []}, context=ctx(locker.id, "settings")
    )
    try:
        with transaction.atomic():
            locker.save(force_insert=True)
    except IntegrityError:
        raise PassphraseTaken from None
    return sessions.start(locker, data_key)


def locker_settings_update(
    *,
    opened: sessions.Opened,
    title: str,
    responsible: list[str],
    time_zone: str | None = None,
) -> None:
    """Seal the settings; `time_zone` None keeps the zone already chosen (if any)."""
    locker = opened.locker
    current = open_json(opened.key, locker.settings, context=ctx(locker.id, "settings"))
    data: dict[str, Any] = {"title": title, "responsible": responsible}
    zone = time_zone if time_zone is not None else current.get("time_zone")
    if zone:
        data["time_zone"] = zone
    locker.settings = seal_json(opened.key, data, context=ctx(locker.id, "settings"))
    with transaction.atomic():
        locker.save(update_fields=["settings"])


@dataclass(frozen=True)
class Imported:
    file: EvidenceFile
    item_count: int
    warnings: list[str]


def evidence_import(
    *, opened: sessions.Opened, filename: str, data: bytes, result: ParseResult
) -> Imported:
    """Store the original bytes and the parsed items of one file, sealed; once per locker."""
    locker, key = opened.locker, opened.key
    sha256 = hashlib.sha256(data).hexdigest()
    idem = pp.idempotency_digest(key, sha256)
    if EvidenceFile.objects.filter(locker=locker, idempotency_digest=idem).exists():
        raise AlreadyImported
    row = EvidenceFile(locker=locker, idempotency_digest=idem)
    # The row id is not known before it is saved, so the blobs' contexts use the digest, which
    # is unique per locker and fixed for the file's lifetime.
    meta: dict[str, Any] = {
        "filename": filename,
        "format": result.format,
        "sha256": sha256,
        "size": len(data),
        "imported_at": timezone.now().isoformat(),
        "item_count": len(result.items),
        "warnings": list(result.warnings),
    }
    row.meta = seal_json(key, meta, context=ctx(locker.id, f"file:{idem}:meta"))
    with storage.pending_writes() as pending:
        row.object_id = pending.write(
            crypto.seal(key, data, context=ctx(locker.id, f"file:{idem}:data"))
        )
        row.items_object_id = pending.write(
            crypto.seal(key, items_blob(result), context=ctx(locker.id, f"file:{idem}:items"))
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            # The same file was imported by a request that committed first (a double click).
            raise AlreadyImported from None
    return Imported(file=row, item_count=len(result.items), warnings=list(result.warnings))


@dataclass(frozen=True)
class IncidentText:
    occurred_at: datetime | None
    platform: str
    what_happened: str
    accounts: str
    impact: str
    evidence_ids: tuple[int, ...]


def _version_json(text: IncidentText) -> dict[str, Any]:
    return {
        "occurred_at": text.occurred_at.isoformat() if text.occurred_at else None,
        "platform": text.platform,
        "what_happened": text.what_happened,
        "accounts": text.accounts,
        "impact": text.impact,
        "evidence_ids": list(text.evidence_ids),
        "written_at": timezone.now().isoformat(),
    }


def incident_add(*, opened: sessions.Opened, text: IncidentText) -> Incident:
    with transaction.atomic():
        incident = Incident.objects.create(locker=opened.locker)
        _add_version(opened, incident, text)
    return incident


def incident_edit(*, opened: sessions.Opened, incident: Incident, text: IncidentText) -> None:
    """An edit adds a version; the earlier text stays, readable in the history."""
    if incident.locker_id != opened.locker.id:
        raise ValueError("incident of another locker")
    with transaction.atomic():
        _add_version(opened, incident, text)


def _add_version(opened: sessions.Opened, incident: Incident, text: IncidentText) -> None:
    number = IncidentVersion.objects.filter(incident=incident).count() + 1
    IncidentVersion.objects.create(
        incident=incident,
        number=number,
        content=seal_json(
            opened.key,
            _version_json(text),
            context=ctx(opened.locker.id, f"incident:{incident.id}:v{number}"),
        ),
    )


# --- hand-over receipts ---------------------------------------------------------------------------


def handover_remember(
    *, opened: sessions.Opened, receipt: str, files: int, sent_at: datetime
) -> None:
    """Keep a hand-over's receipt in the locker, sealed, so the victim can find it again.

    A replayed hand-over (the same form sent twice) gives the same receipt: it is kept once.
    """
    with transaction.atomic():
        locker = Locker.objects.select_for_update().get(pk=opened.locker.pk)
        context = ctx(locker.id, "handovers")
        kept: list[dict[str, Any]] = (
            list(open_json(opened.key, locker.handovers, context=context))
            if locker.handovers is not None
            else []
        )
        if any(entry["receipt"] == receipt for entry in kept):
            return
        kept.append({"receipt": receipt, "files": files, "sent_at": sent_at.isoformat()})
        locker.handovers = seal_json(opened.key, kept, context=context)
        locker.save(update_fields=["handovers"])
    opened.locker.handovers = locker.handovers


# --- deleting a locker ----------------------------------------------------------------------------


def _delete_objects(object_ids: list[str]) -> None:
    for object_id in object_ids:
        try:
            storage.delete_object(object_id)
        except (storage.StorageError, OSError) as exc:
            # Ciphertext whose key is gone; `tipline storage sweep` removes what is left.
            log.warning("could not delete a locker object: %s", type(exc).__name__)


def locker_delete(*, opened: sessions.Opened) -> None:
    """Destroy the locker for good: its keys first (crypto-shredding), then its objects.

    The data key exists only sealed in the locker row and in its session rows; deleting them
    (every other row goes with them by cascade) leaves the sealed blobs unreadable by anyone,
    passphrase or not. The evidence objects are then deleted once the transaction has committed,
    so a rolled-back deletion keeps a whole locker.
    """
    with transaction.atomic():
        object_ids: list[str] = []
        for data_id, items_id in EvidenceFile.objects.filter(locker=opened.locker).values_list(
            "object_id", "items_object_id"
        ):
            object_ids += [data_id, items_id]
        Locker.objects.filter(pk=opened.locker.pk).delete()
        transaction.on_commit(lambda: _delete_objects(object_ids))
