"""The protocol's writes: open, upload, fileinfo, finish, retract, and the sweep of stale ones.

Each runs in one transaction with its audit entry (actor ``credential:<id>``; ids and counts only,
never content). Every id a partner sends goes through ``_owned``: a submission that does not
exist and one that belongs to another partner are answered alike (3100), so ids cannot be probed.
Errors carry the protocol's response code and an HTTP status; the view turns them into answers.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from lxml import etree

from tipline import crypto, storage
from tipline.audit.chain import SYSTEM, record
from tipline.cases import actions as case_actions
from tipline.cases.states import Channel
from tipline.crypto.box import wrapped_kek_id
from tipline.crypto.sealed import open_json, seal_json
from tipline.cybertipline.models import Submission, SubmissionFile, SubmissionState
from tipline.espformat import documents, mapping
from tipline.evidence.validate import UploadRejected, validate_upload
from tipline.partners.models import ApiCredential

TARGET = "cybertipline_submission"
MAX_FILES = 100  # per report
OPEN_FOR = timedelta(hours=24)  # a report never finished is erased after
IDLE_FOR = timedelta(hours=1)  # ... max(24 h after opening, 1 h after its last change)


class ProtocolError(Exception):
    code = 2000
    status = 500

    def __init__(self, message: str, *, report_id: int | None = None) -> None:
        super().__init__(message)
        self.report_id = report_id


class BadRequest(ProtocolError):
    code, status = 3000, 400


class UnknownReport(ProtocolError):
    code, status = 3100, 404


class UnknownFile(ProtocolError):
    code, status = 3300, 404


class Invalid(ProtocolError):
    code, status = 4100, 400


class Malformed(ProtocolError):
    code, status = 4110, 400


class FileRefused(ProtocolError):
    code, status = 4200, 400


class DetailsGiven(ProtocolError):
    code, status = 5001, 409


class Retracted(ProtocolError):
    code, status = 5101, 409


class Finished(ProtocolError):
    code, status = 5102, 409


def _actor(credential: ApiCredential) -> str:
    return f"credential:{credential.pk}"


def _context(submission_id: int, *field: object) -> str:
    return crypto.context(
        "cybertipline", str(submission_id), ":".join(str(f) for f in field) or None
    )


def _key(submission: Submission) -> bytes:
    if submission.wrapped_key is None:  # pragma: no cover - guarded by the state checks
        raise Finished("This report can no longer be changed.", report_id=submission.pk)
    return crypto.unwrap_data_key(
        bytes(submission.wrapped_key), context=_context(submission.pk, "key")
    )


def parse_report_id(value: object) -> int:
    text = value if isinstance(value, str) else ""
    if not text.isascii() or not text.strip().isdigit() or len(text.strip()) > 18:
        raise BadRequest("Give the report id (field id) as a whole number.")
    return int(text.strip())


def _owned(credential: ApiCredential, report_id: int, *, for_update: bool = True) -> Submission:
    rows = Submission.objects.filter(pk=report_id, credential=credential)
    submission = (rows.select_for_update() if for_update else rows).first()
    if submission is None:
        raise UnknownReport("No report of yours has this id.", report_id=report_id)
    return submission


def _open_only(submission: Submission) -> None:
    if submission.state == SubmissionState.FINISHED:
        raise Finished("This report is finished and cannot be changed.", report_id=submission.pk)
    if submission.state == SubmissionState.RETRACTED:
        raise Retracted("This report was retracted.", report_id=submission.pk)
    if _stale(submission, timezone.now()):
        # Past its erasure time but not swept yet: answer as the sweep would have left it.
        raise UnknownReport("No report of yours has this id.", report_id=submission.pk)


def _stale(submission: Submission, now: datetime) -> bool:
    return now >= max(submission.opened_at + OPEN_FOR, submission.changed_at + IDLE_FOR)


def _parse(body: bytes, root: str) -> etree._Element:
    try:
        return documents.parse(body, root=root)
    except documents.Malformed as exc:
        raise Malformed(str(exc)) from None
    except documents.Invalid as exc:
        raise Invalid(str(exc)) from None


def _touch(submission: Submission, now: datetime) -> None:
    submission.changed_at = now
    submission.save(update_fields=["changed_at"])


def report_open(*, credential: ApiCredential, body: bytes) -> Submission:
    """``/submit``: a validated ``<report>`` opens a submission; returns it (its id is reportId)."""
    _parse(body, "report")
    key = crypto.new_data_key()
    with transaction.atomic():
        submission = Submission.objects.create(credential=credential)
        submission.wrapped_key = crypto.wrap_data_key(key, context=_context(submission.pk, "key"))
        submission.document = crypto.seal(key, body, context=_context(submission.pk, "document"))
        submission.save(update_fields=["wrapped_key", "document"])
        record(
            actor=_actor(credential),
            action="cybertipline.open",
            target_type=TARGET,
            target_id=submission.pk,
            details={"bytes": len(body), "kek": wrapped_kek_id(submission.wrapped_key)},
        )
    return submission


@dataclass(frozen=True)
class Uploaded:
    file_id: str
    md5: str


def file_upload(*, credential: ApiCredential, report_id: int, name: str, data: bytes) -> Uploaded:
    """``/upload``: one file into an open submission; returns its fileId and the MD5 received."""
    try:
        upload = validate_upload(name, data)
    except UploadRejected as exc:
        raise FileRefused(str(exc), report_id=report_id) from None
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    file_id = secrets.token_hex(16)
    # Objects written by a transaction that then fails are deleted again (storage.pending_writes).
    with storage.pending_writes() as pending, transaction.atomic():
        submission = _owned(credential, report_id)
        _open_only(submission)
        if submission.files.count() >= MAX_FILES:
            raise FileRefused(f"A report holds at most {MAX_FILES} files.", report_id=report_id)
        key = _key(submission)
        # Written inside the lock so a racing finish cannot miss it; an orphan left by a killed
        # process is unreadable (sealed) and removed by `tipline storage sweep`.
        object_id = pending.write(
            crypto.seal(key, data, context=_context(submission.pk, "file", file_id))
        )
        meta = {"name": upload.name, "md5": md5, "sha256": upload.sha256, "size": len(data)}
        SubmissionFile.objects.create(
            id=file_id,
            submission=submission,
            object_id=object_id,
            meta=seal_json(key, meta, context=_context(submission.pk, "file", file_id, "meta")),
        )
        _touch(submission, timezone.now())
        record(
            actor=_actor(credential),
            action="cybertipline.upload",
            target_type=TARGET,
            target_id=submission.pk,
            details={"file": file_id, "bytes": len(data), "type": upload.content_type},
        )
    return Uploaded(file_id=file_id, md5=md5)


def file_info(*, credential: ApiCredential, body: bytes) -> Submission:
    """``/fileinfo``: a validated ``<fileDetails>`` for a file of an open submission, once."""
    document = _parse(body, "fileDetails")
    report_id = int(document.findtext("reportId") or "0")
    file_id = (document.findtext("fileId") or "").strip()
    with transaction.atomic():
        submission = _owned(credential, report_id)
        _open_only(submission)
        row = SubmissionFile.objects.filter(submission=submission, id=file_id).first()
        if row is None:
            raise UnknownFile("This report has no file with this id.", report_id=report_id)
        if row.details is not None:
            raise DetailsGiven("The details of this file were already given.", report_id=report_id)
        key = _key(submission)
        row.details = crypto.seal(
            key, body, context=_context(submission.pk, "file", file_id, "details")
        )
        row.save(update_fields=["details"])
        _touch(submission, timezone.now())
        record(
            actor=_actor(credential),
            action="cybertipline.fileinfo",
            target_type=TARGET,
            target_id=submission.pk,
            details={"file": file_id},
        )
    return submission


def _shred(submission: Submission) -> list[str]:
    """Drop the submission's key and sealed content; return the store objects to delete."""
    objects = list(submission.files.values_list("object_id", flat=True))
    submission.files.all().delete()
    submission.wrapped_key = None
    submission.document = None
    return objects


