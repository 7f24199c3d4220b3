"""Writes to reports. Each action runs in one transaction.

The reporter's submission is committed before the answer is sent, so an acknowledged report
survives the process being killed right after. Files are sealed and written to the evidence store
*before* the transaction; if the transaction then fails, the orphaned ciphertext is unreadable
(its key was never stored) and `tipline storage sweep` removes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tipline import crypto, storage
from tipline.cases import categories, receipts
from tipline.cases.models import EvidenceFile, Message, Report, ReportKey, SubmissionToken
from tipline.cases.sealing import new_report_keys, report_key, seal_json, seal_text
from tipline.cases.states import KeyPurpose, MessageAuthor
from tipline.evidence.validate import ValidatedUpload

SUBMISSION_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class CreatedReport:
    report: Report
    receipt: str  # shown to the reporter; stored only as a digest (and, for a day, sealed)
    replayed: bool = False  # the same submission arrived before: this is the first answer


def _replayed_report(token: str) -> CreatedReport | None:
    digest = crypto.submission_digest(token)
    row = (
        SubmissionToken.objects.select_related("report")
        .filter(digest=digest, message__isnull=True)
        .first()
    )
    if row is None or row.sealed_receipt is None:
        return None
    receipt = crypto.open_sealed(
        crypto.submission_key(token), bytes(row.sealed_receipt), context=f"submission:{digest}"
    ).decode()
    return CreatedReport(report=row.report, receipt=receipt, replayed=True)


def _token_row(
    token: str, *, report_id: uuid.UUID, receipt: str | None, message_id: uuid.UUID | None = None
) -> SubmissionToken:
    digest = crypto.submission_digest(token)
    sealed = (
        crypto.seal(crypto.submission_key(token), receipt.encode(), context=f"submission:{digest}")
        if receipt
        else None
    )
    return SubmissionToken(
        digest=digest, report_id=report_id, message_id=message_id, sealed_receipt=sealed
    )


def _forget_old_tokens() -> None:
    SubmissionToken.objects.filter(created_at__lt=timezone.now() - SUBMISSION_TOKEN_TTL).delete()


def _file_rows(
    *,
    report_id: uuid.UUID,
    key: bytes,
    uploads: Sequence[ValidatedUpload],
    message_id: uuid.UUID | None,
) -> list[EvidenceFile]:
    rows = []
    for upload in uploads:
        file_id = uuid.uuid4()
        object_id = storage.write_object(
            crypto.seal(key, upload.data, context=f"file:{file_id}:data")
        )
        meta = {
            "name": upload.name,
            "content_type": upload.content_type,
            "size": upload.size,
            "sha256": upload.sha256,
            "received_at": timezone.now().isoformat(),
        }
        rows.append(
            EvidenceFile(
                id=file_id,
                report_id=report_id,
                message_id=message_id,
                object_id=object_id,
                meta=seal_json(key, meta, context=f"file:{file_id}:meta"),
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
) -> CreatedReport:
    """File a report. With a submission token already used, return the first report instead."""
    cat = categories.get(category)
    if uploads and not cat.allows_files:
        raise ValueError(f"category {category} does not accept files")
    if submission_token and (replay := _replayed_report(submission_token)):
        return replay
    receipt = receipts.generate()
    report_id = uuid.uuid4()
    content_key, contact_key, key_rows = new_report_keys(report_id)
    files = _file_rows(report_id=report_id, key=content_key, uploads=uploads, message_id=None)
    report = Report(
        id=report_id,
        receipt_digest=crypto.receipt_digest(receipts.normalise(receipt) or ""),
        category=cat.code,
        channel=channel,
        language=language,
        tier=cat.default_tier.value,
        priority=cat.default_priority,
        payload=seal_json(content_key, details, context=f"report:{report_id}:payload"),
        contact=(
            seal_json(contact_key, contact, context=f"report:{report_id}:contact")
            if contact
            else None
        ),
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
            _enqueue_processing(report_id, has_files=bool(files))
    except IntegrityError:
        # The same submission committed first in another request (a double click, a retry).
        if submission_token and (replay := _replayed_report(submission_token)):
            return replay
        raise
    return CreatedReport(report=report, receipt=receipt)


def _enqueue_processing(report_id: uuid.UUID, *, has_files: bool) -> None:
    # With the database task backend the task row commits in the same transaction as the report,
    # so work is never lost between the two. Payloads carry ids only, never content.
    from tipline.cases.tasks import process_report

    if has_files:
        process_report.enqueue(str(report_id))


def message_add(
    *,
    report: Report,
    author: MessageAuthor,
    body: str,
    uploads: Sequence[ValidatedUpload] = (),
    submission_token: str | None = None,
) -> Message:
    """Add a message to the thread. A submission token already used returns the first message."""
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
        body=seal_text(key, body, context=f"message:{message_id}:body"),
    )
    files = _file_rows(report_id=report.id, key=key, uploads=uploads, message_id=message_id)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            if files:
                EvidenceFile.objects.bulk_create(files)
            if submission_token:
                _token_row(
                    submission_token, report_id=report.id, receipt=None, message_id=message_id
                ).save()
            Report.objects.filter(id=report.id).update(updated_at=timezone.now())
            _enqueue_processing(report.id, has_files=bool(files))
    except IntegrityError:
        if submission_token and (replay := _replayed_message(report, submission_token)):
            return replay
        raise
    return message


def _replayed_message(report: Report, token: str) -> Message | None:
    row = (
        SubmissionToken.objects.select_related("message")
        .filter(digest=crypto.submission_digest(token), report=report, message__isnull=False)
        .first()
    )
    return row.message if row is not None else None
