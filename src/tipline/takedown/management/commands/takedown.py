"""`tipline takedown recheck|providers`: re-check tracked URLs now; check the provider table.

The server re-checks by itself (``tipline.takedown.tasks.recheck_run``, every
TIPLINE_TAKEDOWN_RECHECK_MINUTES); ``recheck`` runs one pass now, from this machine (never from a
browser), through the same SSRF guard and outbound proxy.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.takedown import config, hosts, tasks


class Command(BaseCommand):
    help = "Notice and takedown: recheck (one pass now), providers (check the provider table)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser(
            "recheck",
            help="re-check every due tracked URL now",
            description="Re-check every tracked URL that is due, then send reminders and "
            "escalate where the configured times have passed.",
        )
        sub.add_parser(
            "providers",
            help="check and list the provider table",
            description="Read TIPLINE_TAKEDOWN_PROVIDERS and list its providers.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "recheck":
            counts = tasks.recheck_due()
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
            return
        try:
            providers = hosts.load_providers(config.load().providers_file)
        except (OSError, hosts.ProvidersFileError) as exc:
            raise CommandError(str(exc)) from None
        for provider in providers:
            self.stdout.write(f"{provider.name}\t{provider.abuse_email}\t{provider.language}")
        self.stdout.write(f"{len(providers)} provider(s)")
