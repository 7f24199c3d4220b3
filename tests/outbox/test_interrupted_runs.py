"""A Redis task whose run was cut by an error is run again by its own worker, and the work sweep
sees what Redis still holds.

Regression (benchmarks/fault_cycles.py, docs/BENCHMARKS.md "Fault cycles"): after the Redis
outage two tasks stayed RUNNING for ever although their workers were alive. A run that cannot
write its outcome (Redis gone mid-task) raises out of the worker's run, so the message stays
pending for that worker; its next read served the message again, saw the task RUNNING, took it
for another worker's and acknowledged it away. Here Redis is stopped for real while the task
runs (from the task_started signal), and started again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.tasks import task_backends
from django.tasks.signals import task_started
from django.test import Client
from django.utils import timezone
from django_tasks_redis import executor

from tests.outbox.test_outbox_relay import file_report
from tests.redisserver import RedisServer
from tipline.cases import work_sweep
from tipline.cases.access import report_by_receipt
from tipline.cases.models import Report, TriageResult
from tipline.cases.tasks import TRIAGE_QUEUE, triage_report
from tipline.outbox import relay
from tipline.outbox.redis_backend import RedisBackend

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = "test-host-1234-abcdef"


def run_one() -> Any:
    return executor.process_one_task(
        queue_name=TRIAGE_QUEUE, backend_name="redis", worker_id=WORKER
    )


def test_a_run_cut_by_a_redis_outage_is_run_again_by_its_worker(
    client: Client, redis_profile: RedisServer
) -> None:
    report = report_by_receipt(file_report(client).json()["receipt"])
    assert relay.run(relay_to="redis", interval=0.01, batch=10, once=True) == 1
    backend = task_backends[settings.TIPLINE_TASKS_RELAY_TO]
    assert isinstance(backend, RedisBackend)

    def redis_dies(**_kwargs: object) -> None:
        redis_profile.stop()

    task_started.connect(redis_dies, dispatch_uid="test.redis_dies")
    try:
        with pytest.raises(redis.ConnectionError):  # the outcome cannot be written
            run_one()
    finally:
        task_started.disconnect(dispatch_uid="test.redis_dies")
    redis_profile.start()

    # Left RUNNING, its message pending for the same (live) worker.
    assert backend.get_status_counts().get("RUNNING") == 1
    assert backend.waiting_args([triage_report.module_path]) == {str(report.pk)}

    result = run_one()

    assert result is not None, "the interrupted task was acknowledged away, not run again"
    assert str(result.status) == "SUCCESSFUL"
    assert backend.get_status_counts().get("RUNNING", 0) == 0
    assert backend.waiting_args([triage_report.module_path]) == set()


def test_the_work_sweep_enqueues_a_failed_redis_task_again_once(
    client: Client, redis_profile: RedisServer
) -> None:
    report = report_by_receipt(file_report(client).json()["receipt"])
    relay.run(relay_to="redis", interval=0.01, batch=10, once=True)
    backend = task_backends[settings.TIPLINE_TASKS_RELAY_TO]
    ((task_id, _data),) = list(backend.iter_task_data(cleanup=False))
    # What a run that met a database error during a PostgreSQL restart leaves (never retried).
    assert backend.mark_task_failed(task_id, "django.db.utils.OperationalError")
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(minutes=11))

    redis_profile.stop()  # the queue cannot be read: lost work cannot be told from waiting work
    assert work_sweep.run().skipped
    assert relay.backlog() == 0
    redis_profile.start()

    assert work_sweep.run().triage == 1
    assert work_sweep.run().triage == 0  # waiting in the outbox now
    relay.run(relay_to="redis", interval=0.01, batch=10, once=True)
    assert work_sweep.run().triage == 0  # waiting in Redis now
    # The failed task's own message comes first (acknowledged, nothing to run), then the new one.
    assert any(run_one() is not None for _ in range(3))

    assert TriageResult.objects.filter(report=report).exists()
    assert work_sweep.run() == work_sweep.SweepResult(released=0, triage=0, media=0)
