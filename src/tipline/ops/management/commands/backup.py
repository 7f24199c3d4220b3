"""`tipline backup DEST --to AGE_RECIPIENT`: an encrypted, consistent backup (tipline.ops.backup).

The backup key is an offline age key pair (`age-keygen`); only its public half is given here.
``--keys-to`` adds the key folder, encrypted to a second, separately kept offline key.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.crypto import age
from tipline.ops import backup


class Command(BaseCommand):
    help = "Write an age-encrypted backup (database snapshot, evidence objects) into a new folder."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("dest", type=Path, help="a new folder to write the backup into")
        parser.add_argument("--to", required=True, help="the backup key's age public key (age1…)")
        parser.add_argument(
            "--keys-to",
            help="also back up the key folder, encrypted to this other age public key",
        )
        parser.add_argument(
            "--retention-days",
            type=int,
            default=30,
            help="when the backup must be deleted (recorded in backup.json; see docs)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["retention_days"] < 1:
            raise CommandError("--retention-days must be at least 1")
        try:
            summary = backup.backup(
                options["dest"],
                to=options["to"],
                keys_to=options["keys_to"],
                retention_days=options["retention_days"],
                log=self.stdout.write,
            )
        except (backup.BackupError, age.InvalidRecipient, age.AgeError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written to {options['dest']}: {summary.objects} object(s), key folder "
            f"{'included' if summary.keys else 'not included'}"
        )
