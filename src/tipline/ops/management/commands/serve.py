"""`tipline serve`: the web server and the task workers together, as one foreground command.

The web server is nginx (the front, tipline.ops.front) on the public port, reading each request
completely before gunicorn, on a unix socket in the data directory, sees it; `--no-front` runs
gunicorn on the public port instead, for deployments whose own front buffers whole requests.
Neither keeps an access log, and gunicorn logs at warning level, so no request line (address,
path, query string) is ever written. Stopping this command stops every child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tipline.audit.tasks import ensure_checkpoints_scheduled
from tipline.cases.tasks import MEDIA_QUEUE, TRIAGE_QUEUE, ensure_retention_scheduled
from tipline.cases.work_sweep import ensure_work_sweep_scheduled
from tipline.cybertipline.tasks import ensure_sweep_scheduled
from tipline.exchange.tasks import ensure_outcomes_scheduled
from tipline.metrics.tasks import ensure_metrics_scheduled
from tipline.ops import front
from tipline.ops.orphans import ensure_storage_sweep_scheduled
from tipline.outbox.workers import release_dead_workers
from tipline.partnerapi.tasks import (
    WEBHOOKS_QUEUE,
    ensure_hash_pulls_scheduled,
    ensure_webhooks_scheduled,
)
from tipline.takedown.tasks import ensure_recheck_scheduled, ensure_replies_scheduled


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
        self._add_front_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        # Static files are served by the app itself (WhiteNoise): nothing loads from elsewhere.
        call_command("collectstatic", interactive=False, verbosity=0)
        # Task rows a killed worker left RUNNING would never run again (and a periodic chain's
        # RUNNING row would keep its ensure_* below from restarting it): hand them back first.
        if released := release_dead_workers():
            self.stdout.write(f"{released} task(s) left RUNNING by a dead worker queued again")
        # The daily retention run re-enqueues itself; this starts the chain (or restarts it).
        ensure_retention_scheduled()
        ensure_hash_pulls_scheduled()  # partner hash lists, when TIPLINE_HASH_PULLS names any
        ensure_webhooks_scheduled()  # partner webhooks: status changes out, with retries
        ensure_checkpoints_scheduled()  # signed audit-chain heads, hourly (audit/tasks.py)
        ensure_outcomes_scheduled()  # outcome updates owed to partner hotlines (exchange/tasks.py)
        ensure_recheck_scheduled()  # takedown: is each noticed URL still up? (takedown/tasks.py)
        ensure_replies_scheduled()  # takedown: providers' replies, when an IMAP mailbox is set
        ensure_metrics_scheduled()  # rollup refresh by cursor, every minute (metrics/tasks.py)
        ensure_sweep_scheduled()  # unfinished CyberTipline submissions, hourly
        ensure_work_sweep_scheduled()  # triage and media work lost to a fault (cases/work_sweep.py)
        ensure_storage_sweep_scheduled()  # objects a killed upload left, daily (ops/orphans.py)
        python = sys.executable
        web = self._start_web(options)
        workers = [] if options["no_worker"] else [_Worker(argv) for argv in _task_argvs(python)]
        self.stdout.write(
            f"Tipline on http://{options['host']}:{options['port']}/ (Ctrl-C to stop)"
        )

        def running() -> list[subprocess.Popen[bytes]]:
            return [*web, *(worker.proc for worker in workers)]

        stopping: list[int] = []  # a signal arrived: nothing is started again from now on

        def stop(signum: int, _frame: Any) -> None:
            stopping.append(signum)
            for child in running():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            # The web server ending ends Tipline; a task worker ending (a database restart it
            # could not ride out, an out-of-memory kill) is started again: the web keeps taking
            # reports, and the work sweep re-runs what the dead worker had in hand.
            while all(child.poll() is None for child in web):
                for worker in [] if stopping else workers:
                    if worker.restart_if_dead():
                        self.stderr.write(f"task worker started again: {' '.join(worker.argv[3:])}")
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            for child in running():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()

    # --- The web server: gunicorn, behind the front unless --no-front ---------------------------

    def _add_front_arguments(self, parser: ArgumentParser) -> None:
        limits = front.FrontLimits()
        parser.add_argument(
            "--no-front",
            action="store_true",
            default=os.environ.get("TIPLINE_NO_FRONT") == "1",
            help="serve gunicorn directly on --host/--port, without nginx in front (only behind "
            "a front of your own that reads whole requests first; docs/deployment.md)",
        )
        parser.add_argument(
            "--max-requests",
            type=int,
            default=int(os.environ.get("TIPLINE_FRONT_MAX_REQUESTS", limits.max_requests)),
            help="front: requests in progress at once; more get an immediate 503",
        )
        parser.add_argument(
            "--max-uploads",
            type=int,
            default=int(os.environ.get("TIPLINE_FRONT_MAX_UPLOADS", limits.max_uploads)),
            help="front: requests with a body over 1 MB in progress at once (each may hold "
            "TIPLINE_MAX_REQUEST_BYTES of memory); more get an immediate 503",
        )
        parser.add_argument(
            "--client-timeout",
            type=int,
            default=int(os.environ.get("TIPLINE_FRONT_CLIENT_TIMEOUT", limits.client_timeout)),
            help="front: seconds a client may stay silent before it is dropped",
        )

    def _gunicorn(self, bind: str, options: dict[str, Any]) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "tipline.wsgi:application",
            "--bind",
            bind,
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

    def _start_web(self, options: dict[str, Any]) -> list[subprocess.Popen[bytes]]:
        """Start gunicorn, and nginx in front of it; return the children to watch."""
        if options["no_front"]:
            public = front.listen_address(options["host"], options["port"])
            return [subprocess.Popen(self._gunicorn(public, options))]  # noqa: S603 - fixed argv
        try:
            nginx = front.find_nginx()
        except front.FrontError as error:
            raise CommandError(str(error)) from error
        paths = front.prepare(settings.DATA_DIR)
        limits = front.FrontLimits(
            max_requests=options["max_requests"],
            max_uploads=options["max_uploads"],
            client_timeout=options["client_timeout"],
        )
        config = front.render(
            paths,
            host=options["host"],
            port=options["port"],
            max_body=settings.TIPLINE_MAX_REQUEST_BYTES,
            limits=limits,
        )
        front.write_config(paths, config)
        web = subprocess.Popen(self._gunicorn(f"unix:{paths.socket}", options))  # noqa: S603
        try:
            front.wait_for_socket(paths, web, seconds=60)
        except front.FrontError as error:
            web.terminate()
            raise CommandError(str(error)) from error
        proxy = subprocess.Popen(front.argv(nginx, paths), stderr=subprocess.PIPE)  # noqa: S603
        if proxy.stderr is not None:  # always: it is a pipe
            front.relay_log(proxy.stderr, sys.stderr)
        return [web, proxy]


class _Worker:
    """A task worker process that ``serve`` starts again when it ends, at most every few
    seconds (a worker that cannot start, e.g. while the database is down, is not spun)."""

    PAUSE_SECONDS = 5.0

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        self.started = time.monotonic()
        return subprocess.Popen(self.argv)  # noqa: S603 - fixed argv, our own interpreter

    def restart_if_dead(self) -> bool:
        if self.proc.poll() is None or time.monotonic() - self.started < self.PAUSE_SECONDS:
            return False
        self.proc = self._start()
        return True


def _task_argvs(python: str) -> list[list[str]]:
    if settings.TIPLINE_TASKS == "redis":
        return _scale_out_workers(python)
    return _database_workers(python)


def _scale_out_workers(python: str) -> list[list[str]]:
    """The scale-out task profile: the outbox relay, Redis workers for the per-report queues,
    and database workers for the periodic chains (tipline/periodic.py says why they stay).

    Redis workers keep running while Redis is down (they log and retry); the relay backs off.
    A Redis worker claims a task left pending by a dead worker after REDIS_CLAIM_TIMEOUT.
    """
    cli = [python, "-m", "tipline.cli"]
    redis = [*cli, "run_redis_tasks", "--backend", "redis", "--continuous", "--interval", "0.2"]
    periodic = [*cli, "db_worker", "--backend", "periodic", "--no-startup-delay"]
    return [
        [*cli, "task_relay", "--interval", "0.2"],
        [*redis, "--queue", TRIAGE_QUEUE],
        [*redis, "--queue", MEDIA_QUEUE],
        [*periodic, "--queue-name", MEDIA_QUEUE, "--interval", "1"],
        [*periodic, "--queue-name", WEBHOOKS_QUEUE, "--interval", "1"],
    ]


def _database_workers(python: str) -> list[list[str]]:
    """One worker for triage and one for media work, so triage never waits behind a large image.

    Triage polls more often (the one-second promise rests on it; a poll is one short
    transaction). The media worker keeps the normal CPU priority: lowered, it would hold
    SQLite's write lock while waiting for a core, and every writer would wait with it.
    """
    db_worker = [python, "-m", "tipline.cli", "db_worker", "--no-startup-delay"]
    triage = [*db_worker, "--queue-name", TRIAGE_QUEUE, "--interval", "0.2"]
    media = [*db_worker, "--queue-name", MEDIA_QUEUE, "--interval", "0.5"]
    # Webhook delivery waits on partners' servers (up to 10 s each): its own worker, so a slow
    # partner never delays triage or media work.
    hooks = [*db_worker, "--queue-name", WEBHOOKS_QUEUE, "--interval", "1"]
    return [triage, media, hooks]
