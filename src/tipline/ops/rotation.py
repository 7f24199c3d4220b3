"""`tipline keys rotate`: a new key-encryption key, every wrapped data key re-wrapped online.

How it stays online and safe (issue 19):

* ``keyfiles.begin_rotation`` records kek-N+1; every process re-reads the manifest when it
  changes, so new data keys are wrapped under the new KEK at once, and both KEKs unwrap (each
  wrapped blob says which KEK wrapped it).
* Every column that holds a KEK-wrapped value is listed in ``WRAPPED`` below. Rows still under
  an old KEK are re-wrapped in batches, one transaction per batch. Each row is updated only if
  it still holds the blob that was read (compare-and-swap), so a report erased or a key
  replaced meanwhile is never brought back or overwritten.
* The old KEK is destroyed only after a full pass finds nothing under it, and no sooner than
  ``grace`` seconds after the new KEK became active: a request that read the manifest just
  before the change and commits late is found by that last pass.
* A crash anywhere is resumed by running the command again: the manifest says a rotation is
  under way, and the batches only look for what is still under the old KEK.

Each step is audited (start, progress per run, destruction) with counts, never key material.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from tipline.audit.chain import record
from tipline.cases.models import ReportKey
from tipline.crypto import box, keyfiles
from tipline.crypto.sealed import context
from tipline.cybertipline.models import Submission
from tipline.exchange.models import PartnerHotline
from tipline.locker.models import Locker
from tipline.metrics.models import SatisfactionAnswer

ACTOR = "system:keys-rotate"


@dataclass(frozen=True)
class WrappedColumn:
    """One column that holds a value wrapped by the KEK, and the context it was wrapped with.

    ``context_of`` must spell the context exactly as the module that wraps the value does; the
    rotation test re-reads every kind after a rotation, so a mismatch fails there.
    """

    model: type[models.Model]
    field: str
    kind: str  # "wrap" (box.wrap_data_key) or "secret" (box.seal_secret)
    context_of: Callable[[Any], str]
    kek_field: str | None = None  # a column that also records the KEK's number


WRAPPED: tuple[WrappedColumn, ...] = (
    WrappedColumn(
        ReportKey,
        "wrapped",
        "wrap",
        lambda row: context("report", row.report_id, row.purpose),
        kek_field="kek_id",
    ),
    WrappedColumn(
        Submission, "wrapped_key", "wrap", lambda row: context("cybertipline", str(row.pk), "key")
    ),
    WrappedColumn(
        SatisfactionAnswer,
        "comment_key",
        "wrap",
        lambda row: context("satisfaction", str(row.pk), "comment"),
    ),
    WrappedColumn(Locker, "wrapped_key", "wrap", lambda row: context("locker", row.pk, "key")),
    WrappedColumn(
        PartnerHotline,
        "outbound_token",
        "secret",
        lambda row: context("hotline", str(row.pk), "outbound_token"),
    ),
)


@dataclass
class Progress:
    rewrapped: int = 0
    skipped: int = 0  # changed or erased by someone else between read and write
    batches: int = 0


def _key_dir() -> Path:
    return Path(settings.KEY_DIR)


def _old_rows(column: WrappedColumn, old: int, after: Any, batch: int) -> list[Any]:
    qs = column.model._default_manager.order_by("pk").only("pk", column.field)
    if column.kek_field:
        qs = column.model._default_manager.order_by("pk").filter(**{column.kek_field: old})
    if after is not None:
        qs = qs.filter(pk__gt=after)
    return list(qs.exclude(**{f"{column.field}__isnull": True})[:batch])


def _rewrap_column(
    column: WrappedColumn, old: int, new: int, batch: int, pause: float, progress: Progress
) -> int:
    """Re-wrap every value of ``column`` still under KEK ``old``; return how many were found."""
    found = 0
    after = None
    while True:
        rows = _old_rows(column, old, after, batch)
        if not rows:
            return found
        after = rows[-1].pk
        with transaction.atomic():
            for row in rows:
                blob = getattr(row, column.field)
                if not blob or box.wrapped_kek_id(blob) != old:
                    continue
                found += 1
                blob = bytes(blob)
                fresh = box.rewrap(
                    blob, context=column.context_of(row), kind=column.kind, kek_id=new
                )
                changes: dict[str, Any] = {column.field: fresh}
                if column.kek_field:
                    changes[column.kek_field] = new
                # Compare-and-swap: a row erased or re-keyed meanwhile is left as it now is.
                updated = column.model._default_manager.filter(
                    pk=row.pk, **{column.field: blob}
                ).update(**changes)
                if updated:
                    progress.rewrapped += 1
                else:
                    progress.skipped += 1
        progress.batches += 1
        if pause:  # between batches, outside the transaction: spares a busy database
            time.sleep(pause)


def references(kek_id: int) -> int:
    """How many stored values are still wrapped by ``kek_id`` (doctor and the final check)."""
    count = 0
    for column in WRAPPED:
        if column.kek_field:
            count += column.model._default_manager.filter(**{column.kek_field: kek_id}).count()
            continue
        for blob in column.model._default_manager.exclude(
            **{f"{column.field}__isnull": True}
        ).values_list(column.field, flat=True):
            if blob and box.wrapped_kek_id(blob) == kek_id:
                count += 1
    return count


def rotate(
    *,
    batch: int = 500,
    grace: float = 120.0,
    pause: float = 0.0,
    log: Callable[[str], None] = lambda _line: None,
) -> Progress:
    """Run (or resume) a rotation to completion; see the module docstring."""
    key_dir = _key_dir()
    keyfiles.finish_destruction(key_dir)
    started_here = len(keyfiles.current_kek_ids(key_dir)) == 1
    new = keyfiles.begin_rotation(key_dir)
    olds = [n for n in keyfiles.current_kek_ids(key_dir) if n != new]
    with transaction.atomic():
        record(
            actor=ACTOR,
            action="keys.rotate.start" if started_here else "keys.rotate.resume",
            target_type="kek",
            target_id=str(new),
            details={"new": new, "old": olds},
        )
    log(f"{'started' if started_here else 'resuming'} rotation to kek-{new} (old: {olds})")
    activated = (key_dir / keyfiles.MANIFEST_NAME).stat().st_mtime
    progress = Progress()
    for old in olds:
        while True:
            found = 0
            for column in WRAPPED:
                found += _rewrap_column(column, old, new, batch, pause, progress)
            log(f"kek-{old}: {progress.rewrapped} re-wrapped so far, {found} found this pass")
            if found:
                continue
            wait = activated + grace - time.time()
            if wait > 0:
                log(f"waiting {wait:.0f} s for requests that began before the new KEK")
                time.sleep(wait)
                continue
            if references(old) == 0:
                break
        keyfiles.destroy_kek(key_dir, old)
        with transaction.atomic():
            record(
                actor=ACTOR,
                action="keys.rotate.destroy",
                target_type="kek",
                target_id=str(old),
                details={"new": new, "rewrapped": progress.rewrapped, "skipped": progress.skipped},
            )
        log(f"kek-{old} destroyed")
    return progress
