"""The relay: move committed outbox rows to the broker, oldest first, and mark them sent.

Delivery is at least once. A row is marked sent in the same database transaction that locked it,
after the broker accepted it; a relay killed between the two leaves the row unsent and the next
pass sends it again, so the broker may see a task twice and every task is idempotent
(docs/architecture.md lists the guard of each). Rows are locked with ``SKIP LOCKED`` on
PostgreSQL, so several relays (one per worker machine) share the backlog without sending a row
twice in the normal case. While the broker is unreachable nothing is marked and the rows wait.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tipline.outbox.models import OutboxTask

log = logging.getLogger(__name__)

# Sent rows are kept this long (an operator can see what went out), then deleted.
KEEP_SENT = timedelta(hours=1)


@dataclass(frozen=True)
class Pass:
    sent: int
    failed: bool  # the broker refused or was unreachable: back off before the next pass


def relay_batch(*, relay_to: str, limit: int = 100) -> Pass:
    """Send up to ``limit`` of the oldest unsent rows to the backend ``relay_to``."""
    sent: list[int] = []
    failed = False
    with transaction.atomic():
        rows = list(
            OutboxTask.objects.filter(sent_at__isnull=True)
            .order_by("id")
            .select_for_update(skip_locked=True)[:limit]
        )
        for row in rows:
            try:
                _send(row, relay_to=relay_to)
            except Exception:
                log.warning("outbox: broker refused task #%s; will retry", row.pk, exc_info=True)
                OutboxTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
                failed = True
                break
            sent.append(row.pk)
        if sent:
            OutboxTask.objects.filter(pk__in=sent).update(sent_at=timezone.now())
    return Pass(sent=len(sent), failed=failed)


def _send(row: OutboxTask, *, relay_to: str) -> None:
    task: Any = import_string(row.task_path)
    changes: dict[str, Any] = {
        "backend": relay_to,
        "queue_name": row.queue_name,
        "priority": row.priority,
    }
    if row.run_after is not None:
        changes["run_after"] = row.run_after
    task.using(**changes).enqueue(*row.args, **row.kwargs)


def prune_sent(*, now: Any = None) -> int:
    cutoff = (now or timezone.now()) - KEEP_SENT
    deleted, _ = OutboxTask.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


def backlog() -> int:
    return OutboxTask.objects.filter(sent_at__isnull=True).count()


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def run(
    *, relay_to: str, interval: float, batch: int, max_backoff: float = 5.0, once: bool = False
) -> int:
    """Relay until SIGTERM/SIGINT (or one drain with ``once``); returns the rows sent.

    A pass that sent a full batch is followed at once by the next; an empty pass sleeps
    ``interval``; a failed one backs off, doubling up to ``max_backoff``, so a broker outage
    costs one connection attempt every few seconds rather than a busy loop.
    """
    stop = _Stop()
    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    total = 0
    backoff = interval
    last_prune = 0.0
    while not stop.requested:
        try:
            result = relay_batch(relay_to=relay_to, limit=batch)
        except Exception:
            log.warning("outbox: database unavailable; will retry", exc_info=True)
            close_old_connections()
            result = Pass(sent=0, failed=True)
        total += result.sent
        if result.failed:
            if once:
                break
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        backoff = interval
        if time.monotonic() - last_prune > 60:
            prune_sent()
            last_prune = time.monotonic()
        if result.sent < batch:
            if once:
                break
            time.sleep(interval)
    return total
