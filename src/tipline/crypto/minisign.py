"""Signatures in minisign's format, so that anyone can check a referral package with Debian's
``minisign`` (``minisign -V -p hotline.pub -m package.zip``) and no Tipline at all.

Why a third Ed25519 key (``KEY_DIR/referral-signing.key``), separate from the audit checkpoint
key (``crypto/signing.py``): the two keys are published to different people (auditors, agencies)
and answer different questions. A package signature says "this hotline sent these bytes"; a
checkpoint signature says "the log had this head". Rotating or revoking one must not touch the
other.

The format (https://jedisct1.github.io/minisign/), all of it written here:

* public key file: ``untrusted comment: minisign public key <KEYID>`` then base64 of
  ``"Ed" || key id (8 bytes) || Ed25519 public key (32 bytes)``;
* signature file: an untrusted comment line; base64 of ``"ED" || key id || signature`` where the
  signature is over BLAKE2b-512 of the file (the *prehashed* variant, minisign's default since
  0.8, so a package of any size is signed in one streaming pass); ``trusted comment: …``; and
  base64 of a second signature over ``signature || trusted comment``, which makes the trusted
  comment (timestamp, file name, package id) as authentic as the file itself.

Verification also accepts the legacy ``Ed`` variant (signature over the whole file), as minisign
0.11 does without ``-H``; everything this module signs is ``ED``. The key id is the first eight
bytes of SHA-256 of the public key, so it is stable for a key without storing anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import SigningKey, VerifyKey

from tipline.crypto import keyfiles

SIGNING_KEY_FILE = keyfiles.REFERRAL_SIGNING
PUBLIC_ALGORITHM = b"Ed"
PREHASHED = b"ED"
LEGACY = b"Ed"
KEY_ID_BYTES = 8
_PUBLIC_BYTES = 32
_SIGNATURE_BYTES = 64
_COMMENT = "untrusted comment: "
_TRUSTED = "trusted comment: "
_MAX_COMMENT = 1024


class MinisignError(Exception):
    """A signature or public key cannot be read, or the signature does not verify."""


@dataclass(frozen=True)
class Verified:
    key_id: str
    trusted_comment: str
    prehashed: bool


class Prehash:
    """BLAKE2b-512 of a stream as it is written: the message an ``ED`` signature covers."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=64)

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


def signing_key_path() -> Path:
    return Path(settings.KEY_DIR) / SIGNING_KEY_FILE


@cache
def _signing_key(path: Path) -> SigningKey:
    return SigningKey(keyfiles.load_key(path.parent, path.name))


def _key() -> SigningKey:
    return _signing_key(signing_key_path())


def _key_id(public: bytes) -> bytes:
    return hashlib.sha256(public).digest()[:KEY_ID_BYTES]


def key_id_text(key_id: bytes) -> str:
    """How minisign prints a key id: the 8 bytes as a little-endian number in hex."""
    return f"{int.from_bytes(key_id, 'little'):016X}"


def key_id() -> str:
    return key_id_text(_key_id(bytes(_key().verify_key)))


def public_key_file() -> str:
    """This installation's referral public key as a minisign ``.pub`` file, for agencies."""
    public = bytes(_key().verify_key)
    ident = _key_id(public)
    body = base64.b64encode(PUBLIC_ALGORITHM + ident + public).decode()
    return f"{_COMMENT}minisign public key {key_id_text(ident)}\n{body}\n"


def _one_line(comment: str) -> str:
    if "\n" in comment or "\r" in comment or len(comment) > _MAX_COMMENT:
        raise MinisignError("a comment must be one line of at most 1024 characters")
    return comment


def sign_prehashed(digest: bytes, *, trusted_comment: str, untrusted_comment: str) -> str:
    """The ``.minisig`` text for a file whose BLAKE2b-512 is ``digest`` (see ``Prehash``)."""
    if len(digest) != 64:
        raise MinisignError("a prehashed signature covers a 64-byte BLAKE2b digest")
    key = _key()
    ident = _key_id(bytes(key.verify_key))
    signature = key.sign(digest).signature
    trusted = _one_line(trusted_comment).encode()
    global_signature = key.sign(signature + trusted).signature
    return (
        f"{_COMMENT}{_one_line(untrusted_comment)}\n"
        f"{base64.b64encode(PREHASHED + ident + signature).decode()}\n"
        f"{_TRUSTED}{trusted.decode()}\n"
        f"{base64.b64encode(global_signature).decode()}\n"
    )


def _b64(line: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(line.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MinisignError(f"the {what} is not base64") from None
    if len(raw) != size:
        raise MinisignError(f"the {what} has the wrong length")
    return raw


def read_public_key(text: str) -> tuple[bytes, bytes]:
    """(key id, Ed25519 public key) from a minisign ``.pub`` file or its bare base64 line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0].startswith(_COMMENT):
        lines = lines[1:]
    if len(lines) != 1:
        raise MinisignError("not a minisign public key file")
    raw = _b64(lines[0], 2 + KEY_ID_BYTES + _PUBLIC_BYTES, "public key")
    if raw[:2] != PUBLIC_ALGORITHM:
        raise MinisignError("not an Ed25519 minisign public key")
    return raw[2 : 2 + KEY_ID_BYTES], raw[2 + KEY_ID_BYTES :]


def verify(chunks: Iterable[bytes], signature_text: str, public_key_text: str) -> Verified:
    """Check a ``.minisig`` against the file's bytes (given in chunks) and a public key file.

    Raises MinisignError naming what is wrong: a malformed file, another key, or a signature
    that does not verify (the file or the trusted comment was changed).
    """
    ident, public = read_public_key(public_key_text)
    lines = signature_text.splitlines()
    if len(lines) < 4 or not lines[0].startswith(_COMMENT) or not lines[2].startswith(_TRUSTED):
        raise MinisignError("not a minisign signature file")
    raw = _b64(lines[1], 2 + KEY_ID_BYTES + _SIGNATURE_BYTES, "signature")
    algorithm, signed_by, signature = raw[:2], raw[2 : 2 + KEY_ID_BYTES], raw[2 + KEY_ID_BYTES :]
    if algorithm not in (PREHASHED, LEGACY):
        raise MinisignError("unknown signature algorithm")
    if signed_by != ident:
        raise MinisignError(
            f"signed with key {key_id_text(signed_by)}, not with {key_id_text(ident)}"
        )
    if algorithm == PREHASHED:
        prehash = Prehash()
        for chunk in chunks:
            prehash.update(chunk)
        message = prehash.digest()
    else:
        message = b"".join(chunks)
    trusted = lines[2][len(_TRUSTED) :].encode()
    global_signature = _b64(lines[3], _SIGNATURE_BYTES, "trusted comment signature")
    verify_key = VerifyKey(public)
    try:
        verify_key.verify(message, signature)
    except (BadSignatureError, NaclValueError):
        raise MinisignError("the signature does not match the file") from None
    try:
        verify_key.verify(signature + trusted, global_signature)
    except (BadSignatureError, NaclValueError):
        raise MinisignError("the trusted comment was changed") from None
    return Verified(
        key_id=key_id_text(ident),
        trusted_comment=trusted.decode(),
        prehashed=algorithm == PREHASHED,
    )
