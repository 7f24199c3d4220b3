"""Key files: created once with mode 0600 inside a 0700 folder, never overwritten.

Kept free of Django imports because settings.py needs it to load the Django secret itself.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


class KeyFileError(RuntimeError):
    """A key file is missing, unreadable, the wrong size, or too widely readable."""


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """Return the secret stored at ``path``, creating it on first use.

    Creation uses O_EXCL so two processes starting at once cannot write different keys; the loser
    reads the winner's. A key readable by group or others is refused rather than silently fixed.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_secret(path, size)
    try:
        os.write(fd, secrets.token_bytes(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    return _read_secret(path, size)


def _read_secret(path: Path, size: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"{path} must be readable by its owner only (chmod 600)")
        data = os.read(fd, size + 1)
    finally:
        os.close(fd)
    if len(data) != size:
        raise KeyFileError(f"{path} does not hold a {size}-byte key")
    return data
