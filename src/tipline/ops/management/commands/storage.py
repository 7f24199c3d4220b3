"""`tipline storage sweep`: remove evidence objects that no database row refers to.

Files are sealed and written before the transaction that records them; a failed transaction
deletes them again, but if the process dies between the two (or the store refused that delete)
the object is orphaned. It is unreadable (its key was never stored) but it still takes space, so
this command lists orphans older than a grace period and, with --apply, removes them. It works
on whichever store TIPLINE_STORAGE names (local files or an S3 bucket).
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from tipline import storage
from tipline.cases.models import EvidenceFile
from tipline.locker.models import EvidenceFile as LockerFile


class Command(BaseCommand):
    help = "Find (and with --apply, delete) evidence objects no report refers to."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["sweep"])
        parser.add_argument("--apply", action="store_true", help="delete (default: list only)")
        parser.add_argument(
            "--grace-minutes", type=int, default=60, help="ignore objects younger than this"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        referenced = set(EvidenceFile.objects.values_list("object_id", flat=True))
        referenced |= set(EvidenceFile.objects.values_list("preview_object_id", flat=True))
        # The evidence locker keeps its originals and sealed item lists in the same store.
        referenced |= set(LockerFile.objects.values_list("object_id", flat=True))
        referenced |= set(LockerFile.objects.values_list("items_object_id", flat=True))
        cutoff = time.time() - options["grace_minutes"] * 60
        orphans = [
            object_id
            for object_id, mtime in storage.list_objects()
            if object_id not in referenced and mtime < cutoff
        ]
        for object_id in orphans:
            if options["apply"]:
                storage.delete_object(object_id)
            self.stdout.write(("deleted " if options["apply"] else "orphan ") + object_id)
        self.stdout.write(f"{len(orphans)} orphaned object(s)")
