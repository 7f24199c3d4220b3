"""`tipline audit verify|head`: check the hash chain, or print its head for anchoring."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.audit.chain import AuditBroken, head, verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain (exit 0 if intact), or print its head."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "head"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "head":
            seq, digest = head()
            self.stdout.write(f"{seq} {digest}")
            return

        def progress(count: int) -> None:
            if count % 100_000 == 0 and sys.stderr.isatty():
                sys.stderr.write(f"\r{count:,} entries verified")

        try:
            result = verify(progress=progress)
        except AuditBroken as broken:
            raise CommandError(f"audit log BROKEN at entry {broken.seq}: {broken.reason}") from None
        self.stdout.write(
            f"audit log intact: {result.entries} entries, head {result.head_seq} {result.head_hash}"
        )
