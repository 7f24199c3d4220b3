"""Reports a platform has opened on the CyberTipline-compatible endpoint and not yet finished.

An open submission holds the partner's XML and files sealed under its own data key (wrapped by
the key-encryption key, like a report's); nothing is readable at rest. On ``/finish`` the content
becomes an ordinary Tipline report (sealed again under that report's keys) and the submission's
key and sealed content are destroyed: the row stays, without content, so that a second finish,
an upload or a retraction gets the right answer (5102), and so the case view can name the
partner and their report id. A submission never finished is erased by the sweep task.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tipline.cases.models import Report
from tipline.partners.models import ApiCredential


class SubmissionState(models.TextChoices):
    OPEN = "open", "open"
    FINISHED = "finished", "finished"
    RETRACTED = "retracted", "retracted"


class Submission(models.Model):
    # The integer ``reportId`` of the protocol.
    id = models.BigAutoField(primary_key=True)
    credential = models.ForeignKey(
        ApiCredential, on_delete=models.PROTECT, related_name="cybertipline_submissions"
    )
    state = models.CharField(
        max_length=16, choices=SubmissionState.choices, default=SubmissionState.OPEN
    )
    opened_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The data key, wrapped by the KEK; emptied on finish or retraction (crypto-shredding).
    wrapped_key = models.BinaryField(null=True)
    # The partner's <report> document, sealed; emptied with the key.
    document = models.BinaryField(null=True)
    # The Tipline report it became.
    report = models.OneToOneField(
        Report,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cybertipline_submission",
    )

    class Meta:
        indexes = [models.Index(fields=["state", "changed_at"], name="ispws_open_changed")]

    def __str__(self) -> str:
        return f"CyberTipline submission {self.pk} ({self.state})"


class SubmissionFile(models.Model):
    # The ``fileId`` of the protocol: 32 hex characters.
    id = models.CharField(max_length=32, primary_key=True)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    object_id = models.CharField(max_length=32)
    # Sealed: {"name", "md5", "sha256", "size"}.
    meta = models.BinaryField()
    # Sealed <fileDetails> document; null until /fileinfo (at most once).
    details = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"CyberTipline file {self.pk}"
