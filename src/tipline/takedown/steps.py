"""The system's side of takedown, run by the task worker: host lookups and drafts, the outcome
of each send, each re-check, reminders and escalation. One transaction and audit entry each.

The next task (a send, a retry, a reminder) is enqueued through the ``enqueue_send`` the caller
passes (``tasks.py``), on commit of the same transaction: never lost between two commits, and
this module never imports the tasks that import it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from tipline.audit.chain import SYSTEM, record
from tipline.cases import selectors as case_selectors
from tipline.cases.classification import ILLEGAL
from tipline.cases.models import Report
from tipline.cases.sealing import KeyDestroyed
from tipline.cases.states import Outcome
from tipline.cases.transitions import classification_snapshot
from tipline.cases.workflow import load as load_workflow
from tipline.takedown import compose, config, hosts
from tipline.takedown.models import (
    CheckOutcome,
    HostRecord,
    HostSource,
    Notice,
    NoticeKind,
    NoticeState,
    TrackedUrl,
    UrlCheck,
    UrlState,
)

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

EnqueueSend = Callable[[Notice, "datetime | None"], None]


HOST_CACHE_FOR = timedelta(days=7)
MAX_URLS = 200  # a report's list is bounded by its form; this bounds the work per report


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()[:253]
    except ValueError:
        return ""


def report_urls(report: Report) -> list[str]:
    try:
        details = case_selectors.report_details(report)
    except KeyDestroyed:
        return []
    urls = details.get("urls") or []
    return [u for u in urls if isinstance(u, str) and _host_of(u)][:MAX_URLS]


def _lookup(host: str, cfg: config.Config) -> HostRecord:
    """The cached answer for ``host`` (an analyst's stays until changed), or a fresh lookup."""
    now = timezone.now()
    cached = HostRecord.objects.filter(host=host).first()
    # An unknown host is looked up again every time: the failure may have been passing.
    if (
        cached is not None
        and cached.source != HostSource.UNKNOWN
        and (cached.source == HostSource.ANALYST or now - cached.looked_up_at < HOST_CACHE_FOR)
    ):
        return cached
    found = hosts.look_up(host, cfg)
    values = {
        "address": found.address,
        "provider": found.provider,
        "abuse_email": found.abuse_email,
        "channel": found.channel,
        "language": found.language,
        "country": found.country,
        "source": found.source,
        "problem": found.problem[:300],
        "looked_up_at": now,
    }
    row, _created = HostRecord.objects.update_or_create(host=host, defaults=values)
    return row


def _four_eyes(report: Report) -> bool:
    rule = load_workflow().four_eyes_for(report.category)
    return rule.illegal and classification_snapshot(report).get("legal_assessment") in ILLEGAL


def notices_prepare(
    *,
    report_id: Any,
    enqueue_send: EnqueueSend,
    drafted_by: StaffUser | None = None,
    host: str | None = None,
) -> list[Notice]:
    """Look up the hosts of the report's URLs without a notice; draft one notice per provider.

    Lookups (network) run before the transaction; the drafts are written in one. ``host``
    limits the work to one host (after an analyst filled it in).
    """
    cfg = config.load()
    rows = TrackedUrl.objects.filter(report_id=report_id, notice__isnull=True).exclude(
        state=UrlState.REMOVED
    )
    pending = list(rows if host is None else rows.filter(host=host))
    records = {t.host: _lookup(t.host, cfg) for t in pending}
    drafted: list[Notice] = []
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.outcome != Outcome.NOTICE_SENT:
            return []
        # Under the report's lock: a second run of this task at the same moment (delivery is at
        # least once) read the same URLs before the lock; only those still without a notice count.
        unnoticed = set(
            TrackedUrl.objects.filter(
                pk__in=[t.pk for t in pending], notice__isnull=True
            ).values_list("pk", flat=True)
        )
        if len(unnoticed) < len(pending):
            pending = [t for t in pending if t.pk in unnoticed]
            if not pending:
                return []
        groups: dict[tuple[str, str], list[TrackedUrl]] = defaultdict(list)
        for tracked in pending:
            answer = records[tracked.host]
            tracked.provider = answer.provider
            tracked.hosting_country = answer.country
            tracked.save(update_fields=["provider", "hosting_country"])
            if answer.abuse_email:
                groups[(answer.provider, answer.abuse_email)].append(tracked)
        now = timezone.now()
        xarf = compose.uses_xarf(report.category, classification_snapshot(report))
        kind = NoticeKind.XARF if xarf else NoticeKind.PLAIN
        for (provider, email), urls in groups.items():
            first = records[urls[0].host]
            by_hand = drafted_by is not None
            notice = Notice.objects.create(
                report=report,
                provider=provider,
                abuse_email=email,
                language=first.language,
                hosting_country=first.country,
                kind=kind,
                created_at=now,
                drafted_by=drafted_by,
                state=NoticeState.DRAFTED if by_hand else NoticeState.CONFIRMED,
                confirmed_at=None if by_hand else now,
            )
            TrackedUrl.objects.filter(pk__in=[u.pk for u in urls]).update(notice=notice)
            drafted.append(notice)
        record(
            actor=drafted_by.username if drafted_by else SYSTEM,
            action="takedown.drafted",
            target_type="report",
            target_id=report.id,
            details={
                "notices": [str(n.id) for n in drafted],
                "unknown_hosts": sum(1 for r in records.values() if not r.abuse_email),
            },
        )
        for notice in drafted:
            if notice.state == NoticeState.CONFIRMED:
                _on_commit_send(enqueue_send, notice, None)
    return drafted


SEND_BACKOFF = (60, 300, 900, 3600, 3600 * 4)  # seconds; then every 4 hours, never given up


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=SEND_BACKOFF[min(attempts, len(SEND_BACKOFF)) - 1])


