"""Throw-away servers on 127.0.0.1 for a test run, shared by scripts/with-postgres and
scripts/with-scaleout.

Each server is a context manager that starts it in a temporary folder on a free loopback port,
yields the environment variables that point Tipline at it, and on leaving stops it and removes
the folder. ``run_beside`` starts a set of them, runs the command given after ``--`` with their
environment, stops everything (also on Ctrl-C or SIGTERM) and returns the command's status.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

Server = Callable[[], AbstractContextManager[dict[str, str]]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> str:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and os.path.exists(os.path.join(out.stdout.strip(), "initdb")):
            return out.stdout.strip()
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not candidates:
        sys.exit("PostgreSQL server binaries not found (apt-get install postgresql)")
    return candidates[0]


@contextmanager
def postgres() -> Iterator[dict[str, str]]:
    """A fresh cluster (as the `postgres` user when run as root, since PostgreSQL refuses to run
    as root): DATABASE_URL and TIPLINE_TEST_PGDATA."""
    bindir = _pg_bindir()
    root = tempfile.mkdtemp(prefix="tipline-pg-")
    data = os.path.join(root, "data")
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o755)  # noqa: S103 - the postgres user works in it; nothing secret
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, stdout=subprocess.DEVNULL)

    try:
        run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "tipline", "-E", "UTF8",
            "--no-sync")  # fmt: skip
        opts = f"-h 127.0.0.1 -p {port} -k {root} -c max_connections=200 -c shared_buffers=256MB"
        log = os.path.join(root, "log")
        run(f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", log, "-w", "start")
        try:
            run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "tipline",
                "tipline")  # fmt: skip
            yield {
                "DATABASE_URL": f"postgres://tipline@127.0.0.1:{port}/tipline",
                "TIPLINE_TEST_PGDATA": data,
            }
        finally:
            subprocess.run(
                [*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                check=False, stdout=subprocess.DEVNULL,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def command(doc: str | None) -> list[str]:
    """The command after ``--`` (or the whole argument list); the usage text when there is none."""
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        sys.exit(doc)
    return argv


def _terminated(signum: int, _frame: object) -> None:
    # A CI runner stops a job with SIGTERM: leave through the context managers, so the servers
    # stop and their folders go, instead of dying with them still running.
    raise SystemExit(128 + signum)


def run_beside(servers: list[Server], argv: list[str]) -> int:
    """Start ``servers`` in order, run ``argv`` with their environment, stop them in reverse."""
    signal.signal(signal.SIGTERM, _terminated)
    with ExitStack() as stack:
        env = dict(os.environ)
        for server in servers:
            env.update(stack.enter_context(server()))
        return subprocess.run(argv, env=env, check=False).returncode
