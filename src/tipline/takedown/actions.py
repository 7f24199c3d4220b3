"""The writes of notice and takedown that people make (the worker's are in ``steps.py``).

    decision "notice" concluded --open--> URLs tracked, hosts looked up (task)
    per provider: drafted --confirm--> confirmed --send (task, retried)--> sent
    sent --acknowledge--> acknowledged;  every URL gone --> removed
    still online after TIPLINE_TAKEDOWN_REMIND_HOURS --> reminder
    still online after TIPLINE_TAKEDOWN_ESCALATE_HOURS (and reminded) --> escalated

A notice whose decision was confirmed under the four-eyes rule (or needed none) is confirmed when
it is drafted: the second analyst confirmed the decision that the notice carries out. A notice
drafted by hand (an analyst filled in an unknown host) needs a confirmation, by a different
analyst where ``workflow.toml`` asks four eyes for this report's illegal-content decisions.

Audit entries carry ids, counts and states, never URLs (the audit log outlives retention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline.audit.chain import record
from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.states import Outcome
from tipline.takedown import compose, tasks
from tipline.takedown.addresses import clean_email
from tipline.takedown.models import HostRecord, HostSource, Notice, NoticeState, TrackedUrl
from tipline.takedown.sealing import seal_url
from tipline.takedown.steps import _four_eyes, _host_of, notices_prepare, report_urls

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser


def notices_open(*, actor: str, report: Report) -> list[TrackedUrl]:
    """Start tracking the report's URLs once a "notice" decision has taken effect.

    Called after every decision and confirmation; does nothing unless the report's outcome (read
    afresh) is "notice sent", and never tracks a URL twice, so calling it again is harmless.
    """
    report = Report.objects.get(pk=report.pk)
    if report.outcome != Outcome.NOTICE_SENT:
        return []
    urls = report_urls(report)
    now = timezone.now()
    created = []
    with transaction.atomic():
        for url in urls:
            digest, sealed = seal_url(report.id, url)
            tracked, new = TrackedUrl.objects.get_or_create(
                report=report,
                url_digest=digest,
                defaults={"url_sealed": sealed, "host": _host_of(url), "created_at": now},
            )
            if not new:
                continue
            # The same address reported before and taken down: it is back.
            if (
                TrackedUrl.objects.filter(url_digest=digest, removed_at__isnull=False)
                .exclude(pk=tracked.pk)
                .exists()
            ):
                tracked.reopened_at, tracked.reopened_reason = now, "reported_again"
                tracked.save(update_fields=["reopened_at", "reopened_reason"])
            created.append(tracked)
        if created:
            record(
                actor=actor,
                action="takedown.opened",
                target_type="report",
                target_id=report.id,
                details={"urls": len(created)},
            )
            # In the transaction: the task commits with the URLs (a crash cannot lose it).
            tasks.prepare_notices.enqueue(str(report.id))
    return created


def host_set(
    *,
    actor: StaffUser,
    report: Report,
    host: str,
    provider: str,
    abuse_email: str,
    language: str,
    country: str,
) -> HostRecord:
    """An analyst says who answers for ``host`` (an unknown host, or a better contact)."""
    if not ReportPolicy.may_decide(actor, report) and not ReportPolicy.may_annotate(actor):
        raise NotAllowed(_("you may not change this report"))
    email = clean_email(abuse_email)
    if not email:
        raise NotAllowed(_("give one e-mail address for the provider's abuse desk"))
    if not TrackedUrl.objects.filter(report=report, host=host).exists():
        raise NotAllowed(_("this report has no tracked address on that host"))
    with transaction.atomic():
        row, _created = HostRecord.objects.update_or_create(
            host=host,
            defaults={
                "provider": " ".join(provider.split())[:200],
                "abuse_email": email,
                "language": language if language in compose.LANGUAGES else "en",
                "country": country.upper()[:2] if country.isalpha() else "",
                "source": HostSource.ANALYST,
                "problem": "",
                "looked_up_at": timezone.now(),
            },
        )
        record(
            actor=actor.username,
            action="takedown.host_set",
            target_type="report",
            target_id=report.id,
            details={"provider": row.provider, "source": "analyst"},
        )
    notices_prepare(
        report_id=report.id, drafted_by=actor, host=host, enqueue_send=tasks.enqueue_send
    )
    return row


def notice_confirm(*, actor: StaffUser, notice: Notice) -> Notice:
    """Confirm a hand-drafted notice; it is then queued for sending."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        if notice.state != NoticeState.DRAFTED:
            raise NotAllowed(_("only a drafted notice is confirmed"))
        if not ReportPolicy.may_claim(actor):
            raise NotAllowed(_("you may not change this report"))
        if _four_eyes(notice.report) and notice.drafted_by_id == actor.pk:
            raise NotAllowed(_("a different analyst must confirm this notice"))
        notice.state = NoticeState.CONFIRMED
        notice.confirmed_by = actor
        notice.confirmed_at = timezone.now()
        notice.save(update_fields=["state", "confirmed_by", "confirmed_at"])
        record(
            actor=actor.username,
            action="takedown.confirmed",
            target_type="report",
            target_id=notice.report_id,
            details={"notice": str(notice.id)},
        )
        transaction.on_commit(lambda: tasks.enqueue_send(notice, None))
    return notice


def notice_acknowledge(*, actor: StaffUser, notice: Notice) -> Notice:
    """The provider answered: an analyst marks the notice acknowledged."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        if notice.state != NoticeState.SENT:
            raise NotAllowed(_("only a sent notice is acknowledged"))
        if not ReportPolicy.may_claim(actor):
            raise NotAllowed(_("you may not change this report"))
        notice.state = NoticeState.ACKNOWLEDGED
        notice.acknowledged_at = timezone.now()
        notice.save(update_fields=["state", "acknowledged_at"])
        record(
            actor=actor.username,
            action="takedown.acknowledged",
            target_type="report",
            target_id=notice.report_id,
            details={"notice": str(notice.id)},
        )
    return notice
