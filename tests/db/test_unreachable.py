"""Which database errors mean "out of reach for now" (503, try again) and which do not (a bug or
a conflict: not hidden behind a 503). Real errors from real drivers, no database of the suite's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from django.db import utils

from tests.live import free_port
from tipline.db.unreachable import database_unreachable


def wrapped(error: Exception) -> utils.OperationalError:
    """As Django raises it: its own class, the driver's error as the cause."""
    try:
        raise utils.OperationalError(*error.args) from error
    except utils.OperationalError as exc:
        return exc


def test_a_refused_postgresql_connection_is_out_of_reach() -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(host="127.0.0.1", port=free_port(), connect_timeout=2)
    assert refused.value.sqlstate is None
    assert database_unreachable(refused.value)
    assert database_unreachable(wrapped(refused.value))


def test_a_locked_sqlite_database_is_out_of_reach_and_a_missing_table_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as locked:
        waiter.execute("BEGIN IMMEDIATE")
    assert database_unreachable(wrapped(locked.value))

    with pytest.raises(sqlite3.OperationalError) as missing:
        waiter.execute("SELECT * FROM no_such_table")
    assert not database_unreachable(wrapped(missing.value))
    holder.close()
    waiter.close()


def test_query_errors_and_conflicts_are_not_hidden_as_unavailable() -> None:
    assert not database_unreachable(psycopg.errors.SyntaxError("syntax error at or near"))
    assert not database_unreachable(psycopg.errors.UniqueViolation("duplicate key"))
    assert not database_unreachable(utils.IntegrityError("UNIQUE constraint failed"))
