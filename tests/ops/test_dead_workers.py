"""A task whose database worker died mid-run is handed back and runs again (outbox/workers.py).

Regression (benchmarks/fault_cycles.py, docs/BENCHMARKS.md): a `db_worker` killed with SIGKILL
left its task RUNNING for ever (django-tasks-db has no reclaim), so 3 files were never hashed.
The end-to-end test kills a real worker process on PostgreSQL; the rules for workers that
cannot be checked from this machine are tested on rows in either database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import factories
from tests.queued import on_outbox
from tipline.cases.models import EvidenceFile
from tipline.cases.tasks import MEDIA_QUEUE, process_media
from tipline.outbox import workers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        on_outbox(),
        reason="embedded profile: media tasks are database rows only there; on the scale-out "
        "profile they go through the outbox to Redis, whose workers reclaim a dead worker's task "
        "(tests/outbox/test_interrupted_runs.py)",
    ),
]

ON_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a worker process shares the test database only on PostgreSQL (scripts/with-postgres)",
)


def claimed(worker_id: str, *, minutes_ago: float) -> DBTaskResult:
    """A media task row as a worker leaves it after its claim."""
    factories.report(uploads=[factories.upload()])
    row = DBTaskResult.objects.get(task_path=process_media.module_path)
    row.status = TaskResultStatus.RUNNING
    row.worker_ids = [worker_id]
    row.started_at = timezone.now() - timedelta(minutes=minutes_ago)
    row.save(update_fields=["status", "worker_ids", "started_at"])
    return row


def status(row: DBTaskResult) -> str:
    return DBTaskResult.objects.get(pk=row.pk).status


def test_our_worker_names_its_host_and_pid() -> None:
    parsed = workers.parse_worker_id(workers.new_worker_id())
    assert parsed == workers.WorkerId(host=workers.host_name(), pid=os.getpid())
    assert len(workers.new_worker_id()) <= 64  # the package's limit
    assert workers.parse_worker_id("Xk3random32charactersfromthepackage") is None


def test_a_row_of_a_gone_worker_on_this_host_is_released_at_once() -> None:
    dead_pid = 2**22 + 17  # above the default pid_max: no such process
    row = claimed(f"{workers.host_name()}:{dead_pid}:abcdefgh", minutes_ago=0)

    assert workers.release_dead_workers() == 1
    assert status(row) == TaskResultStatus.READY


def test_a_row_of_a_worker_elsewhere_is_kept_within_the_claim_timeout() -> None:
    # Another machine's worker cannot be checked from here (a live one on this machine is
    # kept whatever its age: the end-to-end test below).
    row = claimed("other-machine:4242:abcdefgh", minutes_ago=5)

    assert workers.release_dead_workers() == 0
    assert status(row) == TaskResultStatus.RUNNING


def test_a_row_of_an_unknown_worker_is_released_after_the_claim_timeout() -> None:
    row = claimed("Xk3random32charactersfromthepackage", minutes_ago=31)

    with override_settings(TIPLINE_TASK_CLAIM_SECONDS=3600):
        assert workers.release_dead_workers() == 0
    assert workers.release_dead_workers() == 1  # the default: 1800 s
    assert status(row) == TaskResultStatus.READY


def worker_env(data_dir: Path, settings: Any) -> dict[str, str]:
    """A `tipline` child on this test's database, keys and evidence, all under ``data_dir``
    (where the settings of a real installation put them)."""
    shutil.copytree(settings.KEY_DIR, data_dir / "keys")
    settings.KEY_DIR = data_dir / "keys"
    settings.EVIDENCE_DIR = data_dir / "evidence"
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tipline.settings",
        "TIPLINE_DATA_DIR": str(data_dir),
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }


@ON_POSTGRES
def test_a_worker_killed_mid_task_leaves_a_task_that_runs_again(
    tmp_path: Path, settings: Any
) -> None:
    env = worker_env(tmp_path / "data", settings)
    report = factories.report(uploads=[factories.upload()]).report
    row = DBTaskResult.objects.get(task_path=process_media.module_path)
    dsn = env["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(dsn) as holder:
        # Hold the report's row lock: the worker's media step waits for it inside its task,
        # so the kill lands mid-task for certain.
        holder.execute("SELECT id FROM cases_report WHERE id = %s FOR UPDATE", [report.pk])
        worker = subprocess.Popen(
            [sys.executable, "-m", "tipline.cli", "db_worker", "--queue-name", MEDIA_QUEUE,
             "--no-startup-delay", "--interval", "0.1"],
            env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while status(row) != TaskResultStatus.RUNNING:
                assert time.monotonic() < deadline, "the worker never claimed the task"
                time.sleep(0.05)
            time.sleep(0.5)  # into the media step, waiting for the lock
            claim = DBTaskResult.objects.get(pk=row.pk).worker_ids[-1]
            assert workers.parse_worker_id(claim) == workers.WorkerId(
                host=workers.host_name(), pid=worker.pid
            )
            assert workers.release_dead_workers() == 0  # alive: left alone

            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        holder.rollback()

    assert status(row) == TaskResultStatus.RUNNING  # what django-tasks-db leaves behind
    assert workers.release_dead_workers() == 1
    call_command(
        "db_worker", "--batch", "--queue-name", MEDIA_QUEUE, "--no-startup-delay", verbosity=0
    )

    assert status(row) == TaskResultStatus.SUCCESSFUL
    assert EvidenceFile.objects.get(report=report).hashed_at is not None
