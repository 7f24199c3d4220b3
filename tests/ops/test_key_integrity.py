"""A lost or damaged key stops the platform instead of failing silently (issue 14, item 2).

Before: with the KEK deleted or one bit flipped, `tipline keys status` said ok, `tipline keys init`
made a new KEK, the server started and every old report answered 500; a truncated KEK made every
new report a 500; a KEK with mode 0644 was noticed by `status` but the server started anyway.
Each attack here runs against a copy of a real installation that holds a report: `keys status`
names the file and fails, `keys init` refuses to make a replacement, and a real start refuses.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live import TIPLINE, LiveServer, free_port
from tipline.crypto import keyfiles


def _flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[7] ^= 0x10
    path.write_bytes(bytes(data))


# Each attack, and the advice the operator must get for it.
ATTACKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "deleted": (Path.unlink, "restore it from backup"),
    "one bit flipped": (_flip_one_bit, "restore the original from backup"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:16]), "restore it from backup"),
    "mode 0644": (lambda p: p.chmod(0o644), "chmod 600"),
}


@dataclass
class Installation:
    server: LiveServer
    receipt: str


def tipline(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def start_refused(argv: list[str], server: LiveServer) -> str:
    """Start for real; the start must end by itself, with an error, before it serves anything."""
    proc = subprocess.Popen(
        argv,
        env=server.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{argv} started with a damaged key")
    assert proc.returncode != 0, out
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/en/", timeout=2)
    return out


def serve(server: LiveServer) -> list[str]:
    return [*TIPLINE, "serve", "--port", str(server.port), "--workers", "1", "--no-worker"]


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """The happy path: a new data directory, `keys init`, `keys status` ok, a start, a report."""
    server = LiveServer(root=tmp_path_factory.mktemp("installation"))
    server.setup()  # `tipline keys init`, then `tipline migrate`
    status = tipline(server, "keys", "status")
    assert status.returncode == 0, status.stderr
    assert "PROBLEM" not in status.stdout
    server.start(workers=1)
    try:
        answer = httpx.post(
            server.url + "/api/v1/reports",
            json={"category": "other", "what_happened": "A stranger keeps messaging my brother."},
        )
        assert answer.status_code == 201
    finally:
        server.stop()
    return Installation(server, answer.json()["receipt"])


@pytest.fixture
def copy(installation: Installation, tmp_path: Path) -> LiveServer:
    """The installation's data directory (and database), copied for one attack."""
    server = LiveServer(root=tmp_path / "copy", database_url=installation.server.database_url)
    shutil.copytree(installation.server.data_dir, server.data_dir)
    server.log_dir.mkdir()
    return server


def test_a_new_installation_holds_only_recorded_keys(installation: Installation) -> None:
    key_dir = installation.server.data_dir / "keys"
    assert keyfiles.problems(key_dir) == []
    assert {p.name for p in key_dir.iterdir()} == {
        *(spec.name for spec in keyfiles.KEY_FILES),
        keyfiles.MANIFEST_NAME,
    }


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_damaged_kek_stops_status_init_and_start(copy: LiveServer, attack: str) -> None:
    damage, advice = ATTACKS[attack]
    kek = copy.data_dir / "keys" / keyfiles.KEK
    damage(kek)
    after_attack = kek.read_bytes() if kek.exists() else None

    status = tipline(copy, "keys", "status")
    assert status.returncode != 0
    assert str(kek) in status.stderr
    assert advice in status.stderr

    init = tipline(copy, "keys", "init")
    assert init.returncode != 0
    assert "no key was created or changed" in init.stderr
    assert str(kek) in init.stderr
    assert advice in init.stderr
    assert (kek.read_bytes() if kek.exists() else None) == after_attack

    out = start_refused(serve(copy), copy)
    assert str(kek) in out
    assert advice in out


def test_a_lost_keys_folder_is_not_replaced_while_reports_exist(copy: LiveServer) -> None:
    """The manifest is lost with the keys: the database still shows that reports exist."""
    key_dir = copy.data_dir / "keys"
    shutil.rmtree(key_dir)

    status = tipline(copy, "keys", "status")
    assert status.returncode != 0
    assert str(key_dir) in status.stderr

    init = tipline(copy, "keys", "init")
    assert init.returncode != 0
    assert str(key_dir / keyfiles.KEK) in init.stderr
    assert "the database holds reports" in init.stderr
    assert "restore the keys folder from backup" in init.stderr
    assert list(key_dir.iterdir()) == []

    assert str(key_dir) in start_refused(serve(copy), copy)


def test_gunicorn_started_directly_refuses_a_damaged_key(copy: LiveServer) -> None:
    """Without `tipline serve` no system check runs; tipline.wsgi refuses to boot the worker."""
    kek = copy.data_dir / "keys" / keyfiles.KEK
    _flip_one_bit(kek)
    gunicorn = [sys.executable, "-m", "gunicorn", "tipline.wsgi:application"]
    out = start_refused([*gunicorn, "--bind", f"127.0.0.1:{copy.port}", "--workers", "1"], copy)
    assert str(kek) in out
    assert "does not match the fingerprint" in out


def test_a_key_restored_from_backup_opens_the_old_reports(
    installation: Installation, copy: LiveServer, tmp_path: Path
) -> None:
    kek = copy.data_dir / "keys" / keyfiles.KEK
    backup = tmp_path / "backup.key"
    shutil.copy2(kek, backup)
    kek.unlink()
    assert tipline(copy, "keys", "status").returncode != 0

    shutil.copy2(backup, kek)
    assert tipline(copy, "keys", "status").returncode == 0
    copy.port = free_port()
    copy.start(workers=1)
    try:
        status = httpx.post(
            copy.url + "/api/v1/followup/status", json={"receipt": installation.receipt}
        )
    finally:
        copy.stop()
    assert status.status_code == 200
    assert status.json()["status"] == "received"
