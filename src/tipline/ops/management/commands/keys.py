"""`tipline keys init|status|rotate`: create the keys of a new installation, check every key,
or rotate the key-encryption key (tipline.ops.rotation).

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
from tipline.ops import rotation
from tipline.ops.keycheck import stored_data


class Command(BaseCommand):
    help = "Create the keys of a new installation (init) or check every key file (status)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["init", "status", "rotate"])
        parser.add_argument(
            "--batch", type=int, default=500, help="rotate: data keys re-wrapped per transaction"
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=120.0,
            help="rotate: seconds the new KEK must have been active before the old one is "
            "destroyed (longer than any request)",
        )
        parser.add_argument(
            "--pause", type=float, default=0.0, help="rotate: seconds to sleep between batches"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "init":
            self._init()
        elif options["action"] == "rotate":
            self._rotate(options)
        else:
            self._status()

    def _rotate(self, options: dict[str, Any]) -> None:
        problems = keyfiles.problems(Path(settings.KEY_DIR))
        if problems:
            raise CommandError("no rotation with a damaged key folder:\n" + "\n".join(problems))
        if options["batch"] < 1 or options["grace"] < 0 or options["pause"] < 0:
            raise CommandError("--batch must be at least 1; --grace and --pause not negative")
        progress = rotation.rotate(
            batch=options["batch"],
            grace=options["grace"],
            pause=options["pause"],
            log=self.stdout.write,
        )
        self.stdout.write(
            f"rotation complete: {progress.rewrapped} re-wrapped, {progress.skipped} changed "
            f"meanwhile, {progress.batches} batches"
        )

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
