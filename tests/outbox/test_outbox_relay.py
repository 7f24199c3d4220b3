"""Scale-out tasks: a report acknowledged while Redis is down is kept and triaged when Redis
returns; a relay killed mid-drain loses nothing; a task delivered twice has one effect.

A real redis-server on loopback and PostgreSQL (scripts/with-postgres); the relay runs in
process where the test steps through it, and as `tipline task_relay` where it is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.tasks import task_backends
from django.test import Client
from django_tasks_redis import executor

from tests.outbox.conftest import subprocess_env
from tests.redisserver import RedisServer
from tipline.audit.models import AuditEntry
from tipline.cases.access import report_by_receipt
from tipline.cases.models import Report, ReportIdentifier, TriageResult
from tipline.cases.tasks import TRIAGE_QUEUE, triage_report
from tipline.outbox import relay
from tipline.outbox.models import OutboxTask
from tipline.outbox.redis_backend import RefusedTaskPath

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = {
    "category": "cyberstalking",
    "what_happened": "He writes from new accounts every day and threatens to come to my school.",
    "handles": ["@follower_account"],
}


def file_report(client: Client) -> Any:
    return client.post("/api/v1/reports", json.dumps(REPORT), content_type="application/json")


def run_triage_worker() -> int:
    return len(executor.process_tasks(queue_name=TRIAGE_QUEUE, backend_name="redis"))


def test_a_report_filed_while_redis_is_down_is_kept_and_triaged_when_it_returns(
    client: Client, redis_profile: RedisServer
) -> None:
    redis_profile.stop()

    response = file_report(client)

    assert response.status_code == 201, response.content
    report = report_by_receipt(response.json()["receipt"])
    waiting = OutboxTask.objects.get(sent_at__isnull=True)
    assert waiting.task_path == triage_report.module_path
    assert waiting.args == [str(report.id)]
    # The relay cannot reach Redis: nothing is marked sent, the row waits.
    assert relay.relay_batch(relay_to="redis") == relay.Pass(sent=0, failed=True)
    assert relay.backlog() == 1
    assert not TriageResult.objects.filter(report=report).exists()

    redis_profile.start()
    assert relay.run(relay_to="redis", interval=0.01, batch=10, once=True) == 1
    assert relay.backlog() == 0
    assert run_triage_worker() == 1

    assert TriageResult.objects.get(report=report).tier == Report.objects.get(pk=report.pk).tier


def test_a_task_delivered_three_times_has_one_effect(
    client: Client, redis_profile: RedisServer
) -> None:
    report = report_by_receipt(file_report(client).json()["receipt"])
    relay.run(relay_to="redis", interval=0.01, batch=10, once=True)
    assert run_triage_worker() == 1
    first = TriageResult.objects.get(report=report)
    identifiers = ReportIdentifier.objects.filter(report=report).count()
    assert identifiers > 0

    # The same delivery twice more (a relay that died before marking its batch sent, a worker
    # killed before acknowledging): the state is the same as after one.
    for _ in range(2):
        triage_report.using(backend="redis").enqueue(str(report.id))
    assert run_triage_worker() == 2

    again = TriageResult.objects.get(report=report)
    assert (again.score, again.tier) == (first.score, first.tier)
    assert ReportIdentifier.objects.filter(report=report).count() == identifiers
    assert Report.objects.get(pk=report.pk).tier == first.tier
    assert not AuditEntry.objects.filter(action="report.reopened").exists()


def test_enqueue_inside_a_rolled_back_transaction_leaves_no_task(
    redis_profile: RedisServer,
) -> None:
    def intake_that_fails() -> None:
        with transaction.atomic():
            triage_report.enqueue(str(uuid.uuid4()))
            raise RuntimeError("the report's transaction fails")

    with pytest.raises(RuntimeError):
        intake_that_fails()

    assert not OutboxTask.objects.exists()


def _relay_process(redis_url: str, batch: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "tipline.cli", "task_relay", "--batch", str(batch)]
    return subprocess.Popen(argv, env=subprocess_env(redis_url))


def test_kill_9_of_the_relay_mid_drain_loses_nothing(redis_profile: RedisServer) -> None:
    total, batch = 1500, 25
    ids = [str(uuid.uuid4()) for _ in range(total)]
    OutboxTask.objects.bulk_create(
        OutboxTask(task_path=triage_report.module_path, queue_name=TRIAGE_QUEUE, args=[rid])
        for rid in ids
    )

    for _cycle in range(3):
        if relay.backlog() == 0:
            break
        proc = _relay_process(redis_profile.url, batch)
        start = relay.backlog()
        deadline = time.monotonic() + 120
        while relay.backlog() > start - 2 * batch and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # mid-drain: no shutdown code runs
        proc.wait()
    assert 0 < relay.backlog() < total, "the relay was killed before it had drained"

    relay.run(relay_to="redis", interval=0.01, batch=100, once=True)

    assert relay.backlog() == 0
    backend = task_backends["redis"]
    sent = Counter(
        json.loads(data["args_json"])[0] for _id, data in backend.iter_task_data(cleanup=False)
    )
    assert set(sent) == set(ids)  # nothing lost
    # A kill between Redis accepting a task and the outbox marking it sent duplicates at most
    # the batch in flight; duplicates are harmless (the test above).
    assert sum(sent.values()) - total <= 3 * batch


@pytest.mark.parametrize("path", ["os.getcwd", "tipline.outbox.relay.backlog", "tipline.nope.x"])
def test_a_worker_runs_only_declared_tipline_tasks(redis_profile: RedisServer, path: str) -> None:
    # Someone who can write to Redis rewrites a queued entry to name another callable.
    backend = task_backends["redis"]
    queued = triage_report.using(backend="redis").enqueue(str(uuid.uuid4()))
    client = backend.get_client()
    key = next(k for k in client.scan_iter("tipline:*") if queued.id in k)
    client.hset(key, mapping={"task_path": path, "args_json": "[]"})

    with pytest.raises(RefusedTaskPath):  # the worker command logs this and carries on
        executor.process_tasks(queue_name=TRIAGE_QUEUE, backend_name="redis")

    stored = client.hgetall(key)
    assert stored["status"] == "FAILED"
    assert "RefusedTaskPath" in stored["errors_json"]
    assert json.loads(stored["return_value_json"] or "null") is None


def test_a_redis_worker_outlives_a_database_restart(
    client: Client, redis_profile: RedisServer
) -> None:
    # Regression (benchmarks/fault_cycles.py): after PostgreSQL restarted, every task a Redis
    # worker ran failed with "the connection is closed" until the worker was restarted.
    report = report_by_receipt(file_report(client).json()["receipt"])
    relay.run(relay_to="redis", interval=0.01, batch=10, once=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone() or (0,)
    dsn = subprocess_env(redis_profile.url)["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])  # what a restart does to it

    assert run_triage_worker() == 1

    assert TriageResult.objects.filter(report=report).exists()
