"""Is this database error the database being out of reach, for now? (Issue 19: a PostgreSQL
restart under load answers 503 and loses nothing.)

While PostgreSQL restarts, a request finds it refusing connections ("the database system is
shutting down", "... is starting up": SQLSTATE 57P03), or its open connection cut (57P01
admin_shutdown, 57P02 crash_shutdown, class 08 connection exceptions, or a connection error
psycopg raises without a SQLSTATE because no server answered). The request's transaction did
not commit, so nothing was acknowledged; the same request succeeds a few seconds later.
SQLite's equivalent is a write that waited out its busy timeout ("database is locked").

Anything else (a bad query, a constraint) is a bug or a conflict, and stays a 500 or whatever
the view makes of it.
"""

from __future__ import annotations

import sqlite3

import psycopg

_SHUTDOWN_STATES = {"57P01", "57P02", "57P03"}


def database_unreachable(exc: BaseException) -> bool:
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if isinstance(error, sqlite3.OperationalError) and "database is locked" in str(error):
            return True
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            sqlstate = error.sqlstate
            if sqlstate is None or sqlstate.startswith("08") or sqlstate in _SHUTDOWN_STATES:
                return True
    return False
