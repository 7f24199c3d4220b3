"""Background work: previews after intake, and the daily retention run.

Task arguments are ids only: task rows are not encrypted.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime, timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline import crypto, storage
from tipline.audit.chain import SYSTEM
from tipline.cases import retention
from tipline.cases.models import EvidenceFile, Report, ReportKey
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.triage_step import report_triage
from tipline.crypto.sealed import open_json
from tipline.evidence.previews import make_preview
from tipline.evidence.validate import IMAGE_TYPES
from tipline.matching.evidence import match_report_files

log = logging.getLogger(__name__)


@task()
def process_report(report_id: str) -> int:
    """After intake or a reporter's message: previews of new images, hashing and matching new
    files against the hash banks, then triage and linking.

    Returns how many previews were made.
    """
    rid = uuid.UUID(report_id)
    made = make_previews(rid)
    known = match_report_files(rid)
    report_triage(rid, known_files=known)
    return made


def make_previews(rid: uuid.UUID) -> int:
    """Make metadata-free previews of the report's images. Returns how many were made."""
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
            # Retention may have erased the report meanwhile (it deletes keys under this lock).
            Report.objects.select_for_update().filter(id=rid).first()
            if not ReportKey.objects.filter(report_id=rid, purpose=KeyPurpose.CONTENT).exists():
                transaction.on_commit(functools.partial(storage.delete_object, object_id))
                return made
            EvidenceFile.objects.filter(id=evidence.id).update(preview_object_id=object_id)
        made += 1
    return made


RETENTION_INTERVAL = timedelta(hours=24)


@task()
def retention_run() -> dict[str, int]:
    """Erase what the retention policy says is due, and schedule the next run a day later.

    The next run is scheduled first, so a run that fails still leaves tomorrow's in the queue.
    """
    now = timezone.now()
    _enqueue_retention(run_after=now + RETENTION_INTERVAL, unless={TaskResultStatus.READY})
    summary = retention.apply(retention.iter_plan(now), actor=SYSTEM, now=now)
    log.info("retention run: %s", summary.as_dict())
    # Expired console sessions are housekeeping of the same kind: rows that should not outlive
    # their purpose (what `tipline clearsessions` does by hand).
    SessionStore.clear_expired()
    return summary.as_dict()


def ensure_retention_scheduled() -> bool:
    """Enqueue a retention run now unless one is already waiting or running (at start)."""
    return _enqueue_retention(
        run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )


def _enqueue_retention(*, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    # One chain of daily runs: a second copy (two servers starting at once, say) would otherwise
    # re-enqueue itself forever beside the first.
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=retention_run.module_path, status__in=unless).exists():
        return False
    if run_after is None:
        retention_run.enqueue()
    else:
        retention_run.using(run_after=run_after).enqueue()
    return True
