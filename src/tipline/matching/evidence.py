"""Hashing and matching the files of a report (run by the intake task, inside the worker).

Each file is decrypted once, hashed (MD5, SHA-1, PDQ, a video's vPDQ frames; SHA-256 was taken
at intake) and the hashes are added to its sealed metadata, so a later re-match never needs the
content again. (Intake accepts no video today; the video path serves files added otherwise.)
Matches are stored as ``FileMatch`` rows and audited (bank, classification and distance only).
"""

from __future__ import annotations

import uuid

from django.db import transaction

from tipline import crypto, storage
from tipline.audit.chain import SYSTEM, record
from tipline.cases.models import EvidenceFile
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.crypto.sealed import open_json, seal_json
from tipline.matching import matcher
from tipline.matching.hashing import hash_bytes
from tipline.matching.models import FileMatch
from tipline.matching.video import frames_to_json


def match_report_files(report_id: uuid.UUID) -> int:
    """Hash and match the report's files not hashed yet; returns how many files are known."""
    try:
        key = report_key(report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return 0
    for evidence in EvidenceFile.objects.filter(report_id=report_id).order_by("created_at"):
        context = f"file:{evidence.id}:meta"
        meta = open_json(key, evidence.meta, context=context)
        if "md5" in meta:
            continue
        data = crypto.open_sealed(
            key, storage.read_object(evidence.object_id), context=f"file:{evidence.id}:data"
        )
        hashes = hash_bytes(data, content_type=meta.get("content_type"), vpdq=True)
        meta.update(
            md5=hashes.md5, sha1=hashes.sha1, pdq=hashes.pdq, pdq_quality=hashes.pdq_quality
        )
        if hashes.vpdq is not None:
            meta["vpdq"] = frames_to_json(hashes.vpdq)
        found = matcher.match_hashes(hashes)
        with transaction.atomic():
            EvidenceFile.objects.filter(id=evidence.id).update(
                meta=seal_json(key, meta, context=context)
            )
            FileMatch.objects.bulk_create(
                [
                    FileMatch(evidence=evidence, entry_id=m.entry_id, distance=m.distance)
                    for m in found
                ],
                ignore_conflicts=True,
            )
            if found:
                record(
                    actor=SYSTEM,
                    action="file.matched",
                    target_type="file",
                    target_id=evidence.id,
                    details={
                        "report": str(report_id),
                        "matches": [
                            {
                                "bank": m.bank,
                                "kind": m.kind,
                                "class": m.classification,
                                "distance": m.distance,
                                **({} if m.frames is None else {"frames": m.frames}),
                            }
                            for m in found[:20]
                        ],
                    },
                )
    return (
        FileMatch.objects.filter(evidence__report_id=report_id)
        .values("evidence")
        .distinct()
        .count()
    )
