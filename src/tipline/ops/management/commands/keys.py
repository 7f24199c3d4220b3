"""`tipline keys init|status`: create or check the key files under TIPLINE_DATA_DIR/keys."""

from __future__ import annotations

import stat
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tipline.crypto.box import ensure_keys


class Command(BaseCommand):
    help = "Create missing key files (init) or check their permissions (status)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["init", "status"])

    def handle(self, *args: Any, **options: Any) -> None:
        paths = (
            ensure_keys()
            if options["action"] == "init"
            else sorted(Path(settings.KEY_DIR).glob("*.key"))
        )
        if not paths:
            raise CommandError(f"no key files in {settings.KEY_DIR}; run `tipline keys init`")
        for path in paths:
            mode = stat.S_IMODE(path.stat().st_mode)
            state = "ok" if mode == 0o600 else f"UNSAFE mode {mode:o}"
            self.stdout.write(f"{path}  {state}")
            if mode != 0o600:
                raise CommandError(f"{path} must have mode 600")
