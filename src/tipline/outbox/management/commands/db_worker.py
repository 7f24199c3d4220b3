"""`tipline db_worker`: django-tasks-db's worker, naming itself ``<host>:<pid>:<random>``.

The package's worker takes a random id, so a RUNNING row says nothing about whether the process
that claimed it is still alive. With the host and pid in the id, `tipline serve` and the work
sweep can tell a dead worker's rows from a live one's and hand them back (outbox/workers.py).
Everything else is the package's command; ``--worker-id`` still overrides the default.
"""

from __future__ import annotations

from argparse import ArgumentParser

from django_tasks_db.management.commands import db_worker

from tipline.outbox.workers import new_worker_id


class Command(db_worker.Command):
    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=new_worker_id())
