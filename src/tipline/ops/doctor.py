"""`tipline doctor`: the invariants that must hold on any installation, checked from outside.

The fault tests (kill -9, disk full, a dead broker or object store), the backup round trip and
the key rotation use it as their verdict, and an operator runs it after any incident:

* keys: every key file sound (the start-up check); every report that is not erased has its
  data keys; every wrapped key or secret opens under a KEK in use (``--no-unwrap`` checks only
  which KEK each names); no rotation left half-way;
* storage: no object that no row refers to (older than a grace period: an upload is written
  before the transaction that records it), and no row whose object is missing, listed through
  tipline.storage so that any backend answers the same way;
* tasks: nothing READY or RUNNING for longer than ``--task-minutes``;
* audit: the hash chain verifies (against the local signed checkpoints).

Each finding is one plain line ``<check>: <what>``; the command exits non-zero if there is any.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tipline import storage
from tipline.audit import checkpoints
from tipline.audit.chain import AuditBroken
from tipline.cases.models import EvidenceFile, Report, ReportKey
from tipline.cases.states import KeyPurpose
from tipline.crypto import box, keyfiles
from tipline.crypto.signing import SignatureInvalid
from tipline.cybertipline.models import SubmissionFile
from tipline.locker.models import EvidenceFile as LockerFile
from tipline.ops import rotation

# What an operator reads first: at most this many object ids or report ids per check.
_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    check: str
    problem: str

    def line(self) -> str:
        return f"{self.check}: {self.problem}"


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
    referenced = referenced_objects()
    expected = referenced_objects(live_only=True)
    cutoff = time.time() - grace_minutes * 60
    stored: dict[str, float] = dict(storage.list_objects())
    orphans = [oid for oid, mtime in stored.items() if oid not in referenced and mtime < cutoff]
    if orphans:
        yield Finding(
            "storage",
            f"{len(orphans)} object(s) without a row, older than {grace_minutes:g} min "
            "(`tipline storage sweep --apply` removes them): " + _some(orphans),
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
        *check_audit(),
    ]
