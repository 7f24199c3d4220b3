"""The chain of custody of a report, drawn from the audit log: who received, viewed, decrypted,
classified, decided and exported it, and when.

Every entry is copied with its sequence number and chain hash, so an agency that doubts one can
ask the hotline to show it in the hash-chained log (``tipline audit verify``) and against the
signed checkpoints kept off the machine. Audit details name fields, codes and people, never
report content (``tipline.audit``), so copying them into the package's plain ``report.json``
reveals nothing the reporter wrote.

Receiving is the one step without an audit entry: intake records nothing about an anonymous
reporter, so the report's own receipt time stands for it (and each file's, from its sealed
metadata).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q

from tipline.audit.models import AuditEntry
from tipline.cases.models import Report

# What an agency reads in the summary for each action (the code stays in report.json).
PLAIN_WORDS = {
    "report.received": "received (public intake)",
    "file.received": "evidence file received",
    "report.claim": "claimed",
    "report.assign": "assigned",
    "report.view": "opened the case",
    "report.decrypt": "decrypted the report",
    "report.decrypt_contact": "opened the contact details",
    "file.preview": "viewed a preview",
    "file.reveal": "revealed a preview",
    "file.text": "read a text file in the console",
    "file.original": "downloaded the original file",
    "report.classify": "classified",
    "report.note": "added a note",
    "report.review_requested": "proposed a decision (four eyes)",
    "report.decided": "decided",
    "report.decision_confirmed": "confirmed the decision",
    "report.decision_returned": "sent the decision back",
    "report.decision_withdrawn": "withdrew the decision",
    "report.reopened": "reopened",
    "report.legal_hold": "changed the legal hold",
    "referral.export": "exported a referral package",
    "referral.download": "downloaded a referral package",
    "referral.refused": "was refused a referral package",
}


def describe(action: str) -> str:
    return PLAIN_WORDS.get(action, action)


def custody(report: Report, files: Iterable[tuple[uuid.UUID, datetime]]) -> list[dict[str, Any]]:
    """Custody events oldest first; ``files`` are (file id, received at) pairs."""
    files = list(files)
    events: list[tuple[datetime, int, dict[str, Any]]] = [
        (
            report.created_at,
            0,
            _event(None, report.created_at, "reporter", "report.received", f"report:{report.id}"),
        )
    ]
    events += [
        (received, 0, _event(None, received, "reporter", "file.received", f"file:{file_id}"))
        for file_id, received in files
    ]
    entries = AuditEntry.objects.filter(
        Q(target_type="report", target_id=str(report.id))
        | Q(target_type="file", target_id__in=[str(file_id) for file_id, _at in files])
    ).order_by("seq")
    for entry in entries:
        event = _event(
            entry.seq,
            entry.created_at,
            entry.actor,
            entry.action,
            f"{entry.target_type}:{entry.target_id}",
        )
        event["entry_hash"] = entry.entry_hash
        event["details"] = entry.details
        events.append((entry.created_at, entry.seq, event))
    events.sort(key=lambda item: (item[0], item[1]))
    return [event for _at, _seq, event in events]


def _event(seq: int | None, at: datetime, actor: str, action: str, target: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "target": target,
        "entry_hash": None,
        "details": {},
    }
