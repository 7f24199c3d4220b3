"""Background work of takedown: host lookups and drafts, sending (retried), the re-check chain.

Task arguments are ids only. Sending never marks a notice sent unless the SMTP server accepted
it; any failure keeps it queued with the reason and the time of the next attempt (backoff).
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import datetime, timedelta

from django.db.models import F
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.outbox.guard import single_flight
from tipline.periodic import enqueue_once
from tipline.takedown import compose, config, mail, reappearance, recheck, replies, steps
from tipline.takedown.models import (
    CheckOutcome,
    HostRecord,
    Notice,
    NoticeState,
    TrackedUrl,
    UrlState,
)

log = logging.getLogger(__name__)

RECHECK_BATCH = 10_000


def enqueue_send(notice: Notice, at: datetime | None) -> None:
    """Queue the sending of ``notice`` now, or at ``at`` (a retry after backoff)."""
    task = send_notice if at is None else send_notice.using(run_after=at)
    task.enqueue(str(notice.id))


@task()
def prepare_notices(report_id: str) -> int:
    return len(steps.notices_prepare(report_id=uuid.UUID(report_id), enqueue_send=enqueue_send))


@task()
def send_notice(notice_id: str) -> str:
    """Send a confirmed notice (or the reminder of a sent one). Returns what happened."""
    with single_flight(f"takedown.notice:{notice_id}") as mine:
        return _send_notice(notice_id) if mine else "busy"  # a copy beside us sends it


def _send_notice(notice_id: str) -> str:
    notice = Notice.objects.select_related("report").filter(pk=uuid.UUID(notice_id)).first()
    if notice is None:
        return "gone"
    reminder = notice.reminder_pending
    if not reminder and notice.state != NoticeState.CONFIRMED:
        return "not queued"  # a duplicate run after the notice was sent
    cfg = config.load()
    urls = list(TrackedUrl.objects.filter(notice=notice).exclude(state=UrlState.REMOVED))
    if not urls:
        return "nothing to send"
    from tipline.cases.transitions import classification_snapshot

    hosts = {r.host: r.address for r in HostRecord.objects.filter(host__in={u.host for u in urls})}
    try:
        composed = compose.compose(
            category=notice.report.category,
            language=notice.language,
            provider=notice.provider,
            reference=str(notice.id),
            urls=[(u.url, hosts.get(u.host, "")) for u in urls],
            classification=classification_snapshot(notice.report),
            config=cfg,
            now=timezone.now(),
        )
    except compose.NoticeInvalid as exc:
        steps.notice_failed(notice=notice, error=str(exc), retry=False, enqueue_send=enqueue_send)
        return "invalid"
    try:
        message_id = mail.send(
            composed, to=notice.abuse_email, config=cfg, reference=str(notice.id)
        )
    except mail.BadRecipient as exc:
        steps.notice_failed(notice=notice, error=str(exc), retry=False, enqueue_send=enqueue_send)
        return "bad recipient"
    except (smtplib.SMTPException, OSError) as exc:
        # Never the message text or the recipient in the log: the kind of failure only.
        log.warning("notice %s not sent: %s", notice.id, type(exc).__name__)
        steps.notice_failed(
            notice=notice,
            error=f"SMTP: {type(exc).__name__}: {exc}"[:300],
            retry=True,
            enqueue_send=enqueue_send,
        )
        return "queued"
    steps.notice_sent(notice=notice, message_id=message_id, reminder=reminder)
    return "sent"


@task()
def reappearance_check(report_id: str) -> int:
    """Re-open tracking of what a later report names again. Returns how many URLs it names."""
    return len(reappearance.reappearances_record(report_id=uuid.UUID(report_id)))


def on_identifiers_recorded(*, report_id: uuid.UUID, **_kwargs: object) -> None:
    """``cases.linking.identifiers_recorded``: enqueue the re-appearance check if it has work.

    Runs inside triage's transaction, so the task row commits with the identifiers (the task
    worker's database backend) or not at all.
    """
    if reappearance.candidates(report_id):
        reappearance_check.enqueue(str(report_id))


def recheck_due(now: datetime | None = None) -> dict[str, int]:
    """Check every URL whose notice was sent (and removed ones, to see them come back)."""
    cfg = config.load()
    now = now or timezone.now()
    counts: dict[str, int] = {"erased": steps.forget_erased()}
    due = list(
        TrackedUrl.objects.filter(state__in=(UrlState.ONLINE, UrlState.REMOVED))
        .exclude(url_digest="")
        .exclude(last_checked_at__gt=now - cfg.recheck_every + timedelta(seconds=1))
        # Never checked (new, or re-opened by a later report) first, on every database.
        .order_by(F("last_checked_at").asc(nulls_first=True))[:RECHECK_BATCH]
    )
    results = recheck.check_urls([t.url for t in due], cfg)
    for tracked, result in zip(due, results, strict=True):
        steps.check_record(
            tracked=tracked,
            outcome=CheckOutcome(result.outcome),
            status=result.status,
            detail=result.detail,
            at=timezone.now(),
        )
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    counts.update(steps.follow_ups(now=timezone.now(), enqueue_send=enqueue_send))
    return counts


@task()
def recheck_run() -> dict[str, int]:
    """Re-check due URLs and send reminders/escalations; schedules the next run first."""
    cfg = config.load()
    enqueue_once(
        recheck_run,
        run_after=timezone.now() + cfg.recheck_every,
        unless={TaskResultStatus.READY},
    )
    return recheck_due()


def ensure_recheck_scheduled() -> bool:
    """Enqueue a re-check run now unless one is waiting or running (at start, by ``serve``)."""
    return enqueue_once(
        recheck_run, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )


@task()
def replies_check() -> dict[str, int]:
    """Read providers' replies from the configured IMAP mailbox; schedules the next run first."""
    cfg = config.imap_load()
    if cfg is None:
        return {"off": 1}  # no chain while the mailbox is not configured
    enqueue_once(
        replies_check, run_after=timezone.now() + cfg.every, unless={TaskResultStatus.READY}
    )
    return replies.replies_run(cfg)


def ensure_replies_scheduled() -> bool:
    """Start the reply reader's chain (by ``serve``) when a mailbox is configured."""
    if config.imap_load() is None:
        return False
    return enqueue_once(
        replies_check, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )
