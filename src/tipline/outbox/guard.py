"""One delivery at a time for tasks whose effect leaves Tipline (an e-mail, a partner's API).

At-least-once delivery can run the same task twice at the same moment (a relay killed after
Redis accepted a batch but before the outbox marked it sent queues it twice, and two workers take
the copies). Such a task checks its row's state first ("sent already: nothing to do"), which
covers a copy that runs after the first finished; ``single_flight`` covers the copy that runs
beside it: the second copy does not get the lock and returns at once, and the first one's state
change makes every later copy a no-op.

On PostgreSQL this is a session advisory lock (released when the holder commits its work and
leaves the block, or when its connection dies with a killed worker). SQLite, the embedded
profile, has one task worker per queue on the database backend, which never runs a task row
twice at once, so the lock is always granted there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def _lock_id(key: str) -> int:
    # A signed 64-bit id from the key (advisory locks take a bigint).
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def single_flight(key: str) -> Iterator[bool]:
    """Yield True if this process may do the work named by ``key`` now, False if another is."""
    if connection.vendor != "postgresql":
        yield True
        return
    lock = _lock_id(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock])
        row = cursor.fetchone()
    granted = bool(row and row[0])
    try:
        yield granted
    finally:
        if granted:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])
