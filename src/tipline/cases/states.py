"""Report states, and the coarse status a reporter is shown.

The console issue adds one guarded action per transition; the foundation only needs the states and
what the reporter may see of them (never who is handling the case or what was decided in detail).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    NEW = "new", _("New")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_SECOND_REVIEW = "awaiting_second_review", _("Awaiting second review")
    ACTIONED = "actioned", _("Actioned")
    CLOSED = "closed", _("Closed")


class PublicStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("In review")
    ACTION_TAKEN = "action_taken", _("Action taken")
    CLOSED = "closed", _("Closed")


_PUBLIC = {
    ReportState.NEW: PublicStatus.RECEIVED,
    ReportState.IN_REVIEW: PublicStatus.IN_REVIEW,
    ReportState.AWAITING_SECOND_REVIEW: PublicStatus.IN_REVIEW,
    ReportState.ACTIONED: PublicStatus.ACTION_TAKEN,
    ReportState.CLOSED: PublicStatus.CLOSED,
}


def public_status(state: str) -> PublicStatus:
    return _PUBLIC[ReportState(state)]


class Channel(models.TextChoices):
    """How a report arrived (metrics count by it). ``web`` is the public form."""

    WEB = "web", _("Web form")
    API = "api", _("Mobile or API")
    HOTLINE = "hotline", _("Forwarded by a partner hotline")
    PARTNER = "partner", _("Partner API")
    CYBERTIPLINE = "cybertipline", _("CyberTipline-compatible API")
    HANDOVER = "handover", _("Handed over from an evidence locker")


# The channels members of the public use: a category that never takes files from a person
# (csam: "never upload it") still takes them from a platform reporting what it found.
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.API, Channel.HANDOVER})


class MessageAuthor(models.TextChoices):
    REPORTER = "reporter", _("You")
    HOTLINE = "hotline", _("Hotline")


class KeyPurpose(models.TextChoices):
    CONTENT = "content", "content"
    CONTACT = "contact", "contact"


class Outcome(models.TextChoices):
    """Why a report left the queue: the sub-state of ACTIONED and CLOSED."""

    REFERRED = "referred", _("Referred to law enforcement")
    NOTICE_SENT = "notice_sent", _("Takedown notice sent")
    FORWARDED = "forwarded", _("Forwarded to a partner hotline")
    NOT_ACTIONABLE = "not_actionable", _("Not actionable")
    DUPLICATE = "duplicate", _("Duplicate")
    OUTSIDE_REMIT = "outside_remit", _("Outside our remit")


ACTIONED_OUTCOMES = frozenset({Outcome.REFERRED, Outcome.NOTICE_SENT, Outcome.FORWARDED})
CLOSED_OUTCOMES = frozenset({Outcome.NOT_ACTIONABLE, Outcome.DUPLICATE, Outcome.OUTSIDE_REMIT})


def state_for(outcome: Outcome) -> ReportState:
    return ReportState.ACTIONED if outcome in ACTIONED_OUTCOMES else ReportState.CLOSED


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting second review")
    CONFIRMED = "confirmed", _("Confirmed")
    RETURNED = "returned", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn")
