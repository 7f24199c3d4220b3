"""Encryption to a law-enforcement agency's public key, in the age format (age-encryption.org).

Referral packages carry evidence that only the receiving agency may read, so it is encrypted to
the agency's X25519 age recipient (``age1…``) and decrypted with Debian's ``age`` tool, or any
other age implementation, without Tipline. Tipline holds no agency secret: it can encrypt to an
agency but never decrypt what it sent (``decrypt`` below exists for the verifier and the tests,
with an identity the caller supplies).

Only X25519 recipients are accepted. age also encrypts to SSH keys, but an SSH key is usually a
person's login key, kept on more machines and rotated on another schedule than an agency's
evidence key, and one kind of key keeps validation and the threat model simple. A secret key
pasted by mistake is refused with a message that says so, and is never echoed back.
"""

from __future__ import annotations

from typing import BinaryIO

import pyrage  # type: ignore[import-untyped]  # the Rust extension ships no type hints
from pyrage import x25519

# The Bech32 string of an X25519 recipient is 62 characters; anything longer is not one.
_MAX_RECIPIENT = 100
_SECRET_PREFIX = "AGE-SECRET-KEY-"  # noqa: S105 - a prefix to recognise, not a secret


class InvalidRecipient(ValueError):
    """Not an age X25519 public key (``age1…``). The message never repeats a secret key."""


class AgeError(Exception):
    """Encryption or decryption failed (wrong identity, corrupted or truncated ciphertext)."""


def recipient(text: str) -> str:
    """The canonical form of an age X25519 recipient, or InvalidRecipient saying what is wrong."""
    value = text.strip()
    if value.upper().startswith(_SECRET_PREFIX):
        raise InvalidRecipient(
            "this is an age SECRET key: it must stay with the agency; give the public key "
            "(age1…, printed by `age-keygen -y`)"
        )
    if not value:
        raise InvalidRecipient("no age public key given")
    if len(value) > _MAX_RECIPIENT or not value.isascii() or not value.lower().startswith("age1"):
        raise InvalidRecipient("not an age public key: it starts with age1 (`age-keygen -y`)")
    try:
        parsed = x25519.Recipient.from_str(value.lower())
    except pyrage.RecipientError:
        raise InvalidRecipient("not a valid age public key (its checksum does not match)") from None
    return str(parsed)


def encrypt(plaintext: bytes, to: str) -> bytes:
    """``plaintext`` encrypted to the recipient ``to`` (already checked by ``recipient``)."""
    try:
        ciphertext: bytes = pyrage.encrypt(plaintext, [x25519.Recipient.from_str(to)])
    except (pyrage.RecipientError, pyrage.EncryptError) as exc:
        raise AgeError("age encryption failed") from exc
    return ciphertext


def decrypt(ciphertext: bytes, identity: str) -> bytes:
    """Decrypt with an agency's identity (``AGE-SECRET-KEY-1…``): for verifiers and tests."""
    try:
        key = x25519.Identity.from_str(identity.strip())
        plaintext: bytes = pyrage.decrypt(ciphertext, [key])
    except (pyrage.IdentityError, pyrage.DecryptError) as exc:
        raise AgeError("age decryption failed: wrong key, or the file is damaged") from exc
    return plaintext


def identity_from_file(handle: BinaryIO) -> str:
    """The first identity in an age key file (``age-keygen`` output: comments, then the key)."""
    for line in handle.read(64 * 1024).decode("ascii", "replace").splitlines():
        if line.strip().upper().startswith(_SECRET_PREFIX):
            return line.strip()
    raise AgeError("no AGE-SECRET-KEY line in the identity file")


def encrypt_file(source: str, destination: str, to: str) -> None:
    """Encrypt a file to a recipient, streaming (backups: a database snapshot may be large)."""
    try:
        pyrage.encrypt_file(source, destination, [x25519.Recipient.from_str(to)])
    except (pyrage.RecipientError, pyrage.EncryptError) as exc:
        raise AgeError("age encryption failed") from exc


def decrypt_file(source: str, destination: str, identity: str) -> None:
    """Decrypt a file with an identity (`tipline restore`), streaming."""
    try:
        key = x25519.Identity.from_str(identity.strip())
        pyrage.decrypt_file(source, destination, [key])
    except (pyrage.IdentityError, pyrage.DecryptError) as exc:
        raise AgeError("age decryption failed: wrong key, or the file is damaged") from exc
