"""The scale-out task profile's fixtures: a real redis-server, and settings that switch the
tasks to the outbox + Redis (what TIPLINE_TASKS=redis does in tipline/settings.py).

These tests run against PostgreSQL only (the scale-out profile's database; `make test`'s
PostgreSQL job runs them through scripts/with-postgres) and skip, saying why, otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from tests.redisserver import RedisServer, redis_available

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="scale-out profile: needs DATABASE_URL naming PostgreSQL (scripts/with-postgres)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytestmark)
            if not redis_available():
                item.add_marker(pytest.mark.skip(reason="redis-server not installed"))


def scale_out_tasks(redis_url: str) -> dict[str, Any]:
    queues = ["default", "triage", "webhooks"]
    return {
        "default": {
            "BACKEND": "tipline.outbox.backend.OutboxBackend",
            "QUEUES": queues,
        },
        "redis": {
            "BACKEND": "tipline.outbox.redis_backend.RedisBackend",
            "QUEUES": queues,
            "OPTIONS": {
                "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": "tipline",
                "REDIS_SOCKET_TIMEOUT": 10,
                "REDIS_SOCKET_CONNECT_TIMEOUT": 1,
                "REDIS_BLOCK_TIMEOUT": 0,
            },
        },
        "periodic": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues},
    }


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(root=tmp_path / "redis")
    server.root.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_profile(redis_server: RedisServer) -> Iterator[RedisServer]:
    with override_settings(
        TIPLINE_TASKS="redis",
        TIPLINE_PERIODIC_BACKEND="periodic",
        TASKS=scale_out_tasks(redis_server.url),
    ):
        yield redis_server


def subprocess_env(redis_url: str) -> dict[str, str]:
    """The environment of a `tipline` child (relay, worker) sharing this test's database and
    Redis, in the scale-out task profile."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "TIPLINE_TASKS": "redis",
        "TIPLINE_REDIS_URL": redis_url,
    }
