"""The partner side of a report, and where each hash-list pull has got to."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PartnerReport(models.Model):
    """A report a partner filed through the API, under the partner's own reference.

    The report itself is an ordinary ``cases.Report``; this row says whose it is. The reference
    is the partner's idempotency key: the unique constraint makes a re-sent item find the first
    report instead of filing a second, even when two requests carrying it run at once.
    """

    credential = models.ForeignKey(
        "partners.ApiCredential", on_delete=models.PROTECT, related_name="partner_reports"
    )
    reference = models.CharField(max_length=100)
    report = models.OneToOneField(
        "cases.Report", on_delete=models.CASCADE, related_name="partner_link"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The last status a webhook was queued for, so each change is announced once.
    notified_status = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "reference"], name="partnerapi_reference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credential_id}:{self.reference}"


class Cursor(models.Model):
    """How far a reader has got in an ordered feed: a partner bank's changes
    ("pull <url> <bank>") or the audit log for webhooks ("webhooks")."""

    name = models.CharField(max_length=300, unique=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class WebhookEndpoint(models.Model):
    """Where a partner wants its reports' status changes, one per credential.

    The signing secret is not stored: it is a keyed digest of ``secret_nonce`` under a key
    outside the database (``crypto.box.webhook_secret``), shown once when set, so a copy of the
    database cannot forge deliveries.
    """

    credential = models.OneToOneField(
        "partners.ApiCredential", on_delete=models.CASCADE, related_name="webhook"
    )
    url = models.URLField(max_length=500)
    secret_nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.credential_id} -> {self.url}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One status change to deliver, and what happened when we tried (the delivery log).

    The payload holds ids and states only (no report content): it is what is sent.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="partnerapi_delivery_due",
                condition=models.Q(state="pending"),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="partnerapi_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.state}"
