"""`tipline hash FILE...`: one JSON object per file; exit non-zero only for unreadable files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image

TIPLINE = [sys.executable, "-m", "tipline.cli"]


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, TIPLINE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="tipline.settings"
    )
    return subprocess.run([*TIPLINE, *args], env=env, capture_output=True, text=True, check=False)


def _lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def _png(tmp_path: Path) -> Path:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((300, 200)).convert("RGB").save(out, format="PNG")
    path = tmp_path / "gradient.png"
    path.write_bytes(out.getvalue())
    return path


def test_image_and_other_file(tmp_path: Path) -> None:
    image = _png(tmp_path)
    text = tmp_path / "note.txt"
    text.write_bytes(b"not an image\n")
    result = run("hash", str(image), str(text), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    first, second = _lines(result)
    assert first["file"] == str(image)
    assert first["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert first["md5"] == hashlib.md5(image.read_bytes(), usedforsecurity=False).hexdigest()
    assert first["sha1"] == hashlib.sha1(image.read_bytes(), usedforsecurity=False).hexdigest()
    assert len(first["pdq"]) == 64
    assert int(first["pdq"], 16) >= 0
    assert isinstance(first["pdq_quality"], int)
    assert "error" not in first
    assert second["file"] == str(text)
    assert second["sha256"] == hashlib.sha256(b"not an image\n").hexdigest()
    assert "pdq" not in second
    assert "error" not in second


def test_damaged_image_reports_error_but_succeeds(tmp_path: Path) -> None:
    image = _png(tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(image.read_bytes()[:200])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    result = run("hash", str(broken), str(empty), data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    damaged, zero = _lines(result)
    assert "damaged or truncated" in damaged["error"]
    assert damaged["sha256"] == hashlib.sha256(image.read_bytes()[:200]).hexdigest()
    assert "pdq" not in damaged
    assert zero["error"] == "empty file"


def test_missing_file_fails_after_hashing_the_others(tmp_path: Path) -> None:
    image = _png(tmp_path)
    missing = tmp_path / "missing.jpg"
    result = run("hash", str(missing), str(image), data_dir=tmp_path / "data")
    assert result.returncode != 0
    gone, present = _lines(result)
    assert gone == {"file": str(missing), "error": "No such file or directory"}
    assert len(present["pdq"]) == 64
    assert "could not be read" in result.stderr
