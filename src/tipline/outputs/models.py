"""Referral packages sent by e-mail: one row per (report, agency), its state and its retries.

The row holds no package and no content: the package is built afresh for each attempt (its
members are encrypted to the agency's key at that moment) and the row keeps only the state, the
attempt count, when to try again, the last error (the SMTP error's kind, never message text) and,
once sent, the Message-ID.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class EmailDeliveryState(models.TextChoices):
    QUEUED = "queued", "queued"  # waiting for its (next) attempt; never shown as sent
    SENT = "sent", "sent"  # the SMTP server accepted it
    REFUSED = "refused", "refused"  # cannot be sent at all (no key any more, too large...)


class EmailDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        "cases.Report", on_delete=models.CASCADE, related_name="email_deliveries"
    )
    agency = models.CharField(max_length=200)
    address = models.EmailField()
    state = models.CharField(
        max_length=16, choices=EmailDeliveryState.choices, default=EmailDeliveryState.QUEUED
    )
    queued_by = models.CharField(max_length=150)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True, default="")
    message_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "agency"], name="email_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"e-mail of report {self.report_id} to {self.agency}: {self.state}"
