"""`tipline task_relay`: move outbox rows to Redis (scale-out task profile only)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tipline.outbox import relay


class Command(BaseCommand):
    help = "Relay tasks from the database outbox to Redis (TIPLINE_TASKS=redis)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="idle poll, seconds")
        parser.add_argument("--batch", type=int, default=100, help="rows per transaction")
        parser.add_argument("--once", action="store_true", help="drain what is there and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TIPLINE_TASKS != "redis":
            raise CommandError("task_relay runs only with TIPLINE_TASKS=redis")
        sent = relay.run(
            relay_to=settings.TIPLINE_TASKS_RELAY_TO,
            interval=options["interval"],
            batch=options["batch"],
            once=options["once"],
        )
        if options["once"]:
            self.stdout.write(f"relayed {sent}")
