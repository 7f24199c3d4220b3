"""`tipline storage sweep`: remove evidence objects that no database row refers to.

Files are sealed and written before the transaction that records them; if that transaction fails
(or the process dies between the two), the object is orphaned. It is unreadable (its key was never
stored) but it still takes space, so this command removes orphans older than a grace period. It
works on whichever store TIPLINE_STORAGE names (local files or an S3 bucket). The same rule runs
once a day on its own (ops/orphans.py); this is for an operator who wants it now.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from tipline.ops.orphans import find_orphans, grace_minutes
from tipline.storage import delete_object


class Command(BaseCommand):
    help = "Find (and with --apply, delete) evidence objects no report refers to."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["sweep"])
        parser.add_argument("--apply", action="store_true", help="delete (default: list only)")
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=None,
            help="ignore objects younger than this (TIPLINE_STORAGE_SWEEP_GRACE_MINUTES, 60)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        grace = options["grace_minutes"]
        orphans = find_orphans(grace_minutes=grace_minutes() if grace is None else grace)
        for object_id in orphans:
            if options["apply"]:
                delete_object(object_id)
            self.stdout.write(("deleted " if options["apply"] else "orphan ") + object_id)
        self.stdout.write(f"{len(orphans)} orphaned object(s)")
