"""A task backend that writes the task to the outbox table instead of sending it anywhere.

``enqueue`` inserts one row through the default database connection, so inside
``transaction.atomic()`` the task commits or rolls back with the caller's writes; outside one it
commits at once (autocommit). It never touches the broker: enqueueing cannot fail because Redis
is down. The relay hands the task to the backend ``settings.TIPLINE_TASKS_RELAY_TO``.
"""

from __future__ import annotations

from typing import Any

from django.tasks import TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.signals import task_enqueued
from django.utils import timezone


class OutboxBackend(BaseTaskBackend):
    supports_defer = True
    supports_priority = True
    supports_async_task = True
    # Results live with the broker's backend once relayed; ask that backend for them.
    supports_get_result = False

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        from tipline.outbox.models import OutboxTask

        self.validate_task(task)
        row = OutboxTask.objects.create(
            task_path=task.module_path,
            queue_name=task.queue_name,
            priority=task.priority,
            run_after=task.run_after,
            args=list(args),
            kwargs=dict(kwargs),
        )
        result: TaskResult[Any, Any] = TaskResult(
            task=task,
            id=str(row.result_id),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(sender=type(self), task_result=result)
        return result
