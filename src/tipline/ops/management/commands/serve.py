"""`tipline serve`: the web server and the task workers together, as one foreground command.

Gunicorn runs without an access log and at warning level, so no request line (address, path,
query string) is ever written. Stopping this command stops every child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tipline.audit.tasks import ensure_checkpoints_scheduled
from tipline.cases.tasks import MEDIA_QUEUE, TRIAGE_QUEUE, ensure_retention_scheduled


class Command(BaseCommand):
    help = "Run the web server and the background task workers (Ctrl-C stops them all)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "4")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "2")))
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start the task workers"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Static files are served by the app itself (WhiteNoise): nothing loads from elsewhere.
        call_command("collectstatic", interactive=False, verbosity=0)
        # The daily retention run re-enqueues itself; this starts the chain (or restarts it).
        ensure_retention_scheduled()
        ensure_checkpoints_scheduled()  # signed audit-chain heads, hourly (audit/tasks.py)
        python = sys.executable
        web = [
            python,
            "-m",
            "gunicorn",
            "tipline.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "10",
            "--forwarded-allow-ips",
            "",
            "--logger-class",
            "tipline.web.gunicorn_logger.PrivateLogger",
        ]
        children = [subprocess.Popen(web)]  # noqa: S603 - fixed argv, our own interpreter
        if not options["no_worker"]:
            children += _task_workers(python)
        self.stdout.write(
            f"Tipline on http://{options['host']}:{options['port']}/ (Ctrl-C to stop)"
        )

        def stop(signum: int, _frame: Any) -> None:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()


def _task_workers(python: str) -> list[subprocess.Popen[bytes]]:
    """One worker for triage and one for media work, so triage never waits behind a large image.

    Triage polls more often (the one-second promise rests on it; a poll is one short
    transaction). The media worker keeps the normal CPU priority: lowered, it would hold
    SQLite's write lock while waiting for a core, and every writer would wait with it.
    """
    db_worker = [python, "-m", "tipline.cli", "db_worker", "--no-startup-delay"]
    triage = [*db_worker, "--queue-name", TRIAGE_QUEUE, "--interval", "0.2"]
    media = [*db_worker, "--queue-name", MEDIA_QUEUE, "--interval", "0.5"]
    return [
        subprocess.Popen(triage),  # noqa: S603 - fixed argv, our own interpreter
        subprocess.Popen(media),  # noqa: S603
    ]
