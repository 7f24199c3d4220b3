"""The exchange document (version 1): encoding, signature and strict reading.

The body is UTF-8 JSON (``data/exchange-v1.schema.json``, shipped and documented in
docs/exchange.md). It is signed as the exact bytes sent, so no canonical form has to be agreed
on: the ``Tipline-Signature`` header holds ``keyid=<16 hex>,ed25519=<base64>``, the key id being
the first 16 hex digits of SHA-256 of the sender's raw Ed25519 public key. A receiver checks the
signature against the key it configured for that partner *before* parsing anything else, so an
unsigned or forged body costs it one signature check.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # ships no type hints

from tipline.crypto import keyfiles, signing

FORMAT = "tipline-exchange"
VERSION = 1
SIGNATURE_HEADER = "Tipline-Signature"
# Ten files of at most 1 MB each, base64-encoded, plus the rest: anything larger is refused
# before it is read.
MAX_BODY = 16 * 1024 * 1024
SCHEMA_PATH = Path(__file__).parent / "data" / "exchange-v1.schema.json"


class DocumentRefused(ValueError):
    """A document that is unsigned, forged, malformed or not valid: the reason, for the sender."""


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def our_public_key() -> bytes:
    return signing.public_key(keyfiles.EXCHANGE_SIGNING)


def signature_header(body: bytes) -> str:
    signature = signing.sign(body, keyfiles.EXCHANGE_SIGNING)
    key_id = signing.key_id(our_public_key())
    return f"keyid={key_id},ed25519={base64.b64encode(signature).decode()}"


def public_key_from_hex(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise DocumentRefused("the public key is not hex") from exc
    if len(raw) != signing.PUBLIC_KEY_BYTES:
        raise DocumentRefused("an Ed25519 public key is 32 bytes (64 hex digits)")
    return raw


def verify_signature(header: str, body: bytes, public_key_hex: str) -> None:
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise DocumentRefused(f"{SIGNATURE_HEADER} is malformed")
        fields[name] = value
    if set(fields) != {"keyid", "ed25519"}:
        raise DocumentRefused(f"{SIGNATURE_HEADER} needs keyid and ed25519")
    public = public_key_from_hex(public_key_hex)
    if fields["keyid"] != signing.key_id(public):
        raise DocumentRefused("signed with a key this hotline does not know for you")
    try:
        signature = base64.b64decode(fields["ed25519"], validate=True)
        signing.verify(public, body, signature)
    except (binascii.Error, ValueError, signing.SignatureInvalid) as exc:
        raise DocumentRefused("the signature does not verify") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentRefused(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _check_text(value: Any) -> None:
    # JSON may spell lone surrogates as \ud800 escapes; they are not text and no database stores
    # them, so they are refused here rather than failing later.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DocumentRefused("the document holds text that is not Unicode") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _check_formats(document: dict[str, Any]) -> None:
    stamps = [document["sent_at"]]
    if "outcome" in document:
        stamps.append(document["outcome"]["at"])
    try:
        uuid.UUID(document["id"])
        for stamp in stamps:
            if datetime.fromisoformat(stamp).tzinfo is None:
                raise DocumentRefused("times must carry their offset")
        for item in document.get("report", {}).get("files", []):
            base64.b64decode(item["data"], validate=True)
    except (ValueError, binascii.Error) as exc:
        if isinstance(exc, DocumentRefused):
            raise
        raise DocumentRefused("an id, time or file is not in its stated format") from exc


def parse(body: bytes) -> dict[str, Any]:
    """The document in ``body``, checked against the schema; DocumentRefused says why not."""
    if len(body) > MAX_BODY:
        raise DocumentRefused("the document is too large")
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DocumentRefused("the body is not a JSON document") from exc
    _check_text(document)
    errors = sorted(
        jsonschema.Draft202012Validator(schema()).iter_errors(document), key=lambda e: e.path
    )
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(document)"
        raise DocumentRefused(f"not a valid exchange document at {where}: {first.message[:200]}")
    _check_formats(document)
    loaded: dict[str, Any] = document
    return loaded
