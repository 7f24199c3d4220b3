"""`tipline retention run --dry-run|--apply`: erase what the retention policy says is due.

The server runs this daily by itself (``tipline.cases.tasks.retention_run``); the command is for
looking ahead (``--dry-run`` reads only: it erases nothing and writes no audit entry) and for an
operator's run by hand, recorded in the audit log under ``--actor``.
"""

from __future__ import annotations

import re
import sys
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from tipline.audit.chain import SYSTEM
from tipline.cases import retention, triage_model

_ACTOR = re.compile(r"\A[\w.@+-]{1,150}\Z")


def _actor(value: str) -> str:
    if not _ACTOR.match(value):
        raise ArgumentTypeError("use 1-150 letters, digits or . @ + - _")
    return value


class Command(BaseCommand):
    help = "Erase contact details and content of closed reports whose retention has run out."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["run"])
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
        mode.add_argument("--apply", action="store_true", help="erase what is due")
        parser.add_argument(
            "--actor", type=_actor, default=SYSTEM, help="name recorded in the audit log"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            total = 0
            for erasure in retention.iter_plan(now):
                total += 1
                self.stdout.write(
                    f"{erasure.report_id} {erasure.what} due since {erasure.due_since.isoformat()}"
                )
            self.stdout.write(f"{total} report(s) due; nothing erased (dry run)")
            return
        summary = retention.apply(
            _progress(retention.iter_plan(now)), actor=options["actor"], now=now
        )
        self.stdout.write(
            f"contact erased: {summary.contact_erased}, content erased: {summary.content_erased}, "
            f"skipped: {summary.skipped}, evidence objects deleted: {summary.objects_deleted}"
        )
        # The learned triage model must not keep what was just erased (cases/triage_model.py).
        self.stdout.write(f"triage model: {triage_model.retrain_after_erasure()}")


def _progress(erasures: Iterator[retention.Erasure]) -> Iterator[retention.Erasure]:
    for count, erasure in enumerate(erasures, start=1):
        if count % 1000 == 0 and sys.stderr.isatty():
            sys.stderr.write(f"\r{count:,} reports processed")
        yield erasure
