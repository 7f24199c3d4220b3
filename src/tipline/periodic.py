"""One chain of a self-re-enqueuing task (the daily retention run, the hourly audit checkpoint).

Each run enqueues the next; a second copy of the chain (two servers starting at once, say) would
re-enqueue itself forever beside the first, so a run is enqueued only when none of the given
states is already present for that task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.tasks import TaskResultStatus


def enqueue_once(task: Any, *, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    """Enqueue ``task`` (now, or at ``run_after``) unless a run in ``unless`` exists."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=task.module_path, status__in=unless).exists():
        return False
    (task if run_after is None else task.using(run_after=run_after)).enqueue()
    return True
