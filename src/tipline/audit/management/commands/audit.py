"""`tipline audit verify|head|checkpoint|pubkey`: check the hash chain and its signed checkpoints.

* ``verify`` walks the chain and, by default, checks it against every checkpoint in the local
  checkpoint log; ``--against FILE`` (repeatable) checks it against checkpoints kept elsewhere (a
  copy of the log, a syslog file, a saved e-mail) instead, and ``--pubkey`` verifies their
  signatures with a published key rather than this machine's.
* ``checkpoint`` signs the chain's head now and publishes it (file, syslog, e-mail).
* ``pubkey`` prints the checkpoint public key (PEM, OpenSSL-readable) for an auditor to keep.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.audit import checkpoints, sinks
from tipline.audit.chain import AuditBroken, head
from tipline.crypto import signing


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain against its signed checkpoints (exit 0 if intact), "
        "print its head, take a signed checkpoint now, or print the checkpoint public key."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify", "head", "checkpoint", "pubkey"])
        parser.add_argument(
            "--against",
            action="append",
            type=Path,
            metavar="FILE",
            help="verify against the checkpoints in FILE (repeatable) instead of the local log",
        )
        parser.add_argument(
            "--pubkey",
            type=Path,
            metavar="PEM",
            help="check checkpoint signatures with this public key (from `tipline audit pubkey`)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "head":
            seq, digest = head()
            self.stdout.write(f"{seq} {digest}")
        elif action == "pubkey":
            public = signing.public_key()
            self.stdout.write(signing.public_key_pem(public), ending="")
            self.stderr.write(f"key id {signing.key_id(public)}")
        elif action == "checkpoint":
            self._checkpoint()
        else:
            self._verify(options["against"], options["pubkey"])

    def _checkpoint(self) -> None:
        try:
            checkpoint = checkpoints.take()
        except (AuditBroken, checkpoints.CheckpointInvalid) as exc:
            sinks.alert(f"audit checkpoint refused: {exc}")
            raise CommandError(f"no checkpoint taken: {exc}") from None
        self.stdout.write(checkpoint.line())
        deliveries = sinks.publish(checkpoint)
        for delivery in deliveries:
            self.stdout.write(f"  {delivery.sink}: {delivery.status} ({delivery.detail})")
        if any(delivery.status == "failed" for delivery in deliveries):
            raise CommandError("the checkpoint was not sent everywhere it should go")

    def _verify(self, against: list[Path] | None, pubkey: Path | None) -> None:
        def progress(count: int) -> None:
            if count % 100_000 == 0 and sys.stderr.isatty():
                sys.stderr.write(f"\r{count:,} entries verified")

        try:
            public = signing.public_key_from_pem(pubkey.read_text()) if pubkey else None
            located = self._load(against)
            result = checkpoints.verify_against(located, public=public, progress=progress)
        except OSError as exc:
            raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None
        except signing.SignatureInvalid as exc:
            raise CommandError(f"{pubkey}: {exc}") from None
        except checkpoints.CheckpointInvalid as exc:
            raise CommandError(f"checkpoint INVALID: {exc}") from None
        except AuditBroken as broken:
            raise CommandError(f"audit log BROKEN at entry {broken.seq}: {broken.reason}") from None
        chain = result.chain
        self.stdout.write(
            f"audit log intact: {chain.entries} entries, head {chain.head_seq} {chain.head_hash}"
        )
        if result.newest is None:
            self.stdout.write(
                "no checkpoint to check against: entries deleted from the end, or a chain rebuilt"
                " with audit.key, would not show (`tipline audit checkpoint`)"
            )
            return
        self.stdout.write(
            f"matches {result.checkpoints} signed checkpoint(s), the newest the"
            f" {result.newest.describe()}; entries after {result.newest.seq} are not covered yet"
        )

    def _load(self, against: list[Path] | None) -> list[checkpoints.Located]:
        if not against:
            return checkpoints.local()
        located: list[checkpoints.Located] = []
        for path in against:
            found = checkpoints.read(path)
            if not found:
                raise CommandError(f"no checkpoint found in {path}")
            located.extend(found)
        return located
