"""Database task workers that died mid-task: find them, and hand their tasks back.

django-tasks-db claims a row by setting it RUNNING with the worker's id and ``started_at``, runs
the task outside any transaction, then records the outcome. A worker killed in between (kill -9,
OOM, a machine lost, a crash on a database error) leaves the row RUNNING for ever: the package has
no heartbeat and no reclaim, and nothing else runs that task again (benchmarks/fault_cycles.py:
files never hashed after `db_worker` kills; a periodic chain stuck behind its RUNNING row).

Whether a worker is gone is decided as safely as it can be from outside:

* Our ``db_worker`` (``management/commands/db_worker.py``, which shadows the package's command)
  names itself ``<host>:<pid>:<random>``. A row whose worker ran on *this* host under a pid that
  is no longer a live ``db_worker`` process is certainly orphaned, and is released at once: a
  dead process can no longer record an outcome, so running the task again cannot race it.
* Any other row (a worker on another machine, or one started with the package's random id)
  cannot be checked from here; it is released only once it has been RUNNING for longer than
  ``TIPLINE_TASK_CLAIM_SECONDS``, which therefore must exceed the longest task run (the same
  rule as the Redis backend's claim timeout).

Released rows go back to READY and run again; every task is idempotent (docs/architecture.md
lists each one's guard). The release is an UPDATE conditioned on the row still being RUNNING
under the same worker, so a row that finished meanwhile is left alone.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string

log = logging.getLogger(__name__)

# The process name a live worker's command line carries (guards against a reused pid).
_WORKER_COMMAND = b"db_worker"


def host_name() -> str:
    # Worker ids are at most 64 characters (the package's check): 40 + pid + 8 random.
    return socket.gethostname()[:40].replace(":", "_")


def new_worker_id() -> str:
    return f"{host_name()}:{os.getpid()}:{get_random_string(8)}"


@dataclass(frozen=True)
class WorkerId:
    host: str
    pid: int


def parse_worker_id(raw: str) -> WorkerId | None:
    """The host and pid of an id made by ``new_worker_id``; None for any other id."""
    host, sep, rest = raw.partition(":")
    pid, sep2, _random = rest.partition(":")
    if not (sep and sep2 and host and pid.isdigit()):
        return None
    return WorkerId(host=host, pid=int(pid))


def pid_is_worker(pid: int) -> bool:
    """Whether ``pid`` is a live task worker process on this machine."""
    if pid <= 0:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.parent.is_dir():  # /proc: check the process is still a worker
        try:
            return _WORKER_COMMAND in cmdline.read_bytes()
        except OSError:  # gone, or not ours to read (then it is not our worker either)
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_gone(raw: str, *, started_at: datetime | None, cutoff: datetime) -> bool:
    """Whether the worker named ``raw`` that claimed a row at ``started_at`` is gone."""
    parsed = parse_worker_id(raw)
    if parsed is not None and parsed.host == host_name():
        return not pid_is_worker(parsed.pid)
    return started_at is None or started_at < cutoff


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.TIPLINE_TASK_CLAIM_SECONDS)


def release_dead_workers(*, now: datetime | None = None) -> int:
    """Set the RUNNING rows of gone workers back to READY; return how many were released."""
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - claim_timeout()
    released = 0
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
        "id", "worker_ids", "started_at", "task_path"
    )
    for row_id, worker_ids, started_at, task_path in running:
        last = worker_ids[-1] if worker_ids else ""
        if not worker_gone(last, started_at=started_at, cutoff=cutoff):
            continue
        # Still RUNNING under the same claim (started_at), or it finished or was re-claimed.
        updated = DBTaskResult.objects.filter(
            id=row_id, status=TaskResultStatus.RUNNING, started_at=started_at
        ).update(status=TaskResultStatus.READY)
        if updated:
            released += 1
            log.warning(
                "task %s (%s) was left RUNNING by worker %s, which is gone: queued again",
                row_id,
                task_path,
                last or "?",
            )
    return released
