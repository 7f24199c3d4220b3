"""One chain of a self-re-enqueuing task (the daily retention run, the hourly audit checkpoint).

Each run enqueues the next; a second copy of the chain (two servers starting at once, say) would
re-enqueue itself forever beside the first, so a run is enqueued only when none of the given
states is already present for that task.

In the scale-out task profile (TIPLINE_TASKS=redis) the chains stay on the database backend,
under the alias ``settings.TIPLINE_PERIODIC_BACKEND``: the once-only check needs a queue it can
read in the same database, and a chain is a few rows an hour. Work a chain run enqueues itself
(deliveries, sweeps) goes through the default backend, the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.tasks import TaskResultStatus


def enqueue_once(task: Any, *, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    """Enqueue ``task`` (now, or at ``run_after``) unless a run in ``unless`` exists."""
    from django_tasks_db.models import DBTaskResult

    if alias := settings.TIPLINE_PERIODIC_BACKEND:
        task = task.using(backend=alias)
    runs = DBTaskResult.objects.filter(backend_name=task.backend, task_path=task.module_path)
    if runs.filter(status__in=unless).exists():
        return False
    (task if run_after is None else task.using(run_after=run_after)).enqueue()
    return True
