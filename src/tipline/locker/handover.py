"""Hand-over: the victim sends their log, or chosen files, to the hotline as a report.

The report is an ordinary `cyberstalking` report made through `cases.actions.report_create`, so
it is sealed under its own report keys, scored by triage and worked like any other. It carries:

* in the sealed payload, the answers the public form would give (the incidents' text goes into
  "what happened" so triage sees threats) plus ``evidence_log``: the incident log with its
  history, the list of evidence files with their SHA-256 and import time, the accounts marked as
  the person responsible, and the timeline (at most ``MAX_ENTRIES`` entries; the PDF has all);
* as report files: the court-ready PDF, and each chosen original the report file rules accept
  (images and plain text; archives and JSON stay in the PDF's manifest and timeline).

The receipt is shown once, like the intake receipt. The audit entry names the report only: no
locker id is stored anywhere outside the locker, so the report cannot be linked back to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline.audit.chain import SYSTEM, record
from tipline.cases import actions as case_actions
from tipline.cases.states import Channel
from tipline.evidence.validate import UploadRejected, ValidatedUpload, validate_upload
from tipline.locker.pattern import timeline
from tipline.locker.sealed import item_to_json
from tipline.locker.types import Incident, Snapshot
from tipline.web.forms import MAX_TEXT

MAX_ENTRIES = 2_000
MAX_FILES = 10  # the report file limit; the PDF takes one place


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "versions": [
            {
                "occurred_at": _when(v.occurred_at),
                "platform": v.platform,
                "what_happened": v.what_happened,
                "accounts": v.accounts,
                "impact": v.impact,
                "evidence_ids": list(v.evidence_ids),
                "written_at": _when(v.written_at),
            }
            for v in incident.versions
        ],
    }


def evidence_log(snapshot: Snapshot) -> dict[str, Any]:
    entries = timeline(snapshot.entries)
    return {
        "responsible": list(snapshot.responsible),
        "incidents": [incident_json(i) for i in snapshot.incidents],
        "evidence": [
            {
                "id": r.id,
                "filename": r.filename,
                "format": r.format,
                "sha256": r.sha256,
                "size": r.size,
                "imported_at": r.imported_at.isoformat(),
                "item_count": r.item_count,
            }
            for r in snapshot.evidence
        ],
        "entries": [
            {**item_to_json(e.item), "evidence_id": e.evidence_id} for e in entries[:MAX_ENTRIES]
        ],
        "entries_total": len(entries),
    }


def _what_happened(snapshot: Snapshot, note: str) -> str:
    parts = [note] if note else []
    parts.append(
        _(
            "Evidence log handed over from a private locker. Incidents: %(incidents)d. "
            "Files: %(files)d. Messages and other items: %(items)d."
        )
        % {
            "incidents": len(snapshot.incidents),
            "files": len(snapshot.evidence),
            "items": len(snapshot.entries),
        }
    )
    for incident in snapshot.incidents:
        current = incident.current
        when = current.occurred_at.strftime("%Y-%m-%d %H:%M") if current.occurred_at else "?"
        parts.append(f"[{when}] {current.platform}: {current.what_happened}".strip())
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _uploads(snapshot: Snapshot, pdf: bytes) -> list[ValidatedUpload]:
    uploads = [validate_upload("evidence-log.pdf", pdf)]
    for record_ in snapshot.evidence:
        data = snapshot.originals.get(record_.id)
        if data is None or len(uploads) >= MAX_FILES:
            continue
        try:
            uploads.append(validate_upload(record_.filename, data))
        except UploadRejected:
            continue  # listed with its SHA-256 in the PDF and in the payload instead
    return uploads


def hand_over(
    *,
    snapshot: Snapshot,
    note: str,
    language: str,
    build_pdf: Callable[..., bytes],
    submission_token: str | None = None,
) -> case_actions.CreatedReport:
    """File the report; the caller builds the snapshot (with originals) from the opened locker."""
    pdf = build_pdf(snapshot, generated_at=timezone.now(), language=language)
    details: dict[str, Any] = {
        "what_happened": _what_happened(snapshot, note),
        "when": "",
        "platform": "",
        "urls": [],
        "handles": list(snapshot.responsible)[:50],
        "emails": [],
        "phones": [],
        "victim_age_group": "unknown",
        "reporter_relation": "self",
        "threats_made": "unknown",
        "knows_location": "unknown",
        "evidence_log": evidence_log(snapshot),
    }
    with transaction.atomic():
        created = case_actions.report_create(
            category="cyberstalking",
            channel=Channel.HANDOVER,
            language=language,
            details=details,
            contact=None,
            uploads=_uploads(snapshot, pdf),
            submission_token=submission_token,
        )
        if created.replayed:
            return created  # the first hand-over was recorded when it was made
        record(
            actor=SYSTEM,
            action="locker.handover",
            target_type="report",
            target_id=created.report.id,
            details={
                "incidents": len(snapshot.incidents),
                "files": len(snapshot.evidence),
                "entries": len(snapshot.entries),
            },
        )
    return created
