"""django-tasks-redis, refusing to run anything but a declared Tipline task.

The stock backend imports whatever path a Redis entry names and calls it with the entry's
arguments, a declared task or not: anyone able to write to Redis could have a worker call
``os.system``. Here a path must start with ``tipline.`` and name a ``django.tasks.Task``; any
other entry fails as a task error (recorded, never run). docs/threat-model.md, "The task broker".

It also hands back a task that its own worker left RUNNING (``InterruptedRunBroker``), and reads
the tasks still waiting or running for the work sweep (``waiting_args``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.tasks import Task, TaskResultStatus
from django.utils import timezone
from django_tasks_redis.backends import RedisTaskBackend
from django_tasks_redis.brokers.streams import RedisStreamsBroker
from django_tasks_redis.utils import (
    deserialize_datetime,
    deserialize_json,
    get_result_key,
    get_status_index_key,
)

log = logging.getLogger(__name__)

ALLOWED_PREFIX = "tipline."


class RefusedTaskPath(Exception):
    """A Redis entry named something that is not a Tipline task."""


class InterruptedRunBroker(RedisStreamsBroker):  # type: ignore[misc]  # untyped base
    """The package's stream broker, except for a task this consumer left RUNNING.

    A run cut by an error after the claim (Redis unreachable when the outcome is written, say)
    raises out of ``run_task``, so the worker never acknowledges the message and it stays pending
    for the same consumer. The next ``receive`` serves that consumer's pending messages first,
    sees the task RUNNING, takes it for another worker's and acknowledges it away: the task
    then stays RUNNING for ever with a live worker, and the stale-message sweep never sees it
    (benchmarks/fault_cycles.py: two tasks after the Redis outage and the PostgreSQL restart).
    A worker runs one task at a time, so while it reads its own history it runs nothing: a
    task RUNNING under its own id there is an interrupted run, handed back to READY to run again.
    """

    def _read(
        self,
        stream_keys: list[str],
        worker_id: str,
        read_id: str,
        count: int,
        block: int | None = None,
    ) -> dict[str, Any]:
        delivered: dict[str, Any] = super()._read(stream_keys, worker_id, read_id, count, block)
        if read_id != "0":  # new messages: nobody has run them yet
            return delivered
        for entries in delivered.values():
            for _message_id, data in entries:
                task_id = (data or {}).get("task_id")
                if task_id:
                    self._release_own_interrupted_run(task_id, worker_id)
        return delivered

    def _release_own_interrupted_run(self, task_id: str, worker_id: str) -> None:
        status, raw_ids = self.client.hmget(
            get_result_key(self.backend.key_prefix, self.backend.alias, task_id),
            ["status", "worker_ids_json"],
        )
        if status != TaskResultStatus.RUNNING:
            return
        worker_ids = deserialize_json(raw_ids or "[]") or []
        if not worker_ids or worker_ids[-1] != worker_id:
            return  # another worker's claim: the stale-message sweep decides about it
        if self.backend.transition_task_status(
            task_id, TaskResultStatus.READY, [TaskResultStatus.RUNNING]
        ):
            log.warning("task %s: its run here was interrupted; running it again", task_id)


class RedisBackend(RedisTaskBackend):  # type: ignore[misc]  # untyped third-party base
    broker_class = InterruptedRunBroker

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

    def waiting_args(self, task_paths: Iterable[str], *, now: datetime | None = None) -> set[str]:
        """The first argument of every task of ``task_paths`` that is READY, or RUNNING and not
        yet past the claim timeout (after it, the worker is taken for dead, as the stale-message
        sweep takes it): what the work sweep must not enqueue again.

        Reads the status index (a sorted set per status), so the cost is the size of the queue,
        not of the results kept for a week. Raises redis.RedisError when Redis does not answer.
        """
        paths = set(task_paths)
        claim_cutoff = (now or timezone.now()) - timedelta(seconds=self.claim_timeout)
        client = self.get_client()
        found: set[str] = set()
        for status in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
            index = get_status_index_key(self.key_prefix, self.alias, status)
            task_ids = client.zrange(index, 0, -1)
            pipeline = client.pipeline(transaction=False)
            for task_id in task_ids:
                pipeline.hmget(
                    get_result_key(self.key_prefix, self.alias, task_id),
                    ["status", "task_path", "args_json", "last_attempted_at"],
                )
            for current, path, args_json, attempted in pipeline.execute() if task_ids else []:
                if current != status or path not in paths:
                    continue
                if status == TaskResultStatus.RUNNING:
                    since = deserialize_datetime(attempted or "")
                    if since is None or since < claim_cutoff:
                        continue
                args = deserialize_json(args_json or "[]") or []
                if args:
                    found.add(str(args[0]))
        return found
