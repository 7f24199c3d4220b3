"""Tasks whose effect leaves Tipline run one copy at a time: a copy delivered beside another
(at-least-once delivery) steps aside instead of sending a second e-mail or document."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from tipline.exchange.tasks import deliver_forwarding
from tipline.outbox.guard import _lock_id, single_flight
from tipline.outputs.email_delivery import send_referral_email
from tipline.takedown.tasks import send_notice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_session() -> Iterator[psycopg.Connection]:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
        dbname=db["NAME"], autocommit=True,
    ) as conn:  # fmt: skip
        yield conn


def hold(conn: psycopg.Connection, key: str) -> None:
    conn.execute("SELECT pg_advisory_lock(%s)", [_lock_id(key)])


def test_the_second_copy_steps_aside_while_the_first_runs(
    other_session: psycopg.Connection,
) -> None:
    hold(other_session, "takedown.notice:x")
    with single_flight("takedown.notice:x") as mine:
        assert not mine
    with single_flight("takedown.notice:y") as mine:
        assert mine

    other_session.execute("SELECT pg_advisory_unlock_all()")
    with single_flight("takedown.notice:x") as mine:
        assert mine
    with single_flight("takedown.notice:x") as again:  # released on leaving the block
        assert again


@pytest.mark.parametrize(
    ("task", "prefix"),
    [
        (send_notice, "takedown.notice"),
        (deliver_forwarding, "exchange.forwarding"),
        (send_referral_email, "outputs.email"),
    ],
)
def test_each_outward_task_is_guarded(
    other_session: psycopg.Connection, task: object, prefix: str
) -> None:
    some_id = str(uuid.uuid4())
    hold(other_session, f"{prefix}:{some_id}")
    assert task.call(some_id) == "busy"  # type: ignore[attr-defined]
    other_session.execute("SELECT pg_advisory_unlock_all()")
    assert task.call(some_id) != "busy"  # type: ignore[attr-defined]
