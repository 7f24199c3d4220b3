"""Encrypted evidence store: the whole API the rest of Tipline uses.

Only ciphertext is handed to the store; it never sees plaintext or keys. Objects are named by a
random 128-bit identifier generated here, never by anything a user supplied. Two backends, chosen
by ``TIPLINE_STORAGE``: ``local`` (the default: files under EVIDENCE_DIR, every path checked to
resolve inside the root, written via a temporary file, fsync and rename) and ``s3`` (an
S3-compatible bucket through django-storages and boto3; tipline.storage.s3).

The API, the same for both backends:

* ``write_object(ciphertext) -> id`` — durable when it returns (fsync + rename; a completed PUT).
* ``read_object(id) -> bytes`` and ``delete_object(id)`` (deleting a missing object is no error).
* ``list_objects()`` — every stored object as ``StoredObject(object_id, modified)``: what the
  orphan sweep, `tipline doctor` and backups compare with the database's rows.
* ``restore_object(id, ciphertext)`` — put an object back under its original id (`tipline
  restore`); never over an existing one.
* ``pending_writes()`` — objects written for one database transaction, deleted again if it fails.
* ``StorageError`` (malformed id, missing object) and its subclass ``StorageUnavailable`` (disk
  full, object store unreachable: the request answers 503, nothing is acknowledged).

Write ordering: objects first, then the transaction that records them, then the answer. A row
therefore never exists without its object; a failed or replayed transaction deletes what it
wrote (``pending_writes``), and a process killed between the two leaves an unreadable orphan
(its key was never stored) that `tipline storage sweep` lists and removes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tipline.storage import local
from tipline.storage.errors import StorageError, StorageUnavailable, StoredObject

__all__ = [
    "PendingWrites",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "configuration_problems",
    "delete_object",
    "discard_objects",
    "list_objects",
    "pending_writes",
    "read_object",
    "restore_object",
    "write_object",
]

log = logging.getLogger(__name__)


def _backend() -> ModuleType:
    kind = settings.TIPLINE_STORAGE
    if kind == "local":
        return local
    if kind == "s3":
        # Imported on first use: the embedded profile never loads boto3.
        from tipline.storage import s3

        return s3
    raise ImproperlyConfigured(f"TIPLINE_STORAGE={kind!r}: use 'local' or 's3'")


def configuration_problems() -> list[str]:
    """What is wrong with the store's settings, in words (the start-up check refuses to run).

    Checks settings and the credentials file only, never the server: an object store that is
    down at start-up is a 503 per request, not a reason to refuse to start.
    """
    kind = settings.TIPLINE_STORAGE
    if kind == "local":
        return []
    if kind != "s3":
        return [f"TIPLINE_STORAGE={kind!r}: use 'local' or 's3'"]
    problems = []
    if not settings.TIPLINE_S3_BUCKET:
        problems.append("TIPLINE_STORAGE=s3 needs TIPLINE_S3_BUCKET (the bucket's name)")
    path = settings.TIPLINE_S3_CREDENTIALS_FILE
    if path:
        from tipline.storage import s3

        try:
            s3.read_credentials(path)
        except ImproperlyConfigured as exc:
            problems.append(str(exc))
        else:
            if os.stat(path).st_mode & 0o077:
                problems.append(
                    f"TIPLINE_S3_CREDENTIALS_FILE={path} is readable by others: chmod 600 it"
                )
    return problems


def write_object(ciphertext: bytes) -> str:
    """Store ciphertext durably under a fresh random id and return the id."""
    object_id: str = _backend().write_object(ciphertext)
    return object_id


def read_object(object_id: str) -> bytes:
    data: bytes = _backend().read_object(object_id)
    return data


def restore_object(object_id: str, ciphertext: bytes) -> None:
    """Put back an object under its original id; StorageError if one exists already."""
    _backend().restore_object(object_id, ciphertext)


def delete_object(object_id: str) -> None:
    _backend().delete_object(object_id)


def list_objects() -> Iterator[StoredObject]:
    """Every stored object, in no particular order (a generator: a bucket may be large)."""
    objects: Iterator[StoredObject] = _backend().list_objects()
    return objects


def discard_objects(object_ids: Iterable[str]) -> list[str]:
    """Delete objects no row will refer to; return those that could not be deleted.

    Best effort: the store may be the very thing that failed. What is left is logged by id (a
    random name, nothing more) and is found later by `tipline storage sweep`.
    """
    left = []
    for object_id in object_ids:
        try:
            delete_object(object_id)
        except (StorageError, OSError):
            left.append(object_id)
    if left:
        log.warning("orphaned evidence objects left for `tipline storage sweep`: %s", left)
    return left


class PendingWrites:
    """Objects written for one transaction that is yet to commit."""

    def __init__(self) -> None:
        self.object_ids: list[str] = []

    def write(self, ciphertext: bytes) -> str:
        object_id = write_object(ciphertext)
        self.object_ids.append(object_id)
        return object_id

    def discard(self) -> None:
        """The transaction did not record them (it failed, or another request won)."""
        discard_objects(self.object_ids)
        self.object_ids = []


@contextmanager
def pending_writes() -> Iterator[PendingWrites]:
    """Write objects, then commit the rows that name them, inside this block.

    If anything in the block raises, the objects written so far are deleted again (best
    effort), so a failed request leaves no orphan behind when the store is still reachable.
    """
    pending = PendingWrites()
    try:
        yield pending
    except Exception:
        pending.discard()
        raise
