"""The scale-out profile's database (issue 19): a pool, time limits and a streaming replica.

The replica test starts a real second PostgreSQL as a streaming replica of the one
``scripts/with-postgres`` started (pg_basebackup -R), points a ``replica`` alias at it and checks
that the router sends lag-tolerant reads there, everything else to the primary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from django.db import connection

from tests.live import LiveServer, free_port
from tipline.db import postgres
from tipline.db.router import ReplicaRouter

ON_POSTGRES = pytest.mark.skipif(
    connection.vendor != "postgresql" or not os.environ.get("TIPLINE_TEST_PGDATA"),
    reason="needs the PostgreSQL started by scripts/with-postgres",
)


# --- settings, no database -----------------------------------------------------------------------


def test_nothing_set_changes_nothing_but_health_checks() -> None:
    base = {"ENGINE": "django.db.backends.postgresql", "NAME": "t", "CONN_MAX_AGE": 60}
    # A kept connection is pinged before use: it survives a server restart (tests/ops).
    assert postgres.configure(base, {}) == {**base, "CONN_HEALTH_CHECKS": True, "OPTIONS": {}}


def test_time_limits_become_server_options() -> None:
    env = {"TIPLINE_DB_STATEMENT_TIMEOUT_MS": "5000", "TIPLINE_DB_IDLE_IN_TRANSACTION_MS": "60000"}
    options = postgres.configure({"NAME": "t"}, env)["OPTIONS"]
    assert options["options"] == (
        "-c statement_timeout=5000 -c idle_in_transaction_session_timeout=60000"
    )


def test_a_pool_turns_persistent_connections_off() -> None:
    got = postgres.configure({"NAME": "t", "CONN_MAX_AGE": 60}, {"TIPLINE_DB_POOL": "2:8"})
    pool = got["OPTIONS"]["pool"]
    assert {k: pool[k] for k in ("min_size", "max_size", "timeout")} == {
        "min_size": 2,
        "max_size": 8,
        "timeout": 10,
    }
    assert pool["check"] is not None  # each connection handed out is pinged (tests/ops)
    assert got["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "raw", ["", "x", "8:2", "-1:2", "0:0", "2:", ":", "1:2:3", "9" * 30 + ":x"]
)
def test_nonsense_pool_sizes_are_refused_by_name(raw: str) -> None:
    if raw == "":
        assert "pool" not in postgres.configure({}, {"TIPLINE_DB_POOL": raw})["OPTIONS"]
        return
    with pytest.raises(ValueError, match="TIPLINE_DB_POOL"):
        postgres.configure({}, {"TIPLINE_DB_POOL": raw})


@pytest.mark.parametrize("raw", ["soon", "-5", "1.5"])
def test_nonsense_time_limits_are_refused_by_name(raw: str) -> None:
    with pytest.raises(ValueError, match="TIPLINE_DB_STATEMENT_TIMEOUT_MS"):
        postgres.configure({}, {"TIPLINE_DB_STATEMENT_TIMEOUT_MS": raw})


def test_without_a_replica_the_router_leaves_every_read_to_default() -> None:
    from tipline.metrics.models import DailyRollup

    assert ReplicaRouter().db_for_read(DailyRollup) is None
    assert ReplicaRouter().allow_migrate("replica", "metrics") is False


# --- against PostgreSQL --------------------------------------------------------------------------


def _conninfo(**overrides: Any) -> str:
    params = {**connection.get_connection_params(), **overrides}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


@ON_POSTGRES
def test_the_statement_time_limit_stops_a_runaway_query() -> None:
    options = postgres.configure({}, {"TIPLINE_DB_STATEMENT_TIMEOUT_MS": "200"})["OPTIONS"]
    with (
        psycopg.connect(_conninfo(options=options["options"])) as conn,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        conn.execute("SELECT pg_sleep(3)")


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    assert found, f"{name} not found"
    return str(found[0])


@pytest.fixture(scope="module")
def replica_port() -> Iterator[int]:
    """A streaming replica of the test server, on its own port; stopped afterwards."""
    primary = connection.get_connection_params()
    # Not under pytest's temporary folder: the postgres user cannot enter root's.
    root = Path(tempfile.mkdtemp(prefix="tipline-replica-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root, as in scripts/with-postgres
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*as_user, _pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary["port"]),
         "-U", str(primary["user"]), "-D", str(data), "-R", "-X", "stream", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    # A standby needs at least the primary's max_connections (scripts/with-postgres: 200).
    opts = f"-h 127.0.0.1 -p {port} -k {root} -c max_connections=200"
    started = subprocess.run(
        [*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"),
         "-w", "start"],
        check=False, capture_output=True,
    )  # fmt: skip
    log = root / "log"
    assert started.returncode == 0, log.read_text() if log.exists() else started.stderr
    try:
        yield port
    finally:
        subprocess.run(
            [*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


# Runs in its own process with the settings a deployment would have (TIPLINE_REPLICA_DATABASE_URL
# read by settings.py), against a migrated database on the primary that the replica streams.
_ROUTED = """
import datetime, json, sys, time
import django
django.setup()
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from tipline.cases.models import Report
from tipline.metrics.models import DailyRollup

primary, replica = connections["default"], connections["replica"]
row = DailyRollup.objects.create(
    day=datetime.date(2026, 1, 1), category="other", channel="web", tier="P3", received=1
)
with primary.cursor() as c:
    c.execute("SELECT pg_current_wal_lsn()")
    target = c.fetchone()[0]
deadline = time.monotonic() + 30
with replica.cursor() as c:
    while True:
        c.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [target])
        if c.fetchone()[0] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
out = {}
with CaptureQueriesContext(replica) as seen:
    out["found"] = DailyRollup.objects.filter(pk=row.pk).exists()
out["outside"] = len(seen.captured_queries)
with transaction.atomic(), CaptureQueriesContext(replica) as seen:
    out["found_inside"] = DailyRollup.objects.filter(pk=row.pk).exists()
out["inside"] = len(seen.captured_queries)
with CaptureQueriesContext(replica) as seen:
    Report.objects.count()
out["other_app"] = len(seen.captured_queries)
try:
    with replica.cursor() as c:
        c.execute("CREATE TABLE nope (x int)")
    out["replica_write"] = "accepted"
except Exception as exc:
    out["replica_write"] = type(exc).__name__ + ": " + str(exc).splitlines()[0]
print(json.dumps(out))
"""


@ON_POSTGRES
def test_lag_tolerant_reads_go_to_the_replica_and_everything_else_to_the_primary(
    replica_port: int, tmp_path: Path
) -> None:
    server = LiveServer(root=tmp_path)
    server.setup()  # a fresh, migrated database on the primary, streamed to the replica
    assert server.database_url
    parts = urlsplit(server.database_url)
    env = server.env() | {
        "TIPLINE_REPLICA_DATABASE_URL": urlunsplit(
            parts._replace(netloc=f"{parts.username}@127.0.0.1:{replica_port}")
        )
    }
    ran = subprocess.run(
        [sys.executable, "-c", _ROUTED], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout.strip().splitlines()[-1])
    assert out["found"] is True  # read on the replica, which had replayed the write
    assert out["outside"] >= 1
    assert out["found_inside"] is True  # inside a transaction: the primary
    assert out["inside"] == 0
    assert out["other_app"] == 0  # reports are never read from the replica
    assert "read-only" in out["replica_write"]


@ON_POSTGRES
def test_a_pooled_server_serves_a_burst_within_its_pool(tmp_path: Path) -> None:
    server = LiveServer(root=tmp_path, extra_env={"TIPLINE_DB_POOL": "1:3"})
    server.setup()
    server.start(workers=2)
    try:

        def one(i: int) -> int:
            if i % 3:
                return httpx.get(server.url + "/en/", timeout=60).status_code
            body = {"category": "other", "what_happened": f"Burst report {i}"}
            return httpx.post(server.url + "/api/v1/reports", json=body, timeout=60).status_code

        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(one, range(60)))
        assert codes.count(201) == 20
        assert set(codes) == {200, 201}
        name = str(server.database_url).rsplit("/", 1)[1]
        with psycopg.connect(_conninfo(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchone()
        # Every process of the server (web workers and task workers) keeps at most its pool.
        processes = int(subprocess.run(
            ["pgrep", "-c", "-g", str(server.proc.pid)], capture_output=True, text=True  # type: ignore[union-attr]
        ).stdout.strip() or 0)  # fmt: skip
        assert row is not None
        assert 0 < row[0] <= 3 * processes
    finally:
        server.stop()
