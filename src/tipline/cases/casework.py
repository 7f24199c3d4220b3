"""Reads for staff that decrypt, each recorded in the audit log in the same transaction.

Every decryption a staff member causes is accountable: opening a case records ``report.view``
and ``report.decrypt`` (which fields were opened, never their values); contact details are
opened only on request (``report.decrypt_contact``); an image preview served records
``file.preview`` and lifting its blur records ``file.reveal``. If the audit entry cannot be
written, the transaction fails and nothing decrypted leaves the server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from tipline import crypto, storage
from tipline.audit.chain import record
from tipline.cases import linking, selectors
from tipline.cases.models import Decision, EvidenceFile, Note, Referral, Report, TriageResult
from tipline.cases.policies import ReportPolicy
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.transitions import classification_snapshot
from tipline.cases.triage_step import StoredReason, stored_reasons
from tipline.crypto.sealed import open_text
from tipline.matching.models import FileMatch

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser


class ContactWithheld(Exception):
    """Reporters' contact details stay with the hotline's caseworkers (not liaisons)."""


class NoPreview(Exception):
    """This file has no preview (not an image, or the preview is not made yet)."""


@dataclass(frozen=True)
class CaseNote:
    author: str
    created_at: datetime
    body: str


@dataclass(frozen=True)
class KnownMatch:
    bank: str
    classification: str
    distance: int
    kind: str


def _known(files: tuple[selectors.EvidenceSummary, ...]) -> dict[uuid.UUID, tuple[KnownMatch, ...]]:
    found: dict[uuid.UUID, list[KnownMatch]] = {}
    rows = (
        FileMatch.objects.filter(evidence_id__in=[f.id for f in files])
        .select_related("entry__bank")
        .order_by("distance", "id")
    )
    for row in rows:
        entry = row.entry
        found.setdefault(row.evidence_id, []).append(
            KnownMatch(
                bank=entry.bank.name,
                classification=entry.classification or entry.bank.default_classification,
                distance=row.distance,
                kind=entry.kind,
            )
        )
    return {file_id: tuple(matches) for file_id, matches in found.items()}


@dataclass(frozen=True)
class CaseFile:
    report: Report
    details: dict[str, Any]
    messages: tuple[selectors.ThreadMessage, ...]
    files: tuple[selectors.EvidenceSummary, ...]
    contact: dict[str, str] | None
    notes: tuple[CaseNote, ...] = ()
    classification: dict[str, str] = field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()
    referrals: tuple[Referral, ...] = ()
    links: tuple[selectors.LinkedReport, ...] = ()
    triage: TriageResult | None = None
    reasons: tuple[StoredReason, ...] = ()
    cluster: linking.Cluster | None = None
    # File id -> the bank entries it matched (known material): never shown until revealed.
    known: dict[uuid.UUID, tuple[KnownMatch, ...]] = field(default_factory=dict)
    # The content key was destroyed by retention: answers, messages, files and notes are gone.
    erased: bool = False


def _notes(report: Report) -> tuple[CaseNote, ...]:
    key = report_key(report.id, KeyPurpose.CONTENT)
    return tuple(
        CaseNote(
            author=note.author.username,
            created_at=note.created_at,
            body=open_text(key, note.body, context=crypto.context("note", note.id, "body")),
        )
        for note in Note.objects.filter(report=report)
        .select_related("author")
        .order_by("created_at", "id")
    )


def _answered(details: dict[str, Any]) -> list[str]:
    return sorted(name for name, value in details.items() if value not in ("", None, [], {}))


def case_open(*, actor: StaffUser, report: Report, with_contact: bool = False) -> CaseFile:
    """Decrypt a report for ``actor`` (obtained through the access function) and audit it."""
    with transaction.atomic():
        erased = False
        triage = TriageResult.objects.filter(report=report).first()
        try:
            details = selectors.report_details(report)
            messages = selectors.report_thread(report)
            files = selectors.report_files(report)
            # Internal notes are the hotline's own working papers: not for a liaison.
            notes = _notes(report) if ReportPolicy.may_annotate(actor) else ()
            reasons = stored_reasons(report, triage)
        except KeyDestroyed:
            erased = True
            details, messages, files, notes, reasons = {}, (), (), (), ()
        record(
            actor=actor.username, action="report.view", target_type="report", target_id=report.id
        )
        record(
            actor=actor.username,
            action="report.decrypt",
            target_type="report",
            target_id=report.id,
            details={
                "fields": _answered(details),
                "messages": len(messages),
                "files": len(files),
                "notes": len(notes),
                "triage_reasons": len(reasons),
                "erased": erased,
            },
        )
        contact = None
        if with_contact and not ReportPolicy.may_see_contact(actor):
            raise ContactWithheld
        if with_contact and report.contact_erased_at is None:
            contact = selectors.report_contact(report)
            record(
                actor=actor.username,
                action="report.decrypt_contact",
                target_type="report",
                target_id=report.id,
                details={"fields": sorted(contact or {})},
            )
    return CaseFile(
        report=report,
        details=details,
        messages=messages,
        files=files,
        contact=contact,
        notes=notes,
        classification=classification_snapshot(report),
        decisions=selectors.report_decisions(report),
        referrals=selectors.report_referrals(report),
        links=selectors.linked_reports(report, ReportPolicy.visible(actor)),
        erased=erased,
        triage=triage,
        reasons=reasons,
        cluster=linking.cluster_of(report, ReportPolicy.visible(actor)),
        known=_known(files),
    )


def file_preview(*, actor: StaffUser, evidence: EvidenceFile) -> bytes:
    """The metadata-free preview of an image (WebP; PNG if made before), decrypted and audited.
    Never the original."""
    if not evidence.preview_object_id:
        raise NoPreview
    with transaction.atomic():
        key = report_key(evidence.report_id, KeyPurpose.CONTENT)
        data = crypto.open_sealed(
            key,
            storage.read_object(evidence.preview_object_id),
            context=crypto.context("file", evidence.id, "preview"),
        )
        record(
            actor=actor.username,
            action="file.preview",
            target_type="file",
            target_id=evidence.id,
            details={"report": str(evidence.report_id)},
        )
    return data


def file_reveal(*, actor: StaffUser, evidence: EvidenceFile) -> uuid.UUID:
    """Record that ``actor`` chose to see this file without the blur; returns its id."""
    with transaction.atomic():
        record(
            actor=actor.username,
            action="file.reveal",
            target_type="file",
            target_id=evidence.id,
            details={"report": str(evidence.report_id)},
        )
    return evidence.id
