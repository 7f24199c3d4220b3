"""`tipline evidence parse FILE`: format line, one JSON object per item, refusals on stderr."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.locker.parsers.conftest import FIXTURES


def run_parse(path: Path) -> tuple[list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evidence", "parse", str(path), stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_prints_format_then_one_json_object_per_item() -> None:
    lines, err = run_parse(FIXTURES / "WhatsApp Chat - Sam Carter.zip")
    assert lines[0] == "format: whatsapp"
    rows = [json.loads(line) for line in lines[1:]]
    assert len(rows) == 12
    assert rows[1] == {
        "timestamp": "2024-03-12T09:15:40",
        "sender": "Sam Carter",
        "text": "Why are you ignoring me",
        "source": "whatsapp",
        "kind": "message",
        "conversation": "Sam Carter",
    }
    assert rows[7]["attachments"] == ["00000012-PHOTO-2024-03-14-21-15-02.png"]
    assert err == ""


def test_aware_timestamps_carry_their_offset() -> None:
    lines, _ = run_parse(FIXTURES / "harassment.eml")
    assert lines[0] == "format: eml"
    row = json.loads(lines[1])
    assert row["timestamp"] == "2024-03-14T18:50:05+00:00"
    assert row["sender"] == "s.carter.1987@example.net"
    assert row["conversation"] == "You can't hide from me"


def test_warnings_go_to_stderr(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(b"03/04/2024, 10:00 - Sam: one\n05/04/2024, 10:00 - Sam: caf\xe9\n")
    lines, err = run_parse(path)
    assert lines[0] == "format: whatsapp"
    assert "warning:" in err
    assert "UTF-8" in err


def test_refused_file_raises_with_the_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"nothing to see\n")
    with pytest.raises(CommandError, match="We do not recognise this file"):
        run_parse(path)
    with pytest.raises(CommandError, match="cannot read"):
        run_parse(tmp_path / "missing.txt")


def test_exit_status_and_a_200_mb_file_refused_unread(tmp_path: Path) -> None:
    """Through the real `tipline` entry point; the 200 MB file is sparse, so it costs nothing."""
    big = tmp_path / "WhatsApp Chat with Sam.txt"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    command = [sys.executable, "-m", "tipline.cli", "evidence", "parse"]
    refused = subprocess.run(
        [*command, str(big)], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "200 MB" in refused.stderr
    assert "largest file we import is 100 MB" in refused.stderr
    assert refused.stdout == ""


def test_every_level_has_help() -> None:
    from tipline.locker.management.commands.evidence import Command

    parser = Command().create_parser("tipline", "evidence")
    assert "parse" in parser.format_help()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["parse", "--help"])
    assert exited.value.code == 0
