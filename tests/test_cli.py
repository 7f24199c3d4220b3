"""The `tipline` command: every Tipline subcommand answers --help; keys are created private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

TIPLINE = [sys.executable, "-m", "tipline.cli"]
OUR_COMMANDS = [
    "audit",
    "backup",
    "credentials",
    "doctor",
    "evidence",
    "hash",
    "hashes",
    "keys",
    "match",
    "restore",
    "retention",
    "serve",
    "staff",
    "storage",
    "takedown",
    "triage",
]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, TIPLINE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="tipline.settings"
    )
    return subprocess.run([*TIPLINE, *args], env=env, capture_output=True, text=True, check=False)


def test_top_level_help_lists_our_commands(tmp_path: Path) -> None:
    result = run("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for name in OUR_COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("command", OUR_COMMANDS)
def test_each_subcommand_has_help(tmp_path: Path, command: str) -> None:
    result = run(command, "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "usage: tipline " + command in result.stdout


def test_keys_init_creates_private_keys_and_status_checks_them(tmp_path: Path) -> None:
    assert run("keys", "init", data_dir=tmp_path).returncode == 0
    keys = sorted((tmp_path / "keys").glob("*.key"))
    assert {k.name for k in keys} >= {"kek-1.key", "receipt.key", "django-secret.key"}
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert run("keys", "status", data_dir=tmp_path).returncode == 0
    os.chmod(keys[0], 0o644)
    result = run("keys", "status", data_dir=tmp_path)
    assert result.returncode != 0
    assert "600" in result.stderr + result.stdout
