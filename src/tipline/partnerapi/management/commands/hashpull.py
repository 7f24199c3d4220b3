"""`tipline hashpull`: pull a partner Tipline's bank changes into a local bank, now.

With ``--configured`` every source in ``TIPLINE_HASH_PULLS`` (what the scheduled task does);
otherwise the one source given by ``--url --bank --into --token-file``. Safe to repeat: it
continues from the stored cursor and re-applying changes is idempotent.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.partnerapi import hashpull


class Command(BaseCommand):
    help = "Pull a partner's hash-bank changes into a local bank (incremental, idempotent)."
    # Django's system checks load every URL module: seconds of start-up for a scheduled pull
    # (the server runs them at start; the pull itself touches no URL).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--configured", action="store_true", help="every configured source")
        parser.add_argument("--url", help="the partner Tipline's address (https://...)")
        parser.add_argument("--bank", help="the partner's bank name")
        parser.add_argument("--into", help="our bank to fill (created if missing)")
        parser.add_argument("--token-file", type=Path, help="file holding the partner's token")
        parser.add_argument("--limit", type=int, default=hashpull.PAGE, help="changes per page")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["configured"]:
            chosen = hashpull.sources()
        else:
            missing = [n for n in ("url", "bank", "into", "token_file") if not options[n]]
            if missing:
                names = ", ".join("--" + n.replace("_", "-") for n in missing)
                raise CommandError(f"give {names} (or --configured)")
            token = options["token_file"].read_text(encoding="utf-8").strip()
            chosen = [hashpull.PullSource(options["url"], options["bank"], options["into"], token)]
        for source in chosen:
            try:
                result = hashpull.pull(source, limit=max(1, min(options["limit"], hashpull.PAGE)))
            except hashpull.PullError as error:
                raise CommandError(f"{source.key}: {error}") from None
            self.stdout.write(
                f"{source.key} -> {source.into}: pages {result.pages}, added {result.added}, "
                f"updated {result.updated}, removed {result.removed}, "
                f"invalid {result.invalid}, cursor {result.cursor}"
            )
