"""PostgreSQL settings for the scale-out profile (issue 19): pooling, time limits, a replica.

Each knob is one environment variable, read here so that ``settings.py`` stays a list of
decisions (docs/deployment.md, "Scale-out profile"):

- ``TIPLINE_DB_POOL=MIN:MAX`` opens a psycopg 3 connection pool per process instead of one
  connection per thread kept ``TIPLINE_DB_CONN_MAX_AGE`` seconds. Django then requires
  persistent connections off (the pool keeps them). PgBouncer in transaction mode in front of the
  server is the alternative for many machines; both are documented.
- ``TIPLINE_DB_STATEMENT_TIMEOUT_MS`` caps one statement (``statement_timeout``), and
  ``TIPLINE_DB_IDLE_IN_TRANSACTION_MS`` ends a session that holds a transaction open and idle.
  Off by default: set them on the web units, where no request should ever wait that long, and
  leave them off on workers and commands that rebuild, import or back up.
- A restarted server (or a network cut) leaves every kept connection dead. Without pooling,
  ``CONN_HEALTH_CHECKS`` makes Django ping a kept connection before each request or task uses
  it and open a new one if the ping fails; with the pool, ``ConnectionPool.check_connection``
  does the same when a connection leaves the pool. Without either, the first request after a
  PostgreSQL restart answered 500 (benchmarks/fault_cycles.py, docs/BENCHMARKS.md).
- ``TIPLINE_REPLICA_DATABASE_URL`` adds a ``replica`` alias: a streaming replica that read-only
  queries of lag-tolerant apps may use (``tipline.db.router``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPLICA = "replica"


def _int(env: Mapping[str, str], name: str, default: int = 0) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def pool_sizes(raw: str) -> tuple[int, int]:
    """``MIN:MAX`` (or just ``MAX``) as two numbers, refusing nonsense with the variable's name."""
    low, _, high = raw.partition(":") if ":" in raw else ("1", ":", raw)
    try:
        sizes = int(low), int(high)
    except ValueError:
        raise ValueError(f"TIPLINE_DB_POOL must be MIN:MAX, not {raw!r}") from None
    if not 0 <= sizes[0] <= sizes[1] or sizes[1] < 1:
        raise ValueError(f"TIPLINE_DB_POOL must be MIN:MAX with 0 <= MIN <= MAX, not {raw!r}")
    return sizes


def configure(database: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """``database`` (from dj_database_url) with this profile's options applied."""
    options: dict[str, Any] = dict(database.get("OPTIONS") or {})
    server: list[str] = []
    statement = _int(env, "TIPLINE_DB_STATEMENT_TIMEOUT_MS")
    idle = _int(env, "TIPLINE_DB_IDLE_IN_TRANSACTION_MS")
    if statement:
        server.append(f"-c statement_timeout={statement}")
    if idle:
        server.append(f"-c idle_in_transaction_session_timeout={idle}")
    if server:
        options["options"] = " ".join(server)
    pool = env.get("TIPLINE_DB_POOL", "")
    if pool:
        from psycopg_pool import ConnectionPool

        low, high = pool_sizes(pool)
        # timeout: how long a request waits for a free connection before a clear error.
        # check: a connection handed out is pinged first, and replaced if the server closed it.
        options["pool"] = {
            "min_size": low,
            "max_size": high,
            "timeout": 10,
            "check": ConnectionPool.check_connection,
        }
        database = {**database, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    else:
        database = {**database, "CONN_HEALTH_CHECKS": True}
    return {**database, "OPTIONS": options}


def replica(database: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """The replica alias: the same options; never migrated, never a test database of its own."""
    configured = configure(database, env)
    return {**configured, "TEST": {"MIRROR": "default"}}
