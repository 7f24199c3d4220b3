from django.apps import AppConfig
from django.db import connections


class OutboxConfig(AppConfig):
    name = "tipline.outbox"
    label = "outbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What Django does around each request, done around each task: a connection that died
        # (PostgreSQL restarted, a network cut) or outlived CONN_MAX_AGE is closed, so the next
        # task opens a fresh one. django-tasks-db's worker does this itself; django-tasks-redis's
        # does not, and without this every task after a PostgreSQL restart failed with "the
        # connection is closed" until the worker was restarted (benchmarks/fault_cycles.py).
        from django.tasks.signals import task_finished, task_started

        task_started.connect(_fresh_connections, dispatch_uid="tipline.outbox.task_started")
        task_finished.connect(_fresh_connections, dispatch_uid="tipline.outbox.task_finished")


def _fresh_connections(**_kwargs: object) -> None:
    # Never inside a transaction: a task run in its caller's transaction (the immediate backend,
    # a test) keeps its connection, as Django's test client keeps it across requests. The
    # is_usable() ping (one SELECT 1 per task) finds a connection the server closed since the
    # last task, which close_if_unusable_or_obsolete alone notices only after a query failed:
    # without it the first task after a restart would fail.
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        connection.close_if_unusable_or_obsolete()
        if connection.connection is not None and not connection.is_usable():
            connection.close()
