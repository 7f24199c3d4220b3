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
from typing import Any

from django.db import transaction
from django.utils import timezone

from tipline import crypto, storage
from tipline.cases import categories, receipts
from tipline.cases.models import EvidenceFile, Message, Report, ReportKey
from tipline.cases.sealing import new_report_keys, report_key, seal_json, seal_text
from tipline.cases.states import KeyPurpose, MessageAuthor
from tipline.evidence.validate import ValidatedUpload


@dataclass(frozen=True)
class CreatedReport:
    report: Report
    receipt: str  # shown to the reporter once, never stored


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
) -> CreatedReport:
    cat = categories.get(category)
    if uploads and not cat.allows_files:
        raise ValueError(f"category {category} does not accept files")
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
    with transaction.atomic():
        report.save(force_insert=True)
        ReportKey.objects.bulk_create(key_rows)
        if files:
            EvidenceFile.objects.bulk_create(files)
        _enqueue_processing(report_id, has_files=bool(files))
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
) -> Message:
    if uploads and not categories.get(report.category).allows_files:
        raise ValueError(f"category {report.category} does not accept files")
    key = report_key(report.id, KeyPurpose.CONTENT)
    message_id = uuid.uuid4()
    message = Message(
        id=message_id,
        report=report,
        author=author,
        body=seal_text(key, body, context=f"message:{message_id}:body"),
    )
    files = _file_rows(report_id=report.id, key=key, uploads=uploads, message_id=message_id)
    with transaction.atomic():
        message.save(force_insert=True)
        if files:
            EvidenceFile.objects.bulk_create(files)
        Report.objects.filter(id=report.id).update(updated_at=timezone.now())
        _enqueue_processing(report.id, has_files=bool(files))
    return message
