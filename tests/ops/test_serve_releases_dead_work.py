"""`tipline serve` hands back, as it starts, the task rows a killed worker left RUNNING.

Without it a periodic chain whose worker died mid-run stays RUNNING for ever: its ``ensure_*``
sees a live chain and never starts another, and the work sweep would only notice after its
claim timeout (tests/ops/test_dead_workers.py tests the rule itself on rows; this tests that
the command a real installation runs applies it, on its own database, in either profile).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.live import LiveServer

DEAD_PID = 2**22 + 17  # above the default pid_max: no such process on this machine

MARK_ONE_RUNNING = f"""
import django
django.setup()
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from tipline.outbox import workers
row = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at").first()
DBTaskResult.objects.filter(pk=row.pk).update(
    status="RUNNING",
    worker_ids=[f"{{workers.host_name()}}:{DEAD_PID}:deadbeef"],
    started_at=timezone.now(),
)
print(row.pk)
"""

STATUS_OF = """
import sys
import django
django.setup()
from django_tasks_db.models import DBTaskResult
print(DBTaskResult.objects.get(pk=sys.argv[1]).status)
"""


def in_installation(server: LiveServer, script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=server.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_serve_queues_again_what_a_dead_worker_left_running(tmp_path: Path) -> None:
    server = LiveServer(root=tmp_path)
    server.setup()
    # The first start schedules the periodic chains (READY rows); no worker runs them.
    server.start(workers=1, extra_args=["--no-worker"])
    server.stop()
    row = in_installation(server, MARK_ONE_RUNNING)
    assert in_installation(server, STATUS_OF, row) == "RUNNING"

    server.start(workers=1, extra_args=["--no-worker"])
    try:
        assert in_installation(server, STATUS_OF, row) == "READY"
    finally:
        server.stop()
    log = (server.log_dir / "serve-2.log").read_text()
    assert "1 task(s) left RUNNING by a dead worker queued again" in log
