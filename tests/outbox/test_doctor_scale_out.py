"""`tipline doctor` on the scale-out task profile: a healthy installation is clean; a stopped
relay shows as outbox rows not relayed; a worker killed mid-task shows as a Redis task left
RUNNING; an unreachable Redis is named. Real redis-server, PostgreSQL (scripts/with-postgres).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_tasks_redis import executor

from tests.outbox.conftest import subprocess_env
from tests.redisserver import RedisServer
from tipline.cases.tasks import TRIAGE_QUEUE, triage_report
from tipline.ops import doctor
from tipline.outbox import relay

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = {
    "category": "cyberstalking",
    "what_happened": "Someone posts where I go every evening from a new account each week.",
    "handles": ["@watcher_account"],
}
# Short enough that the test need not wait long, long enough to be "for more than" something.
MINUTES = 0.002  # 0.12 s
TRIAGE = triage_report.module_path


def file_report(client: Client) -> None:
    answer = client.post("/api/v1/reports", json.dumps(REPORT), content_type="application/json")
    assert answer.status_code == 201, answer.content


def findings(task_minutes: float = MINUTES) -> list[str]:
    """The task lines (a stuck task also leaves its report untriaged: the doctor's `work:`
    line for that is tested in tests/cases/test_work_sweep.py, and left out here)."""
    time.sleep(MINUTES * 60 + 0.05)  # what is there now is older than MINUTES after this
    found = doctor.run(grace_minutes=60, task_minutes=task_minutes)
    return [f.line() for f in found if f.check != "work"]


def drain() -> None:
    relay.run(relay_to="redis", interval=0.01, batch=100, once=True)
    while executor.process_tasks(backend_name="redis"):
        pass


def test_a_healthy_scale_out_installation_is_clean(
    client: Client, redis_profile: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        file_report(client)
    drain()

    assert findings() == []
    call_command("doctor", "--task-minutes", str(MINUTES))
    assert "no problems found" in capsys.readouterr().out


def test_a_stopped_relay_leaves_outbox_rows_that_doctor_names(
    client: Client, redis_profile: RedisServer
) -> None:
    file_report(client)
    file_report(client)  # no relay runs: both triage tasks wait in the outbox

    assert findings(task_minutes=30) == []  # just written: not stuck yet
    lines = findings()
    assert lines == [
        f"outbox: 2 task(s) not relayed to the broker for more than {MINUTES:g} min "
        f"(is `tipline task_relay` running, and Redis reachable?): {TRIAGE} (2)"
    ]
    with pytest.raises(CommandError, match="2 problem"):  # the outbox line and the work line
        call_command("doctor", "--task-minutes", str(MINUTES))

    drain()  # the relay comes back
    assert findings() == []


def test_redis_unreachable_is_a_finding(client: Client, redis_profile: RedisServer) -> None:
    file_report(client)
    drain()
    redis_profile.stop()

    lines = findings(task_minutes=30)

    assert len(lines) == 1
    assert lines[0].startswith("tasks: the Redis task backend does not answer: ")


# A worker as django-tasks-redis runs one (executor.process_one_task → backend.run_task): it
# receives the message and claims the task (RUNNING), then would call the function. This one
# stops there, so the test can SIGKILL it mid-task at a known point.
DOOMED_WORKER = f"""
import time
import django
django.setup()
from django.tasks import task_backends
backend = task_backends["redis"]
(message,) = backend.broker.receive(
    queue_name="{TRIAGE_QUEUE}", max_messages=1, wait_seconds=20, worker_id="doomed"
)
assert backend.claim_task(message.task_id, worker_id="doomed")
print("running", flush=True)
time.sleep(600)
"""


def test_a_worker_killed_mid_task_leaves_it_running_and_doctor_names_it(
    client: Client, redis_profile: RedisServer
) -> None:
    file_report(client)
    relay.run(relay_to="redis", interval=0.01, batch=100, once=True)
    worker = subprocess.Popen(
        [sys.executable, "-c", DOOMED_WORKER],
        env=subprocess_env(redis_profile.url),
        stdout=subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline() == b"running\n"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()

    assert findings(task_minutes=30) == []
    assert findings() == [
        f"tasks: 1 Redis task(s) RUNNING for more than {MINUTES:g} min: {TRIAGE} (1)"
    ]

    # What a live worker does after TIPLINE_REDIS_CLAIM_SECONDS: take the task back and run it.
    assert executor.claim_stale_tasks(backend_name="redis", claim_timeout=0, worker_id="w2") == 1
    while executor.process_tasks(backend_name="redis", worker_id="w2"):
        pass
    assert executor.get_task_counts(backend_name="redis")["RUNNING"] == 0
    assert findings() == []
