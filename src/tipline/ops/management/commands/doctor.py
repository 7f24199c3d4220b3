"""`tipline doctor`: check the installation's invariants (tipline.ops.doctor); exit 1 on any.

Plain output, one line per finding, so that tests, monitoring and an operator read it alike.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.cases import work_sweep
from tipline.ops import doctor


class Command(BaseCommand):
    help = (
        "Check keys, evidence objects, tasks (and the outbox and Redis in the scale-out profile), "
        "work after intake (triage, file hashes) and the audit chain; print each problem and "
        "exit non-zero if there is any. --repair first enqueues lost work again."
    )
    requires_system_checks: list[str] = []  # a damaged key is one of the findings, not a crash

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--grace-minutes",
            type=float,
            default=60.0,
            help="objects younger than this without a row are uploads still being recorded",
        )
        parser.add_argument(
            "--task-minutes",
            type=float,
            default=30.0,
            help="a task READY or RUNNING for longer than this is stuck, as is an outbox row not "
            "relayed to Redis (scale-out profile); keep it above TIPLINE_REDIS_CLAIM_SECONDS",
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="first run the work sweep: hand back tasks of dead workers and enqueue again "
            "triage and media work that a fault lost (what the periodic sweep does)",
        )
        parser.add_argument(
            "--no-unwrap",
            action="store_true",
            help="check which KEK each wrapped key names without opening it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grace_minutes"] < 0 or options["task_minutes"] < 0:
            raise CommandError("--grace-minutes and --task-minutes must not be negative")
        if options["repair"]:
            result = work_sweep.run(full=True)
            self.stdout.write(
                f"repair: {result.released} task(s) of dead workers queued again; triage "
                f"enqueued for {result.triage} report(s), media work for {result.media}"
                + (" (skipped: the task queue cannot be read)" if result.skipped else "")
            )
        findings = doctor.run(
            grace_minutes=options["grace_minutes"],
            task_minutes=options["task_minutes"],
            unwrap=not options["no_unwrap"],
        )
        for finding in findings:
            self.stdout.write(finding.line())
        if findings:
            raise CommandError(f"{len(findings)} problem(s) found")
        self.stdout.write("doctor: no problems found")
