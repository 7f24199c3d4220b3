"""`tipline hashes import|export|stats|remove`: manage the hash banks from the command line.

An adapter only: it parses arguments, calls the actions in tipline.matching.banks (each audited,
under the name given with --actor) and prints counts. Hash values are never echoed back.
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from tipline.matching import banks, exporters
from tipline.matching.importers import FORMATS, ImportRefused, ImportResult, import_file
from tipline.matching.models import CLASSIFICATIONS, HashBank, HashKind

EXPORTERS = {"vics": exporters.export_vics, "csv": exporters.export_csv}
SHOWN_ERRORS = 50


def _progress(done: int, total: int) -> None:
    percent = done * 100 // max(total, 1)
    line = f"processed {done:,} / {total:,} bytes ({percent}%)"
    if sys.stderr.isatty():
        sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
    elif done >= total:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Command(BaseCommand):
    help = "Manage hash banks: import, export, stats, remove."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--actor", default="cli", help="name recorded in the audit log")
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        imp = sub.add_parser(
            "import",
            help="import a hash list into a bank",
            description=(
                "Import a hash list into a bank. Bad lines are reported with their number and "
                "reason and the rest is imported; re-importing the same list changes nothing."
            ),
        )
        imp.add_argument("--bank", required=True)
        imp.add_argument("--format", required=True, choices=list(FORMATS), dest="fmt")
        imp.add_argument("file", type=Path, metavar="FILE")
        imp.add_argument("--create", action="store_true", help="create the bank if missing")
        imp.add_argument("--source", default="", help="with --create: where the list came from")
        imp.add_argument("--licence", default="", help="with --create: terms it was shared on")
        imp.add_argument(
            "--classification",
            default="unknown",
            choices=CLASSIFICATIONS,
            help="with --create: the bank's default classification",
        )

        exp = sub.add_parser(
            "export",
            help="export a bank's active entries",
            description="Export a bank's active entries as VICS JSON (2.0) or CSV.",
        )
        exp.add_argument("--bank", required=True)
        exp.add_argument("--format", required=True, choices=list(EXPORTERS), dest="fmt")
        exp.add_argument("--out", type=Path, help="file to write (created 0600; default stdout)")

        stats = sub.add_parser(
            "stats",
            help="count entries by kind and classification",
            description="Count active and removed entries by bank, kind and classification.",
        )
        stats.add_argument("--bank")

        remove = sub.add_parser(
            "remove",
            help="remove one entry from a bank",
            description="Mark one entry removed (it stays in the bank's history).",
        )
        remove.add_argument("--bank", required=True)
        remove.add_argument("--value", required=True, help="the hash, in hexadecimal")
        remove.add_argument("--kind", choices=HashKind.values, help="needed only if ambiguous")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "import":
                self._import(options)
            elif action == "export":
                self._export(options)
            elif action == "stats":
                self._stats(options)
            elif action == "remove":
                entry = banks.entry_remove(
                    actor=options["actor"],
                    bank_name=options["bank"],
                    value=options["value"],
                    kind=options["kind"],
                )
                self.stdout.write(f"removed 1 {entry.kind} entry from {options['bank']}")
        except banks.BankError as error:
            raise CommandError(str(error)) from None

    def _bank_for_import(self, options: dict[str, Any]) -> HashBank:
        try:
            return banks.bank_get(name=options["bank"])
        except banks.BankNotFound:
            if not options["create"]:
                raise CommandError(
                    f"no hash bank named {options['bank']!r} (add --create to create it)"
                ) from None
        bank = banks.bank_create(
            actor=options["actor"],
            name=options["bank"],
            source=options["source"],
            licence_note=options["licence"],
            default_classification=options["classification"],
        )
        self.stdout.write(f"created bank {bank.name} ({bank.default_classification})")
        return bank

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        bank = self._bank_for_import(options)
        try:
            result = import_file(
                actor=options["actor"],
                bank=bank,
                path=path,
                fmt=options["fmt"],
                progress=_progress,
            )
        except ImportRefused as refused:
            if refused.partial is not None:
                self._report(refused.partial)
            raise CommandError(f"import refused: {refused.reason}") from None
        self._report(result)

    def _report(self, result: ImportResult) -> None:
        for position, reason in result.errors[:SHOWN_ERRORS]:
            self.stderr.write(f"line {position}: {reason}")
        if len(result.errors) > SHOWN_ERRORS:
            self.stderr.write(f"... and {len(result.errors) - SHOWN_ERRORS} more errors")
        for label, count in sorted(result.ignored.items()):
            self.stderr.write(f"warning: ignored {label} ({count}x)")
        self.stdout.write(
            f"added {result.added}, updated {result.updated}, unchanged {result.skipped}, "
            f"errors {len(result.errors)}"
        )

    def _export(self, options: dict[str, Any]) -> None:
        bank = banks.bank_get(name=options["bank"])
        write = EXPORTERS[options["fmt"]]
        out_path: Path | None = options["out"]
        if out_path is None:
            # Not self.stdout: Django's wrapper adds a newline to every write.
            count = write(bank, sys.stdout)
        else:
            try:
                fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as error:
                raise CommandError(f"cannot create {out_path}: {error.strerror}") from None
            out: TextIO
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                count = write(bank, out)
            self.stderr.write(f"exported {count} entries to {out_path}")
        banks.export_recorded(
            actor=options["actor"], bank=bank, export_format=options["fmt"], entries=count
        )

    def _stats(self, options: dict[str, Any]) -> None:
        rows = banks.bank_stats(bank_name=options["bank"])
        header = ("bank", "kind", "classification", "active", "removed")
        table = [header] + [
            (r.bank, r.kind, r.classification, str(r.active), str(r.removed)) for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        self.stdout.write(
            f"total: {sum(r.active for r in rows)} active, {sum(r.removed for r in rows)} removed"
        )
