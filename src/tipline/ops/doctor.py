"""`tipline doctor`: the invariants that must hold on any installation, checked from outside.

The fault tests (kill -9, disk full, a dead broker or object store), the backup round trip and
the key rotation use it as their verdict, and an operator runs it after any incident:

* keys: every key file sound (the start-up check); every report that is not erased has its
  data keys; every wrapped key or secret opens under a KEK in use (``--no-unwrap`` checks only
  which KEK each names); no rotation left half-way;
* storage: no object that no row refers to (older than a grace period: an upload is written
  before the transaction that records it), and no row whose object is missing, listed through
  tipline.storage so that any backend answers the same way;
* tasks: nothing READY or RUNNING for longer than ``--task-minutes`` in the database backend;
  in the scale-out profile (TIPLINE_TASKS=redis) also no outbox row left unrelayed that long
  (the relay is down or Redis unreachable) and nothing READY or RUNNING that long in Redis
  (no worker for a queue, or a worker killed mid-task and none left to reclaim it);
* work: no report untriaged, and no file unhashed, for longer than ``--task-minutes`` (work after
  intake that a fault lost; `tipline doctor --repair` runs the work sweep first, which enqueues
  it again and hands back dead workers' tasks: cases/work_sweep.py);
* audit: the hash chain verifies (against the local signed checkpoints).

Each finding is one plain line ``<check>: <what>``; the command exits non-zero if there is any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.db.models import Count, Exists, OuterRef
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_redis.utils import deserialize_datetime

from tipline import storage
from tipline.audit import checkpoints
from tipline.audit.chain import AuditBroken
from tipline.cases import work_sweep
from tipline.cases.models import Report, ReportKey
from tipline.cases.states import KeyPurpose
from tipline.crypto import box, keyfiles
from tipline.crypto.signing import SignatureInvalid
from tipline.ops import rotation
from tipline.ops.orphans import find_orphans, referenced_objects
from tipline.outbox.models import OutboxTask
from tipline.outbox.redis_backend import RedisBackend

# What an operator reads first: at most this many object ids or report ids per check.
_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    check: str
    problem: str

    def line(self) -> str:
        return f"{self.check}: {self.problem}"


def _some(items: list[str]) -> str:
    shown = ", ".join(sorted(items)[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def check_keys(*, unwrap: bool = True) -> Iterator[Finding]:
    key_dir = Path(settings.KEY_DIR)
    for problem in keyfiles.problems(key_dir):
        yield Finding("keys", problem)
    in_use = keyfiles.current_kek_ids(key_dir)
    if len(in_use) > 1:
        yield Finding(
            "keys",
            f"a key rotation is under way or was interrupted (KEKs {in_use}): let it finish, or "
            "run `tipline keys rotate` to resume it",
        )
    for purpose, erased in (
        (KeyPurpose.CONTENT, "content_erased_at"),
        (KeyPurpose.CONTACT, "contact_erased_at"),
    ):
        has_key = ReportKey.objects.filter(report=OuterRef("pk"), purpose=purpose)
        missing = [
            str(pk)
            for pk in Report.objects.filter(**{f"{erased}__isnull": True})
            .exclude(Exists(has_key))
            .values_list("pk", flat=True)
        ]
        if missing:
            yield Finding(
                "keys",
                f"{len(missing)} report(s) without a {purpose} key although not erased: "
                + _some(missing),
            )
    for column in rotation.WRAPPED:
        bad: list[str] = []
        rows = column.model._default_manager.exclude(**{f"{column.field}__isnull": True})
        for row in rows.iterator(chunk_size=2000):
            blob = getattr(row, column.field)
            if not blob:
                continue
            blob = bytes(blob)
            if box.wrapped_kek_id(blob) not in in_use:
                bad.append(str(row.pk))
            elif unwrap:
                try:
                    box.check_wrapped(blob, context=column.context_of(row), kind=column.kind)
                except box.DecryptionError:
                    bad.append(str(row.pk))
        if bad:
            name = f"{column.model._meta.label}.{column.field}"
            yield Finding(
                "keys", f"{len(bad)} {name} value(s) do not open under a KEK in use: " + _some(bad)
            )


def check_storage(*, grace_minutes: float) -> Iterator[Finding]:
    stored: dict[str, float] = dict(storage.list_objects())
    orphans = find_orphans(grace_minutes=grace_minutes, stored=stored)
    expected = referenced_objects(live_only=True)
    if orphans:
        yield Finding(
            "storage",
            f"{len(orphans)} object(s) without a row, older than {grace_minutes:g} min "
            "(the daily storage sweep, or `tipline storage sweep --apply` now, removes them): "
            + _some(orphans),
        )
    missing = [oid for oid in expected if oid not in stored]
    if missing:
        yield Finding(
            "storage", f"{len(missing)} row(s) whose object is missing: " + _some(missing)
        )


def check_tasks(*, task_minutes: float) -> Iterator[Finding]:
    cutoff = timezone.now() - timedelta(minutes=task_minutes)
    for status, since in (("READY", "run_after"), ("RUNNING", "started_at")):
        stuck = DBTaskResult.objects.filter(status=status, **{f"{since}__lt": cutoff})
        count = stuck.count()
        if count:
            names = sorted(set(stuck.values_list("task_path", flat=True)[:200]))
            yield Finding(
                "tasks",
                f"{count} task(s) {status} for more than {task_minutes:g} min: " + _some(names),
            )
    # Read in both profiles: the embedded one never writes the outbox, so it is empty there, and
    # rows left from a scale-out run that was switched back are stuck for good (worth saying).
    yield from _check_outbox(cutoff=cutoff, task_minutes=task_minutes)
    if settings.TIPLINE_TASKS == "redis":
        yield from _check_redis_tasks(cutoff=cutoff, task_minutes=task_minutes)


def _by_path(counts: dict[str, int]) -> str:
    return _some([f"{path} ({n})" for path, n in counts.items()])


def _check_outbox(*, cutoff: datetime, task_minutes: float) -> Iterator[Finding]:
    # The relay sends a row whatever its run_after (Redis keeps the delay), so the age that
    # matters is the row's own.
    waiting = (
        OutboxTask.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
        .values("task_path")
        .annotate(n=Count("id"))
    )
    counts = {row["task_path"]: row["n"] for row in waiting}
    if counts:
        yield Finding(
            "outbox",
            f"{sum(counts.values())} task(s) not relayed to the broker for more than "
            f"{task_minutes:g} min (is `tipline task_relay` running, and Redis reachable?): "
            + _by_path(counts),
        )


def _check_redis_tasks(*, cutoff: datetime, task_minutes: float) -> Iterator[Finding]:
    """READY or RUNNING entries of the Redis backend older than ``cutoff``, through its API.

    READY counts from when the task became due (``max(enqueued_at, run_after)``, as the
    backend's own queue statistics do), RUNNING from its last attempt. A worker killed mid-task
    leaves it RUNNING until another worker reclaims it (after TIPLINE_REDIS_CLAIM_SECONDS), so
    ``--task-minutes`` should be longer than that. The status counts come from the backend's
    index at the cost of a few commands; the entries are read only when there are some.
    """
    backend = task_backends[settings.TIPLINE_TASKS_RELAY_TO]
    if not isinstance(backend, RedisBackend):
        yield Finding("tasks", f"task backend {backend.alias!r} is not the Redis backend")
        return
    stuck: dict[str, dict[str, int]] = {"READY": {}, "RUNNING": {}}
    try:
        counts = backend.get_status_counts()
        if counts.get("READY", 0) or counts.get("RUNNING", 0):
            for _task_id, data in backend.iter_task_data(cleanup=False):
                status = data.get("status", "")
                if status not in stuck:
                    continue
                if status == "READY":
                    enqueued = deserialize_datetime(data.get("enqueued_at", ""))
                    due = deserialize_datetime(data.get("run_after", ""))
                    since = max((t for t in (enqueued, due) if t is not None), default=None)
                else:
                    since = deserialize_datetime(
                        data.get("last_attempted_at", "")
                    ) or deserialize_datetime(data.get("started_at", ""))
                if since is not None and since < cutoff:
                    path = data.get("task_path", "?")
                    stuck[status][path] = stuck[status].get(path, 0) + 1
    except redis.RedisError as exc:
        yield Finding("tasks", f"the Redis task backend does not answer: {exc}")
        return
    for status, by_path in stuck.items():
        if by_path:
            yield Finding(
                "tasks",
                f"{sum(by_path.values())} Redis task(s) {status} for more than "
                f"{task_minutes:g} min: " + _by_path(by_path),
            )


def check_work(*, task_minutes: float) -> Iterator[Finding]:
    cutoff = timezone.now() - timedelta(minutes=task_minutes)
    untriaged = [str(r) for r in work_sweep.untriaged(cutoff)]
    if untriaged:
        yield Finding(
            "work",
            f"{len(untriaged)} report(s) not triaged (or triaged before their newest message or "
            f"file match) for more than {task_minutes:g} min (`tipline doctor --repair`): "
            + _some(untriaged),
        )
    unhashed = [str(r) for r in work_sweep.unhashed(cutoff, backfill=False)]
    if unhashed:
        yield Finding(
            "work",
            f"{len(unhashed)} report(s) with files not hashed for more than {task_minutes:g} min "
            "(`tipline doctor --repair`): " + _some(unhashed),
        )


def check_audit() -> Iterator[Finding]:
    try:
        checkpoints.verify_against(checkpoints.local())
    except (checkpoints.CheckpointInvalid, AuditBroken, SignatureInvalid) as exc:
        yield Finding("audit", f"the audit log does not verify: {exc}")
    except OSError as exc:
        yield Finding("audit", f"cannot read the checkpoint log: {exc.strerror}")


def run(*, grace_minutes: float, task_minutes: float, unwrap: bool = True) -> list[Finding]:
    return [
        *check_keys(unwrap=unwrap),
        *check_storage(grace_minutes=grace_minutes),
        *check_tasks(task_minutes=task_minutes),
        *check_work(task_minutes=task_minutes),
        *check_audit(),
    ]