def _delete_objects(object_ids: list[str]) -> None:
    for object_id in object_ids:
        storage.delete_object(object_id)


def report_finish(*, credential: ApiCredential, report_id: int) -> tuple[Submission, list[str]]:
    """``/finish``: the submission becomes a Tipline report (triage and media work enqueued).

    Returns the submission and its file ids (in upload order) for the ``reportDoneResponse``.
    """
    with transaction.atomic():
        submission = _owned(credential, report_id)
        _open_only(submission)
        key = _key(submission)
        body = crypto.open_sealed(
            key, bytes(submission.document or b""), context=_context(submission.pk, "document")
        )
        # Re-validated: the schema file may have changed since /submit (and it costs little).
        document = _parse(body, "report")
        files = list(submission.files.order_by("created_at", "id"))
        uploads, senders = [], []
        for row in files:
            meta = open_json(key, row.meta, context=_context(submission.pk, "file", row.pk, "meta"))
            data = crypto.open_sealed(
                key,
                storage.read_object(row.object_id),
                context=_context(submission.pk, "file", row.pk),
            )
            uploads.append(validate_upload(meta["name"], data))
            details = (
                documents.parse_stored(
                    crypto.open_sealed(
                        key,
                        bytes(row.details),
                        context=_context(submission.pk, "file", row.pk, "details"),
                    ),
                )
                if row.details is not None
                else None
            )
            senders.append({"file_id": row.pk, "md5": meta["md5"], **mapping.file_meta_of(details)})
        details_dict = mapping.details_of(document)
        details_dict["cybertipline"].update(
            partner=credential.name,
            credential=credential.pk,
            report_id=submission.pk,
            xml=body.decode("utf-8"),
        )
        created = case_actions.report_create(
            category=mapping.category_of(document),
            channel=Channel.CYBERTIPLINE,
            language="en",
            details=details_dict,
            contact=None,
            uploads=uploads,
            sender_meta=senders,
        )
        now = timezone.now()
        objects = _shred(submission)
        submission.state = SubmissionState.FINISHED
        submission.report = created.report
        submission.closed_at = submission.changed_at = now
        submission.save(
            update_fields=["state", "report", "closed_at", "changed_at", "wrapped_key", "document"]
        )
        record(
            actor=_actor(credential),
            action="cybertipline.finish",
            target_type=TARGET,
            target_id=submission.pk,
            details={
                "report": str(created.report.pk),
                "category": created.report.category,
                "files": len(files),
            },
        )
        transaction.on_commit(lambda: _delete_objects(objects))
    return submission, [row.pk for row in files]


