"""The scheduled hash-list pull: every configured source, then the next run an interval later."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.partnerapi import hashpull, webhooks
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)


@task()
def hash_pulls_run() -> dict[str, int]:
    interval = timedelta(minutes=settings.TIPLINE_HASH_PULL_MINUTES)
    enqueue_once(
        hash_pulls_run, run_after=timezone.now() + interval, unless={TaskResultStatus.READY}
    )
    totals = {"sources": 0, "added": 0, "removed": 0, "failed": 0}
    for source in hashpull.sources():
        totals["sources"] += 1
        try:
            result = hashpull.pull(source)
        except hashpull.PullError as error:
            # One partner being down must not stop the others; the next run retries.
            log.warning("hash pull from %s failed: %s", source.key, error)
            totals["failed"] += 1
            continue
        totals["added"] += result.added + result.updated
        totals["removed"] += result.removed
    return totals


def ensure_hash_pulls_scheduled() -> bool:
    """Enqueue a run now unless one is waiting or running; nothing when no source is set."""
    if not settings.TIPLINE_HASH_PULLS:
        return False
    return enqueue_once(
        hash_pulls_run, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )


WEBHOOKS_QUEUE = "webhooks"
WEBHOOK_RUN = timedelta(seconds=55)
IDLE_SLEEP = 0.5


@task(queue_name=WEBHOOKS_QUEUE)
def webhooks_run() -> dict[str, int]:
    """Notice status changes and deliver webhooks for about a minute, then hand over to the
    next run (one task row a minute rather than one a second; the worker is webhooks' own)."""
    started = timezone.now()
    enqueue_once(webhooks_run, run_after=started + WEBHOOK_RUN, unless={TaskResultStatus.READY})
    totals = {"entries": 0, "attempts": 0}
    with webhooks.Sender() as sender:  # connections kept for the run
        while timezone.now() - started < WEBHOOK_RUN:
            read = webhooks.changes_drain()
            sent = webhooks.deliver_due(sender=sender)
            totals["entries"] += read
            totals["attempts"] += sent
            if not read and not sent:
                time.sleep(IDLE_SLEEP)
    return totals


def ensure_webhooks_scheduled() -> bool:
    return enqueue_once(
        webhooks_run, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )
