"""The PostgreSQL server that scripts/with-postgres started, as tests and benchmarks restart it."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_restart() -> None:
    """`pg_ctl restart -m fast`: every open connection is closed by the server."""
    _pg_ctl("-m", "fast", "restart")


def _pg_ctl(*args: str) -> None:
    data = os.environ["TIPLINE_TEST_PGDATA"]
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)[0]
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    logfile = str(Path(data).parent / "log")
    subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", data, "-w", "-l", logfile, *args],
        check=True,
        capture_output=True,
    )


@contextmanager
def pg_stopped() -> Iterator[None]:
    """The server down (`pg_ctl stop -m fast`) for the block, started again after it with the
    options it ran with (port, socket folder: `pg_ctl start` alone would take the defaults)."""
    opts = Path(os.environ["TIPLINE_TEST_PGDATA"], "postmaster.opts").read_text()
    argv = shlex.split(opts)[1:]  # without the server's own path
    if "-D" in argv:
        at = argv.index("-D")
        del argv[at : at + 2]
    _pg_ctl("-m", "fast", "stop")
    try:
        yield
    finally:
        _pg_ctl("-o", shlex.join(argv), "start")
