"""The scheduled audit checkpoint: every TIPLINE_AUDIT_CHECKPOINT_MINUTES (default hourly).

Like the daily retention run (``cases/tasks.py``), each run enqueues the next one first, so a run
that fails still leaves the next in the queue, and ``tipline serve`` starts the chain with
``ensure_checkpoints_scheduled``. A chain that fails its check is not signed: the run raises an
alert through syslog and e-mail instead, and the next run tries again (and alerts again).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.audit import checkpoints, sinks
from tipline.audit.chain import AuditBroken
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)


def _interval() -> timedelta | None:
    minutes = int(settings.TIPLINE_AUDIT_CHECKPOINT_MINUTES)
    return timedelta(minutes=minutes) if minutes > 0 else None


@task()
def checkpoint_run() -> dict[str, str]:
    """Take and publish a checkpoint; return each place's outcome (sink -> status)."""
    interval = _interval()
    if interval is not None:
        _enqueue(run_after=timezone.now() + interval, unless={TaskResultStatus.READY})
    try:
        checkpoint = checkpoints.take()
    except (AuditBroken, checkpoints.CheckpointInvalid) as exc:
        message = f"audit checkpoint refused: {exc}"
        log.error(message)
        deliveries = sinks.alert(message)
        return {"checkpoint": "refused"} | {d.sink: d.status for d in deliveries}
    deliveries = sinks.publish(checkpoint)
    for delivery in deliveries:
        if delivery.status == "failed":
            log.error(
                "audit checkpoint %s not sent to %s: %s",
                checkpoint.seq,
                delivery.sink,
                delivery.detail,
            )
    log.info("audit checkpoint of entry %s", checkpoint.seq)
    return {"checkpoint": str(checkpoint.seq)} | {d.sink: d.status for d in deliveries}


def ensure_checkpoints_scheduled() -> bool:
    """Enqueue a checkpoint now unless one is already waiting or running (at start)."""
    if _interval() is None:
        return False
    return _enqueue(run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING})


def _enqueue(*, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    return enqueue_once(checkpoint_run, run_after=run_after, unless=unless)
