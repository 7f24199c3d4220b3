"""SQLite with a queue for its write lock: the embedded default's database backend.
SQLite has one write lock and no queue for it. A writer that finds it taken sleeps in the busy
handler (1, 2, 5 ... 100 ms between tries) while newcomers may overtake it, so under steady load
some requests wait hundreds of milliseconds with the CPU idle. Here every transaction first takes
a thread lock (one writer per process) and then ``flock`` on ``DATA_DIR/sqlite-write.lock`` (one
per machine: web workers, the task worker, commands). Waiters sleep in the kernel and wake the
moment the lock is free. ``BEGIN IMMEDIATE`` and the busy timeout stay as the backstop for
anything outside this backend (a ``sqlite3`` backup, say). Measured in docs/BENCHMARKS.md
(intake: "serialised-writes"). django-stubs does not declare the private transaction hooks
overridden here, hence the type-ignores.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.sqlite3 import base

_thread_lock = threading.Lock()
_fd: int | None = None
_fd_guard = threading.Lock()


def _lock_fd() -> int:
    global _fd
    with _fd_guard:
        if _fd is None:
            path = settings.DATA_DIR / "sqlite-write.lock"
            _fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return _fd


class DatabaseWrapper(base.DatabaseWrapper):
    _holding = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        # The data directory is made by `tipline keys init`, never on the side (SQLite would
        # answer only "unable to open database file", and Django's checks connect first).
        folder = Path(str(self.settings_dict["NAME"])).parent
        if not self.is_in_memory_db() and not folder.is_dir():
            raise ImproperlyConfigured(
                f"the data directory {folder} does not exist: run `tipline keys init` to create "
                "it and its keys (or set TIPLINE_DATA_DIR to the installation's data directory)"
            )
        return super().get_new_connection(conn_params)

    def _start_transaction_under_autocommit(self) -> None:
        _thread_lock.acquire()
        try:
            fcntl.flock(_lock_fd(), fcntl.LOCK_EX)
        except BaseException:
            _thread_lock.release()
            raise
        self._holding = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            fcntl.flock(_lock_fd(), fcntl.LOCK_UN)
            _thread_lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release()
