"""`tipline restore SRC --identity FILE`: bring a backup back into a new data directory.

Run `tipline migrate` afterwards if this version of Tipline is newer than the backup's.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.crypto import age
from tipline.ops import backup


def _identity(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return age.identity_from_file(handle)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except age.AgeError as exc:
        raise CommandError(f"{path}: {exc}") from None


class Command(BaseCommand):
    help = "Restore a backup made by `tipline backup` into a new data directory and database."
    requires_system_checks: list[str] = []  # the keys may arrive with the backup

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("src", type=Path, help="the backup folder")
        parser.add_argument(
            "--identity", type=Path, required=True, help="the backup key's age identity file"
        )
        parser.add_argument(
            "--keys-identity",
            type=Path,
            help="the key-backup identity file: restores the key folder from the backup",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        identity = _identity(options["identity"])
        keys_identity = _identity(options["keys_identity"]) if options["keys_identity"] else None
        try:
            summary = backup.restore(
                options["src"],
                identity=identity,
                keys_identity=keys_identity,
                log=self.stdout.write,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored: {summary.objects} object(s); run `tipline doctor` to check the result"
        )
