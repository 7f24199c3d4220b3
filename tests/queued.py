"""The tasks waiting to run, read from whichever backend the default one is on this run's profile.

Embedded profile: django-tasks-db's READY rows. Scale-out profile (TIPLINE_TASKS=redis): the
transactional outbox's unsent rows, which is where an action's tasks are until the relay hands
them to Redis (tipline/outbox). A test that asserts "this action enqueued that task" reads
through here and holds on both profiles (`make test` runs the suite on each); a test of one
backend's internals says so with a skip naming the profile.

The periodic chains (retention, audit checkpoint) stay on the database backend on both
profiles (tipline/periodic.py), so their tests read django-tasks-db's rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.tasks import TaskResultStatus, task_backends
from django_tasks_db.models import DBTaskResult, get_date_max

from tipline.outbox.backend import OutboxBackend
from tipline.outbox.models import OutboxTask


@dataclass(frozen=True)
class Queued:
    task_path: str
    queue_name: str
    priority: int
    args: list[Any]
    kwargs: dict[str, Any]
    run_after: datetime | None  # None: as soon as a worker is free
    enqueued_at: datetime
    row: models.Model

    @property
    def args_kwargs(self) -> dict[str, Any]:
        return {"args": self.args, "kwargs": self.kwargs}

    def delete(self) -> None:
        """Take it off the queue (what a worker's claim does, for a test that runs it itself)."""
        self.row.delete()


def on_outbox() -> bool:
    return isinstance(task_backends["default"], OutboxBackend)


def queued(task: Any = None) -> list[Queued]:
    """Every waiting task (of ``task``, a Task or its module path, if given), oldest first."""
    path = task if task is None or isinstance(task, str) else task.module_path
    if on_outbox():
        unsent = OutboxTask.objects.filter(sent_at__isnull=True).order_by("id")
        return [
            Queued(
                task_path=row.task_path,
                queue_name=row.queue_name,
                priority=row.priority,
                args=list(row.args),
                kwargs=dict(row.kwargs),
                run_after=row.run_after,
                enqueued_at=row.created_at,
                row=row,
            )
            for row in (unsent if path is None else unsent.filter(task_path=path))
        ]
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by("enqueued_at")
    never = get_date_max()  # how django-tasks-db stores "no run_after"
    return [
        Queued(
            task_path=row.task_path,
            queue_name=row.queue_name,
            priority=row.priority,
            args=list(row.args_kwargs["args"]),
            kwargs=dict(row.args_kwargs["kwargs"]),
            run_after=None if row.run_after == never else row.run_after,
            enqueued_at=row.enqueued_at,
            row=row,
        )
        for row in (ready if path is None else ready.filter(task_path=path))
    ]


def forget(task: Any = None) -> None:
    """Empty the queue (of ``task``, if given): a test that looks at what comes next."""
    for item in queued(task):
        item.delete()
