"""Hash-list exchange between two Tipline instances on loopback (two data directories, two
databases): B pulls A's shared bank over HTTP, picks up a removal incrementally, is idempotent,
and then matches the same photo A's bank knows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.live import TIPLINE, LiveServer
from tests.pdq_data import pdq_data

PDQ_DATA = pdq_data()
ORIGINAL_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present"),
]


def tipline(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*TIPLINE, *args], env=server.env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_second_instance_pulls_a_bank_and_matches_the_same_file(tmp_path: Path) -> None:
    a = LiveServer(root=tmp_path / "a", extra_env={"TIPLINE_SHARED_BANKS": "shared"})
    b = LiveServer(root=tmp_path / "b", extra_env={"TIPLINE_EXCHANGE_ALLOW_HTTP": "1"})
    a.setup()
    b.setup()
    listing = tmp_path / "shared.csv"
    md5s = [f"{n:032x}" for n in range(1, 26)]
    listing.write_text(
        "kind,value,classification\n"
        + f"pdq,{ORIGINAL_PDQ},baseline\n"
        + "".join(f"md5,{v},\n" for v in md5s)
    )
    import_args = ["--bank", "shared", "--format", "csv", str(listing), "--create"]
    tipline(a, "hashes", "import", *import_args, "--classification", "national")
    token = tipline(
        a, "credentials", "create", "--name", "Hotline B", "--kind", "partner", "--scope", "hashes"
    ).stdout.splitlines()[-1]
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    a.start(workers=1)
    try:
        pull = ["hashpull", "--url", a.url, "--bank", "shared", "--into", "from-a"]
        pull += ["--token-file", str(token_file), "--limit", "10"]
        first = tipline(b, *pull).stdout
        assert "pages 3, added 26, updated 0, removed 0" in first
        again = tipline(b, *pull).stdout
        assert "added 0, updated 0, removed 0" in again  # nothing new: idempotent
        tipline(a, "hashes", "remove", "--bank", "shared", "--kind", "md5", "--value", md5s[0])
        # The scheduled run's path: sources from the TIPLINE_HASH_PULLS file.
        config = tmp_path / "pulls.toml"
        config.write_text(
            f'[[pull]]\nurl = "{a.url}"\nbank = "shared"\ninto = "from-a"\n'
            f'token_file = "{token_file}"\n'
        )
        b.extra_env["TIPLINE_HASH_PULLS"] = str(config)
        later = tipline(b, "hashpull", "--configured").stdout
        assert "added 0, updated 0, removed 1" in later
    finally:
        a.stop()
    stats = tipline(b, "hashes", "stats", "--bank", "from-a").stdout
    assert "from-a" in stats
    near = PDQ_DATA / "bridge-mods" / "blur-a-lot.jpg"
    matched = json.loads(tipline(b, "match", str(near)).stdout.splitlines()[0])
    assert [(m["bank"], m["kind"], m["classification"]) for m in matched["matches"]] == [
        ("from-a", "pdq", "baseline")
    ]
