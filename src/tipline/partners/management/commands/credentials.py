"""`tipline credentials create|list|revoke`: API credentials for staff members and partners.

`create` prints the token once, on its own line, so a script can capture it; it is stored only as
a keyed digest and cannot be shown again (revoke and create a new one if it is lost).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.partners import actions, selectors
from tipline.partners.models import CredentialKind, Scope

CLI = "cli"


class Command(BaseCommand):
    help = "Manage API credentials (staff members and partner organisations): create, list, revoke."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser(
            "create",
            help="create a credential and print its token once",
            description=(
                "Create an API credential. The token is printed once on the last line of output "
                "and is stored only as a keyed digest."
            ),
        )
        create.add_argument("--name", required=True, help="who holds it, e.g. the organisation")
        create.add_argument("--kind", required=True, choices=CredentialKind.values)
        create.add_argument("--user", help="e-mail address or username of the staff member")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=Scope.values,
            help="a scope to grant (repeat for several)",
        )
        sub.add_parser("list", help="list credentials", description="List API credentials.")
        revoke = sub.add_parser(
            "revoke", help="revoke a credential at once", description="Revoke a credential."
        )
        revoke.add_argument("id", type=int)
        secret = sub.add_parser(
            "secret",
            help="give a cybertipline credential a new HTTP Basic secret, printed once",
            description=(
                "Replace the HTTP Basic secret of a credential with the cybertipline scope (the "
                "old one stops working). The username and secret are printed once."
            ),
        )
        secret.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                created = actions.credential_create(
                    actor=CLI,
                    name=options["name"],
                    kind=options["kind"],
                    scopes=options["scope"],
                    user_ref=options["user"],
                )
                credential = created.credential
                self.stdout.write(
                    f"created credential {credential.pk} ({credential.name}, {credential.kind}, "
                    f"scopes: {' '.join(credential.scopes)}). "
                    "The token is shown only now; send it to its holder over a secure channel:"
                )
                self.stdout.write(created.token)
                if created.secret:
                    self._basic(actions.basic_username(credential), created.secret)
            elif action == "secret":
                credential, new = actions.credential_new_secret(
                    actor=CLI, credential_id=options["id"]
                )
                self._basic(actions.basic_username(credential), new)
            elif action == "list":
                self._list()
            elif action == "revoke":
                credential = actions.credential_revoke(actor=CLI, credential_id=options["id"])
                self.stdout.write(f"revoked credential {credential.pk} ({credential.name})")
        except actions.CredentialError as error:
            raise CommandError(str(error)) from None

    def _basic(self, username: str, secret: str) -> None:
        self.stdout.write(
            "HTTP Basic for /ispws/ (the CyberTipline-compatible endpoint), shown only now:"
        )
        self.stdout.write(f"username: {username}")
        self.stdout.write(f"password: {secret}")

    def _list(self) -> None:
        header = ("id", "name", "kind", "user", "scopes", "created", "last used", "revoked")
        rows = [header]
        for c in selectors.credential_list():
            rows.append(
                (
                    str(c.pk),
                    c.name,
                    c.kind,
                    c.user.get_username() if c.user is not None else "-",
                    ",".join(c.scopes),
                    c.created_at.strftime("%Y-%m-%d %H:%M"),
                    c.last_used_at.strftime("%Y-%m-%d %H:%M") if c.last_used_at else "-",
                    c.revoked_at.strftime("%Y-%m-%d %H:%M") if c.revoked_at else "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
