"""A real Tipline server for end-to-end tests: `tipline serve` (gunicorn + task worker) in a
subprocess, with its own data directory and database, on a free loopback port.

With DATABASE_URL set (scripts/with-postgres), the server gets a fresh PostgreSQL database on
that server; otherwise a fresh SQLite database inside its data directory. On the scale-out
profile (scripts/with-scaleout) it also gets its own Redis key prefix and S3 object prefix.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

TIPLINE = [sys.executable, "-m", "tipline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_database_url() -> str | None:
    base = os.environ.get("DATABASE_URL")
    if not base:
        return None
    import psycopg

    name = "e2e_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class LiveServer:
    root: Path
    port: int = field(default_factory=free_port)
    database_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # Settings for this server only, e.g. a shorter client timeout for the front.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def namespace(self) -> str:
        """Where this installation's Redis keys and S3 objects live on the scale-out profile,
        whose Redis and bucket are the whole test run's (scripts/with-scaleout): its database's
        name, so that a copy of an installation that shares its database shares them too."""
        if self.database_url:
            return urlsplit(self.database_url).path.lstrip("/")
        return "e2e_" + hashlib.sha256(str(self.root).encode()).hexdigest()[:12]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["TIPLINE_DATA_DIR"] = str(self.data_dir)
        env["DJANGO_SETTINGS_MODULE"] = "tipline.settings"
        env["TIPLINE_RECEIPT_FAILURES_PER_MINUTE"] = "1000"
        env["TIPLINE_INSECURE_COOKIES"] = "1"  # the test server speaks plain http
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if env.get("TIPLINE_TASKS") == "redis":
            env["TIPLINE_REDIS_PREFIX"] = self.namespace
        if env.get("TIPLINE_STORAGE") == "s3":
            env["TIPLINE_S3_PREFIX"] = f"{self.namespace}/evidence"
        env.update(self.extra_env)
        return env

    def setup(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = _fresh_database_url()
        for args in (["keys", "init"], ["migrate", "--no-input", "-v", "0"]):
            subprocess.run([*TIPLINE, *args], env=self.env(), check=True, capture_output=True)

    def start(self, workers: int = 2, extra_args: Sequence[str] = ()) -> None:
        self.starts += 1
        out = open(self.log_dir / f"serve-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*TIPLINE, "serve", "--port", str(self.port), "--workers", str(workers), *extra_args],
            env=self.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() takes every child
        )
        deadline = time.monotonic() + 90  # a busy machine can take a minute to start it
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/en/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()  # leave no half-started children behind
        raise RuntimeError(f"server did not start; see {self.log_dir}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
