"""Referral packages by e-mail, for agencies whose delivery is e-mail (issue 16).

``referral_email_queue`` (an audited action) checks that the report was referred to an agency
that takes e-mail and has an age key, writes a queued ``EmailDelivery`` and, on commit, enqueues
the task that sends it. ``email_delivery_attempt`` (the task's body) builds the package (audited
as ``referral.export``, channel ``email``), sends it with its signature through Django's mailer
and only when the SMTP server has accepted it marks the row sent and records
``referral.email_sent`` with the Message-ID. SMTP down or refusing: the row stays queued, the
error's kind is kept, and the task runs again later with exponential backoff (1 min, 2, 4 ... 6 h);
it is never marked sent. A package that can never go (the key was removed, the report was
reopened or shredded, the package is larger than ``TIPLINE_REFERRAL_EMAIL_MAX_BYTES``) is
marked refused with the reason, audited as ``referral.refused``.

The message carries the package (members encrypted to the agency's key) and its minisign
signature, nothing in clear: the subject and body name the package id only.
"""

from __future__ import annotations

import smtplib
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from tipline.audit.chain import SYSTEM, record
from tipline.cases.models import Agency, AgencyDelivery, Referral, Report
from tipline.outbox.guard import single_flight
from tipline.outputs.actions import README, package_export, referral_refused
from tipline.outputs.models import EmailDelivery, EmailDeliveryState
from tipline.outputs.package import PackageRefused
from tipline.outputs.policies import ReferralEmailPolicy

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """1 min after the first failure, doubling, at most 6 h."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16))
    return min(delay, LAST_RETRY)


def _email_agency(report: Report, agency_name: str) -> Agency:
    """The agency a package for ``report`` may be e-mailed to, or PackageRefused with why."""
    if not Referral.objects.filter(report=report, agency=agency_name).exists():
        raise PackageRefused(f"this report was not referred to {agency_name}")
    agency = Agency.objects.filter(name=agency_name).first()
    if agency is None:
        raise PackageRefused(f"{agency_name} is not in the agency list")
    if agency.delivery != AgencyDelivery.EMAIL or not agency.email:
        raise PackageRefused(f"{agency_name} does not take packages by e-mail")
    if not agency.age_recipient:
        raise PackageRefused(
            f"{agency_name} has no age public key: no package can be built for it "
            "(an administrator sets it under Agencies)"
        )
    return agency


def referral_email_queue(*, actor: str, report: Report, agency: str) -> EmailDelivery:
    """Queue the e-mail of ``report``'s package to ``agency``; refusals are audited, with why."""
    try:
        found = _email_agency(report, agency)
    except PackageRefused as refusal:
        referral_refused(actor, report, agency, str(refusal))
        raise
    with transaction.atomic():
        existing = EmailDelivery.objects.filter(report=report, agency=found.name).first()
        if existing is not None and existing.state != EmailDeliveryState.REFUSED:
            return existing  # queued or sent already: once is enough
        delivery, _created = EmailDelivery.objects.update_or_create(
            report=report,
            agency=found.name,
            defaults={
                "address": found.email,
                "state": EmailDeliveryState.QUEUED,
                "queued_by": actor,
                "attempts": 0,
                "last_error": "",
                "next_attempt_at": timezone.now(),
            },
        )
        record(
            actor=actor,
            action="referral.email_queued",
            target_type="report",
            target_id=report.id,
            details={"agency": found.name, "to": found.email, "delivery": str(delivery.id)},
        )
        _enqueue(delivery.id, None)  # in the transaction: it commits with the delivery row
    return delivery


def referral_email_send(*, actor: StaffUser, report: Report, agency: str) -> EmailDelivery:
    """A caseworker in the console queues the e-mail (``referral_email_queue``)."""
    if not ReferralEmailPolicy.may_send(actor):
        raise PackageRefused("only caseworkers send referral packages by e-mail")
    return referral_email_queue(actor=actor.username, report=report, agency=agency)


@dataclass(frozen=True)
class EmailOption:
    agency: str
    delivery: EmailDelivery | None  # None: not queued yet


