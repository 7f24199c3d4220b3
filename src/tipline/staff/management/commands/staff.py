"""`tipline staff create|list|disable|set-role`: manage staff accounts from the command line.

Passwords come from a file or standard input, never from an argument (arguments end up in shell
history and in the process list). `create` prints the otpauth:// URI of the new account's TOTP
device; the person confirms it with a code at first sign-in.
"""

from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.staff import actions, selectors
from tipline.staff.models import Role


def _read_password(path: str | None) -> str:
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot read the password file: {error.strerror}") from None
        return text.splitlines()[0] if text else ""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


class Command(BaseCommand):
    help = "Manage staff accounts: create, list, disable, set-role."

    def add_arguments(self, parser: ArgumentParser) -> None:
        roles = ", ".join(Role.values)
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = sub.add_parser(
            "create",
            help="create a staff member and a TOTP device to confirm at first sign-in",
            description=(
                "Create a staff member. The password is read from --password-file, or from "
                "standard input (first line) when no file is given. Prints the otpauth:// URI "
                "of the new TOTP device."
            ),
        )
        create.add_argument("--username", required=True)
        create.add_argument("--role", required=True, choices=Role.values, help=roles)
        create.add_argument("--agency", default="", help="required for the liaison role")
        create.add_argument("--password-file", help="file whose first line is the password")

        sub.add_parser("list", help="list staff members", description="List staff members.")

        disable = sub.add_parser(
            "disable",
            help="disable an account and end its sessions",
            description="Disable an account and end its sessions. The account stays in the log.",
        )
        disable.add_argument("--username", required=True)

        set_role = sub.add_parser(
            "set-role", help="change a staff member's role", description="Change a role."
        )
        set_role.add_argument("--username", required=True)
        set_role.add_argument("--role", required=True, choices=Role.values, help=roles)
        set_role.add_argument("--agency", help="the liaison's agency")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                self._create(options)
            elif action == "list":
                self._list()
            elif action == "disable":
                user = actions.staff_disable(actor=None, username=options["username"])
                self.stdout.write(f"disabled {user.username}; their sessions are ended")
            elif action == "set-role":
                user = actions.staff_set_role(
                    actor=None,
                    username=options["username"],
                    role=options["role"],
                    agency=options["agency"],
                )
                self.stdout.write(f"{user.username} is now {user.role}")
        except actions.InvalidStaffInput as invalid:
            raise CommandError("\n".join(invalid.messages)) from None
        except actions.StaffNotFound as missing:
            raise CommandError(str(missing)) from None

    def _create(self, options: dict[str, Any]) -> None:
        password = _read_password(options["password_file"])
        created = actions.staff_create(
            actor=None,
            username=options["username"],
            role=options["role"],
            agency=options["agency"],
            password=password,
        )
        self.stdout.write(f"created {created.user.username} ({created.user.role})")
        self.stdout.write(
            "Add this to an authenticator app (or scan the QR code shown at first sign-in), "
            "then confirm it with a code when signing in:"
        )
        self.stdout.write(created.device.config_url)

    def _list(self) -> None:
        rows = selectors.staff_list()
        header = ("username", "role", "agency", "active", "totp", "locked until")
        table = [header] + [
            (
                r.username,
                r.role,
                r.agency or "-",
                "yes" if r.active else "no",
                "confirmed" if r.totp_confirmed else "not confirmed",
                r.locked_until.isoformat(timespec="minutes") if r.locked_until else "-",
            )
            for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
