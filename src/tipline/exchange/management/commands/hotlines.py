"""`tipline hotlines add|set-token|list|pubkey`: partner hotlines reports can be forwarded to.

Setting up a pair of hotlines, each side once:
  1. `tipline hotlines pubkey` prints this hotline's exchange public key: send it to the partner.
  2. `tipline hotlines add NAME --url https://… --public-key HEX` records the partner and prints,
     once, the token the partner will present to us: send it to the partner over a safe channel.
  3. `tipline hotlines set-token NAME` reads the token the partner issued us from standard input
     (never from the command line, where other users of the machine could read it).
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.exchange import actions, document
from tipline.exchange.models import PartnerHotline


class Command(BaseCommand):
    help = "Manage partner hotlines: add, set-token, list, pubkey."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser("add", help="add a partner hotline", description="Add a partner.")
        add.add_argument("name", help="a short name such as hotline-fr")
        add.add_argument("--url", required=True, help="the partner's Tipline address (https://…)")
        add.add_argument("--public-key", required=True, help="their exchange public key (hex)")
        add.add_argument("--country", default="", help="ISO 3166-1 alpha-2 code")
        add.add_argument(
            "--send-files",
            action="store_true",
            help="the partner agreement allows evidence files to travel with forwarded reports",
        )
        token = sub.add_parser(
            "set-token",
            help="store the token the partner issued us (read from standard input)",
            description="Store the token the partner issued us, read from standard input.",
        )
        token.add_argument("name")
        sub.add_parser("list", help="list partner hotlines", description="List partners.")
        sub.add_parser(
            "pubkey",
            help="print this hotline's exchange public key",
            description="Print this hotline's exchange public key (hex), for partners.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                added = actions.hotline_add(
                    actor="cli",
                    name=options["name"],
                    base_url=options["url"],
                    public_key_hex=options["public_key"],
                    country=options["country"].upper(),
                    send_files=options["send_files"],
                )
                self.stdout.write(f"added {added.hotline.name}")
                self.stdout.write(
                    "token for the partner to present (shown once): " + added.inbound_token
                )
            elif action == "set-token":
                actions.hotline_set_token(
                    actor="cli", name=options["name"], token=sys.stdin.readline()
                )
                self.stdout.write(f"token stored for {options['name']}")
            elif action == "pubkey":
                self.stdout.write(document.our_public_key().hex())
            else:
                self._list()
        except actions.ExchangeError as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        header = ("name", "country", "url", "files", "token", "active")
        rows = [header] + [
            (
                h.name,
                h.country or "-",
                h.base_url,
                "yes" if h.send_files else "no",
                "set" if bytes(h.outbound_token) else "MISSING",
                "yes" if h.active else "no",
            )
            for h in PartnerHotline.objects.order_by("name")
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
