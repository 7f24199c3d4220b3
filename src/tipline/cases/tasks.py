"""Background work after intake. Task arguments are ids only: task rows are not encrypted."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.tasks import task

from tipline import crypto, storage
from tipline.cases.models import EvidenceFile
from tipline.cases.sealing import KeyDestroyed, open_json, report_key
from tipline.cases.states import KeyPurpose
from tipline.evidence.previews import make_preview
from tipline.evidence.validate import IMAGE_TYPES

log = logging.getLogger(__name__)


@task()
def process_report(report_id: str) -> int:
    """Make metadata-free previews of the report's images. Returns how many were made."""
    rid = uuid.UUID(report_id)
    try:
        key = report_key(rid, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return 0
    made = 0
    for evidence in EvidenceFile.objects.filter(report_id=rid, preview_object_id=""):
        meta = open_json(key, evidence.meta, context=f"file:{evidence.id}:meta")
        if meta["content_type"] not in IMAGE_TYPES:
            continue
        data = crypto.open_sealed(
            key, storage.read_object(evidence.object_id), context=f"file:{evidence.id}:data"
        )
        try:
            preview = make_preview(data)
        except (OSError, ValueError) as exc:
            # Logged by id and exception type only: never file content or names.
            log.warning("preview failed for file %s: %s", evidence.id, type(exc).__name__)
            continue
        object_id = storage.write_object(
            crypto.seal(key, preview, context=f"file:{evidence.id}:preview")
        )
        with transaction.atomic():
            EvidenceFile.objects.filter(id=evidence.id).update(preview_object_id=object_id)
        made += 1
    return made
