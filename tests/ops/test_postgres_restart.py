"""A PostgreSQL restart costs no request: a kept or pooled connection that the restart closed is
found before use and replaced (tipline/db/postgres.py).

Regression (benchmarks/fault_cycles.py, docs/BENCHMARKS.md): the first request after
`pg_ctl restart` answered 500, and the first task a worker ran after it failed for good.
These tests restart the real server that scripts/with-postgres started.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.base import DatabaseWrapper

from tests import factories
from tests.live import LiveServer
from tests.pgserver import pg_restart, pg_stopped
from tipline.cases.models import Report
from tipline.db import postgres

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("TIPLINE_TEST_PGDATA"),
        reason="needs the PostgreSQL started by scripts/with-postgres",
    ),
]


def test_a_kept_connection_is_replaced_after_a_restart() -> None:
    factories.report()
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert Report.objects.count() == 1
    pid_before = connection.connection.info.backend_pid

    pg_restart()
    # What Django runs when a request starts (and django-tasks-db's worker before each poll).
    close_old_connections()

    assert Report.objects.count() == 1
    assert connection.connection.info.backend_pid != pid_before


@pytest.fixture
def pooled() -> Iterator[DatabaseWrapper]:
    base = {k: v for k, v in connection.settings_dict.items() if k != "OPTIONS"}
    configured = postgres.configure(base, {"TIPLINE_DB_POOL": "1:2"})
    wrapper = DatabaseWrapper(configured, alias="pool_restart_probe")
    try:
        yield wrapper
    finally:
        wrapper.close()
        wrapper.close_pool()


def test_a_pooled_connection_is_replaced_after_a_restart(pooled: DatabaseWrapper) -> None:
    with pooled.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid_before,) = cursor.fetchone()
    pooled.close()  # back to the pool, still open

    pg_restart()

    with pooled.cursor() as cursor:  # the pool's check replaces the dead connection
        cursor.execute("SELECT pg_backend_pid()")
        (pid_after,) = cursor.fetchone()
    assert pid_after != pid_before
    close_old_connections()  # the test's own connection died too; leave a fresh one


def test_a_running_platform_keeps_serving_and_working_through_a_restart(
    fresh_server: LiveServer,
) -> None:
    """`tipline serve` used to stop whole when a task worker died of the restart (CI: the
    session's live server answered "connection refused" to every later test). Now the web keeps
    answering and serve starts the dead workers again."""
    assert httpx.get(fresh_server.url + "/en/", timeout=10).status_code == 200

    pg_restart()

    codes = []
    for _ in range(16):
        codes.append(httpx.get(fresh_server.url + "/en/", timeout=10).status_code)
        time.sleep(0.5)
    assert codes[-4:] == [200] * 4
    assert fresh_server.proc is not None
    assert fresh_server.proc.poll() is None
    created = httpx.post(
        fresh_server.url + "/api/v1/reports",
        json={"category": "other", "what_happened": "He waits outside the school gate."},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    close_old_connections()  # the test's own connection died too; leave a fresh one


def test_while_postgresql_is_down_the_api_says_try_again_and_stores_nothing(
    fresh_server: LiveServer,
) -> None:
    """Regression (benchmarks/fault_cycles.py): during a restart the API answered 500 with
    Django's error page; a refused connection is "not now", like a full disk."""
    report = {"category": "other", "what_happened": "He waits outside the school gate."}
    with pg_stopped():
        answer = httpx.post(fresh_server.url + "/api/v1/reports", json=report, timeout=30)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "storage_unavailable"
    assert answer.headers["Retry-After"] == "60"
    close_old_connections()  # the test's own connection died with the server

    again = httpx.post(fresh_server.url + "/api/v1/reports", json=report, timeout=30)
    assert again.status_code == 201, again.text
