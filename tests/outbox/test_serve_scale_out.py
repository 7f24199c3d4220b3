"""`tipline serve` in the scale-out task profile, end to end: reports filed while Redis is
stopped are acknowledged (201) and kept; when Redis returns, the relay and the Redis workers that
`serve` started triage every one of them, with no restart of Tipline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.live import LiveServer
from tests.redisserver import RedisServer

REPORT = {
    "category": "cyberstalking",
    "what_happened": "Messages from new accounts every day, naming my street.",
    "handles": ["@another_account"],
}


@pytest.fixture
def scale_out_server(tmp_path: Path, redis_server: RedisServer) -> Iterator[LiveServer]:
    server = LiveServer(
        root=tmp_path / "tipline",
        extra_env={"TIPLINE_TASKS": "redis", "TIPLINE_REDIS_URL": redis_server.url},
    )
    server.setup()
    server.start(workers=1)
    try:
        yield server
    finally:
        server.stop()


def count(server: LiveServer, sql: str) -> int:
    assert server.database_url
    with psycopg.connect(server.database_url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def wait_for(server: LiveServer, sql: str, expected: int, seconds: float = 90) -> int:
    deadline = time.monotonic() + seconds
    while (found := count(server, sql)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_reports_acknowledged_while_redis_is_down_are_triaged_when_it_returns(
    scale_out_server: LiveServer, redis_server: RedisServer
) -> None:
    url = scale_out_server.url + "/api/v1/reports"
    first = httpx.post(url, json=REPORT, timeout=30)
    assert first.status_code == 201, first.text
    assert wait_for(scale_out_server, "SELECT count(*) FROM cases_triageresult", 1) == 1

    redis_server.stop()
    answers = [httpx.post(url, json=REPORT, timeout=30).status_code for _ in range(5)]

    assert answers == [201] * 5
    assert count(scale_out_server, "SELECT count(*) FROM cases_report") == 6
    assert count(scale_out_server, "SELECT count(*) FROM outbox_outboxtask WHERE sent_at IS NULL")
    time.sleep(2)  # the relay and the workers keep trying; nothing is triaged meanwhile
    assert count(scale_out_server, "SELECT count(*) FROM cases_triageresult") == 1

    redis_server.start()  # same port, same append-only file

    assert wait_for(scale_out_server, "SELECT count(*) FROM cases_triageresult", 6) == 6
    assert (
        wait_for(
            scale_out_server, "SELECT count(*) FROM outbox_outboxtask WHERE sent_at IS NULL", 0
        )
        == 0
    )
    assert scale_out_server.proc is not None
    assert scale_out_server.proc.poll() is None  # nothing was restarted
