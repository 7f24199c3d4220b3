"""`tipline evidence parse FILE`: check how an export will be read, from the command line.

An adapter only: it reads the file (refusing one over the size limit before reading it), calls
`tipline.locker.parsers.parse` and prints the detected format, then one JSON object per item.
Nothing is stored and nothing is audited: the file is the operator's own and never leaves the
machine. Warnings go to stderr so that stdout stays machine-readable.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.locker.parsers import parse
from tipline.locker.parsers.limits import limit, megabytes
from tipline.locker.types import Item, ParseError


def item_json(item: Item) -> dict[str, Any]:
    row: dict[str, Any] = {
        "timestamp": item.timestamp.isoformat() if item.timestamp is not None else None,
        "sender": item.sender,
        "text": item.text,
        "source": item.source,
        "kind": item.kind,
    }
    if item.conversation:
        row["conversation"] = item.conversation
    if item.attachments:
        row["attachments"] = list(item.attachments)
    return row


class Command(BaseCommand):
    help = "Evidence-log imports: check how an export file is read."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        parse_parser = sub.add_parser(
            "parse",
            help="print the detected format and one JSON object per item",
            description=(
                "Read an export (e-mail .eml, WhatsApp .txt/.zip, Telegram JSON, Instagram/"
                "Facebook JSON, SMS Backup & Restore XML, or a screenshot) and print "
                "'format: NAME' on the first line, then one JSON object per message or item "
                "(timestamp in ISO 8601 with offset where known, sender, text, source, kind, "
                "and conversation and attachments when present). Warnings go to stderr. Exits "
                "non-zero, with the reason on stderr, for a file that is refused."
            ),
        )
        parse_parser.add_argument("file", type=Path, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            size = path.stat().st_size
            most = limit("MAX_INPUT_BYTES")
            if size > most:
                raise ParseError(
                    f"The file is {megabytes(size)}; the largest file we import is "
                    f"{megabytes(most)}. Export a shorter period, or without media."
                )
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
        except ParseError as error:
            raise CommandError(str(error)) from None
        try:
            result = parse(data, path.name)
        except ParseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"format: {result.format}")
        for item in result.items:
            self.stdout.write(json.dumps(item_json(item), ensure_ascii=False))
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
