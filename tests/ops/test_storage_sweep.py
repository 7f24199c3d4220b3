"""The daily storage sweep (ops/orphans.py) removes what a killed upload left, and only that.

An upload's object is written before the transaction that records it; kill -9 between the two
leaves an unreadable object no row names (benchmarks/fault_cycles.py counts a few per run).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import factories
from tipline import storage
from tipline.cases.models import EvidenceFile
from tipline.ops import orphans

pytestmark = pytest.mark.django_db(transaction=True)


def stored_ids() -> set[str]:
    return {object_id for object_id, _ in storage.list_objects()}


def test_the_run_removes_orphans_past_the_grace_period_and_nothing_else(settings: Any) -> None:
    created = factories.report(uploads=[factories.upload()])
    kept = set(
        EvidenceFile.objects.filter(report=created.report).values_list("object_id", flat=True)
    )
    orphan = storage.write_object(b"ciphertext whose transaction never committed")

    # Within the grace period the orphan may be an upload still in flight: left alone.
    assert orphans.storage_sweep_run.call() == {"removed": 0, "left": 0}
    assert orphan in stored_ids()

    settings.TIPLINE_STORAGE_SWEEP_GRACE_MINUTES = 0
    assert orphans.storage_sweep_run.call() == {"removed": 1, "left": 0}
    assert orphan not in stored_ids()
    assert kept <= stored_ids()  # the report's file (and every referenced object) stays
    assert orphans.find_orphans(grace_minutes=0) == []


def test_each_run_schedules_the_next_a_day_later_and_start_up_adds_no_second_chain() -> None:
    assert orphans.ensure_storage_sweep_scheduled() is True
    assert orphans.ensure_storage_sweep_scheduled() is False  # a run is waiting already
    path = orphans.storage_sweep_run.module_path
    DBTaskResult.objects.filter(task_path=path).delete()

    before = timezone.now()
    orphans.storage_sweep_run.call()
    (next_run,) = DBTaskResult.objects.filter(task_path=path, status="READY")
    assert next_run.run_after is not None
    assert next_run.run_after - before >= timedelta(hours=23, minutes=59)


def test_the_command_lists_then_deletes_with_its_own_grace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    orphan = storage.write_object(b"another orphan")
    call_command("storage", "sweep")  # the default grace: too young to list
    assert capsys.readouterr().out.strip() == "0 orphaned object(s)"
    call_command("storage", "sweep", "--grace-minutes", "0")
    assert f"orphan {orphan}" in capsys.readouterr().out
    assert orphan in stored_ids()
    call_command("storage", "sweep", "--grace-minutes", "0", "--apply")
    assert f"deleted {orphan}" in capsys.readouterr().out
    assert orphan not in stored_ids()
