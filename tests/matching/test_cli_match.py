"""`tipline match FILE...` after `tipline hashes import`: real subprocesses, a migrated database."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.live import TIPLINE, LiveServer
from tests.pdq_data import pdq_data

PDQ_DATA = pdq_data()
ORIGINAL_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"

pytestmark = pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present")


def tipline(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args], env=server.env(), capture_output=True, text=True, check=False
    )


def test_a_near_duplicate_matches_and_an_unrelated_photo_does_not(tmp_path: Path) -> None:
    server = LiveServer(root=tmp_path)
    server.setup()
    vics = tmp_path / "bank.json"
    vics.write_text(
        json.dumps(
            {
                "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml",
                "value": [
                    {
                        "MediaID": 7,
                        "Category": 1,
                        "AlternativeHashes": [{"HashName": "PDQ", "HashValue": ORIGINAL_PDQ}],
                    }
                ],
            }
        )
    )
    imported = tipline(
        server,
        "hashes",
        "import",
        "--bank",
        "test-bank",
        "--format",
        "vics",
        str(vics),
        "--create",
        "--classification",
        "baseline",
    )
    assert imported.returncode == 0, imported.stderr
    near = PDQ_DATA / "bridge-mods" / "blur-a-lot.jpg"
    other = PDQ_DATA / "misc-images" / "c.png"
    matched = tipline(server, "match", str(near), str(other))
    assert matched.returncode == 0, matched.stderr
    first, second = (json.loads(line) for line in matched.stdout.splitlines())
    assert first["file"] == str(near)
    assert [(m["bank"], m["kind"], m["classification"]) for m in first["matches"]] == [
        ("test-bank", "pdq", "baseline")
    ]
    assert 0 <= first["matches"][0]["distance"] <= 31
    assert second["matches"] == []
    missing = tipline(server, "match", str(tmp_path / "nope.jpg"))
    assert missing.returncode != 0
    assert json.loads(missing.stdout)["error"]
