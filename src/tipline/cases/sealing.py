"""Per-report keys and sealed JSON: the bridge between case models and tipline.crypto.

Every sealed value names its context (record id and field), so a blob cannot be replayed into
another report or field. Keys are unwrapped per call and never cached beyond it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tipline import crypto
from tipline.cases.models import ReportKey
from tipline.cases.states import KeyPurpose
from tipline.crypto.box import KEK_ID


class KeyDestroyed(Exception):
    """The report's data key was shredded: its sealed data no longer exists in readable form."""


def new_report_keys(report_id: uuid.UUID) -> tuple[bytes, bytes, list[ReportKey]]:
    """Fresh content and contact keys plus the unsaved rows that store them wrapped."""
    content, contact = crypto.new_data_key(), crypto.new_data_key()
    rows = [
        ReportKey(
            report_id=report_id,
            purpose=purpose,
            wrapped=crypto.wrap_data_key(key, context=f"report:{report_id}:{purpose}"),
            kek_id=KEK_ID,
        )
        for purpose, key in ((KeyPurpose.CONTENT, content), (KeyPurpose.CONTACT, contact))
    ]
    return content, contact, rows


def report_key(report_id: uuid.UUID, purpose: KeyPurpose) -> bytes:
    row = ReportKey.objects.filter(report_id=report_id, purpose=purpose).first()
    if row is None:
        raise KeyDestroyed(f"{purpose} key of report {report_id} was destroyed")
    return crypto.unwrap_data_key(bytes(row.wrapped), context=f"report:{report_id}:{purpose}")


def seal_json(key: bytes, value: Any, *, context: str) -> bytes:
    return crypto.seal(key, json.dumps(value, ensure_ascii=False).encode(), context=context)


def open_json(key: bytes, blob: bytes | memoryview, *, context: str) -> Any:
    return json.loads(crypto.open_sealed(key, bytes(blob), context=context))


def seal_text(key: bytes, text: str, *, context: str) -> bytes:
    return crypto.seal(key, text.encode(), context=context)


def open_text(key: bytes, blob: bytes | memoryview, *, context: str) -> str:
    return crypto.open_sealed(key, bytes(blob), context=context).decode()
