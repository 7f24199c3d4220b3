"""`tipline staff …` as an operator runs it: a real subprocess against a migrated database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.factories import STAFF_PASSWORD
from tests.live import TIPLINE, LiveServer


@pytest.fixture(scope="module")
def server_db(tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """Keys and a migrated database of their own (the server itself is not started)."""
    server = LiveServer(root=tmp_path_factory.mktemp("cli"))
    server.setup()
    return server


def staff_cli(
    server: LiveServer, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, "staff", *args],
        env=server.env(),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("action", ["create", "list", "disable", "set-role"])
def test_each_action_has_help(server_db: LiveServer, action: str) -> None:
    result = staff_cli(server_db, action, "--help")
    assert result.returncode == 0
    assert f"usage: tipline staff {action}" in result.stdout


def test_create_reads_the_password_from_stdin_and_prints_the_otpauth_uri(
    server_db: LiveServer,
) -> None:
    result = staff_cli(
        server_db, "create", "--username", "ada", "--role", "admin", stdin=STAFF_PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "otpauth://totp/Tipline%3Aada?secret=" in result.stdout
    assert STAFF_PASSWORD not in result.stdout + result.stderr
    listing = staff_cli(server_db, "list").stdout
    row = next(line for line in listing.splitlines() if line.startswith("ada "))
    assert row.split()[:4] == ["ada", "admin", "-", "yes"]
    assert "not confirmed" in row


def test_create_reads_a_password_file(server_db: LiveServer, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(STAFF_PASSWORD + "\n")
    result = staff_cli(
        server_db,
        "create",
        "--username",
        "lee",
        "--role",
        "liaison",
        "--agency",
        "Metro",
        "--password-file",
        str(secret),
    )
    assert result.returncode == 0, result.stderr
    assert "lee" in staff_cli(server_db, "list").stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--username", "bo", "--role", "analyst"], "short\n", "too short"),
        (["--username", "bo", "--role", "analyst"], "password1234\n", "too common"),
        (["--username", "bo", "--role", "liaison"], STAFF_PASSWORD + "\n", "agency"),
        (["--username", "bo", "--role", "janitor"], STAFF_PASSWORD + "\n", "invalid choice"),
    ],
)
def test_create_refuses_bad_input(
    server_db: LiveServer, args: list[str], stdin: str, message: str
) -> None:
    result = staff_cli(server_db, "create", *args, stdin=stdin)
    assert result.returncode != 0
    assert message in result.stderr
    assert "bo " not in staff_cli(server_db, "list").stdout


def test_set_role_and_disable(server_db: LiveServer) -> None:
    created = staff_cli(
        server_db, "create", "--username", "cy", "--role", "analyst", stdin=STAFF_PASSWORD
    )
    assert created.returncode == 0, created.stderr
    assert staff_cli(server_db, "set-role", "--username", "cy", "--role", "auditor").returncode == 0
    assert staff_cli(server_db, "disable", "--username", "cy").returncode == 0
    row = next(
        line for line in staff_cli(server_db, "list").stdout.splitlines() if line.startswith("cy ")
    )
    assert row.split()[:4] == ["cy", "auditor", "-", "no"]
    missing = staff_cli(server_db, "disable", "--username", "nobody")
    assert missing.returncode != 0
    assert "No staff member" in missing.stderr
    audit = subprocess.run(
        [*TIPLINE, "audit", "verify"], env=server_db.env(), capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stderr
