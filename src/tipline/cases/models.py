"""Reports and what hangs off them.

Nothing a reporter typed or uploaded is stored in a readable column: free text, identifiers,
contact details, messages and file metadata are sealed blobs (see tipline.crypto). Plain columns
hold only what the hotline needs to order and measure work without decrypting: category, channel,
language, state, tier, priority and timestamps.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tipline.cases import categories
from tipline.cases.states import Channel, KeyPurpose, MessageAuthor, ReportState

CATEGORY_CHOICES = [(c.code, c.label) for c in categories.CATEGORIES]
TIER_CHOICES = [(t.value, t.value) for t in categories.Tier]


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt_digest = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=32, choices=ReportState.choices, default=ReportState.NEW)
    tier = models.CharField(max_length=2, choices=TIER_CHOICES)
    priority = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    payload = models.BinaryField()
    contact = models.BinaryField(null=True)
    # The staff member working the report (claimed or assigned); staff accounts are disabled,
    # not deleted, so SET_NULL only matters for an operator's manual clean-up.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_reports",
    )

    class Meta:
        indexes = [
            # The console queue: most urgent first, then oldest, with the id as the tie-breaker
            # (keyset pagination on exactly these columns, filtered by state or not).
            models.Index(
                fields=["state", "tier", "-priority", "created_at", "id"], name="report_queue"
            ),
            models.Index(fields=["tier", "-priority", "created_at", "id"], name="report_queue_all"),
            models.Index(fields=["created_at"], name="report_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__lte=100), name="report_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.id} ({self.category})"


class ReportKey(models.Model):
    """A report's data key, wrapped by the key-encryption key. Deleting it shreds the data."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="keys")
    purpose = models.CharField(max_length=16, choices=KeyPurpose.choices)
    wrapped = models.BinaryField()
    kek_id = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "purpose"], name="report_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key of report {self.report_id}"


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=16, choices=MessageAuthor.choices)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["report", "created_at"], name="message_thread")]

    def __str__(self) -> str:
        return f"Message {self.id} ({self.author})"


class EvidenceFile(models.Model):
    """An uploaded file: ciphertext in the evidence store, sealed metadata here.

    ``meta`` holds the original filename, sniffed content type, size and the SHA-256 of the
    original bytes computed at intake, sealed under the report's content key.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="files"
    )
    object_id = models.CharField(max_length=32)
    meta = models.BinaryField()
    preview_object_id = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"File {self.id}"


class SubmissionToken(models.Model):
    """Remembers a submission for a day so that sending it again returns the first answer.

    A browser re-sends a form on Reload, and a phone app retries when the network drops; neither
    should file a second report. ``sealed_receipt`` can be opened only with the token itself.
    """

    digest = models.CharField(max_length=64, unique=True)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, related_name="+")
    sealed_receipt = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"Submission token for report {self.report_id}"


class ReceiptThrottle(models.Model):
    """Failed receipt look-ups per minute for the whole site (no per-client state exists)."""

    window_start = models.DateTimeField(unique=True)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.failures} failures from {self.window_start:%H:%M}"
