"""The intake tasks: triage on its own queue, media work one file per run (issue 14, item 3).

The timing guarantee itself is tested against a real server in test_triage_under_media_load.py;
these tests pin down the task rows and the media step's bookkeeping with the tasks called here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from tests import factories
from tests.queued import Queued, forget, queued
from tipline import crypto, storage
from tipline.audit.models import AuditEntry
from tipline.cases import actions, media_step
from tipline.cases.models import EvidenceFile, Report, ReportKey
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose, MessageAuthor
from tipline.cases.tasks import TRIAGE_QUEUE, process_media, triage_report
from tipline.cases.triage_step import stored_reasons
from tipline.crypto.sealed import open_json
from tipline.matching import banks
from tipline.storage import StorageError

pytestmark = pytest.mark.django_db


def _ready(task_path: str) -> list[Queued]:
    return queued(task_path)


def _hashed(report: Report) -> int:
    key = report_key(report.id, KeyPurpose.CONTENT)
    return sum(
        "md5" in open_json(key, f.meta, context=crypto.context("file", f.id, "meta"))
        for f in EvidenceFile.objects.filter(report=report)
    )


def test_triage_has_its_own_queue_and_a_report_without_files_no_media_task() -> None:
    created = factories.report("child_in_danger", "He will meet her tonight at the park.")
    (task,) = queued()
    assert (task.task_path, task.queue_name) == (triage_report.module_path, TRIAGE_QUEUE)
    # Above media work, for a deployment that runs one worker for every queue.
    assert task.priority > process_media.priority
    assert triage_report.call(str(created.report.id)) == "P1"


def test_a_reporter_message_with_files_enqueues_triage_and_media_work() -> None:
    created = factories.report()
    forget()
    actions.message_add(
        report=created.report,
        author=MessageAuthor.REPORTER,
        body="Two more screenshots.",
        uploads=[factories.upload()],
    )
    assert len(_ready(triage_report.module_path)) == 1
    assert len(_ready(process_media.module_path)) == 1


def test_media_work_takes_one_file_per_run_and_requeues_the_rest() -> None:
    colours = ("red", "green", "blue")
    uploads = [factories.upload(f"{c}.png", factories.png_bytes(colour=c)) for c in colours]
    created = factories.report(uploads=uploads)
    forget(process_media)
    rid = str(created.report.id)
    for done in (1, 2):
        assert process_media.call(rid) is True
        assert _hashed(created.report) == done
        # The rest waits at the back of the queue, behind other reports' files.
        (next_run,) = _ready(process_media.module_path)
        assert next_run.args_kwargs == {"args": [rid], "kwargs": {}}
        next_run.delete()
    assert process_media.call(rid) is True
    assert _hashed(created.report) == 3
    assert _ready(process_media.module_path) == []
    assert created.report.files.exclude(preview_object_id="").count() == 3
    assert process_media.call(rid) is False  # nothing left: a stray run does nothing


def test_a_known_file_enqueues_triage_again_and_its_score_says_so() -> None:
    upload = factories.upload()
    created = factories.report(uploads=[upload])
    report = created.report
    bank = banks.bank_create(actor="tester", name="known", default_classification="baseline")
    record = banks.make_record(position=1, kind="sha256", value=upload.sha256)
    banks.entries_add(actor="tester", bank=bank, records=[record])
    # Triage runs first, before the file is matched.
    triage_report.call(str(report.id))
    report.refresh_from_db()
    assert "signal.known_hash" not in {r.rule for r in stored_reasons(report, report.triage)}
    forget()

    assert process_media.call(str(report.id)) is True
    assert media_step.known_file_count(report.id) == 1
    assert AuditEntry.objects.filter(action="file.matched").count() == 1
    # The match and the second triage commit together: the signal cannot be lost between them.
    (again,) = _ready(triage_report.module_path)
    assert again.args_kwargs == {"args": [str(report.id)], "kwargs": {}}
    triage_report.call(str(report.id))
    report.refresh_from_db()
    assert "signal.known_hash" in {r.rule for r in stored_reasons(report, report.triage)}


def test_a_file_erased_while_it_was_processed_stores_nothing(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    created = factories.report(uploads=[factories.upload()])
    (evidence,) = media_step.pending_files(created.report.id)
    work = media_step.file_work(evidence)
    assert work is not None
    assert work.preview_object_id
    # Retention erases the report between the heavy part and the write.
    ReportKey.objects.filter(report=created.report).delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert media_step.file_store(work) is False
    evidence.refresh_from_db()
    assert evidence.preview_object_id == ""
    with pytest.raises(StorageError):
        storage.read_object(work.preview_object_id)
    assert media_step.pending_files(created.report.id) == []
    assert process_media.call(str(created.report.id)) is False


def test_a_file_stored_by_another_worker_first_is_not_stored_twice() -> None:
    created = factories.report(uploads=[factories.upload()])
    (evidence,) = media_step.pending_files(created.report.id)
    first, second = media_step.file_work(evidence), media_step.file_work(evidence)
    assert first is not None
    assert second is not None
    with transaction.atomic():
        assert media_step.file_store(first) is True
    with transaction.atomic():
        assert media_step.file_store(second) is False
    evidence.refresh_from_db()
    assert evidence.preview_object_id == first.preview_object_id
