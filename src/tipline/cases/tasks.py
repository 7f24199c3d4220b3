"""Background work: triage and media work after intake, and the daily retention run.

Triage runs on its own queue (``TRIAGE_QUEUE``) with its own worker process, so no amount of
media work (previews, hashing, matching: seconds per large image) delays the scoring of an urgent
report; its tasks also carry a higher priority, for a deployment that runs one worker for every
queue. Media work runs on the default queue one file per task run: a run re-enqueues its report
at the back of the queue while files remain, so one report's heavy files take turns with other
reports' instead of holding the worker. A file that matches a hash bank enqueues triage again,
so ``signal.known_hash`` lands once the file is matched.

Neither task backend retries a task that failed or lost its worker; the work sweep
(``work_sweep.work_sweep_run``, every few minutes) enqueues again the triage and media
work that a fault lost.

Task arguments are ids only: task rows are not encrypted.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline import storage
from tipline.audit.chain import SYSTEM
from tipline.cases import media_step, retention, triage_model
from tipline.cases.triage_step import report_triage
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)

TRIAGE_QUEUE = "triage"
MEDIA_QUEUE = "default"  # also the retention run's: a worker started without --queue-name
TRIAGE_PRIORITY = 10  # above media (0), for a worker that serves both queues
MEDIA_RETRY = timedelta(seconds=30)  # after the evidence store was unavailable


@task(queue_name=TRIAGE_QUEUE, priority=TRIAGE_PRIORITY)
def triage_report(report_id: str) -> str | None:
    """Score and link the report (after intake, a reporter's message, or a known-hash match).

    Returns the tier, or None if the report's content was erased meanwhile.
    """
    rid = uuid.UUID(report_id)
    score = report_triage(rid)
    return None if score is None else score.tier.value


@task(queue_name=MEDIA_QUEUE)
def process_media(report_id: str) -> bool:
    """Preview, hash and match the report's oldest unprocessed file; True if one was stored.

    The next run is enqueued in the same transaction as this file's results, and triage too when
    the file matched a bank: what follows is never lost between two commits.
    """
    rid = uuid.UUID(report_id)
    pending = media_step.pending_files(rid)
    if not pending:
        return False
    try:
        work = media_step.file_work(pending[0])
    except storage.StorageUnavailable:
        # The object store is down or the disk full: a task that failed here would be recorded
        # FAILED and never run again (neither task backend retries), leaving the file unhashed
        # and unmatched for good (benchmarks/fault_cycles.py, docs/BENCHMARKS.md). Try later.
        log.warning("media work for report %s: storage unavailable; retrying later", rid)
        process_media.using(run_after=timezone.now() + MEDIA_RETRY).enqueue(report_id)
        return False
    if work is None:
        return False
    with transaction.atomic():
        stored = media_step.file_store(work)
        if stored and work.matches:
            triage_report.enqueue(report_id)
        if len(pending) > 1:
            process_media.enqueue(report_id)
    return stored


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
    # A model that learned from a report erased now would keep something of it: train anew.
    model = triage_model.retrain_after_erasure()
    log.info("retention run: triage model %s", model)
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
    return enqueue_once(retention_run, run_after=run_after, unless=unless)