def email_options(report: Report) -> list[EmailOption]:
    """The report's referrals to agencies that take e-mail, each with its delivery if any."""
    names = set(Referral.objects.filter(report=report).values_list("agency", flat=True))
    by_email = Agency.objects.filter(name__in=names, delivery=AgencyDelivery.EMAIL)
    deliveries = {d.agency: d for d in EmailDelivery.objects.filter(report=report)}
    return [EmailOption(a.name, deliveries.get(a.name)) for a in by_email.order_by("name")]


@task(queue_name="default")
def send_referral_email(delivery_id: str) -> str:
    """The task worker's attempt (argument: the delivery's id only; task rows are not
    encrypted). A failed attempt enqueues the next itself, at the backoff time."""
    with single_flight(f"outputs.email:{delivery_id}") as mine:
        # A copy of this task running beside us (delivery is at least once) sends it.
        return email_delivery_attempt(uuid.UUID(delivery_id)).state if mine else "busy"


def _enqueue(delivery_id: uuid.UUID, when: datetime | None) -> None:
    task = send_referral_email if when is None else send_referral_email.using(run_after=when)
    task.enqueue(str(delivery_id))


@dataclass(frozen=True)
class Attempt:
    state: str
    detail: str


def email_delivery_attempt(delivery_id: uuid.UUID) -> Attempt:
    """One attempt to send a queued delivery (the task's body)."""
    delivery = EmailDelivery.objects.select_related("report").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != EmailDeliveryState.QUEUED:
        return Attempt("skipped", "not queued")
    report = delivery.report
    try:
        agency = _email_agency(report, delivery.agency)
        with tempfile.TemporaryFile(dir=settings.DATA_DIR) as package:
            built = package_export(
                actor=SYSTEM,
                report=report,
                agency_name=agency.name,
                channel="email",
                out=package,
                filename="package.zip",
            )
            if built.size > settings.TIPLINE_REFERRAL_EMAIL_MAX_BYTES:
                raise PackageRefused(
                    f"the package is {built.size} bytes, more than e-mail takes "
                    f"({settings.TIPLINE_REFERRAL_EMAIL_MAX_BYTES}): the agency's liaison "
                    "downloads it in the console instead"
                )
            package.seek(0)
            message_id = make_msgid(domain=settings.TIPLINE_MAIL_DOMAIN)
            message = EmailMessage(
                subject=f"{settings.TIPLINE_HOTLINE_NAME} referral package {built.package_id}",
                body=README.format(hotline=settings.TIPLINE_HOTLINE_NAME, key_id=built.key_id),
                to=[delivery.address],
                headers={"Message-ID": message_id},
            )
            message.attach("package.zip", package.read(), "application/zip")
            message.attach("package.zip.minisig", built.signature, "text/plain")
            message.send()
    except PackageRefused as refusal:
        _finish_refused(delivery, str(refusal))
        return Attempt(EmailDeliveryState.REFUSED, str(refusal))
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(delivery, f"SMTP: {type(exc).__name__}")
    with transaction.atomic():
        delivery.state = EmailDeliveryState.SENT
        delivery.attempts += 1
        delivery.sent_at = timezone.now()
        delivery.message_id = message_id
        delivery.last_error = ""
        delivery.save(update_fields=["state", "attempts", "sent_at", "message_id", "last_error"])
        record(
            actor=SYSTEM,
            action="referral.email_sent",
            target_type="report",
            target_id=report.id,
            details={
                "agency": agency.name,
                "to": delivery.address,
                "message_id": message_id,
                "package": str(built.package_id),
                "blake2b": built.blake2b,
                "attempts": delivery.attempts,
            },
        )
    return Attempt(EmailDeliveryState.SENT, message_id)


def _failed(delivery: EmailDelivery, error: str) -> Attempt:
    with transaction.atomic():
        delivery.attempts += 1
        delivery.last_error = error
        delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        delivery.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        _enqueue(delivery.id, delivery.next_attempt_at)
    return Attempt(EmailDeliveryState.QUEUED, error)


def _finish_refused(delivery: EmailDelivery, reason: str) -> None:
    with transaction.atomic():
        delivery.state = EmailDeliveryState.REFUSED
        delivery.last_error = reason[:300]
        delivery.save(update_fields=["state", "last_error"])
    referral_refused(SYSTEM, delivery.report, delivery.agency, reason)
