"""The hourly sweep of CyberTipline submissions opened and never finished (a self-re-enqueuing
chain, like the retention run: see tipline/periodic.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.cybertipline.actions import sweep_stale
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)

SWEEP_INTERVAL = timedelta(hours=1)


@task()
def sweep_submissions() -> int:
    """Erase stale open submissions; the next run is scheduled first, so a failure keeps it."""
    now = timezone.now()
    _enqueue(run_after=now + SWEEP_INTERVAL, unless={TaskResultStatus.READY})
    erased = sweep_stale(now=now)
    log.info("cybertipline sweep: %d open submissions erased", erased)
    return erased


def ensure_sweep_scheduled() -> bool:
    """Start the chain now unless a run is already waiting or running (at start-up)."""
    return _enqueue(run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING})


def _enqueue(*, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    return enqueue_once(sweep_submissions, run_after=run_after, unless=unless)
