"""What a takedown keeps: who hosts a name, each notice, each tracked URL and each check of it.

Only metadata lives here, in plain columns: URLs of reported pages (the hotline's working list,
the same addresses a notice sends to the provider), provider contacts and timestamps. Nothing of
the reporter's own words and never any material. ``TrackedUrl`` is read by the metrics issue:
its field names are a contract.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tipline.cases.models import Report
from tipline.takedown.sealing import open_url


class HostSource(models.TextChoices):
    TABLE = "table", _("Provider table")
    RDAP = "rdap", _("RDAP")
    ANALYST = "analyst", _("Analyst")
    UNKNOWN = "unknown", _("Unknown host")


class HostRecord(models.Model):
    """Who answers for a host name, cached with where the answer came from and when."""

    host = models.CharField(max_length=253, unique=True)
    address = models.CharField(max_length=45, blank=True)  # the IP the name resolved to
    provider = models.CharField(max_length=200, blank=True)
    abuse_email = models.CharField(max_length=254, blank=True)
    channel = models.CharField(max_length=20, default="email")
    language = models.CharField(max_length=8, default="en")
    country = models.CharField(max_length=2, blank=True)
    source = models.CharField(max_length=10, choices=HostSource.choices)
    # Why the host is unknown ("DNS timeout", "RDAP reply too large" ...), for the analyst.
    problem = models.CharField(max_length=300, blank=True)
    looked_up_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.host


class NoticeState(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    CONFIRMED = "confirmed", _("Confirmed, queued to send")
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    REMOVED = "removed", _("Removed")
    ESCALATED = "escalated", _("Escalated")


class NoticeKind(models.TextChoices):
    XARF = "xarf", "XARF v4"
    PLAIN = "plain", _("Plain notice")


class Notice(models.Model):
    """One notice to one provider, listing every URL of the report that it hosts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notices")
    provider = models.CharField(max_length=200)
    abuse_email = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=8, default="en")
    hosting_country = models.CharField(max_length=2, blank=True)
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    state = models.CharField(
        max_length=20, choices=NoticeState.choices, default=NoticeState.DRAFTED
    )
    created_at = models.DateTimeField()
    # Who drafted it by hand (an analyst's host override), for the four-eyes rule; None: system.
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Sending: attempts so far, when the worker tries next, and the last failure (shown).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    # A reminder has its own Message-ID; a reply may quote either (``replies.py``).
    reminder_message_id = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reminder_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.provider} ({self.state})"


class UrlState(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting notice")
    ONLINE = "online", _("Still online")
    REMOVED = "removed", _("Removed")


class TrackedUrl(models.Model):
    """A reported URL followed from the notice to its removal (read by the metrics issue).

    URLs are never readable at rest: the address is sealed under the report's content key
    (``url`` opens it, in the worker and the case view) and found by its keyed digest
    (``url_digest``, the same digest that links reports). Crypto-shredding the report's content
    key therefore makes its tracked URLs unreadable too; ``steps.forget_erased`` then blanks the
    digest and host, and provider, country, state and times stay for metrics.
    """

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="tracked_urls")
    url_digest = models.CharField(max_length=64)
    url_sealed = models.BinaryField(default=b"")
    host = models.CharField(max_length=253)
    provider = models.CharField(max_length=200, blank=True)
    hosting_country = models.CharField(max_length=2, blank=True)  # ISO 3166-1, blank: unknown
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="urls"
    )
    state = models.CharField(max_length=20, choices=UrlState.choices, default=UrlState.AWAITING)
    created_at = models.DateTimeField()
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # Re-appearance: when the URL served again after removal, or was reported again.
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            # Erased rows (url "") keep their times for metrics and need not be unique.
            models.UniqueConstraint(
                fields=["report", "url_digest"],
                condition=~models.Q(url_digest=""),
                name="takedown_url_once_per_report",
            )
        ]
        indexes = [
            models.Index(fields=["state", "last_checked_at"]),
            models.Index(fields=["url_digest"]),
        ]

    def __str__(self) -> str:
        return f"Tracked URL {self.pk} of report {self.report_id}"

    @property
    def url(self) -> str:
        """The address, opened with the report's content key ("" once erased)."""
        return open_url(self.report_id, self.url_digest, bytes(self.url_sealed))

    @property
    def takedown_time(self) -> object:
        if self.notice_sent_at is None or self.removed_at is None:
            return None
        return self.removed_at - self.notice_sent_at


class CheckOutcome(models.TextChoices):
    SERVING = "serving", _("Still serving")
    REMOVED = "removed", _("Gone")
    BLOCKED = "blocked", _("Not fetched (private address)")
    ERROR = "error", _("Check failed")


class UrlCheck(models.Model):
    """One re-check of a tracked URL: what the server said, never what it served."""

    tracked = models.ForeignKey(TrackedUrl, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=CheckOutcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.tracked_id} {self.outcome}"


class ReappearanceReason(models.TextChoices):
    SAME_URL = "same_url", _("the same address")
    SAME_FILE = "same_file", _("a file with the same hash")


class Reappearance(models.Model):
    """A tracked URL named again by a later report, or reached by it through a file's hash.

    One row per (tracked URL, later report), so triage running again on the later report (a
    reporter's message, a file matched) does not re-open the same URL twice. Both case views read
    it: the tracked URL's report ("reported again on … in report …") and the later report.
    """

    tracked = models.ForeignKey(TrackedUrl, on_delete=models.CASCADE, related_name="reappearances")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=10, choices=ReappearanceReason.choices)
    at = models.DateTimeField()
    reopened = models.BooleanField(default=False)  # it had been removed and is tracked again

    class Meta:
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(fields=["tracked", "report"], name="takedown_reappearance_once")
        ]

    def __str__(self) -> str:
        return f"Tracked URL {self.tracked_id} again in report {self.report_id}"
