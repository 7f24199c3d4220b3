"""Which database a query goes to when a streaming replica is configured (issue 19).

Only reads of apps whose pages tolerate a replica's lag of a moment go there, and only outside a
transaction on the primary: a view that has just written (a report filed, a decision taken) and
reads back inside its transaction always reads the primary. Everything else, every write and
every migration stays on ``default``. The dashboards of ``metrics`` are the reads that are
heavy, frequent and lag-tolerant; more apps can be listed in ``TIPLINE_REPLICA_APPS``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from tipline.db.postgres import REPLICA


class ReplicaRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if REPLICA not in settings.DATABASES:
            return None
        if model._meta.app_label not in settings.TIPLINE_REPLICA_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # One database seen twice: rows read from the replica relate to rows of the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
