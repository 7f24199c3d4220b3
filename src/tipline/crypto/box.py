"""Authenticated encryption with a versioned header, key wrapping and keyed digests."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from nacl import bindings
from nacl.exceptions import CryptoError

from tipline.crypto import keyfiles

MAGIC = b"TL"
VERSION_XCHACHA = 1
HEADER = MAGIC + bytes([VERSION_XCHACHA])
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
TAG_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
KEK_ID = keyfiles.KEK_ID


class DecryptionError(Exception):
    """Ciphertext is truncated, corrupted, from another context, or its key was destroyed.

    The message never includes key or plaintext material.
    """


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, *, context: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    aad = HEADER + context.encode()
    ct = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    return HEADER + nonce + ct


def open_sealed(key: bytes, blob: bytes, *, context: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < len(HEADER) + NONCE_BYTES + TAG_BYTES or blob[: len(MAGIC)] != MAGIC:
        raise DecryptionError("not a sealed blob")
    if blob[len(MAGIC)] != VERSION_XCHACHA:
        raise DecryptionError(f"unknown ciphertext version {blob[len(MAGIC)]}")
    nonce = blob[len(HEADER) : len(HEADER) + NONCE_BYTES]
    aad = HEADER + context.encode()
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                blob[len(HEADER) + NONCE_BYTES :], aad, nonce, key
            )
        )
    except CryptoError as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


def _key(name: str) -> bytes:
    """A key file's bytes: read (once per process) and checked, never created here."""
    return keyfiles.load_key(Path(settings.KEY_DIR), name)


# A blob wrapped by KEK 1 is a plain sealed blob (``TL``…), as before rotation existed. A blob
# wrapped by a later KEK starts with ``TK`` and the KEK's number (two bytes, big-endian), then
# the sealed blob; the number only chooses the key to try, so altering it fails authentication.
_KEK_MAGIC = b"TK"
_KEK_PREFIX = len(_KEK_MAGIC) + 2


def _key_dir() -> Path:
    return Path(settings.KEY_DIR)


def active_kek_id() -> int:
    """The KEK that wraps new data keys (the newest recorded; see `tipline keys rotate`)."""
    return keyfiles.active_kek_id(_key_dir())


def _kek(kek_id: int, in_use: list[int] | None = None) -> bytes:
    # A KEK that a rotation has destroyed is refused even if this process still holds it.
    if kek_id not in (keyfiles.current_kek_ids(_key_dir()) if in_use is None else in_use):
        raise DecryptionError(f"key-encryption key {kek_id} is not in use (destroyed or unknown)")
    return _key(keyfiles.kek_name(kek_id))


def wrapped_kek_id(wrapped: bytes | memoryview) -> int:
    """Which KEK wrapped this blob (read from the blob; nothing is decrypted)."""
    blob = bytes(wrapped[:_KEK_PREFIX])
    if blob[: len(_KEK_MAGIC)] == _KEK_MAGIC and len(blob) == _KEK_PREFIX:
        return int.from_bytes(blob[len(_KEK_MAGIC) :], "big")
    return KEK_ID


def _wrap(plaintext: bytes, context: str, kek_id: int | None) -> bytes:
    # One look at the manifest (a stat) for both the choice and the check: every report wraps
    # two data keys, and a stat waits behind other processes' fsyncs on a busy disk (issue 19).
    in_use = keyfiles.current_kek_ids(_key_dir())
    kek_id = in_use[-1] if kek_id is None else kek_id
    sealed = seal(_kek(kek_id, in_use), plaintext, context=context)
    if kek_id == KEK_ID:
        return sealed
    return _KEK_MAGIC + kek_id.to_bytes(2, "big") + sealed


def _unwrap(wrapped: bytes, context: str) -> bytes:
    wrapped = bytes(wrapped)
    kek_id = wrapped_kek_id(wrapped)
    body = wrapped if kek_id == KEK_ID else wrapped[_KEK_PREFIX:]
    return open_sealed(_kek(kek_id), body, context=context)


