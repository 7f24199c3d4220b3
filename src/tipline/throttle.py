"""Limits on guessing secrets (receipts, locker passphrases) that nobody can use to lock others out.

Tipline keeps no per-client state (no address is ever stored), so a limit cannot be per client.
The first design counted failures site-wide: sixty wrong receipts a minute shut every reporter
out of follow-up, and one request a second kept them out. Here the guessed secret itself picks
its counter: a keyed hash of the receipt or passphrase selects one of N *buckets*, each with its
own budget of failures per minute. Someone who does not know a reporter's receipt cannot aim at
its bucket; to shut that reporter out they must exhaust every bucket, N x budget failures a
minute, which the defaults put far above what the server can answer. The same product bounds
how many guesses can be checked at all: the capacity limit (docs/threat-model.md has figures).

Counting is atomic. An attempt first reserves one failure in its bucket with a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (atomic on SQLite and PostgreSQL) and is
refused, before the secret is checked, if that took the bucket past its budget; a right answer
gives its reservation back. So no number of concurrent guesses gets more than the budget
checked, where the old check-then-count let every request in flight through. Past the budget
every attempt in the bucket is refused, right or wrong, after the same work, so the refusal is
not an oracle. Only the current minute's rows are kept, and a bucket whose reservations were
all given back is deleted, so the table says nothing about successful look-ups.

``slot`` is the other half, for work that costs memory: at most ``slots`` holders machine-wide
(``flock`` on files in DATA_DIR, so every gunicorn worker and thread shares them); one more is
refused at once rather than queued, so a flood of locker opens (64 MiB of Argon2 each) can
neither exhaust memory nor occupy the threads that reports need.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone


class Throttled(Exception):
    """This bucket's budget for the minute is spent; nothing was checked."""


class Busy(Exception):
    """Every slot is taken; nothing was done."""


def _window() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


class MinuteThrottle(models.Model):
    window_start = models.DateTimeField()
    bucket = models.PositiveIntegerField(default=0)
    # Failed or refused attempts in this minute (a right answer's reservation is given back).
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["window_start", "bucket"], name="%(app_label)s_%(class)s_window_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.failures} failures in bucket {self.bucket} from {self.window_start:%H:%M}"

    @classmethod
    @contextmanager
    def attempt(cls, *, bucket: int, budget: int) -> Iterator[None]:
        """Reserve a failure in ``bucket`` for the body; raise ``Throttled`` past ``budget``.

        The body checks the secret and raises on a wrong one, which keeps the reservation; if
        it returns normally (a right answer) the reservation is given back.
        """
        window = _window()
        count = cls._reserve(window, bucket)
        if count > budget:
            raise Throttled
        try:
            yield
        except BaseException:
            if count == 1:  # the first kept in this minute: earlier minutes are done with
                cls._default_manager.filter(window_start__lt=window).delete()
            raise
        cls._give_back(window, bucket)

    @classmethod
    def _reserve(cls, window: datetime, bucket: int) -> int:
        table = connection.ops.quote_name(cls._meta.db_table)
        # One statement, so the increment and the answer cannot be split by another request.
        # The table name comes from the model, never from input.
        upsert = (
            f"INSERT INTO {table} (window_start, bucket, failures) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (window_start, bucket) DO UPDATE SET failures = {table}.failures + 1 "
            "RETURNING failures"
        )
        when = connection.ops.adapt_datetimefield_value(window)
        with _counter_write() as cursor:
            cursor.execute(upsert, [when, bucket])
            row = cursor.fetchone()
        return int(row[0]) if row else 1

    @classmethod
    def _give_back(cls, window: datetime, bucket: int) -> None:
        """Undo one reservation; the row goes when nothing else is reserved in it, so a right
        answer leaves nothing behind (usually one DELETE: a reporter is alone in the bucket)."""
        table = connection.ops.quote_name(cls._meta.db_table)
        where = "WHERE window_start = %s AND bucket = %s"
        when = connection.ops.adapt_datetimefield_value(window)
        with _counter_write() as cursor:
            cursor.execute(f"DELETE FROM {table} {where} AND failures <= 1", [when, bucket])  # noqa: S608
            if not cursor.rowcount:  # others reserved here too; the last one out deletes
                cursor.execute(
                    f"UPDATE {table} SET failures = failures - 1 {where} AND failures > 0",  # noqa: S608
                    [when, bucket],
                )
                cursor.execute(f"DELETE FROM {table} {where} AND failures = 0", [when, bucket])  # noqa: S608


@contextmanager
def _counter_write() -> Iterator[CursorWrapper]:
    """A transaction for counters that need not survive a power cut, so it does not wait for
    the disk: a lost count forgives a guess or two. Reports stay ``synchronous=FULL``; a counter
    commit at FULL cost an fsync (7-8 ms here), twice per right receipt (docs/BENCHMARKS.md).
    SQLite's level cannot change inside a transaction, so a caller already in one keeps it."""
    restore = None
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            restore = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at the next full commit
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            yield cursor
    finally:
        if restore is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA synchronous={restore}")


@contextmanager
def slot(name: str, slots: int) -> Iterator[None]:
    """Hold one of ``slots`` machine-wide slots called ``name`` for the body, or raise ``Busy``.

    A slot is an exclusive ``flock`` on ``DATA_DIR/<name>-slot-<i>.lock``. Each attempt opens its
    own descriptor, so threads of one process exclude each other as processes do, and the kernel
    releases the lock if the process dies.
    """
    folder = Path(settings.DATA_DIR)
    for index in range(max(slots, 1)):
        fd = os.open(folder / f"{name}-slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    raise Busy
