"""What every backend of the evidence store shares: errors, object ids, the listing's rows."""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

# 128 random bits in hex: an object's name says nothing about its report, file or time.
OBJECT_ID = re.compile(r"\A[0-9a-f]{32}\Z")


class StorageError(Exception):
    """An object id is malformed, escapes the store, or the object is missing."""


class StorageUnavailable(StorageError):
    """The store cannot take or give objects just now: disk full, S3 unreachable or refusing.

    Transient by nature: the caller answers 503 and stores nothing; the same request succeeds
    once space returns or the server is back, without restarting Tipline.
    """


class StoredObject(NamedTuple):
    object_id: str
    modified: float  # seconds since the epoch, for grace periods (orphan sweep, doctor)


def new_object_id() -> str:
    return secrets.token_hex(16)


def check_object_id(object_id: str) -> str:
    if not isinstance(object_id, str) or not OBJECT_ID.match(object_id):
        raise StorageError("malformed object id")
    return object_id
