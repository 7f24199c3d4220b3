"""Evidence objects no row refers to: found by `tipline doctor`, removed by `tipline storage
sweep --apply` and, once a day, by the storage sweep's periodic chain.

Why they exist. Objects are sealed and written before the transaction that records them
(storage.pending_writes); a failed transaction deletes its objects again, but a process killed
between the write and the commit (kill -9, a power cut, the OOM killer) leaves an object that no
row names. It is unreadable (its data key was never stored) but it takes space, and an operator
should not have to remember to remove it: the fault runs (benchmarks/fault_cycles.py) leave a few
after every kill of a web worker mid-upload.

The grace period keeps the sweep away from an upload still in flight: only objects older than
``TIPLINE_STORAGE_SWEEP_GRACE_MINUTES`` (default 60) are orphans, which is far longer than any
intake transaction. One rule, here, for the command, the doctor and the chain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline import storage
from tipline.cases.models import EvidenceFile
from tipline.cybertipline.models import SubmissionFile
from tipline.locker.models import EvidenceFile as LockerFile
from tipline.periodic import enqueue_once
from tipline.storage.errors import StorageError

log = logging.getLogger(__name__)

INTERVAL = timedelta(days=1)  # listing a large bucket is the cost: once a day is enough


def referenced_objects(*, live_only: bool = False) -> set[str]:
    """Every evidence-store object a row refers to (``live_only``: whose key still exists).

    Retention deletes the objects of an erased report but keeps its file rows (their sealed
    metadata is unreadable without the key), so those rows expect no object.
    """
    files = EvidenceFile.objects.all()
    if live_only:
        files = files.filter(report__content_erased_at__isnull=True)
    found = set(files.values_list("object_id", flat=True))
    found |= set(files.values_list("preview_object_id", flat=True))
    found |= set(SubmissionFile.objects.values_list("object_id", flat=True))
    found |= set(LockerFile.objects.values_list("object_id", flat=True))
    found |= set(LockerFile.objects.values_list("items_object_id", flat=True))
    found.discard("")
    return found


def grace_minutes() -> float:
    return float(settings.TIPLINE_STORAGE_SWEEP_GRACE_MINUTES)


def find_orphans(*, grace_minutes: float, stored: dict[str, float] | None = None) -> list[str]:
    """Ids of stored objects no row names and older than ``grace_minutes``.

    The rows are read *after* the listing: an object written and recorded between the two is
    then referenced, never taken for an orphan (it is also younger than the grace period).
    """
    if stored is None:
        stored = dict(storage.list_objects())
    referenced = referenced_objects()
    cutoff = time.time() - grace_minutes * 60
    return sorted(oid for oid, mtime in stored.items() if oid not in referenced and mtime < cutoff)


@dataclass(frozen=True)
class SweepResult:
    removed: int
    left: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def remove_orphans(*, grace_minutes: float) -> SweepResult:
    """Delete the orphans; what the store refuses to delete now is left for the next run."""
    orphans = find_orphans(grace_minutes=grace_minutes)
    left = storage.discard_objects(orphans)
    if orphans:
        log.warning(
            "storage sweep: %d orphaned object(s) removed, %d left",
            len(orphans) - len(left),
            len(left),
        )
    return SweepResult(removed=len(orphans) - len(left), left=len(left))


@task()
def storage_sweep_run() -> dict[str, int]:
    """One sweep, the next one scheduled first (a run that fails, the store down, leaves the
    following one in the queue)."""
    later = timezone.now() + INTERVAL
    enqueue_once(storage_sweep_run, run_after=later, unless={TaskResultStatus.READY})
    try:
        result = remove_orphans(grace_minutes=grace_minutes())
    except StorageError as exc:
        log.warning("storage sweep: the evidence store cannot be listed (%s); tomorrow again", exc)
        return SweepResult(removed=0, left=0).as_dict()
    return result.as_dict()


def ensure_storage_sweep_scheduled() -> bool:
    """Start the chain unless a run is already waiting or running (at start)."""
    return enqueue_once(
        storage_sweep_run,
        run_after=None,
        unless={TaskResultStatus.READY, TaskResultStatus.RUNNING},
    )
