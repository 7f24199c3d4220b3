"""Sealed JSON and text, and the one way to name what a sealed value is.

Every sealed value is bound to a *context* naming its kind, record and field
(``file:<uuid>:data``, ``locker:<uuid>:items``), authenticated as associated data, so a blob copied
into another record or field fails to open. Contexts are built only by :func:`context`, never
spelled by hand, so two call sites cannot disagree about the spelling of the same field.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tipline.crypto.box import open_sealed, seal


def context(kind: str, record: uuid.UUID | str, field: str | None = None) -> str:
    """``kind:record`` or ``kind:record:field``; the record is an id or a digest, never content."""
    return f"{kind}:{record}" if field is None else f"{kind}:{record}:{field}"


def seal_json(key: bytes, value: Any, *, context: str) -> bytes:
    return seal(key, json.dumps(value, ensure_ascii=False).encode(), context=context)


def open_json(key: bytes, blob: bytes | memoryview, *, context: str) -> Any:
    return json.loads(open_sealed(key, bytes(blob), context=context))


def seal_text(key: bytes, text: str, *, context: str) -> bytes:
    return seal(key, text.encode(), context=context)


def open_text(key: bytes, blob: bytes | memoryview, *, context: str) -> str:
    return open_sealed(key, bytes(blob), context=context).decode()
