"""Ed25519 signatures for audit checkpoints (``tipline.audit.checkpoints``).

Why a second key beside ``audit.key``: the audit chain's HMAC stops someone with only the
database, but whoever holds ``audit.key`` can delete the tail of the log or rebuild the whole
chain so that it verifies. A checkpoint (entry number and head hash) signed with this key and sent
off the machine fixes the chain up to that point: the signature proves the checkpoint came from
this installation, and a copy held elsewhere cannot be recalled. Verifying needs only the public
key, which is published (``tipline audit pubkey``) so an auditor can check checkpoints with
their own tools — PyNaCl, or ``openssl pkeyutl -verify -rawin`` against the PEM form — without
any secret.

The private key is the 32-byte Ed25519 seed in ``KEY_DIR/audit-signing.key`` (mode 0600, created by
``tipline keys init``). The key id is the first 16 hex digits of SHA-256 of the raw public key, so a
checkpoint names the key that signed it and a verifier holding another key says so plainly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import SigningKey, VerifyKey

from tipline.crypto import keyfiles

SIGNING_KEY_FILE = keyfiles.AUDIT_SIGNING
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 },
# BIT STRING { 32 bytes } }. With it the public key is a PEM file that OpenSSL reads as it is.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_PEM_HEADER = "-----BEGIN PUBLIC KEY-----"
_PEM_FOOTER = "-----END PUBLIC KEY-----"


class SignatureInvalid(Exception):
    """A signature does not verify, is malformed, or a public key cannot be read."""


def signing_key_path(key_file: str = SIGNING_KEY_FILE) -> Path:
    return Path(settings.KEY_DIR) / key_file


@cache
def _signing_key(path: Path) -> SigningKey:
    return SigningKey(keyfiles.load_key(path.parent, path.name))


def public_key(key_file: str = SIGNING_KEY_FILE) -> bytes:
    """This installation's checkpoint public key (raw 32 bytes), or another Ed25519 key's."""
    return bytes(_signing_key(signing_key_path(key_file)).verify_key)


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def sign(message: bytes, key_file: str = SIGNING_KEY_FILE) -> bytes:
    """Detached Ed25519 signature of ``message`` with the checkpoint key (or ``key_file``:
    ``keyfiles.EXCHANGE_SIGNING`` signs documents forwarded to partner hotlines)."""
    return bytes(_signing_key(signing_key_path(key_file)).sign(message).signature)


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Raise SignatureInvalid unless ``signature`` is ``public``'s signature of ``message``."""
    if len(public) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        raise SignatureInvalid("wrong length of key or signature")
    try:
        VerifyKey(public).verify(message, signature)
    except (BadSignatureError, NaclValueError) as exc:
        raise SignatureInvalid("signature does not verify") from exc


def public_key_pem(public: bytes) -> str:
    body = base64.b64encode(_SPKI_PREFIX + public).decode()
    return f"{_PEM_HEADER}\n{body}\n{_PEM_FOOTER}\n"


def public_key_from_pem(text: str) -> bytes:
    """Read an Ed25519 public key written by ``public_key_pem`` (or by OpenSSL)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != _PEM_HEADER or lines[-1] != _PEM_FOOTER:
        raise SignatureInvalid("not a PEM public key")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid("not a PEM public key") from exc
    if len(der) != len(_SPKI_PREFIX) + PUBLIC_KEY_BYTES or not der.startswith(_SPKI_PREFIX):
        raise SignatureInvalid("not an Ed25519 public key")
    return der[len(_SPKI_PREFIX) :]
