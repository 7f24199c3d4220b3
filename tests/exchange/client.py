"""A partner hotline's side of the exchange, written from docs/exchange.md and the shipped JSON
Schema only: it builds and signs documents with PyNaCl, without Tipline's own exchange code."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nacl.signing import SigningKey


@dataclass
class PartnerSide:
    name: str = "hotline-fr"
    key: SigningKey = field(default_factory=SigningKey.generate)

    @property
    def public_hex(self) -> str:
        return bytes(self.key.verify_key).hex()

    def sign(self, body: bytes) -> str:
        key_id = hashlib.sha256(bytes(self.key.verify_key)).hexdigest()[:16]
        signature = base64.b64encode(self.key.sign(body).signature).decode()
        return f"keyid={key_id},ed25519={signature}"

    def envelope(self, kind: str) -> dict[str, Any]:
        return {
            "format": "tipline-exchange",
            "version": 1,
            "kind": kind,
            "id": str(uuid.uuid4()),
            "sent_at": datetime.now(UTC).isoformat(),
            "sender": {"hotline": self.name, "country": "FR"},
        }

    def report(self, reference: str, urls: list[str], **extra: Any) -> dict[str, Any]:
        body = {
            "reference": reference,
            "category": "csam",
            "hosting_country": "GB",
            "urls": urls,
            "hashes": extra.pop("hashes", []),
            "classification": {"legal_assessment": "baseline", "severity": "A"},
            **extra,
        }
        return {**self.envelope("report"), "report": body}

    def outcome(
        self, reference: str, your_reference: str, state: str, outcome: str = ""
    ) -> dict[str, Any]:
        at = datetime.now(UTC).isoformat()
        body = {
            "reference": reference,
            "your_reference": your_reference,
            "state": state,
            "outcome": outcome,
            "at": at,
        }
        return {**self.envelope("outcome"), "outcome": body}


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()
