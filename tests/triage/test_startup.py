"""A rule file with a mistake stops the platform at start, naming the file, line and reason."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.live import TIPLINE
from tipline.crypto.keyfiles import init_keys

BROKEN = """\
language: local
version: 1
negators: [not]
rules:
  - id: local.threat.example
    version: 1
    family: threats_of_doom
    language: local
    description: A family that does not exist.
    source: test
    points: 10
    phrases: [example phrase]
"""


def test_a_broken_local_rule_file_stops_the_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "local.yaml").write_text(BROKEN)
    env = dict(
        os.environ,
        TIPLINE_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="tipline.settings",
        TIPLINE_TRIAGE_RULES_DIR=str(rules),
    )
    env.pop("DATABASE_URL", None)
    init_keys(tmp_path / "data" / "keys", stored_data=None)  # `tipline keys init`
    started = subprocess.run(
        [*TIPLINE, "check"], env=env, capture_output=True, text=True, check=False
    )
    assert started.returncode != 0
    assert f"{rules / 'local.yaml'}:7:" in started.stderr
    assert "family" in started.stderr
    # Without the broken file the same start succeeds.
    (rules / "local.yaml").unlink()
    assert subprocess.run([*TIPLINE, "check"], env=env, capture_output=True).returncode == 0
