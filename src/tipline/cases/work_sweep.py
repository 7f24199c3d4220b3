"""The work sweep: enqueue again the work after intake that a fault lost (issue 19).

Intake commits a report with its tasks, so an acknowledged report is never lost; the work after
it can be. Neither task backend retries a task that failed: a triage or media task that met a
database error during a PostgreSQL restart was recorded FAILED and never ran again, and a task
whose worker was killed stayed RUNNING (benchmarks/fault_cycles.py, docs/BENCHMARKS.md). The
sweep looks at the *outcome* rather than at task rows, so it covers every way of losing a task
(failed, dropped, stuck, never relayed) in both task profiles:

* triage missing: a report with no triage result, or one scored before its newest reporter
  message or before one of its files matched a hash bank (``signal.known_hash`` not in it);
* media work missing: a file whose hashes are not stored (``EvidenceFile.hashed_at``);

each only once it has waited ``TIPLINE_WORK_SWEEP_MINUTES`` (a queue that is merely busy is
not a lost task), for reports whose content is not erased, and only when no run of that task
for that report is waiting or running (database rows READY or RUNNING after dead workers'
rows were released; in the scale-out profile unrelayed outbox rows and Redis tasks READY or
RUNNING within the claim timeout). If the queue cannot be read (Redis down), the sweep enqueues
nothing: it cannot tell lost work from waiting work, and the next run will.

Both tasks are idempotent (triage rewrites the one result row; media work stores a file once,
under the report's row lock), so a task enqueued beside a copy the sweep could not see costs
only the work. Runs every ``interval()`` as a periodic chain (``work_sweep_run``) and on demand
with `tipline doctor --repair`; each run logs what it enqueued, like the retention run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q
from django.tasks import TaskResultStatus, task, task_backends
from django.utils import timezone

from tipline.cases import media_step
from tipline.cases.models import EvidenceFile, Message, Report
from tipline.cases.states import MessageAuthor
from tipline.cases.tasks import process_media, triage_report
from tipline.matching.models import FileMatch
from tipline.outbox import workers
from tipline.outbox.models import OutboxTask
from tipline.outbox.redis_backend import RedisBackend
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)

# At most this many reports of each kind per run: a sweep after a long outage works through
# the backlog over a few runs instead of one long transaction-free burst.
BATCH = 2000
# The sweep runs twice per TIPLINE_WORK_SWEEP_MINUTES (every 5 min by default), so lost work
# is enqueued again at most one and a half times that after it was due.
MIN_INTERVAL = timedelta(seconds=30)
# How far back the periodic run looks (reports and files created since); older lost work is
# what `tipline doctor` names and `doctor --repair` enqueues.
LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class SweepResult:
    released: int  # dead workers' RUNNING task rows handed back
    triage: int  # reports whose triage was enqueued again
    media: int  # reports whose media work was enqueued again
    skipped: bool = False  # the queue could not be read: nothing enqueued

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}


class QueueUnreadable(Exception):
    """The task queue could not be read, so waiting work cannot be told from lost work."""


def wait() -> timedelta:
    return timedelta(minutes=settings.TIPLINE_WORK_SWEEP_MINUTES)


def interval() -> timedelta:
    return max(wait() / 2, MIN_INTERVAL)


def untriaged(
    cutoff: datetime, *, since: datetime | None = None, limit: int = BATCH
) -> list[uuid.UUID]:
    """Reports due for triage since before ``cutoff`` that have no triage as fresh as needed
    (only reports created after ``since``, when given: a range on ``report_created``)."""
    newest_message = (
        Message.objects.filter(report=OuterRef("pk"), author=MessageAuthor.REPORTER)
        .values("report")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    matched_since = FileMatch.objects.filter(
        evidence__report=OuterRef("pk"),
        evidence__hashed_at__gt=OuterRef("triage__scored_at"),
        evidence__hashed_at__lt=cutoff,
    )
    reports = Report.objects.filter(created_at__lt=cutoff, content_erased_at__isnull=True)
    if since is not None:
        reports = reports.filter(created_at__gte=since)
    reports = (
        reports.annotate(newest_message=newest_message)
        .filter(
            Q(triage__isnull=True)
            | Q(newest_message__gt=F("triage__scored_at"), newest_message__lt=cutoff)
            | Exists(matched_since)
        )
        .order_by("created_at")
    )
    return list(reports.values_list("pk", flat=True)[:limit])


def unhashed(
    cutoff: datetime, *, backfill: bool, since: datetime | None = None, limit: int = BATCH
) -> list[uuid.UUID]:
    """Reports with a file stored before ``cutoff`` whose hashes are not stored.

    Rows from before ``hashed_at`` existed are checked through their sealed metadata once;
    with ``backfill`` the column is filled in for those found hashed, so they leave the query.
    """
    files = EvidenceFile.objects.filter(
        hashed_at__isnull=True, created_at__lt=cutoff, report__content_erased_at__isnull=True
    )
    if since is not None:
        files = files.filter(created_at__gte=since)
    candidates = list(
        dict.fromkeys(files.order_by("created_at").values_list("report_id", flat=True)[:limit])
    )
    lost: list[uuid.UUID] = []
    for report_id in candidates:
        pending = {f.pk for f in media_step.pending_files(report_id)}
        if backfill:
            done = files.filter(report_id=report_id).exclude(pk__in=pending)
            done.update(hashed_at=F("created_at"))
        if pending:
            lost.append(report_id)
    return lost


def waiting(task_path: str) -> set[str]:
    """The report ids (first task argument) of every run of ``task_path`` still to come."""
    from django_tasks_db.models import DBTaskResult

    found = {
        str(args_kwargs["args"][0])
        for args_kwargs in DBTaskResult.objects.filter(
            task_path=task_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        ).values_list("args_kwargs", flat=True)
        if args_kwargs.get("args")
    }
    found |= {
        str(args[0])
        for args in OutboxTask.objects.filter(
            task_path=task_path, sent_at__isnull=True
        ).values_list("args", flat=True)
        if args
    }
    if settings.TIPLINE_TASKS == "redis":
        backend = task_backends[settings.TIPLINE_TASKS_RELAY_TO]
        if not isinstance(backend, RedisBackend):
            raise QueueUnreadable(f"task backend {backend.alias!r} is not the Redis backend")
        try:
            found |= backend.waiting_args([task_path])
        except redis.RedisError as exc:
            raise QueueUnreadable(str(exc)) from exc
    return found


def run(*, now: datetime | None = None, full: bool = False) -> SweepResult:
    """Release dead workers' rows, then enqueue the triage and media work found lost.

    The periodic run looks back ``LOOKBACK`` (a range on the created_at indexes, so its cost
    follows a week's intake, not the whole table); ``full`` (`doctor --repair`) looks at every
    report, as the doctor's check does.
    """
    now = now or timezone.now()
    since = None if full else now - LOOKBACK
    released = workers.release_dead_workers(now=now)
    cutoff = now - wait()
    try:
        triage_queued = waiting(triage_report.module_path)
        media_queued = waiting(process_media.module_path)
    except QueueUnreadable as exc:
        log.warning("work sweep: the task queue cannot be read (%s); nothing enqueued", exc)
        return SweepResult(released=released, triage=0, media=0, skipped=True)
    triage = [rid for rid in untriaged(cutoff, since=since) if str(rid) not in triage_queued]
    media = [
        rid for rid in unhashed(cutoff, backfill=True, since=since) if str(rid) not in media_queued
    ]
    for rid in triage:
        triage_report.enqueue(str(rid))
    for rid in media:
        process_media.enqueue(str(rid))
    if released or triage or media:
        ids = ", ".join(str(r) for r in [*triage, *media][:20])
        log.warning(
            "work sweep: %d dead worker task(s) released; triage enqueued again for %d "
            "report(s), media work for %d%s",
            released,
            len(triage),
            len(media),
            f": {ids}" if ids else "",
        )
    return SweepResult(released=released, triage=len(triage), media=len(media))


@task()
def work_sweep_run() -> dict[str, int]:
    """One sweep, the next one scheduled first (so a run that fails, the database still down,
    leaves the following one in the queue)."""
    now = timezone.now()
    enqueue_once(work_sweep_run, run_after=now + interval(), unless={TaskResultStatus.READY})
    result = run(now=now)
    log.info("work sweep: %s", result.as_dict())
    return result.as_dict()


def ensure_work_sweep_scheduled() -> bool:
    """Start the sweep's chain unless a run is already waiting or running (at start)."""
    return enqueue_once(
        work_sweep_run, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )
