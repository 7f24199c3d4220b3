"""`tipline partners webhook set|remove|deliveries`: partners' webhook endpoints.

`set` prints the signing secret once, on the last line (it is derived from a stored nonce and a
key outside the database, and cannot be shown again: set the webhook again for a new one).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.partnerapi import webhooks

CLI = "cli"


class Command(BaseCommand):
    help = "Partner settings: webhook endpoints and their delivery log."

    def add_arguments(self, parser: ArgumentParser) -> None:
        area = parser.add_subparsers(dest="area", required=True, metavar="AREA")
        hook = area.add_parser("webhook", help="a partner's webhook endpoint")
        sub = hook.add_subparsers(dest="action", required=True, metavar="ACTION")
        set_ = sub.add_parser(
            "set",
            help="register or replace the endpoint; prints a new signing secret once",
            description="Register (or replace) a partner's HTTPS webhook endpoint.",
        )
        set_.add_argument("--credential", type=int, required=True, help="partner credential id")
        set_.add_argument("--url", required=True, help="https:// address of the receiver")
        remove = sub.add_parser("remove", help="stop sending to the partner")
        remove.add_argument("--credential", type=int, required=True)
        log = sub.add_parser("deliveries", help="the latest deliveries and their outcome")
        log.add_argument("--credential", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "set":
                done = webhooks.webhook_set(
                    actor=CLI, credential_id=options["credential"], url=options["url"]
                )
                self.stdout.write(
                    f"webhook for credential {options['credential']}: {done.endpoint.url}\n"
                    "signing secret (shown once; verify Tipline-Signature with it):"
                )
                self.stdout.write(done.secret)
            elif action == "remove":
                webhooks.webhook_remove(actor=CLI, credential_id=options["credential"])
                self.stdout.write(f"webhook for credential {options['credential']} removed")
            else:
                for d in webhooks.deliveries(credential_id=options["credential"]):
                    report = d.payload.get("report", {})
                    self.stdout.write(
                        f"{d.created_at:%Y-%m-%d %H:%M:%S} {d.id} credential "
                        f"{d.endpoint.credential_id} {report.get('status')} {d.state} "
                        f"attempts {d.attempts} last {d.last_status or '-'} {d.last_error}"
                    )
        except webhooks.WebhookError as error:
            raise CommandError(str(error)) from None
