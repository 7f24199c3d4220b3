"""The `tipline` command: Django's management commands, under one name.

`tipline --help` lists Tipline's own subcommands first; every subcommand has `--help`.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "tipline"
    if len(args) == 1 or args[1] in ("-h", "--help"):
        args[1:] = ["help", "--commands"] if len(args) > 1 else ["help"]
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