def report_retract(*, credential: ApiCredential, report_id: int) -> Submission:
    """``/retract``: an open submission is withdrawn and its content destroyed."""
    with transaction.atomic():
        submission = _owned(credential, report_id)
        _open_only(submission)
        objects = _shred(submission)
        submission.state = SubmissionState.RETRACTED
        submission.closed_at = submission.changed_at = timezone.now()
        submission.save(
            update_fields=["state", "closed_at", "changed_at", "wrapped_key", "document"]
        )
        record(
            actor=_actor(credential),
            action="cybertipline.retract",
            target_type=TARGET,
            target_id=submission.pk,
            details={"files": len(objects)},
        )
        transaction.on_commit(lambda: _delete_objects(objects))
    return submission


def sweep_stale(*, now: datetime | None = None) -> int:
    """Erase submissions never finished, max(24 h after opening, 1 h after last change) on.

    The row goes too (nothing is left to answer for: the partner never finished it).
    """
    now = now or timezone.now()
    candidates = Submission.objects.filter(
        state=SubmissionState.OPEN, changed_at__lte=now - IDLE_FOR, opened_at__lte=now - OPEN_FOR
    ).values_list("pk", flat=True)
    erased = 0
    for pk in list(candidates[:1000]):
        with transaction.atomic():
            submission = Submission.objects.select_for_update().filter(pk=pk).first()
            if submission is None or submission.state != SubmissionState.OPEN:
                continue
            if not _stale(submission, now):
                continue
            objects = _shred(submission)
            submission.delete()
            record(
                actor=SYSTEM,
                action="cybertipline.expire",
                target_type=TARGET,
                target_id=pk,
                details={"files": len(objects)},
            )
            transaction.on_commit(lambda objects=objects: _delete_objects(objects))  # type: ignore[misc]
            erased += 1
    return erased
