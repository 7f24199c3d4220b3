"""Writes to reports. Each action runs in one transaction.

The reporter's submission is committed before the answer is sent, so an acknowledged report
survives the process being killed right after. Files are sealed and written to the evidence store
*before* the transaction, so no row ever names a missing object; if the store cannot take them
(disk full, S3 down) StorageUnavailable reaches the edge as a 503 and nothing is recorded. If the
transaction then fails, the objects are deleted again (storage.pending_writes); a process killed
between the two leaves unreadable ciphertext (its key was never stored) that `tipline storage
sweep` lists and removes.

Staff actions (claim, assign, a message from the hotline) take the acting staff member, check
the rule that spans objects (who may be assigned what) and write their audit entry in the same
transaction as the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline import crypto, storage
from tipline.audit.chain import record
from tipline.cases import categories, receipts
from tipline.cases.models import (
    EvidenceFile,
    LeftSubmission,
    Message,
    Report,
    ReportKey,
    SubmissionToken,
)
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.sealing import KeyDestroyed, new_report_keys, report_key
from tipline.cases.selectors import report_locked
from tipline.cases.states import PUBLIC_CHANNELS, KeyPurpose, MessageAuthor, ReportState
from tipline.cases.tasks import process_media, triage_report
from tipline.crypto.sealed import seal_json, seal_text
from tipline.evidence.validate import ValidatedUpload

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

SUBMISSION_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class CreatedReport:
    report: Report
    # Shown to the reporter; stored only as a digest (and, for a day, sealed under the submission
    # token). "" on a replay after the reporter left with Quick exit: see submission_withhold.
    receipt: str
    replayed: bool = False  # the same submission arrived before: this is the first answer
    first_sent_at: datetime | None = None  # on a replay, when the first one arrived


def _replayed_report(token: str) -> CreatedReport | None:
    digest = crypto.submission_digest(token)
    row = (
        SubmissionToken.objects.select_related("report")
        .filter(digest=digest, message__isnull=True)
        .first()
    )
    if row is None:
        return None
    receipt = (
        crypto.open_sealed(
            crypto.submission_key(token),
            bytes(row.sealed_receipt),
            context=crypto.context("submission", digest),
        ).decode()
        if row.sealed_receipt is not None
        else ""
    )
    return CreatedReport(
        report=row.report, receipt=receipt, replayed=True, first_sent_at=row.created_at
    )


def submission_withhold(*, submission_token: str) -> None:
    """Never show this submission's receipt again (the reporter left with Quick exit).

    The token row stays, so a form sent again still files nothing twice; only the sealed copy of
    the receipt is destroyed. Whoever later presses Back and "resend" on the reporter's device
    learns that something was sent, not its receipt, and not which form it was.
    """
    if not submission_token:
        return
    digest = crypto.submission_digest(submission_token)
    filed = SubmissionToken.objects.filter(digest=digest, message__isnull=True).update(
        sealed_receipt=None
    )
    if not filed:
        # Left before filing (the assistant's reading, a form): resending shows the start page.
        LeftSubmission.objects.get_or_create(digest=digest)


def _token_row(
    token: str, *, report_id: uuid.UUID, receipt: str | None, message_id: uuid.UUID | None = None
) -> SubmissionToken:
    digest = crypto.submission_digest(token)
    sealed = (
        crypto.seal(
            crypto.submission_key(token),
            receipt.encode(),
            context=crypto.context("submission", digest),
        )
        if receipt
        else None
    )
    return SubmissionToken(
        digest=digest, report_id=report_id, message_id=message_id, sealed_receipt=sealed
    )


def _forget_old_tokens() -> None:
    expired = timezone.now() - SUBMISSION_TOKEN_TTL
    SubmissionToken.objects.filter(created_at__lt=expired).delete()
    LeftSubmission.objects.filter(created_at__lt=expired).delete()


def _file_rows(
    *,
    pending: storage.PendingWrites,
    report_id: uuid.UUID,
    key: bytes,
    uploads: Sequence[ValidatedUpload],
    message_id: uuid.UUID | None,
    sender_meta: Sequence[Mapping[str, Any]] = (),
) -> list[EvidenceFile]:
    rows = []
    for index, upload in enumerate(uploads):
        file_id = uuid.uuid4()
        object_id = pending.write(
            crypto.seal(key, upload.data, context=crypto.context("file", file_id, "data"))
        )
        meta = {
            "name": upload.name,
            "content_type": upload.content_type,
            "size": upload.size,
            "sha256": upload.sha256,
            "received_at": timezone.now().isoformat(),
        }
        if index < len(sender_meta) and sender_meta[index]:
            # What the sending platform said of the file (its classification and hashes).
            meta["sender"] = dict(sender_meta[index])
        rows.append(
            EvidenceFile(
                id=file_id,
                report_id=report_id,
                message_id=message_id,
                object_id=object_id,
                meta=seal_json(key, meta, context=crypto.context("file", file_id, "meta")),
            )
        )
    return rows


def report_create(
    *,
    category: str,
    channel: str,
    language: str,
    details: dict[str, Any],
    contact: dict[str, str] | None,
    uploads: Sequence[ValidatedUpload] = (),
    submission_token: str | None = None,
    country: str = "",
    sender_meta: Sequence[Mapping[str, Any]] = (),
) -> CreatedReport:
    """File a report. With a submission token already used, return the first report instead.

    ``country`` is the ISO 3166-1 alpha-2 code the reporter chose ("" for not said).
    ``sender_meta`` (a platform's report) is sealed into each upload's metadata, in order.
    """
    if country and (len(country) != 2 or not country.isascii() or not country.isupper()):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code or empty")
    cat = categories.get(category)
    if uploads and not cat.allows_files and channel in PUBLIC_CHANNELS:
        raise ValueError(f"category {category} does not accept files")
    if submission_token and (replay := _replayed_report(submission_token)):
        return replay
    receipt = receipts.generate()
    report_id = uuid.uuid4()
    content_key, contact_key, key_rows = new_report_keys(report_id)
    report = Report(
        id=report_id,
        receipt_digest=crypto.receipt_digest(receipts.normalise(receipt) or ""),
        category=cat.code,
        channel=channel,
        language=language,
        country=country,
        tier=cat.default_tier.value,
        priority=cat.default_priority,
        payload=seal_json(
            content_key, details, context=crypto.context("report", report_id, "payload")
        ),
        contact=(
            seal_json(contact_key, contact, context=crypto.context("report", report_id, "contact"))
            if contact
            else None
        ),
    )
    with storage.pending_writes() as pending:
        files = _file_rows(
            pending=pending,
            report_id=report_id,
            key=content_key,
            uploads=uploads,
            message_id=None,
            sender_meta=sender_meta,
        )
        try:
            with transaction.atomic():
                report.save(force_insert=True)
                ReportKey.objects.bulk_create(key_rows)
                if files:
                    EvidenceFile.objects.bulk_create(files)
                if submission_token:
                    _token_row(submission_token, report_id=report_id, receipt=receipt).save()
                    _forget_old_tokens()
                _enqueue_processing(report_id, files=bool(files))
        except IntegrityError:
            # The same submission committed first in another request (a double click, a retry).
            if submission_token and (replay := _replayed_report(submission_token)):
                pending.discard()  # that request stored its own copies of the files
                return replay
            raise
    return CreatedReport(report=report, receipt=receipt)


def _enqueue_processing(report_id: uuid.UUID, *, files: bool) -> None:
    # With the database task backend the task rows commit in the same transaction as the report,
    # so work is never lost between the two. Payloads carry ids only, never content. Triage
    # (score and links) has its own queue and worker, so media work never delays it; new files
    # get previews, hashes and matching on the media queue (tasks.py says how it is bounded).
    triage_report.enqueue(str(report_id))
    if files:
        process_media.enqueue(str(report_id))


def message_add(
    *,
    report: Report,
    author: MessageAuthor,
    body: str,
    uploads: Sequence[ValidatedUpload] = (),
    submission_token: str | None = None,
    actor: StaffUser | None = None,
) -> Message:
    """Add a message to the thread. A submission token already used returns the first message.

    A message from the hotline names the staff member who sent it (``actor``) in the audit log;
    the reporter sees only "Hotline". Reporters are anonymous, so their messages name no one.
    """
    if (author == MessageAuthor.HOTLINE) != (actor is not None):
        raise ValueError("a hotline message needs its staff author, a reporter message none")
    if actor is not None and not ReportPolicy.may_claim(actor):
        raise NotAllowed(_("only the hotline's caseworkers write to reporters"))
    if uploads and not categories.get(report.category).allows_files:
        raise ValueError(f"category {report.category} does not accept files")
    if submission_token and (replay := _replayed_message(report, submission_token)):
        return replay
    key = report_key(report.id, KeyPurpose.CONTENT)
    message_id = uuid.uuid4()
    message = Message(
        id=message_id,
        report=report,
        author=author,
        body=seal_text(key, body, context=crypto.context("message", message_id, "body")),
    )
    with storage.pending_writes() as pending:
        files = _file_rows(
            pending=pending, report_id=report.id, key=key, uploads=uploads, message_id=message_id
        )
        try:
            with transaction.atomic():
                _message_commit(
                    report=report,
                    message=message,
                    files=files,
                    submission_token=submission_token,
                    actor=actor,
                )
        except IntegrityError:
            if submission_token and (replay := _replayed_message(report, submission_token)):
                pending.discard()
                return replay
            raise
    return message


def _message_commit(
    *,
    report: Report,
    message: Message,
    files: list[EvidenceFile],
    submission_token: str | None,
    actor: StaffUser | None,
) -> None:
    # Retention deletes the key under this row lock: re-check it here, so a message racing an
    # erasure is refused rather than stored under a key that is gone.
    report_locked(report)
    if not ReportKey.objects.filter(report_id=report.id, purpose=KeyPurpose.CONTENT).exists():
        raise KeyDestroyed(f"content key of report {report.id} was destroyed")
    message.save(force_insert=True)
    if files:
        EvidenceFile.objects.bulk_create(files)
    if submission_token:
        _token_row(
            submission_token, report_id=report.id, receipt=None, message_id=message.id
        ).save()
    Report.objects.filter(id=report.id).update(updated_at=timezone.now())
    if message.author == MessageAuthor.REPORTER or files:
        # New information: score it again, and process its files.
        _enqueue_processing(report.id, files=bool(files))
    if actor is not None:
        record(
            actor=actor.username,
            action="report.message",
            target_type="report",
            target_id=report.id,
            details={"message": str(message.id)},
        )


def _replayed_message(report: Report, token: str) -> Message | None:
    row = (
        SubmissionToken.objects.select_related("message")
        .filter(digest=crypto.submission_digest(token), report=report, message__isnull=False)
        .first()
    )
    return row.message if row is not None else None


def _take(report: Report, assignee: StaffUser) -> dict[str, Any]:
    """Assign, and move a NEW report to IN_REVIEW; returns the audit details of the change."""
    previous = report.assigned_to.username if report.assigned_to else None
    fields = ["assigned_to", "updated_at"]
    details: dict[str, Any] = {"from": previous, "to": assignee.username}
    report.assigned_to = assignee
    report.updated_at = timezone.now()
    if report.state == ReportState.NEW:
        report.state = ReportState.IN_REVIEW
        fields.append("state")
        details["state"] = [ReportState.NEW.value, ReportState.IN_REVIEW.value]
    report.save(update_fields=fields)
    return details


def report_claim(*, actor: StaffUser, report: Report) -> Report:
    """Take a report for oneself. A report someone else holds is reassigned by a supervisor."""
    if not ReportPolicy.may_claim(actor):
        raise NotAllowed(_("this role does not work on reports"))
    with transaction.atomic():
        report = report_locked(report)
        if report.assigned_to_id not in (None, actor.pk):
            raise NotAllowed(_("someone else is working on this report"))
        details = _take(report, actor)
        record(
            actor=actor.username,
            action="report.claim",
            target_type="report",
            target_id=report.id,
            details=details,
        )
    return report


def report_assign(*, actor: StaffUser, report: Report, assignee: StaffUser | None) -> Report:
    """A supervisor or administrator gives a report to someone (or to no one: ``None``)."""
    if not ReportPolicy.may_assign_others(actor):
        raise NotAllowed(_("only supervisors and administrators assign reports"))
    if assignee is not None and not ReportPolicy.may_be_assigned(assignee):
        raise NotAllowed(_("reports go only to active analysts, supervisors and administrators"))
    with transaction.atomic():
        report = report_locked(report)
        if assignee is None:
            details: dict[str, Any] = {
                "from": report.assigned_to.username if report.assigned_to else None,
                "to": None,
            }
            report.assigned_to = None
            report.updated_at = timezone.now()
            report.save(update_fields=["assigned_to", "updated_at"])
        else:
            details = _take(report, assignee)
        record(
            actor=actor.username,
            action="report.assign",
            target_type="report",
            target_id=report.id,
            details=details,
        )
    return report
