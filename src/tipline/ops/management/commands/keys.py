"""`tipline keys init|status`: create the keys of a new installation, or check every key.

`init` creates keys only where nothing depends on them (tipline.crypto.keyfiles.init_keys) and
refuses, naming each file and what to do, when a key that data was sealed under is missing or
damaged. `status` runs the start-up check and exits non-zero on any problem. Neither runs the
system checks first: they are how an operator repairs what those checks refuse.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from tipline.crypto import keyfiles
from tipline.ops.keycheck import stored_data


class Command(BaseCommand):
    help = "Create the keys of a new installation (init) or check every key file (status)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["init", "status"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "init":
            self._init()
        else:
            self._status()

    def _init(self) -> None:
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            existing = stored_data()
        except DatabaseError as exc:
            # Without knowing whether reports exist, a missing key might be one they need.
            raise CommandError(
                f"cannot tell whether the database holds reports ({exc}): make the database "
                "reachable, then run `tipline keys init` again; no key was created"
            ) from exc
        try:
            done = keyfiles.init_keys(Path(settings.KEY_DIR), stored_data=existing)
        except keyfiles.KeyFileError as exc:
            raise CommandError(f"no key was created or changed:\n{exc}") from exc
        for path, what in done:
            self.stdout.write(f"{path}  {what}  ({keyfiles.spec_for(path.name).purpose})")

    def _status(self) -> None:
        states = keyfiles.inspect(Path(settings.KEY_DIR))
        for state in states:
            verdict = "ok" if state.problem is None else "PROBLEM"
            about = f"  ({state.purpose})" if state.purpose else ""
            self.stdout.write(f"{state.path}  {verdict}{about}")
        problems = [state.problem for state in states if state.problem]
        if problems:
            raise CommandError("\n".join(problems))