def notice_sent(*, notice: Notice, message_id: str, reminder: bool) -> None:
    with transaction.atomic():
        now = timezone.now()
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        fields = ["last_error", "next_attempt_at", "attempts"]
        notice.last_error, notice.next_attempt_at, notice.attempts = "", None, 0
        if reminder:
            # The notice's own Message-ID stays: a reply may quote either.
            notice.reminded_at, notice.reminder_pending = now, False
            notice.reminder_message_id = message_id
            fields += ["reminded_at", "reminder_pending", "reminder_message_id"]
        else:
            notice.state, notice.sent_at, notice.message_id = NoticeState.SENT, now, message_id
            fields += ["state", "sent_at", "message_id"]
            TrackedUrl.objects.filter(notice=notice, notice_sent_at__isnull=True).update(
                notice_sent_at=now, state=UrlState.ONLINE
            )
        notice.save(update_fields=fields)
        record(
            actor=SYSTEM,
            action="takedown.reminder_sent" if reminder else "takedown.sent",
            target_type="report",
            target_id=notice.report_id,
            details={"notice": str(notice.id), "message_id": message_id},
        )


def _on_commit_send(enqueue_send: EnqueueSend, notice: Notice, at: datetime | None) -> None:
    transaction.on_commit(lambda: enqueue_send(notice, at))


