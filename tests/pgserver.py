"""The PostgreSQL server that scripts/with-postgres started, as tests and benchmarks restart it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def pg_restart() -> None:
    """`pg_ctl restart -m fast`: every open connection is closed by the server."""
    data = os.environ["TIPLINE_TEST_PGDATA"]
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)[0]
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    logfile = str(Path(data).parent / "log")
    subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", data, "-m", "fast", "-w", "-l", logfile,
         "restart"],
        check=True,
        capture_output=True,
    )  # fmt: skip
