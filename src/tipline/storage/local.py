"""Local filesystem backend for the encrypted evidence store (the embedded default)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tipline.storage.errors import (
    OBJECT_ID,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_object_id,
    new_object_id,
)

# A write that fails for lack of room (or a file system gone read-only or failing) is the
# store being unavailable, not a bug: intake answers 503 and resumes when space returns.
_UNAVAILABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def _root() -> Path:
    root = Path(settings.EVIDENCE_DIR)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root.resolve()


def _path_for(object_id: str) -> Path:
    check_object_id(object_id)
    root = _root()
    path = root / object_id[:2] / object_id[2:4] / object_id
    resolved_parent = path.parent.resolve()
    if os.path.commonpath([root, resolved_parent]) != str(root):
        raise StorageError("object path escapes the store")
    if path.is_symlink():
        raise StorageError("symlinks are refused")
    return path


def write_object(ciphertext: bytes) -> str:
    """Store ciphertext durably under a fresh random id and return the id."""
    object_id = new_object_id()
    _write_at(object_id, ciphertext)
    return object_id


def restore_object(object_id: str, ciphertext: bytes) -> None:
    """Put back an object under its original id (`tipline restore`); never over an existing one.

    Like ``write_object``: durable before it returns, whole or absent.
    """
    if _path_for(object_id).exists():
        raise StorageError("object exists already")
    _write_at(object_id, ciphertext)


def _write_at(object_id: str, ciphertext: bytes) -> None:
    try:
        _write(object_id, ciphertext)
    except OSError as exc:
        if exc.errno in _UNAVAILABLE:
            raise StorageUnavailable(f"evidence store: {os.strerror(exc.errno or 0)}") from exc
        raise


def _write(object_id: str, ciphertext: bytes) -> None:
    path = _path_for(object_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{object_id}.{new_object_id()[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            view = memoryview(ciphertext)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        # A full disk must not also keep the partial file that filled it.
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_object(object_id: str) -> bytes:
    path = _path_for(object_id)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError as exc:
        raise StorageError("object not found") from exc
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def delete_object(object_id: str) -> None:
    path = _path_for(object_id)
    path.unlink(missing_ok=True)


def list_objects() -> Iterator[StoredObject]:
    for path in _root().glob("*/*/*"):
        if OBJECT_ID.match(path.name) and path.is_file() and not path.is_symlink():
            yield StoredObject(path.name, path.stat().st_mtime)
