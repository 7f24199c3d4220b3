"""Reads of reports. Callers pass a report obtained through tipline.cases.access."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from tipline import crypto
from tipline.cases.models import (
    Decision,
    EvidenceFile,
    LeftSubmission,
    Message,
    Referral,
    Report,
    ReportLink,
    SubmissionToken,
)
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose, MessageAuthor, PublicStatus, public_status
from tipline.crypto.sealed import open_json, open_text


@dataclass(frozen=True)
class FileSummary:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ThreadMessage:
    author: MessageAuthor
    created_at: datetime
    body: str
    files: tuple[FileSummary, ...]


@dataclass(frozen=True)
class ReporterView:
    """What the reporter may see: coarse status and the message thread, nothing internal."""

    status: PublicStatus
    category: str
    created_at: datetime
    messages: tuple[ThreadMessage, ...]
    files: tuple[FileSummary, ...]


def _file_summary(key: bytes, evidence: EvidenceFile) -> FileSummary:
    meta = open_json(key, evidence.meta, context=crypto.context("file", evidence.id, "meta"))
    return FileSummary(
        name=meta["name"],
        content_type=meta["content_type"],
        size=meta["size"],
        sha256=meta["sha256"],
    )


def reporter_view(report: Report) -> ReporterView:
    try:
        key: bytes | None = report_key(report.id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        key = None
    files_by_message: dict[Any, list[FileSummary]] = {}
    if key is not None:
        for evidence in EvidenceFile.objects.filter(report=report).order_by("created_at"):
            files_by_message.setdefault(evidence.message_id, []).append(
                _file_summary(key, evidence)
            )
    messages: list[ThreadMessage] = []
    if key is not None:
        for message in Message.objects.filter(report=report).order_by("created_at"):
            messages.append(
                ThreadMessage(
                    author=MessageAuthor(message.author),
                    created_at=message.created_at,
                    body=open_text(
                        key, message.body, context=crypto.context("message", message.id, "body")
                    ),
                    files=tuple(files_by_message.get(message.id, ())),
                )
            )
    return ReporterView(
        status=public_status(report.state),
        category=report.category,
        created_at=report.created_at,
        messages=tuple(messages),
        files=tuple(files_by_message.get(None, ())),
    )


def report_details(report: Report) -> dict[str, Any]:
    """The decrypted submission (for staff views and tests). Raises KeyDestroyed if shredded."""
    key = report_key(report.id, KeyPurpose.CONTENT)
    details: dict[str, Any] = open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )
    return details


def report_contact(report: Report) -> dict[str, str] | None:
    if report.contact is None:
        return None
    key = report_key(report.id, KeyPurpose.CONTACT)
    contact: dict[str, str] = open_json(
        key, report.contact, context=crypto.context("report", report.id, "contact")
    )
    return contact


@dataclass(frozen=True)
class EvidenceSummary:
    """A file as staff see it listed: sealed metadata opened, content untouched."""

    id: uuid.UUID
    message_id: uuid.UUID | None
    name: str
    content_type: str
    size: int
    sha256: str
    has_preview: bool


def report_files(report: Report) -> tuple[EvidenceSummary, ...]:
    """Every file of the report with its metadata. Raises KeyDestroyed if shredded."""
    key = report_key(report.id, KeyPurpose.CONTENT)
    found = []
    for evidence in EvidenceFile.objects.filter(report=report).order_by("created_at", "id"):
        summary = _file_summary(key, evidence)
        found.append(
            EvidenceSummary(
                id=evidence.id,
                message_id=evidence.message_id,
                name=summary.name,
                content_type=summary.content_type,
                size=summary.size,
                sha256=summary.sha256,
                has_preview=bool(evidence.preview_object_id),
            )
        )
    return tuple(found)


def report_thread(report: Report) -> tuple[ThreadMessage, ...]:
    """The message thread, oldest first. Raises KeyDestroyed if shredded."""
    report_key(report.id, KeyPurpose.CONTENT)  # fail early and clearly when shredded
    return reporter_view(report).messages


# --- case work: read without decrypting ------------------------------------------------------


@dataclass(frozen=True)
class LinkedReport:
    id: uuid.UUID
    category: str
    state: str
    created_at: datetime


def linked_reports(report: Report, visible: QuerySet[Report]) -> tuple[LinkedReport, ...]:
    """Reports linked to ``report`` that are also in ``visible`` (the viewer's policy queryset).

    A link to a report the viewer may not open is left out, so a link never reveals one.
    """
    ids = [
        low if high == report.pk else high
        for low, high in ReportLink.objects.filter(Q(low=report) | Q(high=report)).values_list(
            "low_id", "high_id"
        )
    ]
    rows = visible.filter(pk__in=ids).only("id", "category", "state", "created_at")
    return tuple(
        LinkedReport(id=r.id, category=r.category, state=r.state, created_at=r.created_at)
        for r in rows.order_by("created_at", "id")
    )


def report_decisions(report: Report) -> tuple[Decision, ...]:
    return tuple(
        Decision.objects.filter(report=report)
        .select_related("proposed_by", "reviewed_by")
        .order_by("proposed_at")
    )


def report_referrals(report: Report) -> tuple[Referral, ...]:
    return tuple(Referral.objects.filter(report=report).order_by("created_at"))


def report_locked(report: Report) -> Report:
    """The report re-read under a row lock, inside the caller's transaction, so that two people
    changing it at once (two claims, a decision and an erasure) take turns on fresh values."""
    return Report.objects.select_for_update().get(pk=report.pk)


def submission_used(token: str) -> bool:
    """Whether a report was already filed with this form token (for a day: SUBMISSION_TOKEN_TTL).

    The home page's category buttons carry the token the form will use, so the history entry of
    that choice stops showing the form once the report was sent (intake/views.start).
    """
    digest = crypto.submission_digest(token)
    return (
        SubmissionToken.objects.filter(digest=digest, message__isnull=True).exists()
        or LeftSubmission.objects.filter(digest=digest).exists()
    )
