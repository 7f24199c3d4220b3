"""Contexts of the locker's sealed values and the (de)serialisation of the shared types.

Every sealed value names its locker and record in its context, so a blob copied into another
locker or field fails to open.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from tipline import crypto
from tipline.locker.types import Item, ParseResult


def ctx(locker_id: uuid.UUID, what: str) -> str:
    """The context of a value inside a locker (``locker:<id>:<what>``)."""
    return crypto.context("locker", locker_id, what)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "source": item.source,
        "kind": item.kind,
        "timestamp": _when(item.timestamp),
        "sender": item.sender,
        "text": item.text,
        "conversation": item.conversation,
        "identifiers": list(item.identifiers),
        "attachments": list(item.attachments),
        "meta": dict(item.meta),
    }


def item_from_json(data: dict[str, Any]) -> Item:
    return Item(
        source=data["source"],
        kind=data["kind"],
        timestamp=_parse_when(data["timestamp"]),
        sender=data["sender"],
        text=data["text"],
        conversation=data.get("conversation", ""),
        identifiers=tuple(data.get("identifiers", ())),
        attachments=tuple(data.get("attachments", ())),
        meta=dict(data.get("meta", {})),
    )


def items_blob(result: ParseResult) -> bytes:
    """The parsed items as compact JSON bytes (to be sealed)."""
    return json.dumps(
        [item_to_json(item) for item in result.items], ensure_ascii=False, separators=(",", ":")
    ).encode()


def items_from_blob(data: bytes) -> list[Item]:
    return [item_from_json(entry) for entry in json.loads(data)]
