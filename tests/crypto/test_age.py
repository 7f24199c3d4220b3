"""Agency keys in the age format: validation of what an administrator pastes, and round trips
through Debian's `age` (an independent implementation)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pyrage import x25519  # type: ignore[import-untyped]

from tipline.crypto import age


class _Key:
    def __init__(self) -> None:
        identity = x25519.Identity.generate()
        self.identity, self.recipient = str(identity), str(identity.to_public())


def agency_key() -> _Key:
    return _Key()


def test_a_public_key_is_accepted_and_canonical() -> None:
    key = agency_key()
    assert age.recipient(f"  {key.recipient.upper()}\n") == key.recipient


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no age public key"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "starts with age1"),
        ("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "checksum"),
        ("age1" + "x" * 500, "starts with age1"),
        ("age1\u00e9" + "q" * 57, "starts with age1"),
        ("-----BEGIN PGP PUBLIC KEY BLOCK-----", "starts with age1"),
    ],
)
def test_what_is_not_an_age_public_key_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(age.InvalidRecipient, match=reason):
        age.recipient(text)


def test_a_secret_key_pasted_by_mistake_is_refused_and_not_repeated() -> None:
    secret = agency_key().identity
    with pytest.raises(age.InvalidRecipient) as refused:
        age.recipient(secret)
    assert "SECRET" in str(refused.value)
    assert secret[15:] not in str(refused.value)


def test_a_changed_byte_or_the_wrong_key_does_not_decrypt() -> None:
    key, other = agency_key(), agency_key()
    sealed = bytearray(age.encrypt(b"evidence bytes", key.recipient))
    assert age.decrypt(bytes(sealed), key.identity) == b"evidence bytes"
    with pytest.raises(age.AgeError):
        age.decrypt(bytes(sealed), other.identity)
    sealed[-3] ^= 1
    with pytest.raises(age.AgeError):
        age.decrypt(bytes(sealed), key.identity)


@pytest.mark.skipif(shutil.which("age") is None, reason="Debian's age is in APT_PACKAGES")
def test_debians_age_decrypts_what_we_encrypt(tmp_path: Path) -> None:
    key = agency_key()
    (tmp_path / "agency.key").write_text(key.identity + "\n")
    (tmp_path / "file.age").write_bytes(age.encrypt(b"\x00\x01 evidence", key.recipient))
    plain = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "agency.key"), str(tmp_path / "file.age")],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    assert plain == b"\x00\x01 evidence"
