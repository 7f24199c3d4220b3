"""Key rotation under load, against a real server (issue 19): `tipline keys rotate` runs in its
own process while reporters file reports, write follow-up messages and read their threads back;
every request succeeds, every report reads back after the old KEK is gone, and `tipline doctor`
is clean. A rotation killed with SIGKILL half-way leaves every report readable and is finished
by running the command again.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.live import TIPLINE, LiveServer

pytestmark = pytest.mark.server


@dataclass
class Load:
    """Reporters in a thread: file, write, read back (their own thread and an earlier one)."""

    url: str
    receipts: list[tuple[str, str]] = field(default_factory=list)  # (receipt, message body)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    reads: int = 0

    def file_one(self, client: httpx.Client, n: int) -> None:
        answer = client.post(
            "/api/v1/reports",
            json={"category": "other", "what_happened": f"Report {n}: an account keeps writing."},
        )
        if answer.status_code != 201:
            self.failures.append(f"file {n}: {answer.status_code}")
            return
        receipt = answer.json()["receipt"]
        body = f"Follow-up {n}: it happened again today."
        sent = client.post("/api/v1/followup/messages", json={"receipt": receipt, "body": body})
        if sent.status_code != 201:
            self.failures.append(f"message {n}: {sent.status_code}")
            return
        self.receipts.append((receipt, body))

    def read_one(self, client: httpx.Client, receipt: str, body: str) -> None:
        answer = client.post("/api/v1/followup/status", json={"receipt": receipt})
        self.reads += 1
        if answer.status_code != 200:
            self.failures.append(f"read: {answer.status_code}")
        elif [m["body"] for m in answer.json()["messages"]] != [body]:
            self.failures.append(f"read: thread is {answer.json()['messages']!r}")

    def run(self) -> None:
        rng = random.Random(19)  # noqa: S311 - which earlier report to read, not a secret
        with httpx.Client(base_url=self.url, timeout=60) as client:
            n = len(self.receipts)
            while not self.stop.is_set():
                n += 1
                self.file_one(client, n)
                if self.receipts:
                    self.read_one(client, *self.receipts[-1])
                    self.read_one(client, *rng.choice(self.receipts))


def tipline(
    server: LiveServer, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def kek_counts(server: LiveServer) -> dict[int, int]:
    """Report keys per KEK, read straight from the server's database."""
    query = "SELECT kek_id, COUNT(*) FROM cases_reportkey GROUP BY kek_id"
    if server.database_url:
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            return dict(conn.execute(query).fetchall())
    with sqlite3.connect(server.data_dir / "tipline.sqlite3") as conn:
        return dict(conn.execute(query).fetchall())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(root=tmp_path / "server")
    server.setup()
    server.start(workers=2)
    yield server
    server.stop()


def _seed(server: LiveServer, count: int) -> Load:
    load = Load(server.url)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for n in range(count):
            load.file_one(client, n)
    assert not load.failures
    return load


def _read_everything(load: Load) -> None:
    with httpx.Client(base_url=load.url, timeout=60) as client:
        for receipt, body in load.receipts:
            load.read_one(client, receipt, body)
    assert not load.failures


def test_rotation_under_load_keeps_every_report_readable(server: LiveServer) -> None:
    load = _seed(server, 30)
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    try:
        time.sleep(1)
        rotate = tipline(
            server, "keys", "rotate", "--batch", "4", "--pause", "0.05", "--grace", "3"
        )
    finally:
        load.stop.set()
        thread.join(timeout=120)
    assert rotate.returncode == 0, rotate.stderr
    assert "kek-1 destroyed" in rotate.stdout
    assert not load.failures, load.failures[:5]
    assert load.reads > 20
    assert len(load.receipts) > 30  # reports were filed while it ran
    key_dir = server.data_dir / "keys"
    assert not (key_dir / "kek-1.key").exists()
    assert kek_counts(server) == {2: 2 * len(load.receipts)}

    _read_everything(load)
    doctor = tipline(server, "doctor", "--grace-minutes", "0")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "no problems found" in doctor.stdout


def test_a_rotation_killed_half_way_is_resumed(server: LiveServer) -> None:
    load = _seed(server, 40)
    proc = subprocess.Popen(
        # A second between batches of two: the report keys alone would take 40 s, so a poll
        # slowed by a loaded machine still catches the rotation half-way.
        [*TIPLINE, "keys", "rotate", "--batch", "2", "--pause", "1", "--grace", "1"],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while kek_counts(server).get(2, 0) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    counts = kek_counts(server)
    assert counts.get(1, 0) > 0, counts  # killed in the middle
    assert counts.get(2, 0) > 0, counts
    key_dir = server.data_dir / "keys"
    assert (key_dir / "kek-1.key").exists()
    assert (key_dir / "kek-2.key").exists()

    # Half-way: everything reads (the running server opens both), doctor names the rotation.
    _read_everything(load)
    doctor = tipline(server, "doctor", "--grace-minutes", "0")
    assert doctor.returncode != 0
    assert "rotation is under way or was interrupted" in doctor.stdout

    resumed = tipline(server, "keys", "rotate", "--grace", "0")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming rotation to kek-2" in resumed.stdout
    assert kek_counts(server) == {2: 80}
    assert not (key_dir / "kek-1.key").exists()
    _read_everything(load)
    assert tipline(server, "doctor", "--grace-minutes", "0").returncode == 0
