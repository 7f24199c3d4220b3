"""minisign-format signatures, checked against Debian's `minisign` (an independent verifier)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tipline.crypto import minisign
from tipline.crypto.keyfiles import KEY_FILES

needs_minisign = pytest.mark.skipif(
    shutil.which("minisign") is None, reason="Debian's minisign is in APT_PACKAGES"
)


def _sign(data: bytes, comment: str = "timestamp:1\tfile:f.zip") -> str:
    prehash = minisign.Prehash()
    prehash.update(data)
    return minisign.sign_prehashed(
        prehash.digest(), trusted_comment=comment, untrusted_comment="test"
    )


def test_the_referral_key_is_its_own_file_made_by_keys_init() -> None:
    names = {spec.name for spec in KEY_FILES}
    assert {"referral-signing.key", "audit-signing.key"} <= names
    assert minisign.signing_key_path().stat().st_mode & 0o077 == 0


def test_signatures_round_trip_and_name_the_key() -> None:
    signature = _sign(b"package bytes")
    found = minisign.verify([b"package ", b"bytes"], signature, minisign.public_key_file())
    assert found.prehashed
    assert found.key_id == minisign.key_id()
    assert found.trusted_comment == "timestamp:1\tfile:f.zip"


def test_a_changed_file_or_trusted_comment_does_not_verify() -> None:
    signature = _sign(b"package bytes")
    public = minisign.public_key_file()
    with pytest.raises(minisign.MinisignError, match="does not match the file"):
        minisign.verify([b"package bytez"], signature, public)
    lines = signature.splitlines()
    lines[2] = lines[2].replace("f.zip", "g.zip")
    with pytest.raises(minisign.MinisignError, match="trusted comment was changed"):
        minisign.verify([b"package bytes"], "\n".join(lines), public)


@pytest.mark.parametrize(
    "signature",
    ["", "untrusted comment: x\n", "untrusted comment: x\n!!!\ntrusted comment: y\nAAAA\n"],
)
def test_malformed_signatures_are_refused(signature: str) -> None:
    with pytest.raises(minisign.MinisignError):
        minisign.verify([b"x"], signature, minisign.public_key_file())


def test_a_comment_cannot_smuggle_a_line() -> None:
    with pytest.raises(minisign.MinisignError, match="one line"):
        _sign(b"x", comment="ok\ntrusted comment: forged")


@needs_minisign
def test_debians_minisign_verifies_our_signature_and_we_verify_its(tmp_path: Path) -> None:
    data = hashlib.sha512(b"seed").digest() * 1000
    (tmp_path / "f.zip").write_bytes(data)
    (tmp_path / "f.zip.minisig").write_text(_sign(data))
    (tmp_path / "hotline.pub").write_text(minisign.public_key_file())
    checked = subprocess.run(
        [
            "minisign",
            "-V",
            "-H",
            "-p",
            str(tmp_path / "hotline.pub"),
            "-m",
            str(tmp_path / "f.zip"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "timestamp:1\tfile:f.zip" in checked.stdout
    # And the other way: a key pair and signatures (prehashed and legacy) made by minisign.
    subprocess.run(
        ["minisign", "-G", "-W", "-p", str(tmp_path / "m.pub"), "-s", str(tmp_path / "m.key")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for legacy in ([], ["-l"]):
        subprocess.run(
            [
                "minisign",
                "-S",
                *legacy,
                "-s",
                str(tmp_path / "m.key"),
                "-m",
                str(tmp_path / "f.zip"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        found = minisign.verify(
            [data], (tmp_path / "f.zip.minisig").read_text(), (tmp_path / "m.pub").read_text()
        )
        assert found.prehashed is not bool(legacy)
