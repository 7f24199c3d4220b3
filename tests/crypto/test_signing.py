"""Checkpoint signatures: Ed25519 under a key file of their own, a public key OpenSSL can read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.conf import LazySettings

from tipline.crypto import signing


def test_a_signature_verifies_only_for_its_message_and_key() -> None:
    message = b"tipline-audit-checkpoint v1 seq=1"
    signature = signing.sign(message)
    public = signing.public_key()
    signing.verify(public, message, signature)
    for bad_message, bad_signature, bad_key in (
        (message + b"0", signature, public),
        (message, signature[:-1] + bytes([signature[-1] ^ 1]), public),
        (message, signature[:10], public),
        (message, signature, public[:31]),
        (message, signature, bytes(32)),
    ):
        with pytest.raises(signing.SignatureInvalid):
            signing.verify(bad_key, bad_message, bad_signature)


def test_the_key_lives_in_its_own_file_with_owner_only_mode(settings: LazySettings) -> None:
    signing.public_key()
    path = Path(settings.KEY_DIR) / "audit-signing.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_bytes()) == 32
    assert len(signing.key_id(signing.public_key())) == 16


def test_the_published_key_round_trips_and_openssl_reads_it(tmp_path: Path) -> None:
    public = signing.public_key()
    pem = signing.public_key_pem(public)
    assert signing.public_key_from_pem(pem) == public
    (tmp_path / "key.pem").write_text(pem)
    shown = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(tmp_path / "key.pem"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ED25519 Public-Key" in shown.stdout


def test_other_keys_and_junk_are_not_taken_for_a_public_key(tmp_path: Path) -> None:
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "X25519", "-out", str(tmp_path / "x.key")],
        check=True,
        capture_output=True,
    )
    x25519 = subprocess.run(
        ["openssl", "pkey", "-in", str(tmp_path / "x.key"), "-pubout"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for text in (x25519, "", "hello", "-----BEGIN PUBLIC KEY-----\n***\n-----END PUBLIC KEY-----"):
        with pytest.raises(signing.SignatureInvalid):
            signing.public_key_from_pem(text)
