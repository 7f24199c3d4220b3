"""`tipline hashes …` as an operator runs it: a real subprocess against a migrated database."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from tests.live import TIPLINE, LiveServer

DATA = Path(__file__).parent / "data"
PDQ_A = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"


@pytest.fixture(scope="module")
def server_db(tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """Keys and a migrated database of their own (the server itself is not started)."""
    server = LiveServer(root=tmp_path_factory.mktemp("hashes-cli"))
    server.setup()
    return server


def hashes(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, "hashes", *args],
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("action", ["import", "export", "stats", "remove"])
def test_each_action_has_help(server_db: LiveServer, action: str) -> None:
    result = hashes(server_db, action, "--help")
    assert result.returncode == 0
    assert f"usage: tipline hashes {action}" in result.stdout


def test_import_needs_create_for_a_new_bank(server_db: LiveServer) -> None:
    result = hashes(
        server_db, "import", "--bank", "nobank", "--format", "csv", str(DATA / "hashes.csv")
    )
    assert result.returncode != 0
    assert "add --create" in result.stderr


def test_import_stats_remove_export_as_an_operator_would(
    server_db: LiveServer, tmp_path: Path
) -> None:
    source = DATA / "te-pdq.tsv"
    args = ["import", "--bank", "te", "--format", "pdq-tsv", str(source), "--create"]
    result = hashes(server_db, "--actor", "ops1", *args, "--classification", "baseline")
    assert result.returncode == 0, result.stderr
    assert "created bank te (baseline)" in result.stdout
    assert "added 4, updated 0, unchanged 0, errors 3" in result.stdout
    assert "line 7: PDQ value has 62 hex digits, expected 64" in result.stderr
    size = source.stat().st_size
    assert f"processed {size:,} / {size:,} bytes (100%)" in result.stderr
    assert PDQ_A not in result.stdout + result.stderr

    again = hashes(server_db, *args)
    assert "added 0, updated 0, unchanged 4" in again.stdout

    stats = hashes(server_db, "stats", "--bank", "te")
    assert stats.returncode == 0, stats.stderr
    row = next(line for line in stats.stdout.splitlines() if line.startswith("te "))
    assert row.split() == ["te", "pdq", "baseline", "4", "0"]

    removed = hashes(server_db, "remove", "--bank", "te", "--value", PDQ_A.upper())
    assert removed.returncode == 0, removed.stderr
    missing = hashes(server_db, "remove", "--bank", "te", "--value", PDQ_A)
    assert missing.returncode != 0
    assert "no active entry" in missing.stderr
    assert "4 active" not in hashes(server_db, "stats").stdout

    out = tmp_path / "te.json"
    exported = hashes(server_db, "export", "--bank", "te", "--format", "vics", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(json.loads(out.read_text())["value"]) == 3
    refused = hashes(server_db, "export", "--bank", "te", "--format", "vics", "--out", str(out))
    assert refused.returncode != 0  # never overwrites

    to_stdout = hashes(server_db, "export", "--bank", "te", "--format", "csv")
    assert to_stdout.stdout.splitlines()[0] == "kind,value,classification,quality,metadata"
    assert len(to_stdout.stdout.splitlines()) == 4

    verify = subprocess.run(
        [*TIPLINE, "audit", "verify"],
        env=server_db.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr


def test_an_xml_bomb_is_refused_with_a_clear_error(server_db: LiveServer) -> None:
    result = hashes(
        server_db,
        "import",
        "--bank",
        "ncmec",
        "--create",
        "--format",
        "ncmec-xml",
        str(DATA / "xml-bomb.xml"),
    )
    assert result.returncode != 0
    assert "import refused: the XML declares a DTD" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_truncated_vics_file_is_refused(server_db: LiveServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"value": [')
    result = hashes(server_db, "import", "--bank", "v", "--create", "--format", "vics", str(bad))
    assert result.returncode != 0
    assert "import refused: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
