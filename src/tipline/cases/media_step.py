"""The media work of one report, one file at a time: preview, hashes, known-material matching.

Run by the media task (``cases/tasks.py: process_media``), inside the worker. Each file is
decrypted once; an image gets a metadata-free preview (``evidence/previews.py``); every file is
hashed (MD5, SHA-1, PDQ, a video's vPDQ frames; SHA-256 was taken at intake) and the hashes are
added to its sealed metadata, so a later re-match never needs the content again. (Intake accepts
no video today; the video path serves files added otherwise.) Matches are stored as ``FileMatch``
rows and audited (bank, classification and distance only).

One file per step bounds the work a report can hold the media worker for: at most one file of at
most ``TIPLINE_MAX_IMAGE_PIXELS`` pixels or ``TIPLINE_MAX_FILE_BYTES`` bytes (a video is decoded
in its own process under ``TIPLINE_VIDEO_*`` limits). The heavy part (``file_work``) writes
nothing to the database; ``file_store`` writes the results inside the caller's transaction, so
the task can enqueue what follows in the same commit.

This lives in ``cases`` rather than ``matching`` because it reads and writes report files under
the report's key; ``tipline.matching`` itself knows nothing of reports.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tipline import crypto, storage
from tipline.audit.chain import SYSTEM, record
from tipline.cases.models import EvidenceFile, Report
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.crypto.sealed import open_json, seal_json
from tipline.evidence.previews import make_preview
from tipline.evidence.validate import IMAGE_TYPES
from tipline.matching import matcher
from tipline.matching.hashing import hash_bytes
from tipline.matching.matcher import Match
from tipline.matching.models import FileMatch
from tipline.matching.video import frames_to_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileWork:
    """What one file's media step computed, not stored yet."""

    report_id: uuid.UUID
    evidence_id: uuid.UUID
    preview_object_id: str  # "" when no preview was made (not an image, or it failed)
    hashes: dict[str, Any]  # added to the file's sealed metadata
    matches: tuple[Match, ...]


def pending_files(report_id: uuid.UUID) -> list[EvidenceFile]:
    """The report's files not hashed yet, oldest first ([] once its content key is destroyed).

    A file leaves this list when its hashes are stored; its preview is made in the same step.
    """
    try:
        key = report_key(report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return []
    return [
        evidence
        for evidence in EvidenceFile.objects.filter(report_id=report_id).order_by(
            "created_at", "id"
        )
        if "md5"
        not in open_json(key, evidence.meta, context=crypto.context("file", evidence.id, "meta"))
    ]


def file_work(evidence: EvidenceFile) -> FileWork | None:
    """Decrypt one file, make its preview and hashes and match them; None if it was erased."""
    try:
        key = report_key(evidence.report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return None
    meta = open_json(key, evidence.meta, context=crypto.context("file", evidence.id, "meta"))
    data = crypto.open_sealed(
        key,
        storage.read_object(evidence.object_id),
        context=crypto.context("file", evidence.id, "data"),
    )
    preview_object_id = ""
    if meta["content_type"] in IMAGE_TYPES and not evidence.preview_object_id:
        try:
            preview = make_preview(data)
        except (OSError, ValueError) as exc:
            # Logged by id and exception type only: never file content or names.
            log.warning("preview failed for file %s: %s", evidence.id, type(exc).__name__)
        else:
            preview_object_id = storage.write_object(
                crypto.seal(key, preview, context=crypto.context("file", evidence.id, "preview"))
            )
    hashes = hash_bytes(data, content_type=meta.get("content_type"), vpdq=True)
    found: dict[str, Any] = {
        "md5": hashes.md5,
        "sha1": hashes.sha1,
        "pdq": hashes.pdq,
        "pdq_quality": hashes.pdq_quality,
    }
    if hashes.vpdq is not None:
        found["vpdq"] = frames_to_json(hashes.vpdq)
    return FileWork(
        report_id=evidence.report_id,
        evidence_id=evidence.id,
        preview_object_id=preview_object_id,
        hashes=found,
        matches=tuple(matcher.match_hashes(hashes)),
    )


def file_store(work: FileWork) -> bool:
    """Store one file's preview, hashes and matches; False if there was nothing to store.

    Runs inside the caller's transaction. Nothing is stored when retention erased the report
    meanwhile (it deletes keys under the report's row lock, taken here too) or when another
    worker stored this file first; the preview written for nothing is then deleted after commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("file_store must run inside a transaction")
    Report.objects.select_for_update().filter(id=work.report_id).first()
    target = _unstored(work)
    if target is None:
        if work.preview_object_id:
            transaction.on_commit(functools.partial(storage.delete_object, work.preview_object_id))
        return False
    evidence, key, meta = target
    context = crypto.context("file", evidence.id, "meta")
    evidence.meta = seal_json(key, {**meta, **work.hashes}, context=context)
    evidence.hashed_at = timezone.now()
    fields = ["meta", "hashed_at"]
    if work.preview_object_id:
        evidence.preview_object_id = work.preview_object_id
        fields.append("preview_object_id")
    evidence.save(update_fields=fields)
    FileMatch.objects.bulk_create(
        [
            FileMatch(evidence=evidence, entry_id=m.entry_id, distance=m.distance)
            for m in work.matches
        ],
        ignore_conflicts=True,
    )
    if work.matches:
        record(
            actor=SYSTEM,
            action="file.matched",
            target_type="file",
            target_id=evidence.id,
            details={
                "report": str(work.report_id),
                "matches": [
                    {
                        "bank": m.bank,
                        "kind": m.kind,
                        "class": m.classification,
                        "distance": m.distance,
                        **({} if m.frames is None else {"frames": m.frames}),
                    }
                    for m in work.matches[:20]
                ],
            },
        )
    return True


def _unstored(work: FileWork) -> tuple[EvidenceFile, bytes, dict[str, Any]] | None:
    """The file, key and metadata to update, or None if erased or already stored."""
    evidence = EvidenceFile.objects.select_for_update().filter(id=work.evidence_id).first()
    if evidence is None:
        return None
    try:
        key = report_key(work.report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return None
    meta: dict[str, Any] = open_json(
        key, evidence.meta, context=crypto.context("file", evidence.id, "meta")
    )
    return None if "md5" in meta else (evidence, key, meta)


def known_file_count(report_id: uuid.UUID) -> int:
    """How many of the report's files matched a hash bank (triage's ``signal.known_hash``)."""
    return (
        FileMatch.objects.filter(evidence__report_id=report_id)
        .values("evidence")
        .distinct()
        .count()
    )
