"""Encrypted evidence store.

Only ciphertext is handed to the store; it never sees plaintext or keys. Objects are named by a
random identifier generated here, never by anything a user supplied, and every path is checked to
resolve inside the store's root (no symlinks, no ``..``). Writes go to a temporary file in the
same folder, are fsynced and renamed, so a crash leaves either the whole object or nothing.
An S3-compatible backend can later implement the same functions. ``list_objects`` (every
object id with its modification time) serves the orphan sweep, `tipline doctor` and backups;
``restore_object`` puts an object back under its id (`tipline restore`).
"""

from tipline.storage.local import (
    StorageError,
    delete_object,
    list_objects,
    read_object,
    restore_object,
    write_object,
)

__all__ = [
    "StorageError",
    "delete_object",
    "list_objects",
    "read_object",
    "restore_object",
    "write_object",
]
