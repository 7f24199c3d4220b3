"""`tipline agencies add|list|set-key`: the agencies reports may be referred to.

An agency's age public key (``age1…``, from ``age-keygen -y`` on the agency's side) is what its
referral packages are encrypted to; it is checked before it is stored. Each change is audited,
acting as ``cli``.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.cases.models import AgencyDelivery
from tipline.outputs import agencies


class Command(BaseCommand):
    help = "Manage agencies: add, list, set-key."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser("add", help="add an agency", description="Add an agency.")
        add.add_argument("name")
        add.add_argument("--country", default="", help="ISO 3166-1 alpha-2 code")
        add.add_argument("--contact", default="", help="who to call about referrals")
        add.add_argument(
            "--delivery", default=AgencyDelivery.CONSOLE, choices=AgencyDelivery.values
        )
        add.add_argument("--email", default="", help="address for e-mail delivery")
        add.add_argument("--key", default="", help="the agency's age public key (age1…)")
        sub.add_parser("list", help="list agencies", description="List agencies.")
        set_key = sub.add_parser(
            "set-key",
            help="set an agency's age public key",
            description="Set or replace the age public key packages for NAME are encrypted to.",
        )
        set_key.add_argument("name")
        set_key.add_argument("key", help="age public key (age1…)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                agency = agencies.agency_add(
                    actor=None,
                    name=options["name"],
                    country=options["country"],
                    contact=options["contact"],
                    delivery=options["delivery"],
                    email=options["email"],
                    key=options["key"],
                )
                self.stdout.write(f"added {agency.name}")
            elif action == "set-key":
                agency = agencies.agency_set_key(
                    actor=None, name=options["name"], key=options["key"]
                )
                self.stdout.write(f"{agency.name} now receives packages for {agency.age_recipient}")
            else:
                self._list()
        except agencies.AgencyError as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        header = ("name", "country", "delivery", "age key", "active")
        rows = [header] + [
            (r.name, r.country or "-", r.delivery, r.key or "NONE", "yes" if r.active else "no")
            for r in agencies.agency_list()
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            self.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