def wrap_data_key(data_key: bytes, *, context: str, kek_id: int | None = None) -> bytes:
    """``data_key`` wrapped by the active KEK (or ``kek_id``); the blob records which one."""
    return _wrap(data_key, "wrap:" + context, kek_id)


def unwrap_data_key(wrapped: bytes, *, context: str) -> bytes:
    return _unwrap(wrapped, "wrap:" + context)


def seal_secret(secret: bytes, *, context: str, kek_id: int | None = None) -> bytes:
    """An installation's own secret (a token a partner issued us) sealed under the KEK."""
    return _wrap(secret, "secret:" + context, kek_id)


def open_secret(blob: bytes, *, context: str) -> bytes:
    return _unwrap(blob, "secret:" + context)


def check_wrapped(wrapped: bytes, *, context: str, kind: str) -> None:
    """Raise DecryptionError unless the wrapped value opens (for `tipline doctor`)."""
    if kind not in ("wrap", "secret"):
        raise ValueError(f"unknown wrapped kind {kind!r}")
    _unwrap(wrapped, f"{kind}:{context}")


def rewrap(wrapped: bytes, *, context: str, kind: str, kek_id: int) -> bytes:
    """A wrapped data key (``kind`` "wrap") or secret ("secret") re-wrapped under ``kek_id``.

    For `tipline keys rotate` only: the plaintext key exists in memory only inside this call.
    """
    if kind not in ("wrap", "secret"):
        raise ValueError(f"unknown wrapped kind {kind!r}")
    label = f"{kind}:{context}"
    return _wrap(_unwrap(wrapped, label), label, kek_id)


def receipt_digest(normalised_receipt: str) -> str:
    """Keyed digest used to find a report by its receipt.

    A slow hash adds nothing here: receipts carry 80 bits of entropy, so even an attacker who had
    the key could not enumerate them, and without the key (outside the database) the digests are
    meaningless. A fast keyed hash keeps look-ups constant-time and cheap at intake volume.
    """
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        normalised_receipt.encode(), key=key, digest_size=32, person=b"tipline-receipt"
    ).hexdigest()


def submission_digest(token: str) -> str:
    """Keyed digest of a one-time submission token (web form hidden field or Idempotency-Key)."""
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        token.encode(), key=key, digest_size=32, person=b"tipline-submit"
    ).hexdigest()


def submission_key(token: str) -> bytes:
    """Key that seals a receipt for replay to whoever holds the submission token.

    It needs both the token (held only by the submitting browser or app) and the receipt key
    (outside the database), so a copy of the database cannot recover the receipt.
    """
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        token.encode(), key=key, digest_size=32, person=b"tipline-subkey"
    ).digest()


def identifier_digest(kind: str, canonical: str) -> str:
    """Keyed digest of a canonical identifier (URL, handle, e-mail, phone, file hash).

    Reports are linked by equal digests, so the identifiers themselves never sit in a readable
    column. Identifiers have little entropy (a phone number), so the digest protects them only
    while the key stays out of the database's reach; it shares the receipt key's file, separated
    by BLAKE2b personalisation.
    """
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        f"{kind}\n{canonical}".encode(), key=key, digest_size=32, person=b"tipline-ident"
    ).hexdigest()


def credential_digest(token: str) -> str:
    """Keyed digest of an API token (tipline.partners): the only form in which it is stored.

    Tokens carry 256 random bits, so a fast keyed hash is enough (as for receipts); the key file
    outside the database means a copied database yields no usable credential.
    """
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        token.encode(), key=key, digest_size=32, person=b"tipline-apitoken"
    ).hexdigest()


def webhook_secret(nonce: str) -> str:
    """A partner's webhook signing secret, derived from a stored nonce and a key outside the
    database: the database alone cannot sign a delivery."""
    key = _key(keyfiles.RECEIPT)
    return hashlib.blake2b(
        nonce.encode(), key=key, digest_size=32, person=b"tipline-webhook"
    ).hexdigest()


def audit_key() -> bytes:
    """Key of the audit log's HMAC chain: without it a chain cannot be rewritten to fit."""
    return _key(keyfiles.AUDIT)
