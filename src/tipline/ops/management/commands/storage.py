"""`tipline storage sweep`: remove evidence objects that no database row refers to.

Files are sealed and written before the transaction that records them; if that transaction fails
(or the process dies between the two), the object is orphaned. It is unreadable (its key was never
stored) but it still takes space, so this command removes orphans older than a grace period. It
works on whichever store TIPLINE_STORAGE names (local files or an S3 bucket).
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from tipline.ops.doctor import referenced_objects
from tipline.storage import delete_object, list_objects


class Command(BaseCommand):
    help = "Find (and with --apply, delete) evidence objects no report refers to."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["sweep"])
        parser.add_argument("--apply", action="store_true", help="delete (default: list only)")
        parser.add_argument(
            "--grace-minutes", type=int, default=60, help="ignore objects younger than this"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Reports, CyberTipline-API submissions and evidence lockers share the store.
        referenced = referenced_objects()
        cutoff = time.time() - options["grace_minutes"] * 60
        orphans = [
            object_id
            for object_id, mtime in list_objects()
            if object_id not in referenced and mtime < cutoff
        ]
        for object_id in orphans:
            if options["apply"]:
                delete_object(object_id)
            self.stdout.write(("deleted " if options["apply"] else "orphan ") + object_id)
        self.stdout.write(f"{len(orphans)} orphaned object(s)")
