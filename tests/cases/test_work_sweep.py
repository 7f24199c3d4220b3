"""The work sweep enqueues again the triage and media work a fault lost, and nothing else.

Regression (benchmarks/fault_cycles.py, docs/BENCHMARKS.md "Fault cycles"): triage and media
tasks that failed on a database error during a PostgreSQL restart were recorded FAILED and never
run again (72 triage, 66 media tasks in one run). Here the task rows are put in the state that
run left them in, then the real worker (`db_worker --batch`) runs whatever the sweep enqueued.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import factories
from tests.queued import on_outbox
from tipline.cases import actions, work_sweep
from tipline.cases.models import EvidenceFile, Message, Report, TriageResult
from tipline.cases.states import MessageAuthor
from tipline.cases.tasks import MEDIA_QUEUE, TRIAGE_QUEUE, process_media, triage_report
from tipline.cases.work_sweep import ensure_work_sweep_scheduled, work_sweep_run
from tipline.ops import doctor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        on_outbox(),
        reason="embedded profile: task rows of the database backend, run by db_worker; on the "
        "scale-out profile tests/outbox/test_interrupted_runs.py plays the sweep with Redis tasks",
    ),
]


def fail_tasks(task_path: str, report: Report | None = None) -> None:
    """What a worker records when the task met a database error (and nothing retries it)."""
    rows = [
        row.pk
        for row in DBTaskResult.objects.filter(task_path=task_path)
        if report is None or row.args_kwargs["args"] == [str(report.pk)]
    ]
    DBTaskResult.objects.filter(pk__in=rows).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="django.db.utils.OperationalError",
    )


def age(report: Report, minutes: float) -> None:
    then = timezone.now() - timedelta(minutes=minutes)
    Report.objects.filter(pk=report.pk).update(created_at=then)
    EvidenceFile.objects.filter(report=report).update(created_at=then)


def run_worker(queue: str) -> None:
    call_command("db_worker", "--batch", "--queue-name", queue, "--no-startup-delay", verbosity=0)


def hashed(report: Report) -> int:
    return EvidenceFile.objects.filter(report=report, hashed_at__isnull=False).count()


def test_a_report_whose_triage_failed_is_triaged_again() -> None:
    report = factories.report().report
    fail_tasks(triage_report.module_path)
    age(report, 11)

    assert work_sweep.run() == work_sweep.SweepResult(released=0, triage=1, media=0)
    run_worker(TRIAGE_QUEUE)

    assert TriageResult.objects.filter(report=report).exists()
    assert work_sweep.run() == work_sweep.SweepResult(released=0, triage=0, media=0)


def test_a_file_whose_media_task_failed_is_hashed_again() -> None:
    report = factories.report(uploads=[factories.upload(), factories.upload()]).report
    run_worker(TRIAGE_QUEUE)
    fail_tasks(process_media.module_path)
    age(report, 11)
    assert (
        doctor.run(grace_minutes=60, task_minutes=10)[0]
        .line()
        .startswith("work: 1 report(s) with files not hashed")
    )

    assert work_sweep.run().media == 1
    run_worker(MEDIA_QUEUE)  # one file per run, the chain enqueues the next

    assert hashed(report) == 2
    assert doctor.run(grace_minutes=60, task_minutes=10) == []


def test_work_still_waiting_or_too_recent_is_left_alone() -> None:
    waiting = factories.report(uploads=[factories.upload()]).report
    age(waiting, 60)  # its tasks are READY: a busy queue, not lost work
    recent = factories.report(uploads=[factories.upload()]).report
    fail_tasks(triage_report.module_path, recent)  # failed, but within TIPLINE_WORK_SWEEP_MINUTES
    fail_tasks(process_media.module_path, recent)
    rows = DBTaskResult.objects.count()

    assert work_sweep.run() == work_sweep.SweepResult(released=0, triage=0, media=0)
    assert DBTaskResult.objects.count() == rows


def test_triage_older_than_a_reporter_message_is_run_again() -> None:
    report = factories.report().report
    run_worker(TRIAGE_QUEUE)
    scored = TriageResult.objects.get(report=report).scored_at
    actions.message_add(
        report=report, author=MessageAuthor.REPORTER, body="He wrote again tonight.", uploads=[]
    )
    fail_tasks(triage_report.module_path)
    later = timezone.now() - timedelta(minutes=11)
    Message.objects.filter(report=report).update(created_at=later)
    TriageResult.objects.filter(report=report).update(scored_at=later - timedelta(seconds=1))
    age(report, 20)

    assert work_sweep.run().triage == 1
    run_worker(TRIAGE_QUEUE)
    assert TriageResult.objects.get(report=report).scored_at > scored


def test_an_erased_report_is_not_swept() -> None:
    report = factories.report(uploads=[factories.upload()]).report
    fail_tasks(triage_report.module_path)
    fail_tasks(process_media.module_path)
    Report.objects.filter(pk=report.pk).update(content_erased_at=timezone.now())
    age(report, 60)

    assert work_sweep.run() == work_sweep.SweepResult(released=0, triage=0, media=0)


def test_files_hashed_before_the_column_existed_are_filled_in_not_redone() -> None:
    report = factories.report(uploads=[factories.upload()]).report
    factories.run_tasks(report)
    EvidenceFile.objects.filter(report=report).update(hashed_at=None)  # a row from before
    age(report, 60)

    assert work_sweep.run().media == 0
    assert hashed(report) == 1


def test_doctor_repair_enqueues_the_lost_work(capsys: pytest.CaptureFixture[str]) -> None:
    report = factories.report().report
    fail_tasks(triage_report.module_path)
    age(report, 40)
    with pytest.raises(CommandError):
        call_command("doctor", "--grace-minutes", "0")
    assert "work: 1 report(s) not triaged" in capsys.readouterr().out

    with pytest.raises(CommandError):  # enqueued, not yet run: the stuck-report line remains
        call_command("doctor", "--grace-minutes", "0", "--repair")
    assert "triage enqueued for 1 report(s)" in capsys.readouterr().out
    run_worker(TRIAGE_QUEUE)

    call_command("doctor", "--grace-minutes", "0")
    assert "no problems found" in capsys.readouterr().out


def test_the_sweep_is_one_self_renewing_chain() -> None:
    assert ensure_work_sweep_scheduled() is True
    assert ensure_work_sweep_scheduled() is False  # one chain, however many servers start
    run_worker(MEDIA_QUEUE)

    runs = DBTaskResult.objects.filter(task_path=work_sweep_run.module_path)
    assert runs.filter(status=TaskResultStatus.SUCCESSFUL).count() == 1
    (following,) = runs.filter(status=TaskResultStatus.READY)
    assert following.run_after > timezone.now() + timedelta(minutes=4)


def test_the_periodic_run_looks_back_a_week_and_repair_at_everything() -> None:
    report = factories.report().report
    fail_tasks(triage_report.module_path)
    age(report, (work_sweep.LOOKBACK + timedelta(days=1)).total_seconds() / 60)

    assert work_sweep.run().triage == 0  # the periodic run's range on created_at
    assert work_sweep.run(full=True).triage == 1  # `tipline doctor --repair`
