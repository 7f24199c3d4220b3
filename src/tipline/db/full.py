"""Is this database error a full disk? (Issue 19: a full disk answers 503, loses nothing.)

A write that finds no room fails its transaction, so nothing of the request is committed; the
same request succeeds once space returns, on the same connection. SQLite says SQLITE_FULL
("database or disk is full"); PostgreSQL says SQLSTATE class 53, insufficient resources
(53100 disk_full, 53200 out_of_memory, 53300 too_many_connections).
"""

from __future__ import annotations

import sqlite3


def out_of_space(exc: BaseException) -> bool:
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if isinstance(error, sqlite3.Error) and (
            getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(error)
        ):
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("53"):
            return True
    return False