def notice_failed(*, notice: Notice, error: str, retry: bool, enqueue_send: EnqueueSend) -> None:
    """Sending failed: the notice stays queued (retried with backoff) or back to drafted."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        notice.attempts += 1
        notice.last_error = error[:300]
        if retry:
            notice.next_attempt_at = timezone.now() + backoff(notice.attempts)
            _on_commit_send(enqueue_send, notice, notice.next_attempt_at)
        else:
            # The notice itself is wrong (XARF invalid): an analyst must look.
            notice.state, notice.next_attempt_at = NoticeState.DRAFTED, None
        notice.save(update_fields=["attempts", "last_error", "next_attempt_at", "state"])
        record(
            actor=SYSTEM,
            action="takedown.send_failed",
            target_type="report",
            target_id=notice.report_id,
            details={"notice": str(notice.id), "attempts": notice.attempts, "retry": retry},
        )


def check_record(
    *, tracked: TrackedUrl, outcome: CheckOutcome, status: int | None, detail: str, at: datetime
) -> None:
    """Store one re-check; "removed" ends tracking, serving again after removal re-opens it.

    A URL re-opened by a later report (``reappearance``) is "online" with its removal time kept
    until a check tells: gone again keeps that time, serving clears it ("served again").
    """
    with transaction.atomic():
        tracked = TrackedUrl.objects.select_for_update().get(pk=tracked.pk)
        UrlCheck.objects.create(
            tracked=tracked, checked_at=at, outcome=outcome, status_code=status, detail=detail[:300]
        )
        tracked.last_checked_at = at
        fields = ["last_checked_at"]
        if outcome == CheckOutcome.REMOVED and tracked.state == UrlState.ONLINE:
            # A removed URL re-opened by a later report and still gone keeps its first removal.
            tracked.state, tracked.removed_at = UrlState.REMOVED, tracked.removed_at or at
            fields += ["state", "removed_at"]
        elif outcome == CheckOutcome.SERVING and (
            tracked.state == UrlState.REMOVED or tracked.removed_at is not None
        ):
            tracked.state, tracked.removed_at = UrlState.ONLINE, None
            tracked.reopened_at, tracked.reopened_reason = at, "served_again"
            fields += ["state", "removed_at", "reopened_at", "reopened_reason"]
        tracked.save(update_fields=fields)
        if "state" in fields:
            notice_follow(tracked)
            record(
                actor=SYSTEM,
                action="takedown.url_" + tracked.state,
                target_type="report",
                target_id=tracked.report_id,
                details={"tracked": tracked.pk, "status": status},
            )


def notice_follow(tracked: TrackedUrl) -> None:
    """A notice is "removed" once every URL it lists is gone; back to "sent" if one returns."""
    if tracked.notice_id is None:
        return
    notice = Notice.objects.select_for_update().get(pk=tracked.notice_id)
    online = TrackedUrl.objects.filter(notice=notice).exclude(state=UrlState.REMOVED).exists()
    if not online and notice.state in (
        NoticeState.SENT,
        NoticeState.ACKNOWLEDGED,
        NoticeState.ESCALATED,
    ):
        notice.state = NoticeState.REMOVED
    elif online and notice.state == NoticeState.REMOVED:
        notice.state = NoticeState.SENT
    else:
        return
    notice.save(update_fields=["state"])


def follow_ups(*, now: datetime, enqueue_send: EnqueueSend) -> dict[str, int]:
    """Remind providers whose URLs are still up; escalate those that ignore the reminder."""
    cfg = config.load()
    counts = {"reminded": 0, "escalated": 0}
    live = Notice.objects.filter(
        state__in=(NoticeState.SENT, NoticeState.ACKNOWLEDGED), sent_at__isnull=False
    )
    for notice in live.filter(reminded_at__isnull=True, reminder_pending=False):
        if notice.sent_at is not None and now - notice.sent_at >= cfg.remind_after:
            with transaction.atomic():
                Notice.objects.filter(pk=notice.pk).update(reminder_pending=True)
                _on_commit_send(enqueue_send, notice, None)
            counts["reminded"] += 1
    for notice in live.filter(reminded_at__isnull=False):
        if notice.sent_at is not None and now - notice.sent_at >= cfg.escalate_after:
            with transaction.atomic():
                Notice.objects.filter(pk=notice.pk).update(
                    state=NoticeState.ESCALATED, escalated_at=now
                )
                record(
                    actor=SYSTEM,
                    action="takedown.escalated",
                    target_type="report",
                    target_id=notice.report_id,
                    details={"notice": str(notice.id), "country": notice.hosting_country},
                )
            counts["escalated"] += 1
    return counts


def forget_erased() -> int:
    """Blank the digest, sealed URL and host of tracked URLs whose report's content was erased.

    The sealed address is already unreadable once ``cases.retention`` destroys the content key;
    the digest and host are plain and must not outlive it. Tracking of those URLs ends with it.
    """
    with transaction.atomic():
        rows = TrackedUrl.objects.filter(report__content_erased_at__isnull=False).exclude(
            url_digest=""
        )
        report_ids = set(rows.values_list("report_id", flat=True))
        count = rows.update(url_digest="", url_sealed=b"", host="")
        for report_id in report_ids:
            record(
                actor=SYSTEM,
                action="takedown.urls_erased",
                target_type="report",
                target_id=report_id,
                details={},
            )
    return count
