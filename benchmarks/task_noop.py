"""The no-op task of benchmarks/task_backends.py (a module of its own: workers import tasks by
path, and the benchmark configures settings before any task is declared)."""

from __future__ import annotations

import os

import redis
from django.tasks import task

COUNTER = "bench:done"
_CLIENT: list[redis.Redis] = []


@task()
def noop(i: int) -> int:
    """One INCR, so every backend's drain ends at the same signal."""
    if not _CLIENT:
        _CLIENT.append(redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]))
    _CLIENT[0].incr(COUNTER)
    return i
