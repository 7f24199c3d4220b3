"""django-tasks-redis, refusing to run anything but a declared Tipline task.

The stock backend imports whatever path a Redis entry names and calls it with the entry's
arguments, a declared task or not: anyone able to write to Redis could have a worker call
``os.system``. Here a path must start with ``tipline.`` and name a ``django.tasks.Task``; any
other entry fails as a task error (recorded, never run). docs/threat-model.md, "The task broker".
"""

from __future__ import annotations

from typing import Any

from django.tasks import Task
from django_tasks_redis.backends import RedisTaskBackend

ALLOWED_PREFIX = "tipline."


class RefusedTaskPath(Exception):
    """A Redis entry named something that is not a Tipline task."""


class RedisBackend(RedisTaskBackend):  # type: ignore[misc]  # untyped third-party base
    def _resolve_task(self, task_path: str) -> Any:
        if not task_path.startswith(ALLOWED_PREFIX):
            raise RefusedTaskPath(task_path)
        try:
            found = super()._resolve_task(task_path)
        except (ImportError, AttributeError, ValueError) as exc:
            raise RefusedTaskPath(task_path) from exc
        if not isinstance(found, Task):
            raise RefusedTaskPath(task_path)
        return found
